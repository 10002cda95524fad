// Net::ShareActivationMemory: an inference net needs each activation only from the layer that
// writes it to the last layer that reads it, so blobs with disjoint lifetimes can take turns in
// one buffer, as an interval-colouring over the layer order.
#include <algorithm>
#include <map>
#include <set>

#include "net.hpp"

namespace moka {
namespace {

/// The data memories some blobs use (blobs aliased by Split, Flatten or Reshape are one group)
/// and the layer span in which any of them is written or read.
struct Lifetime {
  std::vector<int> blob_ids;
  int first = -1;
  int last = -1;
  size_t bytes = 0;
  bool pinned = false;
};

}  // namespace

template <typename Dtype>
std::pair<size_t, size_t> Net<Dtype>::ShareActivationMemory(const std::vector<std::string>& keep) {
  std::map<const SyncedMemory*, int> group_of_memory;
  std::vector<Lifetime> groups;
  auto group_for = [&](int blob_id) -> Lifetime& {
    const SyncedMemory* memory = blobs_[blob_id]->data().get();
    auto found = group_of_memory.find(memory);
    if (found == group_of_memory.end()) {
      found = group_of_memory.emplace(memory, static_cast<int>(groups.size())).first;
      groups.emplace_back();
      groups.back().bytes = blobs_[blob_id]->data()->size();
    }
    Lifetime& group = groups[found->second];
    if (std::find(group.blob_ids.begin(), group.blob_ids.end(), blob_id) == group.blob_ids.end()) {
      group.blob_ids.push_back(blob_id);
    }
    return group;
  };
  auto touch = [](Lifetime& group, int layer) {
    group.first = group.first < 0 ? layer : std::min(group.first, layer);
    group.last = std::max(group.last, layer);
  };

  std::set<std::string> kept(keep.begin(), keep.end());
  for (int id : net_output_blob_indices_) kept.insert(blob_names_[id]);
  for (int id : net_input_blob_indices_) kept.insert(blob_names_[id]);
  for (int layer = 0; layer < num_layers(); ++layer) {
    for (int id : bottom_id_vecs_[layer]) touch(group_for(id), layer);
    for (int id : top_id_vecs_[layer]) {
      Lifetime& group = group_for(id);
      touch(group, layer);
      // Data layers fill their tops from outside the forward order; callers fill Input tops.
      if (bottom_id_vecs_[layer].empty()) group.pinned = true;
    }
  }
  for (Lifetime& group : groups) {
    for (int id : group.blob_ids) {
      if (kept.count(blob_names_[id])) group.pinned = true;
    }
  }

  size_t bytes_before = 0;
  for (const Lifetime& group : groups) bytes_before += group.bytes;

  // Largest first within equal start, so that big buffers are reused by big blobs.
  std::vector<int> order;
  for (int g = 0; g < static_cast<int>(groups.size()); ++g) {
    if (!groups[g].pinned && groups[g].bytes > 0) order.push_back(g);
  }
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    if (groups[a].first != groups[b].first) return groups[a].first < groups[b].first;
    return groups[a].bytes > groups[b].bytes;
  });
  struct Buffer {
    size_t bytes = 0;
    int busy_until = -1;
    std::vector<int> groups;
  };
  std::vector<Buffer> buffers;
  for (int g : order) {
    const Lifetime& group = groups[g];
    // A buffer is free once its last user has been read by a layer before this group's writer.
    int best = -1;
    for (int b = 0; b < static_cast<int>(buffers.size()); ++b) {
      if (buffers[b].busy_until >= group.first) continue;
      const bool fits = buffers[b].bytes >= group.bytes;
      if (best < 0) {
        best = b;
        continue;
      }
      const bool best_fits = buffers[best].bytes >= group.bytes;
      // Prefer the smallest buffer that fits, else the largest one (which grows least).
      if (fits && (!best_fits || buffers[b].bytes < buffers[best].bytes)) best = b;
      if (!fits && !best_fits && buffers[b].bytes > buffers[best].bytes) best = b;
    }
    if (best < 0) {
      best = static_cast<int>(buffers.size());
      buffers.emplace_back();
    }
    Buffer& buffer = buffers[best];
    buffer.bytes = std::max(buffer.bytes, group.bytes);
    buffer.busy_until = group.last;
    buffer.groups.push_back(g);
  }

  size_t bytes_after = 0;
  for (const Lifetime& group : groups) {
    if (group.pinned || group.bytes == 0) bytes_after += group.bytes;
  }
  for (const Buffer& buffer : buffers) {
    bytes_after += buffer.bytes;
    auto memory = std::make_shared<SyncedMemory>(buffer.bytes);
    for (int g : buffer.groups) {
      for (int id : groups[g].blob_ids) blobs_[id]->SetDataMemory(memory);
    }
  }
  activations_shared_ = true;
  return {bytes_before, bytes_after};
}

template std::pair<size_t, size_t> Net<float>::ShareActivationMemory(const std::vector<std::string>&);
template std::pair<size_t, size_t> Net<double>::ShareActivationMemory(const std::vector<std::string>&);

}  // namespace moka
