#include "layer_registry.hpp"

#include <sstream>

namespace moka {

template <typename Dtype>
std::map<std::string, typename LayerRegistry<Dtype>::Creator>& LayerRegistry<Dtype>::Table() {
  static std::map<std::string, Creator> table;
  return table;
}

template <typename Dtype>
void LayerRegistry<Dtype>::Add(const std::string& type, Creator creator) {
  MOKA_CHECK(Table().count(type) == 0, InternalError, "layer type '" << type << "' registered twice");
  Table()[type] = std::move(creator);
}

template <typename Dtype>
bool LayerRegistry<Dtype>::Has(const std::string& type) {
  return Table().count(type) > 0;
}

template <typename Dtype>
std::vector<std::string> LayerRegistry<Dtype>::Types() {
  std::vector<std::string> types;
  for (const auto& entry : Table()) types.push_back(entry.first);
  return types;
}

template <typename Dtype>
std::shared_ptr<Layer<Dtype>> LayerRegistry<Dtype>::Create(const LayerParameter& param) {
  auto found = Table().find(param.type());
  if (found == Table().end()) {
    std::ostringstream known;
    for (const auto& type : Types()) known << (known.tellp() > 0 ? ", " : "") << type;
    if (param.type() == "Python") {
      MOKA_THROW(ConfigError, "layer '" << param.name()
                                        << "': Python layers need an embedded Python interpreter, "
                                           "which moka does not have");
    }
    MOKA_THROW(ConfigError, "layer '" << param.name() << "': unknown layer type '" << param.type()
                                      << "' (known: " << known.str() << ")");
  }
  return found->second(param);
}

template class LayerRegistry<float>;
template class LayerRegistry<double>;

}  // namespace moka
