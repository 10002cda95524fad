// Every layer with a GPU implementation, run on the CPU and on the GPU from the same definition,
// seed and inputs, over awkward shapes (odd sizes, batch 1, groups, dilation, padding beyond half
// the kernel, 1-D and 3-D convolution, in-place use); the CPU result is the oracle.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gpu/gpu_test_util.hpp"

namespace moka::test {
namespace {

using B = BottomSpec;

std::vector<LayerCase> NeuronCases() {
  return {
      {"relu", "type: 'ReLU' top: 'y'", {B::Gaussian({2, 3, 5, 7})}},
      {"relu_leaky", "type: 'ReLU' top: 'y' relu_param { negative_slope: 0.1 }",
       {B::Gaussian({1, 17})}},
      {"relu_in_place", "type: 'ReLU' top: 'x' relu_param { negative_slope: 0.2 }",
       {B::Gaussian({3, 4, 5})}, true, true},
      {"sigmoid", "type: 'Sigmoid' top: 'y'", {B::Gaussian({3, 4, 5}, 3)}},
      {"tanh", "type: 'TanH' top: 'y'", {B::Gaussian({2, 17}, 2)}},
      {"dropout_train", "type: 'Dropout' top: 'y' phase: TRAIN dropout_param { dropout_ratio: 0.3 }",
       {B::Gaussian({4, 5, 6})}},
      {"dropout_test", "type: 'Dropout' top: 'y' phase: TEST", {B::Gaussian({3, 7})}},
      {"softmax", "type: 'Softmax' top: 'y'", {B::Gaussian({2, 5, 3, 4}, 3)}},
      {"softmax_axis2", "type: 'Softmax' top: 'y' softmax_param { axis: 2 }",
       {B::Gaussian({2, 3, 7})}},
      {"softmax_batch1", "type: 'Softmax' top: 'y'", {B::Gaussian({1, 10}, 5)}},
      {"softmax_in_place", "type: 'Softmax' top: 'x'", {B::Gaussian({3, 6})}, true, true},
  };
}

std::vector<LayerCase> LossCases() {
  return {
      {"softmax_loss", "type: 'SoftmaxWithLoss' top: 'loss'",
       {B::Gaussian({4, 5, 3}, 2), B::Labels({4, 3}, 5)}},
      {"softmax_loss_ignore_prob_top",
       "type: 'SoftmaxWithLoss' top: 'loss' top: 'prob' loss_param { ignore_label: 2 }",
       {B::Gaussian({3, 4, 2, 3}), B::Labels({3, 2, 3}, 4, 3, 2)}},
      {"softmax_loss_batch_size",
       "type: 'SoftmaxWithLoss' top: 'loss' loss_weight: 2.5 "
       "loss_param { normalization: BATCH_SIZE ignore_label: 0 }",
       {B::Gaussian({6, 7}), B::Labels({6}, 7, 4, 0)}},
      {"softmax_loss_none_axis2",
       "type: 'SoftmaxWithLoss' top: 'loss' softmax_param { axis: 2 } "
       "loss_param { normalization: NONE }",
       {B::Gaussian({2, 3, 5}), B::Labels({2, 3}, 5)}},
      {"softmax_loss_full", "type: 'SoftmaxWithLoss' top: 'loss' loss_param { normalization: FULL }",
       {B::Gaussian({1, 9}), B::Labels({1}, 9)}},
      {"sigmoid_cross_entropy", "type: 'SigmoidCrossEntropyLoss' top: 'loss'",
       {B::Gaussian({3, 7}, 3), B::Uniform({3, 7}, 0, 1).NoGradient()}},
      {"sigmoid_cross_entropy_ignore",
       "type: 'SigmoidCrossEntropyLoss' top: 'loss' loss_weight: 0.5 "
       "loss_param { ignore_label: 1 normalization: VALID }",
       {B::Gaussian({4, 5}), B::Labels({4, 5}, 2)}},
      {"euclidean", "type: 'EuclideanLoss' top: 'loss'",
       {B::Gaussian({5, 3, 2}), B::Gaussian({5, 6})}},
      {"euclidean_weighted", "type: 'EuclideanLoss' top: 'loss' loss_weight: 3",
       {B::Gaussian({1, 11}), B::Gaussian({1, 11}).NoGradient()}},
      {"accuracy", "type: 'Accuracy' top: 'acc'",
       {B::Gaussian({6, 5}).NoGradient(), B::Labels({6}, 5)}, false},
      {"accuracy_top2_per_class",
       "type: 'Accuracy' top: 'acc' top: 'per_class' "
       "accuracy_param { top_k: 2 ignore_label: 1 axis: 1 }",
       {B::Gaussian({5, 4, 3}).NoGradient(), B::Labels({5, 3}, 4, 4, 1)}, false},
  };
}

std::vector<LayerCase> InnerProductCases() {
  const std::string fillers =
      "weight_filler { type: 'gaussian' std: 0.5 } bias_filler { type: 'uniform' min: -1 max: 1 }";
  return {
      {"ip", "type: 'InnerProduct' top: 'y' inner_product_param { num_output: 7 " + fillers + " }",
       {B::Gaussian({3, 4, 5, 6})}},
      {"ip_batch1_transpose",
       "type: 'InnerProduct' top: 'y' inner_product_param { num_output: 3 transpose: true " +
           fillers + " }",
       {B::Gaussian({1, 13})}},
      {"ip_no_bias_axis2",
       "type: 'InnerProduct' top: 'y' inner_product_param { num_output: 5 bias_term: false axis: 2 " +
           fillers + " }",
       {B::Gaussian({2, 3, 4, 3})}},
  };
}

/// The same convolutions once with the default engine (cuDNN where it can) and once with
/// engine: CAFFE (im2col + cuBLAS), so both GPU paths meet the CPU oracle.
std::vector<LayerCase> ConvolutionCases() {
  const std::string fillers =
      "weight_filler { type: 'gaussian' std: 0.3 } bias_filler { type: 'gaussian' std: 0.5 }";
  struct Conv {
    std::string name, param;
    std::vector<BottomSpec> bottoms;
  };
  const std::vector<Conv> convs = {
      {"conv_3x3_stride2_pad1", "num_output: 4 kernel_size: 3 stride: 2 pad: 1",
       {B::Gaussian({2, 3, 9, 11})}},
      {"conv_groups_rect_pad_gt_half",
       "num_output: 6 group: 2 kernel_h: 3 kernel_w: 2 stride_h: 1 stride_w: 2 pad_h: 2 pad_w: 1",
       {B::Gaussian({1, 4, 7, 8})}},
      {"conv_dilation", "num_output: 3 kernel_size: 3 dilation: 2 pad: 3",
       {B::Gaussian({2, 2, 11, 9})}},
      {"conv_depthwise", "num_output: 5 group: 5 kernel_size: 3 pad: 1",
       {B::Gaussian({2, 5, 6, 7})}},
      {"conv_1x1_no_bias", "num_output: 4 kernel_size: 1 bias_term: false",
       {B::Gaussian({3, 6, 5, 5})}},
      {"conv_1d", "num_output: 2 kernel_size: 4 stride: 3 pad: 2", {B::Gaussian({2, 3, 13})}},
      {"conv_3d", "num_output: 2 kernel_size: 3 kernel_size: 2 kernel_size: 3 pad: 1 stride: 2 "
                  "stride: 1 stride: 1",
       {B::Gaussian({1, 2, 5, 6, 4})}},
      {"conv_two_bottoms", "num_output: 3 kernel_size: 2",
       {B::Gaussian({2, 3, 6, 5}), B::Gaussian({2, 3, 6, 5})}},
      // An input one short of the kernel extent with stride 2 still gives one output (Caffe's
      // size rounds toward zero), which cuDNN would not: the default engine must fall back.
      {"conv_short_input", "num_output: 2 kernel_size: 5 stride: 2",
       {B::Gaussian({1, 2, 4, 6})}},
  };
  std::vector<LayerCase> cases;
  for (const Conv& conv : convs) {
    for (const std::string engine : {"", " engine: CAFFE"}) {
      cases.push_back({conv.name + (engine.empty() ? "" : "_caffe_engine"),
                       "type: 'Convolution' top: 'y' top: 'y2' convolution_param { " + conv.param +
                           engine + " " + fillers + " }",
                       conv.bottoms});
      if (conv.bottoms.size() == 1) {
        // One top for one bottom.
        std::string& text = cases.back().layer;
        text.replace(text.find(" top: 'y2'"), 10, "");
      }
    }
  }
  return cases;
}

std::vector<LayerCase> PoolingCases() {
  return {
      {"max_3x3_s2", "type: 'Pooling' top: 'y' pooling_param { pool: MAX kernel_size: 3 stride: 2 }",
       {B::Gaussian({2, 3, 7, 9})}},
      {"max_pad_mask_top",
       "type: 'Pooling' top: 'y' top: 'mask' "
       "pooling_param { pool: MAX kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 1 pad_h: 1 pad_w: 1 }",
       {B::Gaussian({1, 2, 6, 5})}},
      {"max_floor", "type: 'Pooling' top: 'y' "
                    "pooling_param { pool: MAX kernel_size: 2 stride: 2 round_mode: FLOOR }",
       {B::Gaussian({2, 2, 7, 5})}},
      {"ave_pad", "type: 'Pooling' top: 'y' pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 }",
       {B::Gaussian({2, 2, 8, 7})}},
      {"ave_global", "type: 'Pooling' top: 'y' pooling_param { pool: AVE global_pooling: true }",
       {B::Gaussian({3, 4, 5, 6})}},
      {"max_overlap_s1", "type: 'Pooling' top: 'y' pooling_param { pool: MAX kernel_size: 3 stride: 1 pad: 2 }",
       {B::Gaussian({1, 1, 5, 6})}},
      {"stochastic_train",
       "type: 'Pooling' top: 'y' phase: TRAIN pooling_param { pool: STOCHASTIC kernel_size: 3 stride: 2 }",
       {B::Uniform({2, 2, 6, 7}, 0.1, 1)}},
      {"stochastic_test",
       "type: 'Pooling' top: 'y' phase: TEST pooling_param { pool: STOCHASTIC kernel_size: 2 stride: 2 }",
       {B::Uniform({2, 3, 5, 5}, 0.1, 1)}},
  };
}

std::vector<LayerCase> LrnCases() {
  return {
      {"lrn_across", "type: 'LRN' top: 'y' lrn_param { local_size: 5 alpha: 0.3 beta: 0.75 k: 2 }",
       {B::Gaussian({2, 7, 3, 4})}},
      {"lrn_across_window_wider_than_channels",
       "type: 'LRN' top: 'y' lrn_param { local_size: 7 alpha: 1.5 beta: 0.6 }",
       {B::Gaussian({1, 3, 2, 5})}},
      {"lrn_within", "type: 'LRN' top: 'y' lrn_param { local_size: 3 alpha: 0.8 beta: 0.7 "
                     "norm_region: WITHIN_CHANNEL }",
       {B::Gaussian({2, 3, 6, 5})}},
      {"lrn_within_5", "type: 'LRN' top: 'y' lrn_param { local_size: 5 alpha: 2 beta: 0.9 "
                       "norm_region: WITHIN_CHANNEL }",
       {B::Gaussian({1, 2, 4, 7})}},
  };
}

std::vector<LayerCase> UtilityCases() {
  return {
      {"flatten", "type: 'Flatten' top: 'y'", {B::Gaussian({2, 3, 4, 5})}},
      {"reshape", "type: 'Reshape' top: 'y' reshape_param { shape { dim: 0 dim: -1 } }",
       {B::Gaussian({2, 3, 4})}},
      {"split3", "type: 'Split' top: 'a' top: 'b' top: 'c'", {B::Gaussian({3, 5})}},
      {"split1", "type: 'Split' top: 'a'", {B::Gaussian({2, 7})}},
      {"concat_channels", "type: 'Concat' top: 'y'",
       {B::Gaussian({2, 3, 4}), B::Gaussian({2, 1, 4}), B::Gaussian({2, 5, 4}).NoGradient()}},
      {"concat_axis0", "type: 'Concat' top: 'y' concat_param { axis: 0 }",
       {B::Gaussian({1, 3, 2}), B::Gaussian({3, 3, 2})}},
      {"eltwise_sum_coeffs",
       "type: 'Eltwise' top: 'y' eltwise_param { operation: SUM coeff: 2 coeff: -0.5 coeff: 1 }",
       {B::Gaussian({2, 3, 5}), B::Gaussian({2, 3, 5}), B::Gaussian({2, 3, 5})}},
      {"eltwise_prod", "type: 'Eltwise' top: 'y' eltwise_param { operation: PROD }",
       {B::Uniform({3, 7}, 0.5, 2), B::Uniform({3, 7}, -2, -0.5), B::Uniform({3, 7}, 0.5, 1.5)}},
      {"eltwise_prod_unstable",
       "type: 'Eltwise' top: 'y' eltwise_param { operation: PROD stable_prod_grad: false }",
       {B::Uniform({2, 9}, 0.5, 2), B::Uniform({2, 9}, 0.5, 2)}},
      {"eltwise_max", "type: 'Eltwise' top: 'y' eltwise_param { operation: MAX }",
       {B::Gaussian({4, 5}), B::Gaussian({4, 5}), B::Gaussian({4, 5})}},
      {"silence", "type: 'Silence'", {B::Gaussian({2, 3}), B::Gaussian({4})}},
      {"dummy_data",
       "type: 'DummyData' top: 'a' top: 'b' dummy_data_param { shape { dim: 2 dim: 3 } "
       "shape { dim: 5 } data_filler { type: 'gaussian' std: 2 } "
       "data_filler { type: 'constant' value: 3 } }",
       {}, false},
      {"input", "type: 'Input' top: 'a' input_param { shape { dim: 2 dim: 4 } }", {}, false},
  };
}

// The per-channel layers of ResNet blocks: BatchNorm (batch and global statistics), Scale and Bias
// (learned or from a second bottom, in place or not).
std::vector<LayerCase> ResNetBlockCases() {
  return {
      {"batch_norm", "type: 'BatchNorm' top: 'y'", {B::Gaussian({3, 4, 5, 2})}},
      {"batch_norm_2d", "type: 'BatchNorm' top: 'y'", {B::Gaussian({5, 3})}},
      {"batch_norm_in_place", "type: 'BatchNorm' top: 'x'", {B::Gaussian({2, 3, 3, 3})}, true,
       true},
      {"batch_norm_global_stats", "type: 'BatchNorm' top: 'y' phase: TEST",
       {B::Gaussian({2, 3, 4})}},
      {"batch_norm_explicit_global",
       "type: 'BatchNorm' top: 'y' batch_norm_param { use_global_stats: true eps: 0.01 }",
       {B::Gaussian({2, 3, 2, 2})}},
      {"bias_learned",
       "type: 'Bias' top: 'y' bias_param { axis: 1 num_axes: 1 filler { type: 'gaussian' } }",
       {B::Gaussian({2, 3, 4})}},
      {"bias_bottom", "type: 'Bias' top: 'y'", {B::Gaussian({2, 3, 4}), B::Gaussian({3, 4})}},
      {"bias_in_place", "type: 'Bias' top: 'x' bias_param { filler { type: 'gaussian' } }",
       {B::Gaussian({3, 5, 2})}, true, true},
      {"scale_learned_bias",
       "type: 'Scale' top: 'y' scale_param { filler { type: 'gaussian' } bias_term: true "
       "bias_filler { type: 'gaussian' } }",
       {B::Gaussian({2, 3, 4, 2})}},
      {"scale_bottom", "type: 'Scale' top: 'y'", {B::Gaussian({2, 3, 4}), B::Gaussian({3, 4})}},
      {"scale_in_place",
       "type: 'Scale' top: 'x' scale_param { filler { type: 'gaussian' } bias_term: true }",
       {B::Gaussian({2, 4, 3})}, true, true},
      {"scale_scalar",
       "type: 'Scale' top: 'y' scale_param { num_axes: 0 filler { type: 'gaussian' } }",
       {B::Gaussian({3, 2, 5})}},
  };
}

template <typename Dtype>
class GpuLayerCompare : public ::testing::Test {
 protected:
  void Run(const std::vector<LayerCase>& cases) {
    MOKA_REQUIRE_GPU();
    for (const LayerCase& c : cases) CompareCpuGpu<Dtype>(c);
  }
};
TYPED_TEST_SUITE(GpuLayerCompare, TestDtypes);

TYPED_TEST(GpuLayerCompare, Neurons) { this->Run(NeuronCases()); }
TYPED_TEST(GpuLayerCompare, Losses) { this->Run(LossCases()); }
TYPED_TEST(GpuLayerCompare, InnerProduct) { this->Run(InnerProductCases()); }
TYPED_TEST(GpuLayerCompare, Convolution) { this->Run(ConvolutionCases()); }
TYPED_TEST(GpuLayerCompare, Pooling) { this->Run(PoolingCases()); }
TYPED_TEST(GpuLayerCompare, LRN) { this->Run(LrnCases()); }
TYPED_TEST(GpuLayerCompare, Utility) { this->Run(UtilityCases()); }
TYPED_TEST(GpuLayerCompare, ResNetBlocks) { this->Run(ResNetBlockCases()); }

// The engine each GPU convolution reports names what ran: cuDNN's measured algorithms, or the
// im2col fallback where cuDNN cannot (or may not) serve.
TEST(GpuConvolutionEngine, ReportsCudnnOrFallback) {
  MOKA_REQUIRE_GPU();
  LayerCase cudnn = {"cudnn", "type: 'Convolution' top: 'y' convolution_param { num_output: 2 "
                              "kernel_size: 3 weight_filler { type: 'gaussian' } }",
                     {B::Gaussian({1, 2, 5, 5})}, false};
  LayerCase caffe = cudnn;
  caffe.layer = "type: 'Convolution' top: 'y' convolution_param { num_output: 2 kernel_size: 3 "
                "engine: CAFFE }";
  LayerCase short_input = cudnn;
  short_input.layer = "type: 'Convolution' top: 'y' convolution_param { num_output: 2 "
                      "kernel_size: 5 stride: 2 }";
  short_input.bottoms = {B::Gaussian({1, 2, 4, 6})};
  const std::string cudnn_engine = RunLayerCase<float>(cudnn, Device::kGpu).engine;
#ifdef MOKA_CUDNN
  EXPECT_EQ(cudnn_engine.rfind("cudnn:fwd=", 0), 0u) << cudnn_engine;
#else
  EXPECT_EQ(cudnn_engine, "im2col+cublas");
#endif
  EXPECT_EQ(RunLayerCase<float>(caffe, Device::kGpu).engine, "im2col+cublas");
  EXPECT_EQ(RunLayerCase<float>(short_input, Device::kGpu).engine, "im2col+cublas");
  std::cout << "[ engine   ] 3x3 convolution on the GPU: " << cudnn_engine << std::endl;
}

}  // namespace
}  // namespace moka::test
