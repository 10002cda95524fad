#include "solver_registry.hpp"

#include <sstream>

#include "upgrade.hpp"

namespace moka {

template <typename Dtype>
std::map<std::string, typename SolverRegistry<Dtype>::Creator>& SolverRegistry<Dtype>::Table() {
  static std::map<std::string, Creator> table;
  return table;
}

template <typename Dtype>
void SolverRegistry<Dtype>::Add(const std::string& type, Creator creator) {
  MOKA_CHECK(Table().count(type) == 0, InternalError,
             "solver type '" << type << "' registered twice");
  Table()[type] = std::move(creator);
}

template <typename Dtype>
bool SolverRegistry<Dtype>::Has(const std::string& type) {
  return Table().count(type) > 0;
}

template <typename Dtype>
std::vector<std::string> SolverRegistry<Dtype>::Types() {
  std::vector<std::string> types;
  for (const auto& entry : Table()) types.push_back(entry.first);
  return types;
}

template <typename Dtype>
std::shared_ptr<Solver<Dtype>> SolverRegistry<Dtype>::Create(const SolverParameter& param,
                                                             std::shared_ptr<Context> context) {
  SolverParameter upgraded = param;
  UpgradeSolverAsNeeded("solver parameters", &upgraded);
  auto found = Table().find(upgraded.type());
  if (found == Table().end()) {
    std::ostringstream known;
    for (const auto& type : Types()) known << (known.tellp() > 0 ? ", " : "") << type;
    MOKA_THROW(ConfigError,
               "unknown solver type '" << upgraded.type() << "' (known: " << known.str() << ")");
  }
  return found->second(upgraded, std::move(context));
}

template class SolverRegistry<float>;
template class SolverRegistry<double>;

}  // namespace moka
