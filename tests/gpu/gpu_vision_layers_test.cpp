// GPU paths of the vision layers SPP and Im2col: the CPU-versus-GPU harness, the finite-difference
// gradient check on a GPU context, and a check that SPP keeps its work on the device. The CPU side
// of every case also runs on machines without a GPU, so that a broken layer text shows there.
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gpu/gpu_test_util.hpp"
#include "gradient_checker.hpp"
#include "synced_memory.hpp"

namespace moka::test {
namespace {

using B = BottomSpec;

std::vector<LayerCase> VisionCases() {
  return {
      {"im2col_2d",
       "type: 'Im2col' top: 'y' convolution_param { kernel_h: 3 kernel_w: 2 "
       "stride_h: 2 stride_w: 1 pad_h: 1 pad_w: 1 dilation: 2 }",
       {B::Gaussian({2, 3, 7, 6})}},
      {"im2col_forced_nd",
       "type: 'Im2col' top: 'y' convolution_param { kernel_size: 3 stride: 2 "
       "pad: 1 force_nd_im2col: true }",
       {B::Gaussian({2, 2, 6, 5})}},
      {"im2col_3d",
       "type: 'Im2col' top: 'y' convolution_param { kernel_size: 2 kernel_size: 3 "
       "kernel_size: 2 stride: 2 pad: 1 dilation: 1 dilation: 2 dilation: 1 }",
       {B::Gaussian({2, 2, 4, 6, 5})}},
      {"im2col_axis2",
       "type: 'Im2col' top: 'y' convolution_param { axis: 2 kernel_size: 3 "
       "pad: 1 }",
       {B::Gaussian({2, 3, 2, 9})}},
      {"spp_max",
       "type: 'SPP' top: 'y' spp_param { pyramid_height: 3 pool: MAX }",
       {B::Gaussian({2, 3, 9, 7})}},
      {"spp_ave",
       "type: 'SPP' top: 'y' spp_param { pyramid_height: 3 pool: AVE }",
       {B::Gaussian({2, 2, 13, 11})}},
      {"spp_single_level",
       "type: 'SPP' top: 'y' spp_param { pyramid_height: 1 pool: MAX }",
       {B::Gaussian({3, 2, 5, 4})}},
      {"spp_stochastic",
       "type: 'SPP' top: 'y' phase: TEST spp_param { pyramid_height: 2 "
       "pool: STOCHASTIC }",
       {B::Uniform({2, 2, 8, 8}, 0.1, 1)}},
  };
}

TEST(GpuVisionLayersCpuSide, EveryCaseRunsOnTheCpu) {
  for (const LayerCase& c : VisionCases()) {
    SCOPED_TRACE(c.name);
    EXPECT_NO_THROW((RunLayerCase<float>(c, Device::kCpu)));
    EXPECT_NO_THROW((RunLayerCase<double>(c, Device::kCpu)));
  }
}

template <typename Dtype>
class GpuVisionLayers : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string reason = GpuSkipReason();
    if (!reason.empty()) GTEST_SKIP() << reason;
  }
};
TYPED_TEST_SUITE(GpuVisionLayers, TestDtypes);

TYPED_TEST(GpuVisionLayers, MatchTheCpu) {
  for (const LayerCase& c : VisionCases()) CompareCpuGpu<TypeParam>(c);
}

template <typename Dtype>
void CheckOnGpu(const std::string& text, const std::vector<BottomSpec>& bottoms) {
  SCOPED_TRACE(text);
  Context context(Device::kGpu, 0, 1701);
  auto layer = MakeLayer<Dtype>(text, &context);
  std::vector<std::unique_ptr<Blob<Dtype>>> owned;
  std::vector<Blob<Dtype>*> bottom, top;
  for (size_t i = 0; i < bottoms.size(); ++i) {
    owned.push_back(std::make_unique<Blob<Dtype>>());
    FillBottom(bottoms[i], 31 + i, owned.back().get());
    bottom.push_back(owned.back().get());
  }
  for (int i = 0; i < ParseLayer(text).top_size(); ++i) {
    owned.push_back(std::make_unique<Blob<Dtype>>());
    top.push_back(owned.back().get());
  }
  GradientChecker<Dtype> checker;
  checker.Check(layer.get(), bottom, top);
}

TYPED_TEST(GpuVisionLayers, Gradients) {
  CheckOnGpu<TypeParam>(
      "type: 'Im2col' top: 'y' convolution_param { kernel_h: 3 kernel_w: 2 "
      "stride: 2 pad: 1 dilation: 2 }",
      {B::Gaussian({1, 2, 5, 6})});
  CheckOnGpu<TypeParam>("type: 'Im2col' top: 'y' convolution_param { kernel_size: 2 pad: 1 }",
                        {B::Gaussian({1, 2, 3, 4, 3})});
  CheckOnGpu<TypeParam>("type: 'SPP' top: 'y' spp_param { pyramid_height: 2 pool: AVE }",
                        {B::Gaussian({2, 2, 5, 7})});
  CheckOnGpu<TypeParam>("type: 'SPP' top: 'y' spp_param { pyramid_height: 1 pool: AVE }",
                        {B::Gaussian({1, 3, 4, 3})});
}

TYPED_TEST(GpuVisionLayers, SppStaysOnTheDevice) {
  using Dtype = TypeParam;
  Context context(Device::kGpu, 0, 5);
  auto layer =
      MakeLayer<Dtype>("type: 'SPP' top: 'y' spp_param { pyramid_height: 3 pool: MAX }", &context);
  Blob<Dtype> bottom(2, 3, 9, 9), top;
  FillUniform<Dtype>(&bottom, -1, 1);
  layer->SetUp({&bottom}, {&top});
  bottom.gpu_data();
  layer->Forward({&bottom}, {&top});
  // A host round trip anywhere inside would leave the top synced or on the host.
  EXPECT_EQ(top.data()->head(), SyncedMemory::Head::kAtGpu);
  std::mt19937_64 rng(9);
  rng_uniform<Dtype>(top.count(), Dtype(-1), Dtype(1), rng, top.mutable_cpu_diff());
  top.gpu_diff();
  layer->Backward({&top}, {true}, {&bottom});
  EXPECT_EQ(bottom.diff()->head(), SyncedMemory::Head::kAtGpu);
}

}  // namespace
}  // namespace moka::test
