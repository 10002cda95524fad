#include "layers/dummy_data.hpp"

#include "filler.hpp"
#include "layer_registry.hpp"

namespace moka {
namespace {

/// Value `index` of a repeated field given once for all tops or once per top.
uint32_t PerTop(const google::protobuf::RepeatedField<uint32_t>& values, int index) {
  return values.size() == 1 ? values.Get(0) : values.Get(index);
}

}  // namespace

template <typename Dtype>
void DummyDataLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  const DummyDataParameter& param = this->layer_param_.dummy_data_param();
  const int num_top = static_cast<int>(top.size());
  const int num_fillers = param.data_filler_size();
  MOKA_CHECK(num_fillers == 0 || num_fillers == 1 || num_fillers == num_top, ConfigError,
             "dummy_data_param must give 'data_filler' not at all, once, or once per top blob; got "
                 << num_fillers << " for " << num_top << " top blob(s)");
  const bool legacy_dims = param.num_size() > 0 || param.channels_size() > 0 ||
                           param.height_size() > 0 || param.width_size() > 0;
  if (legacy_dims) {
    MOKA_CHECK(param.shape_size() == 0, ConfigError,
               "dummy_data_param gives both 'shape' and the legacy num/channels/height/width");
    const std::pair<const char*, int> legacy[] = {{"num", param.num_size()},
                                                  {"channels", param.channels_size()},
                                                  {"height", param.height_size()},
                                                  {"width", param.width_size()}};
    for (const auto& field : legacy)
      MOKA_CHECK(field.second == 1 || field.second == num_top, ConfigError,
                 "dummy_data_param must give '" << field.first << "' once or once per top blob; got "
                     << field.second << " for " << num_top << " top blob(s)");
  } else {
    MOKA_CHECK(param.shape_size() == 1 || param.shape_size() == num_top, ConfigError,
               "dummy_data_param must give 'shape' once or once per top blob; got "
                   << param.shape_size() << " for " << num_top << " top blob(s)");
  }

  fillers_.clear();
  if (num_fillers == 0) {
    fillers_.emplace_back();
    fillers_.back().set_type("constant");
    fillers_.back().set_value(0);
  } else {
    fillers_.assign(param.data_filler().begin(), param.data_filler().end());
  }

  for (int i = 0; i < num_top; ++i) {
    if (legacy_dims) {
      top[i]->Reshape(std::vector<int>{static_cast<int>(PerTop(param.num(), i)),
                       static_cast<int>(PerTop(param.channels(), i)),
                       static_cast<int>(PerTop(param.height(), i)),
                       static_cast<int>(PerTop(param.width(), i))});
    } else {
      top[i]->Reshape(param.shape(param.shape_size() == 1 ? 0 : i));
    }
    // Constant tops never change, so they are filled here once and skipped by Forward.
    if (FillerFor(i).type() == "constant") Fill(FillerFor(i), this->context().rng(), top[i]);
  }
}

template <typename Dtype>
void DummyDataLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  for (size_t i = 0; i < top.size(); ++i) {
    const FillerParameter& filler = FillerFor(static_cast<int>(i));
    if (filler.type() != "constant") Fill(filler, this->context().rng(), top[i]);
  }
}

#ifdef MOKA_CUDA

// Fillers are host code: the tops are refilled on the host from the context's stream, exactly as
// on the CPU, and move to the device (one counted copy each) when the next layer reads them there.
// Constant tops were filled once at setup and stay on the device after their first copy.
template <typename Dtype>
void DummyDataLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  Forward_cpu(bottom, top);
}

#endif  // MOKA_CUDA

MOKA_INSTANTIATE_CLASS(DummyDataLayer);
MOKA_REGISTER_LAYER(DummyData);

}  // namespace moka
