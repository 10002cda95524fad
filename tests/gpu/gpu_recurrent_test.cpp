// RNN, LSTM and LSTMUnit on the GPU: CPU-versus-GPU comparisons (the harness runs two Forwards,
// so the state carried from one batch to the next is compared too) and finite-difference gradient
// checks on a GPU context. The CPU side of every case also runs without a GPU, so that a broken
// case definition shows up on any machine.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "gpu/gpu_test_util.hpp"
#include "gradient_checker.hpp"

namespace moka::test {
namespace {

using B = BottomSpec;

const std::string kFillers =
    " weight_filler { type: 'gaussian' std: 0.4 } bias_filler { type: 'gaussian' std: 0.4 } ";

std::string Recurrent(const std::string& type, int num_output, const std::string& extra = "") {
  const bool expose = extra.find("expose_hidden") != std::string::npos;
  std::string tops = " top: 'y'";
  if (expose) tops += type == "LSTM" ? " top: 'h_T' top: 'c_T'" : " top: 'h_T'";
  return "name: 'r' type: '" + type + "'" + tops +
         " recurrent_param { num_output: " + std::to_string(num_output) + kFillers + extra + " }";
}

/// cont holds random 0/1 values (Labels with 2 classes): restarts anywhere, including t = 0.
std::vector<LayerCase> Cases() {
  return {
      {"lstm", Recurrent("LSTM", 5), {B::Gaussian({4, 3, 6}), B::Labels({4, 3}, 2)}},
      {"lstm_odd_sizes", Recurrent("LSTM", 33), {B::Gaussian({7, 5, 3, 3}), B::Labels({7, 5}, 2)}},
      {"lstm_static",
       Recurrent("LSTM", 5),
       {B::Gaussian({4, 3, 6}), B::Labels({4, 3}, 2), B::Gaussian({3, 2, 2})}},
      {"lstm_expose_hidden",
       Recurrent("LSTM", 5, "expose_hidden: true"),
       {B::Gaussian({4, 3, 6}), B::Labels({4, 3}, 2), B::Gaussian({1, 3, 5}),
        B::Gaussian({1, 3, 5})}},
      {"rnn", Recurrent("RNN", 5), {B::Gaussian({4, 3, 6}), B::Labels({4, 3}, 2)}},
      {"rnn_odd_sizes", Recurrent("RNN", 33), {B::Gaussian({7, 5, 9}), B::Labels({7, 5}, 2)}},
      {"rnn_static",
       Recurrent("RNN", 5),
       {B::Gaussian({4, 3, 6}), B::Labels({4, 3}, 2), B::Gaussian({3, 4})}},
      {"rnn_expose_hidden",
       Recurrent("RNN", 5, "expose_hidden: true"),
       {B::Gaussian({4, 3, 6}), B::Labels({4, 3}, 2), B::Gaussian({1, 3, 5})}},
      {"lstm_unit",
       "type: 'LSTMUnit' top: 'c' top: 'h'",
       {B::Uniform({1, 3, 4}, -1, 1), B::Uniform({1, 3, 16}, -1, 1), B::Labels({1, 3}, 2)}},
  };
}

/// Gradient check on `device`. For the recurrent layers cont (bottom 1) is set so that every
/// stream starts a sequence at t = 0: the state carried from the checker's previous Forward then
/// cannot change the result. Only the first top enters the objective's gradient in Caffe, so
/// the cases here have one top.
template <typename Dtype>
void CheckGradient(Device device, const std::string& text, const std::vector<BottomSpec>& bottoms,
                   bool restart_at_zero) {
  SCOPED_TRACE(text);
  Context context(device, 0, 1701);
  auto layer = MakeLayer<Dtype>(text, &context);
  std::vector<std::unique_ptr<Blob<Dtype>>> owned;
  std::vector<Blob<Dtype>*> bottom, top;
  GradientCheckOptions<Dtype> options;
  for (size_t i = 0; i < bottoms.size(); ++i) {
    owned.push_back(std::make_unique<Blob<Dtype>>());
    FillBottom(bottoms[i], 31 + i, owned.back().get());
    bottom.push_back(owned.back().get());
    if (bottoms[i].propagate) options.check_bottoms.push_back(static_cast<int>(i));
  }
  if (restart_at_zero) {
    Blob<Dtype>& cont = *bottom[1];
    const int streams = cont.shape(1);
    for (int i = 0; i < cont.count(); ++i) {
      const int t = i / streams, n = i % streams;
      cont.mutable_cpu_data()[i] = t > 0 && (t + n) % 3 != 0 ? Dtype(1) : Dtype(0);
    }
  }
  for (int i = 0; i < ParseLayer(text).top_size(); ++i) {
    owned.push_back(std::make_unique<Blob<Dtype>>());
    top.push_back(owned.back().get());
  }
  GradientChecker<Dtype>(options).Check(layer.get(), bottom, top);
}

template <typename Dtype>
void CheckAllGradients(Device device) {
  CheckGradient<Dtype>(device, Recurrent("LSTM", 4), {B::Gaussian({3, 2, 3}), B::Labels({3, 2}, 2)},
                       true);
  CheckGradient<Dtype>(device, Recurrent("LSTM", 3),
                       {B::Gaussian({3, 2, 3}), B::Labels({3, 2}, 2), B::Gaussian({2, 2})}, true);
  CheckGradient<Dtype>(device, Recurrent("RNN", 4), {B::Gaussian({3, 2, 3}), B::Labels({3, 2}, 2)},
                       true);
  CheckGradient<Dtype>(device, Recurrent("RNN", 3),
                       {B::Gaussian({3, 2, 3}), B::Labels({3, 2}, 2), B::Gaussian({2, 2})}, true);
  CheckGradient<Dtype>(
      device, "type: 'LSTMUnit' top: 'c' top: 'h'",
      {B::Uniform({1, 3, 2}, -1, 1), B::Uniform({1, 3, 8}, -1, 1), B::Labels({1, 3}, 2)}, false);
}

template <typename Dtype>
class GpuRecurrent : public ::testing::Test {};
TYPED_TEST_SUITE(GpuRecurrent, TestDtypes);

TYPED_TEST(GpuRecurrent, MatchesCpu) {
  MOKA_REQUIRE_GPU();
  for (const LayerCase& c : Cases()) CompareCpuGpu<TypeParam>(c);
}

TYPED_TEST(GpuRecurrent, GradientOnGpu) {
  MOKA_REQUIRE_GPU();
  CheckAllGradients<TypeParam>(Device::kGpu);
}

TYPED_TEST(GpuRecurrent, CpuSideOfTheCasesRuns) {
  for (const LayerCase& c : Cases()) {
    SCOPED_TRACE(c.name);
    const LayerRun<TypeParam> run = RunLayerCase<TypeParam>(c, Device::kCpu);
    EXPECT_FALSE(run.tops.empty());
  }
  CheckAllGradients<TypeParam>(Device::kCpu);
}

}  // namespace
}  // namespace moka::test
