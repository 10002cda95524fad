#pragma once
// Layer type string -> factory. Layers register themselves with MOKA_REGISTER_LAYER in their own
// .cpp file; the layers are linked into the shared libmoka, so no registration can be dropped by
// the linker, and a test checks the registry against the list of implemented types.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "layer.hpp"

namespace moka {

template <typename Dtype>
class LayerRegistry {
 public:
  using Creator = std::function<std::shared_ptr<Layer<Dtype>>(const LayerParameter&)>;

  static void Add(const std::string& type, Creator creator);
  /// Creates the layer param.type() names; throws ConfigError listing known types if unknown.
  static std::shared_ptr<Layer<Dtype>> Create(const LayerParameter& param);
  static bool Has(const std::string& type);
  static std::vector<std::string> Types();

 private:
  static std::map<std::string, Creator>& Table();
};

template <typename Dtype>
struct LayerRegistration {
  LayerRegistration(const std::string& type, typename LayerRegistry<Dtype>::Creator creator) {
    LayerRegistry<Dtype>::Add(type, std::move(creator));
  }
};

}  // namespace moka

#define MOKA_REGISTER_LAYER_CREATOR(type_name, creator)                                   \
  static ::moka::LayerRegistration<float> moka_registration_float_##type_name(#type_name,  \
                                                                             creator<float>); \
  static ::moka::LayerRegistration<double> moka_registration_double_##type_name(#type_name, \
                                                                               creator<double>)

/// Registers class `type_name##Layer` under the type string "type_name".
#define MOKA_REGISTER_LAYER(type_name)                                                     \
  template <typename Dtype>                                                                \
  std::shared_ptr<::moka::Layer<Dtype>> MokaCreate##type_name##Layer(                      \
      const ::moka::LayerParameter& param) {                                               \
    return std::make_shared<type_name##Layer<Dtype>>(param);                               \
  }                                                                                        \
  MOKA_REGISTER_LAYER_CREATOR(type_name, MokaCreate##type_name##Layer)
