// GPU paths of the element-wise layers beyond ReLU/Sigmoid/TanH (ELU, AbsVal, Power, Exp, Log,
// BNLL, Threshold, Clip, Swish, PReLU), of MVN and of Deconvolution: CPU-versus-GPU comparisons
// over awkward shapes (odd sizes, batch 1, in place, both PReLU modes, every MVN flag, grouped,
// strided, padded, dilated and bias-free deconvolutions), and finite-difference gradient checks on
// the GPU. The CPU-side test runs every case on the CPU too, so a mistake in a case's layer text
// shows up on machines without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "gpu/gpu_test_util.hpp"
#include "gradient_checker.hpp"

namespace moka::test {
namespace {

using B = BottomSpec;

LayerCase InPlace(LayerCase c) {
  c.in_place = true;
  return c;
}

LayerCase ForwardOnly(LayerCase c) {
  c.backward = false;
  return c;
}

std::vector<LayerCase> ElementwiseCases() {
  return {
      {"elu", "type: 'ELU' top: 'y' elu_param { alpha: 0.7 }", {B::Gaussian({2, 3, 5, 7})}},
      {"elu_default_batch1", "type: 'ELU' top: 'y'", {B::Gaussian({1, 17}, 2)}},
      InPlace({"elu_in_place", "type: 'ELU' top: 'x' elu_param { alpha: 1.3 }",
               {B::Gaussian({3, 4, 5})}}),
      {"absval", "type: 'AbsVal' top: 'y'", {B::Gaussian({3, 5, 7})}},
      {"absval_batch1", "type: 'AbsVal' top: 'y'", {B::Gaussian({1, 1, 13})}},
      {"power_square_shift", "type: 'Power' top: 'y' power_param { power: 2 scale: 0.5 shift: 1 }",
       {B::Gaussian({2, 3, 5})}},
      {"power_cube_no_shift", "type: 'Power' top: 'y' power_param { power: 3 scale: 1.5 }",
       {B::Uniform({1, 11}, 0.3, 2)}},
      {"power_fraction", "type: 'Power' top: 'y' power_param { power: 0.37 scale: 0.7 shift: 2 }",
       {B::Uniform({2, 3, 3}, 0.5, 2)}},
      {"power_linear", "type: 'Power' top: 'y' power_param { scale: 2 shift: -1 }",
       {B::Gaussian({3, 7})}},
      {"power_zero", "type: 'Power' top: 'y' power_param { power: 0 scale: 3 }",
       {B::Gaussian({2, 5})}},
      {"power_scale_zero", "type: 'Power' top: 'y' power_param { power: 2 scale: 0 shift: 3 }",
       {B::Gaussian({1, 9})}},
      InPlace({"power_in_place",
               "type: 'Power' top: 'x' power_param { power: 2 scale: 0.8 shift: 0.5 }",
               {B::Gaussian({2, 3, 4})}}),
      {"exp", "type: 'Exp' top: 'y'", {B::Gaussian({2, 3, 4})}},
      {"exp_base2_scale_shift", "type: 'Exp' top: 'y' exp_param { base: 2 scale: -1.3 shift: 0.4 }",
       {B::Gaussian({1, 11})}},
      InPlace({"exp_in_place", "type: 'Exp' top: 'x' exp_param { base: 3 shift: -1 }",
               {B::Gaussian({3, 5})}}),
      {"log", "type: 'Log' top: 'y'", {B::Uniform({2, 3, 4}, 0.5, 2)}},
      {"log_base10_scale_shift", "type: 'Log' top: 'y' log_param { base: 10 scale: 2 shift: 1 }",
       {B::Uniform({1, 9}, 0.1, 2)}},
      InPlace({"log_in_place", "type: 'Log' top: 'x' log_param { base: 2 scale: 1.7 shift: 0.5 }",
               {B::Uniform({3, 5}, 0.5, 2)}}),
      {"bnll", "type: 'BNLL' top: 'y'", {B::Gaussian({2, 3, 5}, 3)}},
      {"bnll_beyond_clamp", "type: 'BNLL' top: 'y'", {B::Uniform({1, 31}, -60, 60)}},
      ForwardOnly({"threshold", "type: 'Threshold' top: 'y' threshold_param { threshold: 0.3 }",
                   {B::Gaussian({2, 3, 5})}}),
      ForwardOnly({"threshold_default", "type: 'Threshold' top: 'y'", {B::Gaussian({1, 9})}}),
      {"clip", "type: 'Clip' top: 'y' clip_param { min: -0.5 max: 0.8 }",
       {B::Gaussian({2, 3, 7})}},
      InPlace({"clip_in_place", "type: 'Clip' top: 'x' clip_param { min: -1 max: 1 }",
               {B::Gaussian({3, 5}, 2)}}),
      {"swish", "type: 'Swish' top: 'y'", {B::Gaussian({2, 3, 5}, 2)}},
      {"swish_beta", "type: 'Swish' top: 'y' swish_param { beta: 1.7 }", {B::Gaussian({1, 13}, 3)}},
      InPlace({"swish_in_place", "type: 'Swish' top: 'x' swish_param { beta: 0.5 }",
               {B::Gaussian({2, 7})}}),
  };
}

std::vector<LayerCase> PReLUCases() {
  return {
      {"prelu", "type: 'PReLU' top: 'y'", {B::Gaussian({2, 3, 5, 4})}},
      {"prelu_gaussian_slopes_batch1",
       "type: 'PReLU' top: 'y' prelu_param { filler { type: 'gaussian' std: 0.5 } }",
       {B::Gaussian({1, 4, 3, 3})}},
      {"prelu_2d", "type: 'PReLU' top: 'y' prelu_param { filler { type: 'uniform' min: -1 max: 1 } }",
       {B::Gaussian({5, 3})}},
      {"prelu_shared", "type: 'PReLU' top: 'y' prelu_param { channel_shared: true }",
       {B::Gaussian({2, 3, 5})}},
      {"prelu_shared_filler",
       "type: 'PReLU' top: 'y' prelu_param { channel_shared: true "
       "filler { type: 'constant' value: -0.3 } }",
       {B::Gaussian({1, 1, 7})}},
      InPlace({"prelu_in_place", "type: 'PReLU' top: 'x'", {B::Gaussian({2, 3, 4})}}),
      InPlace({"prelu_shared_in_place", "type: 'PReLU' top: 'x' prelu_param { channel_shared: true }",
               {B::Gaussian({3, 2, 3})}}),
      // Enough elements per channel for the slope gradient to be summed in several slices.
      {"prelu_many_per_channel", "type: 'PReLU' top: 'y'", {B::Gaussian({4, 3, 33, 31})}},
      {"prelu_shared_many", "type: 'PReLU' top: 'y' prelu_param { channel_shared: true }",
       {B::Gaussian({2, 5, 40, 41})}},
  };
}

std::vector<LayerCase> MVNCases() {
  return {
      {"mvn", "type: 'MVN' top: 'y'", {B::Gaussian({2, 3, 4, 5}, 2)}},
      {"mvn_mean_only", "type: 'MVN' top: 'y' mvn_param { normalize_variance: false }",
       {B::Gaussian({2, 3, 5})}},
      {"mvn_across_channels", "type: 'MVN' top: 'y' mvn_param { across_channels: true }",
       {B::Gaussian({2, 3, 4, 5})}},
      {"mvn_across_channels_mean_only",
       "type: 'MVN' top: 'y' mvn_param { across_channels: true normalize_variance: false }",
       {B::Gaussian({1, 4, 3, 3})}},
      {"mvn_eps_2d", "type: 'MVN' top: 'y' mvn_param { across_channels: true eps: 0.001 }",
       {B::Gaussian({3, 5})}},
      {"mvn_batch1_odd", "type: 'MVN' top: 'y'", {B::Gaussian({1, 3, 7, 5})}},
      InPlace({"mvn_mean_only_in_place",
               "type: 'MVN' top: 'x' mvn_param { normalize_variance: false across_channels: true }",
               {B::Gaussian({2, 3, 3})}}),
  };
}

const char kDeconvFillers[] =
    " weight_filler { type: 'gaussian' std: 0.4 } bias_filler { type: 'gaussian' std: 0.4 } ";

std::string Deconv(const std::string& params, const std::string& tops = "top: 'y'") {
  return "type: 'Deconvolution' " + tops + " convolution_param { " + params + kDeconvFillers + "}";
}

std::vector<LayerCase> DeconvolutionCases() {
  return {
      {"deconv_stride_pad", Deconv("num_output: 3 kernel_size: 3 stride: 2 pad: 1"),
       {B::Gaussian({2, 4, 3, 5})}},
      {"deconv_group_dilation_batch1",
       Deconv("num_output: 4 group: 2 kernel_size: 3 stride: 2 pad: 1 dilation: 2"),
       {B::Gaussian({1, 4, 4, 3})}},
      {"deconv_rect_no_bias",
       Deconv("num_output: 5 kernel_h: 2 kernel_w: 3 stride_h: 1 stride_w: 2 pad_h: 1 "
              "bias_term: false"),
       {B::Gaussian({2, 2, 3, 4})}},
      {"deconv_1x1", Deconv("num_output: 3 kernel_size: 1"), {B::Gaussian({3, 2, 3, 3})}},
      {"deconv_1x1_group_no_bias",
       Deconv("num_output: 6 group: 2 kernel_size: 1 bias_term: false"),
       {B::Gaussian({1, 4, 2, 3})}},
      {"deconv_big_pad", Deconv("num_output: 2 kernel_size: 4 stride: 3 pad: 2"),
       {B::Gaussian({2, 3, 3, 4})}},
      {"deconv_group3_dilation", Deconv("num_output: 3 group: 3 kernel_size: 2 dilation: 3"),
       {B::Gaussian({2, 6, 3, 2})}},
      {"deconv_3d",
       Deconv("num_output: 2 kernel_size: 2 pad: 1 pad: 0 pad: 1 stride: 2 stride: 1 stride: 1 "
              "dilation: 1 dilation: 2 dilation: 1"),
       {B::Gaussian({1, 2, 2, 3, 2})}},
      {"deconv_1d", Deconv("num_output: 2 kernel_size: 3 stride: 2 pad: 1"),
       {B::Gaussian({2, 3, 7})}},
      {"deconv_two_bottoms", Deconv("num_output: 2 kernel_size: 4 stride: 2 pad: 1", "top: 'y' top: 'z'"),
       {B::Gaussian({2, 2, 3, 3}), B::Gaussian({2, 2, 3, 3})}},
      {"deconv_two_bottoms_one_gradient",
       Deconv("num_output: 2 kernel_size: 2 stride: 2", "top: 'y' top: 'z'"),
       {B::Gaussian({1, 3, 2, 3}).NoGradient(), B::Gaussian({1, 3, 2, 3})}},
  };
}

/// A finite-difference check; kink and kink_range as in GradientCheckOptions (range < 0: none),
/// float_step replaces float's default step when positive.
struct GradientCase {
  std::string layer;
  std::vector<BottomSpec> bottoms;
  double kink = 0;
  double kink_range = -1;
  double float_step = 0;
};

// Kinked at 0 within twice the float step.
GradientCase Kinked(GradientCase c, double kink = 0) {
  c.kink = kink;
  c.kink_range = 0.02;
  return c;
}

std::vector<GradientCase> GradientCases() {
  return {
      Kinked({"type: 'ELU' top: 'y' elu_param { alpha: 0.7 }", {B::Gaussian({2, 3, 4})}}),
      Kinked({"type: 'AbsVal' top: 'y'", {B::Gaussian({1, 3, 5})}}),
      {"type: 'Power' top: 'y' power_param { power: 0.37 scale: 0.83 shift: 0.6 }",
       {B::Uniform({2, 3, 4}, 0.5, 2)}},
      {"type: 'Power' top: 'y' power_param { power: 2 scale: 0.34 shift: -2.4 }",
       {B::Gaussian({2, 5})}},
      {"type: 'Power' top: 'y' power_param { power: 3 scale: 0.83 }",
       {B::Uniform({1, 7}, 0.5, 2)}},
      {"type: 'Exp' top: 'y' exp_param { base: 2 scale: -1.3 shift: 0.4 }", {B::Gaussian({2, 5})}},
      {"type: 'Exp' top: 'y'", {B::Gaussian({1, 7})}},
      {"type: 'Log' top: 'y' log_param { base: 2 scale: 1.7 shift: 0.5 }",
       {B::Uniform({2, 3, 2}, 0.5, 2)}},
      {"type: 'BNLL' top: 'y'", {B::Uniform({2, 3, 5}, -3, 3)}},
      // One bound far outside the inputs, the other a kink the check skips.
      Kinked({"type: 'Clip' top: 'y' clip_param { min: -0.3 max: 10 }", {B::Gaussian({2, 3, 5})}},
             -0.3),
      Kinked({"type: 'Clip' top: 'y' clip_param { min: -10 max: 0.4 }", {B::Gaussian({1, 3, 5})}},
             0.4),
      {"type: 'Swish' top: 'y' swish_param { beta: 0.7 }", {B::Uniform({1, 3, 5, 3}, -3, 3)}},
      Kinked({"type: 'PReLU' top: 'y' prelu_param { filler { type: 'gaussian' std: 0.5 } }",
              {B::Gaussian({2, 3, 2, 3})}}),
      Kinked({"type: 'PReLU' top: 'y' prelu_param { channel_shared: true }",
              {B::Gaussian({1, 3, 5})}}),
      {"type: 'MVN' top: 'y'", {B::Uniform({2, 3, 2, 3}, -1, 1)}, 0, -1, 2e-3},
      {"type: 'MVN' top: 'y' mvn_param { across_channels: true }",
       {B::Uniform({2, 3, 2, 2}, -1, 1)}, 0, -1, 2e-3},
      {"type: 'MVN' top: 'y' mvn_param { normalize_variance: false }",
       {B::Gaussian({2, 3, 5})}},
      {Deconv("num_output: 2 group: 2 kernel_size: 3 kernel_size: 2 pad: 1 stride: 2 dilation: 2"),
       {B::Uniform({1, 4, 3, 2}, -1, 1)}},
      {Deconv("num_output: 3 kernel_size: 3 stride: 2 pad: 1 bias_term: false"),
       {B::Uniform({2, 2, 3, 2}, -1, 1)}},
      {Deconv("num_output: 2 group: 2 kernel_size: 1 bias_term: false"),
       {B::Uniform({2, 4, 3, 3}, -1, 1)}},
      {Deconv("num_output: 2 kernel_size: 2 pad: 1 pad: 0 pad: 1 stride: 2 stride: 1 stride: 1 "
              "dilation: 1 dilation: 2 dilation: 1"),
       {B::Uniform({1, 2, 2, 3, 2}, -1, 1)}},
  };
}

/// Runs one gradient check on a context of the given device.
template <typename Dtype>
void CheckGradient(const GradientCase& c, Device device) {
  SCOPED_TRACE(c.layer);
  GradientCheckOptions<Dtype> options;
  options.kink = static_cast<Dtype>(c.kink);
  options.kink_range = static_cast<Dtype>(c.kink_range);
  if (std::is_same<Dtype, float>::value && c.float_step > 0) {
    options.step = static_cast<Dtype>(c.float_step);
  }
  Context context(device, 0, 1701);
  auto layer = MakeLayer<Dtype>(c.layer, &context);
  std::vector<std::unique_ptr<Blob<Dtype>>> owned;
  std::vector<Blob<Dtype>*> bottom, top;
  for (size_t i = 0; i < c.bottoms.size(); ++i) {
    owned.push_back(std::make_unique<Blob<Dtype>>());
    FillBottom(c.bottoms[i], 31 + i, owned.back().get());
    bottom.push_back(owned.back().get());
    if (c.bottoms[i].propagate) options.check_bottoms.push_back(static_cast<int>(i));
  }
  for (int i = 0; i < ParseLayer(c.layer).top_size(); ++i) {
    owned.push_back(std::make_unique<Blob<Dtype>>());
    top.push_back(owned.back().get());
  }
  GradientChecker<Dtype> checker(options);
  checker.Check(layer.get(), bottom, top);
}

std::vector<std::vector<LayerCase>> AllCompareCases() {
  return {ElementwiseCases(), PReLUCases(), MVNCases(), DeconvolutionCases()};
}

template <typename Dtype>
class GpuNeuronLayers : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string reason = GpuSkipReason();
    if (!reason.empty()) GTEST_SKIP() << reason;
  }
  void Compare(const std::vector<LayerCase>& cases) {
    for (const LayerCase& c : cases) CompareCpuGpu<Dtype>(c);
  }
};
TYPED_TEST_SUITE(GpuNeuronLayers, TestDtypes);

TYPED_TEST(GpuNeuronLayers, ElementwiseMatchCpu) { this->Compare(ElementwiseCases()); }
TYPED_TEST(GpuNeuronLayers, PReLUMatchesCpu) { this->Compare(PReLUCases()); }
TYPED_TEST(GpuNeuronLayers, MVNMatchesCpu) { this->Compare(MVNCases()); }
TYPED_TEST(GpuNeuronLayers, DeconvolutionMatchesCpu) { this->Compare(DeconvolutionCases()); }

TYPED_TEST(GpuNeuronLayers, Gradients) {
  for (const GradientCase& c : GradientCases()) CheckGradient<TypeParam>(c, Device::kGpu);
}

// As on the CPU: Threshold has no gradient, and asking for one is a configuration error.
TYPED_TEST(GpuNeuronLayers, ThresholdBackwardRefusesGradient) {
  using Dtype = TypeParam;
  Context context(Device::kGpu, 0, 1701);
  auto layer = MakeLayer<Dtype>("type: 'Threshold' top: 'y'", &context);
  Blob<Dtype> bottom, top;
  FillBottom(B::Gaussian({2, 3}), 5, &bottom);
  layer->SetUp({&bottom}, {&top});
  layer->Forward({&bottom}, {&top});
  EXPECT_NO_THROW(layer->Backward({&top}, {false}, {&bottom}));
  EXPECT_THROW(layer->Backward({&top}, {true}, {&bottom}), ConfigError);
}

TYPED_TEST(GpuNeuronLayers, DeconvolutionReportsEngine) {
  const LayerCase c = {"engine", Deconv("num_output: 2 kernel_size: 3"),
                       {B::Gaussian({1, 2, 3, 3})}, false};
  EXPECT_EQ(RunLayerCase<TypeParam>(c, Device::kGpu).engine, "im2col+cublas");
}

// Every case above on the CPU alone: the layer texts parse and set up, forward and backward run
// (finite values), and the gradient checks pass with their settings, whether or not a GPU is here.
template <typename Dtype>
class NeuronGpuCasesCpuSide : public ::testing::Test {};
TYPED_TEST_SUITE(NeuronGpuCasesCpuSide, TestDtypes);

TYPED_TEST(NeuronGpuCasesCpuSide, CompareCasesRun) {
  using Dtype = TypeParam;
  for (const auto& cases : AllCompareCases()) {
    for (const LayerCase& c : cases) {
      SCOPED_TRACE("case " + c.name);
      LayerRun<Dtype> run;
      ASSERT_NO_THROW(run = RunLayerCase<Dtype>(c, Device::kCpu)) << c.name;
      ASSERT_FALSE(run.tops.empty()) << c.name;
      for (const auto& values : run.tops) {
        for (Dtype v : values) ASSERT_TRUE(std::isfinite(static_cast<double>(v))) << c.name;
      }
      if (c.backward) {
        size_t expected = 0;
        for (const BottomSpec& spec : c.bottoms) expected += spec.propagate ? 1 : 0;
        EXPECT_EQ(run.bottom_diffs.size(), expected) << c.name;
      }
    }
  }
}

TYPED_TEST(NeuronGpuCasesCpuSide, GradientCasesPass) {
  for (const GradientCase& c : GradientCases()) CheckGradient<TypeParam>(c, Device::kCpu);
}

}  // namespace
}  // namespace moka::test
