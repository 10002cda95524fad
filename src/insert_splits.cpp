#include "insert_splits.hpp"

#include <map>
#include <string>
#include <utility>

#include "error.hpp"

namespace moka {

std::string SplitLayerName(const std::string& layer_name, const std::string& blob_name,
                           int top_index) {
  return blob_name + "_" + layer_name + "_" + std::to_string(top_index) + "_split";
}

std::string SplitBlobName(const std::string& layer_name, const std::string& blob_name,
                          int top_index, int split_index) {
  return SplitLayerName(layer_name, blob_name, top_index) + "_" + std::to_string(split_index);
}

NetParameter InsertSplits(const NetParameter& param) {
  using TopRef = std::pair<int, int>;  // (layer index, top index)
  std::map<std::string, TopRef> last_producer;
  std::map<std::pair<int, int>, TopRef> bottom_source;
  std::map<TopRef, int> consumer_count;
  std::map<TopRef, float> loss_weight_of;

  for (int i = 0; i < param.layer_size(); ++i) {
    const LayerParameter& layer = param.layer(i);
    for (int j = 0; j < layer.bottom_size(); ++j) {
      auto found = last_producer.find(layer.bottom(j));
      MOKA_CHECK(found != last_producer.end(), ConfigError,
                 "layer '" << layer.name() << "' (" << layer.type() << "): bottom blob '"
                           << layer.bottom(j) << "' (bottom " << j
                           << ") is not produced by any earlier layer");
      bottom_source[{i, j}] = found->second;
      ++consumer_count[found->second];
    }
    for (int j = 0; j < layer.top_size(); ++j) last_producer[layer.top(j)] = {i, j};
    // A loss on a top is one more consumer of it.
    const int num_losses = std::min(layer.loss_weight_size(), layer.top_size());
    for (int j = 0; j < num_losses; ++j) {
      loss_weight_of[{i, j}] = layer.loss_weight(j);
      if (layer.loss_weight(j) != 0) ++consumer_count[{i, j}];
    }
  }

  NetParameter result(param);
  result.clear_layer();
  std::map<TopRef, int> next_split_index;
  for (int i = 0; i < param.layer_size(); ++i) {
    LayerParameter* layer = result.add_layer();
    layer->CopyFrom(param.layer(i));
    for (int j = 0; j < layer->bottom_size(); ++j) {
      const TopRef source = bottom_source[{i, j}];
      if (consumer_count[source] > 1) {
        const LayerParameter& producer = param.layer(source.first);
        layer->set_bottom(j, SplitBlobName(producer.name(), layer->bottom(j), source.second,
                                           next_split_index[source]++));
      }
    }
    for (int j = 0; j < layer->top_size(); ++j) {
      const TopRef ref{i, j};
      const int count = consumer_count[ref];
      if (count <= 1) continue;
      const std::string& blob_name = layer->top(j);
      LayerParameter* split = result.add_layer();
      split->set_name(SplitLayerName(layer->name(), blob_name, j));
      split->set_type("Split");
      split->add_bottom(blob_name);
      const float loss_weight = loss_weight_of.count(ref) ? loss_weight_of[ref] : 0.f;
      for (int k = 0; k < count; ++k) {
        split->add_top(SplitBlobName(layer->name(), blob_name, j, k));
        if (loss_weight != 0) split->add_loss_weight(k == 0 ? loss_weight : 0.f);
      }
      if (loss_weight != 0) {
        // The split's first top now carries the loss; the producer keeps none.
        layer->clear_loss_weight();
        ++next_split_index[ref];
      }
    }
  }
  return result;
}

}  // namespace moka
