// Each solver's update rule, checked step by step against the formula evaluated here in double
// precision from the gradients the net produces: momentum, weight decay (L2, L1), lr_mult and
// decay_mult, iter_size accumulation, gradient clipping and the learning-rate schedule.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "solver_test_util.hpp"
#include "solvers/sgd.hpp"

namespace moka {
namespace {

using test::MakeSolverParam;
using test::MakeTinySolver;
using test::TinyNet;

double Sign(double x) {
  return (0 < x) - (x < 0);
}

template <typename Dtype>
class SolverUpdateTest : public ::testing::Test {
 protected:
  double Tolerance() const { return sizeof(Dtype) == 4 ? 2e-5 : 1e-11; }

  /// Runs `iterations` solver steps and checks the weights after each against the reference.
  /// Returns how many iterations had their gradients clipped.
  int CheckUpdates(const std::string& fields, int iterations = 3) {
    test::QuietLogs quiet;
    const SolverParameter param = MakeSolverParam(
        TinyNet(), "random_seed: 1701 " + fields +
                       (fields.find("base_lr") == std::string::npos ? " base_lr: 0.1" : ""));
    auto solver = MakeTinySolver<Dtype>(param);
    const SolverParameter& p = solver->param();
    Net<Dtype>& net = *solver->net();
    const auto& params = net.learnable_params();
    const int n = static_cast<int>(params.size());
    EXPECT_EQ(2, n);
    EXPECT_EQ(std::vector<float>({1, 2}), net.params_lr());
    EXPECT_EQ(std::vector<float>({1, 0.5}), net.params_weight_decay());

    std::vector<std::vector<double>> history(n), history2(n);
    for (int i = 0; i < n; ++i) {
      history[i].assign(params[i]->count(), 0.0);
      history2[i].assign(params[i]->count(), 0.0);
    }
    int clipped = 0;
    for (int iter = 0; iter < iterations; ++iter) {
      // The gradient the solver will see: the net is deterministic, so replaying its
      // forward/backward passes here gives exactly the solver's diffs.
      net.ClearParamDiffs();
      for (int k = 0; k < p.iter_size(); ++k) net.ForwardBackward();
      std::vector<std::vector<double>> grad(n), weight(n);
      for (int i = 0; i < n; ++i) {
        grad[i].assign(params[i]->cpu_diff(), params[i]->cpu_diff() + params[i]->count());
        weight[i].assign(params[i]->cpu_data(), params[i]->cpu_data() + params[i]->count());
      }
      if (p.clip_gradients() >= 0) {
        double sumsq = 0;
        for (const auto& g : grad)
          for (double v : g) sumsq += v * v;
        const double norm = std::sqrt(sumsq);
        if (norm > p.clip_gradients()) {
          ++clipped;
          for (auto& g : grad)
            for (double& v : g) v *= p.clip_gradients() / norm;
        }
      }
      double rate = p.base_lr();
      if (p.lr_policy() == "step") rate *= std::pow(double(p.gamma()), iter / p.stepsize());
      std::vector<std::vector<double>> expected(n);
      for (int i = 0; i < n; ++i) {
        const double local_decay = double(p.weight_decay()) * net.params_weight_decay()[i];
        const double local_rate = rate * net.params_lr()[i];
        expected[i].resize(grad[i].size());
        for (size_t j = 0; j < grad[i].size(); ++j) {
          double g = grad[i][j] / p.iter_size();
          const double w = weight[i][j];
          g += local_decay * (p.regularization_type() == "L1" ? Sign(w) : w);
          expected[i][j] = w - Step(p, iter, local_rate, g, &history[i][j], &history2[i][j]);
        }
      }

      solver->Step(1);
      EXPECT_EQ(iter + 1, solver->iter());
      for (int i = 0; i < n; ++i) {
        for (size_t j = 0; j < expected[i].size(); ++j) {
          const double actual = params[i]->cpu_data()[j];
          EXPECT_NEAR(expected[i][j], actual, Tolerance() * std::max(1.0, std::abs(expected[i][j])))
              << solver->type() << " param " << i << " element " << j << " after iteration "
              << iter;
        }
      }
      // The solver's own history agrees with the reference's.
      const auto* sgd = dynamic_cast<const SgdSolver<Dtype>*>(solver.get());
      EXPECT_NE(nullptr, sgd);
      if (sgd != nullptr) {
        const bool two_sets = p.type() == "AdaDelta" || p.type() == "Adam";
        EXPECT_EQ(static_cast<size_t>(two_sets ? 2 * n : n), sgd->history().size());
        if (p.type() != "Nesterov") {
          for (int i = 0; i < n; ++i) {
            for (size_t j = 0; j < history[i].size(); ++j) {
              EXPECT_NEAR(history[i][j], sgd->history()[i]->cpu_data()[j],
                          Tolerance() * std::max(1.0, std::abs(history[i][j])));
            }
          }
        }
      }
    }
    return clipped;
  }

  /// The step one element takes under the solver's rule (the value Net::Update subtracts).
  static double Step(const SolverParameter& p, int iter, double lr, double g, double* h,
                     double* h2) {
    const std::string& type = p.type();
    const double momentum = p.momentum();
    const double delta = p.delta();
    if (type == "SGD") {
      *h = momentum * *h + lr * g;
      return *h;
    }
    if (type == "Nesterov") {
      const double previous = *h;
      *h = momentum * *h + lr * g;
      return (1 + momentum) * *h - momentum * previous;
    }
    if (type == "AdaGrad") {
      *h += g * g;
      return lr * g / (std::sqrt(*h) + delta);
    }
    if (type == "RMSProp") {
      const double decay = p.rms_decay();
      *h = decay * *h + (1 - decay) * g * g;
      return lr * g / (std::sqrt(*h) + delta);
    }
    if (type == "AdaDelta") {
      *h = momentum * *h + (1 - momentum) * g * g;
      const double u = g * std::sqrt((*h2 + delta) / (*h + delta));
      *h2 = momentum * *h2 + (1 - momentum) * u * u;
      return lr * u;
    }
    if (type == "Adam") {
      const double beta1 = momentum, beta2 = p.momentum2();
      const int t = iter + 1;
      *h = beta1 * *h + (1 - beta1) * g;
      *h2 = beta2 * *h2 + (1 - beta2) * g * g;
      const double correction = std::sqrt(1 - std::pow(beta2, t)) / (1 - std::pow(beta1, t));
      return lr * correction * *h / (std::sqrt(*h2) + delta);
    }
    ADD_FAILURE() << "no reference for solver type " << type;
    return 0;
  }
};

TYPED_TEST_SUITE(SolverUpdateTest, test::TestDtypes);

TYPED_TEST(SolverUpdateTest, SgdPlain) {
  this->CheckUpdates("type: 'SGD' lr_policy: 'fixed'");
}

TYPED_TEST(SolverUpdateTest, SgdMomentumWithStepSchedule) {
  this->CheckUpdates("type: 'SGD' lr_policy: 'step' gamma: 0.5 stepsize: 1 momentum: 0.9", 4);
}

TYPED_TEST(SolverUpdateTest, SgdWeightDecayL2) {
  this->CheckUpdates("type: 'SGD' lr_policy: 'fixed' momentum: 0.9 weight_decay: 0.05");
}

TYPED_TEST(SolverUpdateTest, SgdWeightDecayL1) {
  this->CheckUpdates(
      "type: 'SGD' lr_policy: 'fixed' momentum: 0.5 weight_decay: 0.05 regularization_type: 'L1'");
}

TYPED_TEST(SolverUpdateTest, SgdIterSizeAccumulatesAndNormalises) {
  this->CheckUpdates("type: 'SGD' lr_policy: 'fixed' momentum: 0.9 iter_size: 2");
}

TYPED_TEST(SolverUpdateTest, SgdClipGradients) {
  EXPECT_EQ(3, this->CheckUpdates("type: 'SGD' lr_policy: 'fixed' momentum: 0.9 "
                                  "clip_gradients: 0.01"));
}

TYPED_TEST(SolverUpdateTest, Nesterov) {
  this->CheckUpdates("type: 'Nesterov' lr_policy: 'fixed' momentum: 0.9 weight_decay: 0.01");
}

TYPED_TEST(SolverUpdateTest, AdaGrad) {
  this->CheckUpdates("type: 'AdaGrad' lr_policy: 'fixed' delta: 0.001 weight_decay: 0.01");
}

TYPED_TEST(SolverUpdateTest, RmsProp) {
  this->CheckUpdates(
      "type: 'RMSProp' lr_policy: 'fixed' base_lr: 0.01 rms_decay: 0.9 delta: 0.0001", 4);
}

TYPED_TEST(SolverUpdateTest, AdaDelta) {
  this->CheckUpdates(
      "type: 'AdaDelta' lr_policy: 'fixed' base_lr: 1 momentum: 0.95 delta: 0.000001", 4);
}

TYPED_TEST(SolverUpdateTest, Adam) {
  this->CheckUpdates("type: 'Adam' lr_policy: 'fixed' base_lr: 0.01 momentum: 0.9 momentum2: 0.999",
                     4);
}

TYPED_TEST(SolverUpdateTest, AdamWithDecayIterSizeAndClipping) {
  EXPECT_LT(0, this->CheckUpdates("type: 'Adam' lr_policy: 'fixed' base_lr: 0.01 momentum: 0.9 "
                                  "weight_decay: 0.02 iter_size: 2 clip_gradients: 0.05"));
}

TYPED_TEST(SolverUpdateTest, LrMultZeroFreezesParameter) {
  test::QuietLogs quiet;
  const std::string net = R"(
    layer { name: "input" type: "Input" top: "data" top: "label"
            input_param { shape { dim: 4 dim: 3 } shape { dim: 4 dim: 2 } } }
    layer { name: "ip" type: "InnerProduct" bottom: "data" top: "out"
            param { lr_mult: 1 } param { lr_mult: 0 }
            inner_product_param { num_output: 2 weight_filler { type: "gaussian" std: 0.5 }
                                  bias_filler { type: "constant" value: 0.1 } } }
    layer { name: "loss" type: "EuclideanLoss" bottom: "out" bottom: "label" top: "loss" }
  )";
  auto solver = MakeTinySolver<TypeParam>(
      MakeSolverParam(net,
                      "type: 'SGD' random_seed: 3 base_lr: 0.1 lr_policy: 'fixed' momentum: 0.9 "
                      "weight_decay: 0.1"));
  const auto before = test::ParamValues(*solver->net());
  solver->Step(3);
  const auto after = test::ParamValues(*solver->net());
  EXPECT_NE(before[0], after[0]);
  EXPECT_EQ(before[1], after[1]);
}

}  // namespace
}  // namespace moka
