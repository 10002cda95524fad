// The finite-difference gradient check of every GPU backward, in float and double, on a GPU
// context: the checker perturbs inputs on the host and the lazy sync carries them to the device.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "gpu/gpu_test_util.hpp"
#include "gradient_checker.hpp"

namespace moka::test {
namespace {

using B = BottomSpec;

template <typename Dtype>
void CheckOnGpu(const std::string& text, const std::vector<BottomSpec>& bottoms,
                GradientCheckOptions<Dtype> options = {}) {
  SCOPED_TRACE(text);
  Context context(Device::kGpu, 0, 1701);
  auto layer = MakeLayer<Dtype>(text, &context);
  std::vector<std::unique_ptr<Blob<Dtype>>> owned;
  std::vector<Blob<Dtype>*> bottom, top;
  for (size_t i = 0; i < bottoms.size(); ++i) {
    owned.push_back(std::make_unique<Blob<Dtype>>());
    FillBottom(bottoms[i], 31 + i, owned.back().get());
    bottom.push_back(owned.back().get());
    if (bottoms[i].propagate) options.check_bottoms.push_back(static_cast<int>(i));
  }
  for (int i = 0; i < ParseLayer(text).top_size(); ++i) {
    owned.push_back(std::make_unique<Blob<Dtype>>());
    top.push_back(owned.back().get());
  }
  GradientChecker<Dtype> checker(options);
  checker.Check(layer.get(), bottom, top);
}

template <typename Dtype>
class GpuGradient : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string reason = GpuSkipReason();
    if (!reason.empty()) GTEST_SKIP() << reason;
  }
  GradientCheckOptions<Dtype> Kinked() const {
    GradientCheckOptions<Dtype> options;
    options.kink = 0;
    options.kink_range = options.step * 2;
    return options;
  }
};
TYPED_TEST_SUITE(GpuGradient, TestDtypes);

const char kConvFillers[] =
    " weight_filler { type: 'gaussian' std: 0.4 } bias_filler { type: 'gaussian' std: 0.4 } ";

TYPED_TEST(GpuGradient, ConvolutionDefaultEngine) {
  CheckOnGpu<TypeParam>("type: 'Convolution' top: 'y' convolution_param { num_output: 3 "
                        "kernel_size: 3 stride: 2 pad: 1" + std::string(kConvFillers) + "}",
                        {B::Gaussian({2, 2, 5, 4})});
  CheckOnGpu<TypeParam>("type: 'Convolution' top: 'y' convolution_param { num_output: 4 group: 2 "
                        "kernel_size: 2 dilation: 2 pad: 2" + std::string(kConvFillers) + "}",
                        {B::Gaussian({1, 4, 4, 5})});
}

TYPED_TEST(GpuGradient, ConvolutionIm2colEngine) {
  CheckOnGpu<TypeParam>("type: 'Convolution' top: 'y' convolution_param { num_output: 4 group: 2 "
                        "kernel_h: 3 kernel_w: 2 dilation: 2 pad: 2 stride: 2 engine: CAFFE" +
                            std::string(kConvFillers) + "}",
                        {B::Gaussian({1, 4, 5, 6})});
  CheckOnGpu<TypeParam>("type: 'Convolution' top: 'y' convolution_param { num_output: 2 "
                        "kernel_size: 2 pad: 1 engine: CAFFE" + std::string(kConvFillers) + "}",
                        {B::Gaussian({1, 2, 3, 4, 3})});
}

TYPED_TEST(GpuGradient, InnerProduct) {
  CheckOnGpu<TypeParam>("type: 'InnerProduct' top: 'y' inner_product_param { num_output: 3 "
                        "weight_filler { type: 'gaussian' } bias_filler { type: 'gaussian' } }",
                        {B::Gaussian({2, 3, 2})});
}

TYPED_TEST(GpuGradient, Pooling) {
  CheckOnGpu<TypeParam>("type: 'Pooling' top: 'y' pooling_param { pool: MAX kernel_size: 3 "
                        "stride: 2 pad: 1 }",
                        {B::Gaussian({1, 2, 5, 6})});
  CheckOnGpu<TypeParam>("type: 'Pooling' top: 'y' top: 'mask' pooling_param { pool: MAX "
                        "kernel_size: 2 stride: 1 }",
                        {B::Gaussian({2, 1, 3, 4})});
  CheckOnGpu<TypeParam>("type: 'Pooling' top: 'y' pooling_param { pool: AVE kernel_size: 3 "
                        "stride: 2 pad: 2 }",
                        {B::Gaussian({1, 2, 5, 4})});
  CheckOnGpu<TypeParam>("type: 'Pooling' top: 'y' phase: TEST pooling_param { pool: STOCHASTIC "
                        "kernel_size: 2 stride: 2 }",
                        {B::Uniform({1, 2, 4, 5}, 0.5, 1)});
}

TYPED_TEST(GpuGradient, LRN) {
  CheckOnGpu<TypeParam>("type: 'LRN' top: 'y' lrn_param { local_size: 3 alpha: 0.5 beta: 0.75 k: 1.5 }",
                        {B::Gaussian({1, 5, 2, 3})});
  CheckOnGpu<TypeParam>("type: 'LRN' top: 'y' lrn_param { local_size: 3 alpha: 0.5 beta: 0.75 "
                        "norm_region: WITHIN_CHANNEL }",
                        {B::Gaussian({1, 2, 4, 3})});
}

TYPED_TEST(GpuGradient, Neurons) {
  CheckOnGpu<TypeParam>("type: 'ReLU' top: 'y' relu_param { negative_slope: 0.1 }",
                        {B::Gaussian({2, 3, 4})}, this->Kinked());
  CheckOnGpu<TypeParam>("type: 'Sigmoid' top: 'y'", {B::Gaussian({2, 5})});
  CheckOnGpu<TypeParam>("type: 'TanH' top: 'y'", {B::Gaussian({3, 4})});
  CheckOnGpu<TypeParam>("type: 'Dropout' top: 'y' phase: TRAIN dropout_param { dropout_ratio: 0.4 }",
                        {B::Gaussian({3, 5})});
  CheckOnGpu<TypeParam>("type: 'Softmax' top: 'y' softmax_param { axis: 1 }",
                        {B::Gaussian({2, 4, 3})});
}

TYPED_TEST(GpuGradient, Losses) {
  CheckOnGpu<TypeParam>("type: 'SoftmaxWithLoss' top: 'loss' loss_param { ignore_label: 1 }",
                        {B::Gaussian({3, 4, 2}), B::Labels({3, 2}, 4, 3, 1)});
  CheckOnGpu<TypeParam>("type: 'SigmoidCrossEntropyLoss' top: 'loss'",
                        {B::Gaussian({3, 4}), B::Uniform({3, 4}, 0, 1).NoGradient()});
  CheckOnGpu<TypeParam>("type: 'EuclideanLoss' top: 'loss'",
                        {B::Gaussian({3, 4}), B::Gaussian({3, 4})});
}

TYPED_TEST(GpuGradient, Utility) {
  CheckOnGpu<TypeParam>("type: 'Eltwise' top: 'y' eltwise_param { operation: PROD }",
                        {B::Uniform({2, 5}, 0.5, 1.5), B::Uniform({2, 5}, -1.5, -0.5),
                         B::Uniform({2, 5}, 0.5, 1.5)});
  CheckOnGpu<TypeParam>("type: 'Eltwise' top: 'y' eltwise_param { operation: SUM coeff: 1.5 "
                        "coeff: -2 }",
                        {B::Gaussian({2, 5}), B::Gaussian({2, 5})});
  CheckOnGpu<TypeParam>("type: 'Eltwise' top: 'y' eltwise_param { operation: MAX }",
                        {B::Gaussian({3, 4}), B::Gaussian({3, 4})});
  CheckOnGpu<TypeParam>("type: 'Concat' top: 'y' concat_param { axis: 1 }",
                        {B::Gaussian({2, 2, 3}), B::Gaussian({2, 3, 3})});
  CheckOnGpu<TypeParam>("type: 'Split' top: 'a' top: 'b'", {B::Gaussian({2, 3})});
}

}  // namespace
}  // namespace moka::test
