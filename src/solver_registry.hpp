#pragma once
// Solver type string ("SGD", "Adam", ...) -> factory. Each solver registers itself with
// MOKA_REGISTER_SOLVER in its own file under src/solvers/.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "solver.hpp"

namespace moka {

template <typename Dtype>
class SolverRegistry {
 public:
  using Creator = std::function<std::shared_ptr<Solver<Dtype>>(const SolverParameter&,
                                                               std::shared_ptr<Context>)>;

  static void Add(const std::string& type, Creator creator);
  /// Creates the solver param.type() names, after upgrading the deprecated solver_type enum
  /// (UpgradeSolverAsNeeded), so parameters built in code need no separate upgrade.
  /// Unknown types raise ConfigError listing the known ones.
  static std::shared_ptr<Solver<Dtype>> Create(const SolverParameter& param,
                                               std::shared_ptr<Context> context = nullptr);
  static bool Has(const std::string& type);
  static std::vector<std::string> Types();

 private:
  static std::map<std::string, Creator>& Table();
};

template <typename Dtype>
struct SolverRegistration {
  SolverRegistration(const std::string& type, typename SolverRegistry<Dtype>::Creator creator) {
    SolverRegistry<Dtype>::Add(type, std::move(creator));
  }
};

}  // namespace moka

/// Registers class template `Class` under the type string "type_name".
#define MOKA_REGISTER_SOLVER(type_name, Class)                                           \
  template <typename Dtype>                                                              \
  std::shared_ptr<::moka::Solver<Dtype>> MokaCreate##type_name##Solver(                  \
      const ::moka::SolverParameter& param, std::shared_ptr<::moka::Context> context) {  \
    return std::make_shared<Class<Dtype>>(param, std::move(context));                    \
  }                                                                                      \
  static ::moka::SolverRegistration<float> moka_solver_registration_float_##type_name(   \
      #type_name, MokaCreate##type_name##Solver<float>);                                 \
  static ::moka::SolverRegistration<double> moka_solver_registration_double_##type_name( \
      #type_name, MokaCreate##type_name##Solver<double>)
