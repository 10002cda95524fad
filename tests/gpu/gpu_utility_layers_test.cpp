// The GPU paths of the shape and lookup layers (Crop, Tile, Slice, Embed, Reduction, ArgMax,
// Filter, BatchReindex, Parameter) and of the remaining losses and metrics (HingeLoss,
// InfogainLoss, ContrastiveLoss, MultinomialLogisticLoss, Accuracy): CPU-versus-GPU comparisons
// over awkward shapes, finite-difference gradient checks on a GPU context, and bad labels reported
// alike on both devices. The UtilityGpuCasesCpuSide tests run every one of these cases on a CPU
// context, so that a broken layer definition shows up on machines without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "gpu/gpu_test_util.hpp"
#include "gradient_checker.hpp"
#include "proto_io.hpp"

namespace moka::test {
namespace {

using B = BottomSpec;

std::vector<LayerCase> ShapeCases() {
  return {
      {"crop_axis2_one_offset", "type: 'Crop' top: 'y' crop_param { axis: 2 offset: 1 }",
       {B::Gaussian({2, 3, 7, 6}), B::Gaussian({2, 3, 4, 5}).NoGradient()}},
      {"crop_negative_axis_per_axis_offsets",
       "type: 'Crop' top: 'y' crop_param { axis: -3 offset: 0 offset: 2 offset: 1 }",
       {B::Gaussian({1, 4, 5, 7}), B::Gaussian({1, 3, 2, 4}).NoGradient()}},
      {"crop_axis0_default_offset", "type: 'Crop' top: 'y' crop_param { axis: 0 }",
       {B::Gaussian({3, 5}), B::Gaussian({2, 3}).NoGradient()}},
      {"crop_1d", "type: 'Crop' top: 'y' crop_param { axis: 0 offset: 2 }",
       {B::Gaussian({9}), B::Gaussian({4}).NoGradient()}},
      {"tile_axis1", "type: 'Tile' top: 'y' tile_param { axis: 1 tiles: 3 }",
       {B::Gaussian({2, 3, 4})}},
      {"tile_negative_axis", "type: 'Tile' top: 'y' tile_param { axis: -1 tiles: 2 }",
       {B::Gaussian({3, 5})}},
      {"tile_axis0_batch1", "type: 'Tile' top: 'y' tile_param { axis: 0 tiles: 4 }",
       {B::Gaussian({1, 3, 2})}},
      {"slice_points",
       "type: 'Slice' top: 'a' top: 'b' top: 'c' slice_param { axis: 1 slice_point: 1 "
       "slice_point: 4 }",
       {B::Gaussian({2, 6, 3})}},
      {"slice_equal_negative_axis", "type: 'Slice' top: 'a' top: 'b' slice_param { axis: -1 }",
       {B::Gaussian({3, 2, 8})}},
      {"slice_dim_legacy", "type: 'Slice' top: 'a' top: 'b' slice_param { slice_dim: 0 "
                           "slice_point: 1 }",
       {B::Gaussian({3, 5})}},
      {"slice_single_top", "type: 'Slice' top: 'a'", {B::Gaussian({2, 3})}},
      // Selector [0, 1, 0, 1, 0, 1, 0]: rows 1, 3 and 5 pass.
      {"filter_two_tops", "type: 'Filter' top: 'y' top: 'z'",
       {B::Gaussian({7, 3, 2}), B::Gaussian({7, 4}), B::Labels({7}, 1, 2, 1)}},
      // Selector of shape (N, 1, 1) holding 2 at rows 2 and 5.
      {"filter_selector_nc11", "type: 'Filter' top: 'y'",
       {B::Gaussian({7, 5}), B::Labels({7, 1, 1}, 1, 3, 2)}},
      {"filter_batch1_all_pass", "type: 'Filter' top: 'y'",
       {B::Gaussian({1, 3, 3}), B::Labels({1}, 1, 1, 1)}},
      {"filter_none_pass", "type: 'Filter' top: 'y'",
       {B::Gaussian({4, 3}), B::Labels({4}, 1)}},
      {"batch_reindex_repeats", "type: 'BatchReindex' top: 'y'",
       {B::Gaussian({4, 3, 2}), B::Labels({6}, 4)}},
      {"batch_reindex_batch1", "type: 'BatchReindex' top: 'y'",
       {B::Gaussian({1, 5}), B::Labels({3}, 1)}},
      {"parameter", "type: 'Parameter' top: 'p' parameter_param { shape { dim: 2 dim: 3 } }", {}},
  };
}

std::vector<LayerCase> LookupReductionCases() {
  return {
      // 12 lookups into 7 rows: repeated rows accumulate their weight gradient.
      {"embed_bias", "type: 'Embed' top: 'y' embed_param { num_output: 5 input_dim: 7 "
                     "weight_filler { type: 'gaussian' } bias_filler { type: 'gaussian' } }",
       {B::Labels({4, 3}, 7)}},
      {"embed_no_bias_batch1",
       "type: 'Embed' top: 'y' embed_param { num_output: 3 input_dim: 4 bias_term: false "
       "weight_filler { type: 'uniform' min: -1 max: 1 } }",
       {B::Labels({1}, 4)}},
      {"embed_many_repeats", "type: 'Embed' top: 'y' embed_param { num_output: 2 input_dim: 2 "
                             "weight_filler { type: 'gaussian' } }",
       {B::Labels({3, 11}, 2)}},
      {"reduction_sum_all", "type: 'Reduction' top: 'y'", {B::Gaussian({2, 3, 4})}},
      {"reduction_mean_axis1",
       "type: 'Reduction' top: 'y' reduction_param { operation: MEAN axis: 1 coeff: -1.5 }",
       {B::Gaussian({3, 5, 2})}},
      {"reduction_asum_negative_axis",
       "type: 'Reduction' top: 'y' reduction_param { operation: ASUM axis: -1 coeff: 2 }",
       {B::Gaussian({2, 3, 7})}},
      {"reduction_sumsq_axis2",
       "type: 'Reduction' top: 'y' reduction_param { operation: SUMSQ axis: 2 }",
       {B::Gaussian({1, 4, 3, 3})}},
      // Rows longer than a block, so every thread of the block-wide sum takes several values.
      {"reduction_sum_long_rows", "type: 'Reduction' top: 'y' reduction_param { axis: 1 }",
       {B::Gaussian({3, 777})}},
      {"reduction_asum_long_scalar",
       "type: 'Reduction' top: 'y' reduction_param { operation: ASUM }",
       {B::Gaussian({5, 131})}},
      {"argmax", "type: 'ArgMax' top: 'y'", {B::Gaussian({3, 7})}, false},
      {"argmax_top3_max_val", "type: 'ArgMax' top: 'y' argmax_param { top_k: 3 out_max_val: true }",
       {B::Gaussian({2, 3, 4})}, false},
      {"argmax_axis1_top2", "type: 'ArgMax' top: 'y' argmax_param { axis: 1 top_k: 2 }",
       {B::Gaussian({2, 5, 3})}, false},
      {"argmax_negative_axis_max_val",
       "type: 'ArgMax' top: 'y' argmax_param { axis: -1 out_max_val: true }",
       {B::Gaussian({3, 2, 6})}, false},
      // Integer scores in {0, 1, 2}: many ties, which go to the larger index.
      {"argmax_ties", "type: 'ArgMax' top: 'y' argmax_param { top_k: 4 }",
       {B::Labels({4, 6}, 3)}, false},
      {"argmax_ties_axis0", "type: 'ArgMax' top: 'y' argmax_param { axis: 0 top_k: 3 "
                            "out_max_val: true }",
       {B::Labels({5, 2, 3}, 2)}, false},
  };
}

/// An infogain matrix in a binaryproto, for the `source` form of InfogainLoss.
std::string InfogainSource() {
  static const std::string path = [] {
    const std::string file = ::testing::TempDir() + "moka_gpu_utility_infogain.binaryproto";
    Blob<float> h({4, 4});
    std::mt19937_64 rng(5);
    rng_uniform<float>(h.count(), 0.f, 1.5f, rng, h.mutable_cpu_data());
    BlobProto proto;
    h.ToProto(&proto);
    WriteProtoToBinaryFile(proto, file);
    return file;
  }();
  return path;
}

std::vector<LayerCase> LossMetricCases() {
  return {
      {"hinge_l1", "type: 'HingeLoss' top: 'loss'", {B::Gaussian({4, 5}), B::Labels({4}, 5)}},
      {"hinge_l2_weighted", "type: 'HingeLoss' top: 'loss' loss_weight: 2 "
                            "hinge_loss_param { norm: L2 }",
       {B::Gaussian({3, 2, 3}), B::Labels({3}, 6)}},
      {"hinge_batch1", "type: 'HingeLoss' top: 'loss'",
       {B::Gaussian({1, 7}, 2), B::Labels({1}, 7)}},
      {"infogain_bottom_matrix", "type: 'InfogainLoss' top: 'loss'",
       {B::Gaussian({4, 5}), B::Labels({4}, 5), B::Uniform({5, 5}, 0, 1).NoGradient()}},
      {"infogain_axis2_ignore_prob_top",
       "type: 'InfogainLoss' top: 'loss' top: 'prob' infogain_loss_param { axis: 2 } "
       "loss_param { ignore_label: 1 }",
       {B::Gaussian({2, 3, 4}), B::Labels({2, 3}, 4, 3, 1), B::Uniform({4, 4}, 0, 1).NoGradient()}},
      {"infogain_full", "type: 'InfogainLoss' top: 'loss' loss_param { normalization: FULL }",
       {B::Gaussian({3, 4, 2}), B::Labels({3, 2}, 4), B::Uniform({4, 4}, 0, 2).NoGradient()}},
      {"infogain_batch_size_weighted",
       "type: 'InfogainLoss' top: 'loss' loss_weight: 0.5 "
       "loss_param { normalization: BATCH_SIZE ignore_label: 0 }",
       {B::Gaussian({5, 3}), B::Labels({5}, 3, 2, 0), B::Uniform({3, 3}, 0, 1).NoGradient()}},
      {"infogain_none_negative_axis",
       "type: 'InfogainLoss' top: 'loss' infogain_loss_param { axis: -1 } "
       "loss_param { normalization: NONE }",
       {B::Gaussian({2, 3, 5}), B::Labels({2, 3}, 5), B::Uniform({5, 5}, 0, 1).NoGradient()}},
      {"infogain_source",
       "type: 'InfogainLoss' top: 'loss' infogain_loss_param { source: '" + InfogainSource() +
           "' }",
       {B::Gaussian({3, 4}), B::Labels({3}, 4)}},
      {"contrastive", "type: 'ContrastiveLoss' top: 'loss' contrastive_loss_param { margin: 2 }",
       {B::Gaussian({5, 4}, 0.5), B::Gaussian({5, 4}, 0.5), B::Labels({5}, 2)}},
      {"contrastive_legacy_weighted",
       "type: 'ContrastiveLoss' top: 'loss' loss_weight: 0.5 "
       "contrastive_loss_param { margin: 3 legacy_version: true }",
       {B::Gaussian({4, 3, 1, 1}, 0.7), B::Gaussian({4, 3, 1, 1}, 0.7), B::Labels({4}, 2)}},
      // One dissimilar pair with more features than a block has threads.
      {"contrastive_batch1_wide",
       "type: 'ContrastiveLoss' top: 'loss' contrastive_loss_param { margin: 30 }",
       {B::Gaussian({1, 300}), B::Gaussian({1, 300}), B::Labels({1}, 1)}},
      {"multinomial_logistic", "type: 'MultinomialLogisticLoss' top: 'loss'",
       {B::Uniform({4, 5}, 0.05, 1), B::Labels({4}, 5)}},
      {"multinomial_logistic_batch1_4d",
       "type: 'MultinomialLogisticLoss' top: 'loss' loss_weight: 3",
       {B::Uniform({1, 3, 2, 1}, 0.1, 0.9), B::Labels({1}, 6)}},
      // Zero probabilities meet the 1e-20 floor.
      {"multinomial_logistic_floor", "type: 'MultinomialLogisticLoss' top: 'loss'",
       {B::Uniform({3, 2}, 0, 0), B::Labels({3}, 2)}},
      {"accuracy", "type: 'Accuracy' top: 'acc'",
       {B::Gaussian({7, 5}).NoGradient(), B::Labels({7}, 5)}, false},
      {"accuracy_top3_ignore_per_class",
       "type: 'Accuracy' top: 'acc' top: 'per_class' accuracy_param { top_k: 3 ignore_label: 2 }",
       {B::Gaussian({4, 6, 2}).NoGradient(), B::Labels({4, 2}, 6, 3, 2)}, false},
      // Integer scores: ties count against the labelled class.
      {"accuracy_ties_negative_axis",
       "type: 'Accuracy' top: 'acc' top: 'per_class' accuracy_param { axis: -1 top_k: 2 }",
       {B::Labels({3, 4, 6}, 3), B::Labels({3, 4}, 6)}, false},
      {"accuracy_absent_classes", "type: 'Accuracy' top: 'acc' top: 'per_class'",
       {B::Gaussian({3, 10}).NoGradient(), B::Labels({3}, 10)}, false},
      {"accuracy_all_ignored",
       "type: 'Accuracy' top: 'acc' top: 'per_class' accuracy_param { ignore_label: 0 }",
       {B::Gaussian({4, 3}).NoGradient(), B::Labels({4}, 1)}, false},
      {"accuracy_spatial_top1", "type: 'Accuracy' top: 'acc'",
       {B::Gaussian({2, 4, 3, 5}).NoGradient(), B::Labels({2, 3, 5}, 4, 7, 0)}, false},
  };
}

std::vector<LayerCase> AllCases() {
  std::vector<LayerCase> cases = ShapeCases();
  for (auto* more : {LookupReductionCases, LossMetricCases}) {
    for (LayerCase& c : more()) cases.push_back(std::move(c));
  }
  return cases;
}

/// Cases whose labels or indices lie outside their range: each device must refuse them with the
/// same ShapeError.
std::vector<LayerCase> BadLabelCases() {
  return {
      {"embed_index", "type: 'Embed' top: 'y' embed_param { num_output: 2 input_dim: 4 }",
       {B::Labels({5}, 4, 3, 9)}, false},
      {"batch_reindex_index", "type: 'BatchReindex' top: 'y'",
       {B::Gaussian({2, 3}), B::Labels({4}, 2, 2, 5)}, false},
      {"hinge_label", "type: 'HingeLoss' top: 'loss'",
       {B::Gaussian({3, 4}), B::Labels({3}, 4, 2, 4)}, false},
      {"multinomial_logistic_label", "type: 'MultinomialLogisticLoss' top: 'loss'",
       {B::Uniform({3, 4}, 0.1, 1), B::Labels({3}, 4, 3, -1)}, false},
      {"infogain_label", "type: 'InfogainLoss' top: 'loss' loss_param { ignore_label: 1 }",
       {B::Gaussian({4, 3}), B::Labels({4}, 3, 2, 7), B::Uniform({3, 3}, 0, 1).NoGradient()},
       false},
      {"accuracy_label", "type: 'Accuracy' top: 'acc' top: 'per_class'",
       {B::Gaussian({4, 5}).NoGradient(), B::Labels({4}, 5, 4, 5)}, false},
  };
}

/// The ShapeError's message a case raises on `device`, or "" when it raises none.
template <typename Dtype>
std::string ShapeErrorOf(const LayerCase& c, Device device) {
  try {
    RunLayerCase<Dtype>(c, device);
  } catch (const ShapeError& error) {
    return error.what();
  }
  return "";
}

struct GradientCase {
  std::string layer;
  std::vector<BottomSpec> bottoms;
  /// Skip inputs this close to 0 (kinks there); -1: none.
  double kink_range = -1;
  /// Overrides of the checker's defaults (0: keep).
  double float_step = 0;
  double double_step = 0;
  double threshold = 0;
};

std::vector<GradientCase> GradientCases() {
  return {
      {"type: 'Crop' top: 'y' crop_param { axis: 2 offset: 1 }",
       {B::Gaussian({2, 3, 5, 4}), B::Gaussian({2, 3, 3, 2}).NoGradient()}},
      {"type: 'Tile' top: 'y' tile_param { axis: -1 tiles: 3 }", {B::Gaussian({2, 3})}},
      {"type: 'Slice' top: 'a' top: 'b' slice_param { slice_point: 2 }", {B::Gaussian({2, 5, 2})}},
      {"type: 'Embed' top: 'y' embed_param { num_output: 3 input_dim: 5 "
       "weight_filler { type: 'gaussian' } bias_filler { type: 'gaussian' } }",
       {B::Labels({2, 3}, 5)}},
      {"type: 'Reduction' top: 'y' reduction_param { operation: SUM axis: 1 coeff: 2.5 }",
       {B::Gaussian({2, 3, 4})}},
      {"type: 'Reduction' top: 'y' reduction_param { operation: MEAN axis: -1 }",
       {B::Gaussian({3, 5})}},
      {"type: 'Reduction' top: 'y' reduction_param { operation: ASUM axis: 1 }",
       {B::Gaussian({2, 3, 4})}, 0.02},
      {"type: 'Reduction' top: 'y' reduction_param { operation: SUMSQ coeff: -0.5 }",
       {B::Gaussian({2, 3})}},
      {"type: 'Filter' top: 'y'", {B::Gaussian({4, 3}), B::Labels({4}, 1, 2, 1)}},
      {"type: 'BatchReindex' top: 'y'", {B::Gaussian({3, 2}), B::Labels({5}, 3)}},
      {"type: 'Parameter' top: 'p' parameter_param { shape { dim: 3 dim: 2 } }", {}},
      // Scores in (-0.8, 0.8) keep every margin positive, away from the kinks at +-1.
      {"type: 'HingeLoss' top: 'loss'", {B::Uniform({3, 4}, -0.8, 0.8), B::Labels({3}, 4)}},
      {"type: 'HingeLoss' top: 'loss' loss_weight: 2 hinge_loss_param { norm: L2 }",
       {B::Uniform({2, 5}, -0.8, 0.8), B::Labels({2}, 5)}},
      {"type: 'InfogainLoss' top: 'loss' loss_param { ignore_label: 1 }",
       {B::Uniform({3, 4}, -2, 2), B::Labels({3}, 4, 3, 1), B::Uniform({4, 4}, 0, 1).NoGradient()}},
      {"type: 'InfogainLoss' top: 'loss' infogain_loss_param { axis: 2 } "
       "loss_param { normalization: FULL }",
       {B::Uniform({2, 2, 3}, -2, 2), B::Labels({2, 2}, 3), B::Uniform({3, 3}, 0, 1).NoGradient()}},
      // The 1e-4 guard in the dissimilar term's derivative bounds the agreement.
      {"type: 'ContrastiveLoss' top: 'loss'",
       {B::Uniform({4, 3}, -0.5, 0.5), B::Uniform({4, 3}, -0.5, 0.5), B::Labels({4}, 2)},
       -1, 0, 0, 1e-3},
      {"type: 'ContrastiveLoss' top: 'loss' contrastive_loss_param { legacy_version: true }",
       {B::Uniform({4, 3}, -0.5, 0.5), B::Uniform({4, 3}, -0.5, 0.5), B::Labels({4}, 2)}},
      {"type: 'MultinomialLogisticLoss' top: 'loss'",
       {B::Uniform({3, 5}, 0.3, 1), B::Labels({3}, 5)}, -1, 2e-3, 1e-5},
  };
}

template <typename Dtype>
void CheckGradientOn(const GradientCase& c, Device device) {
  SCOPED_TRACE(c.layer);
  GradientCheckOptions<Dtype> options;
  const bool is_float = std::is_same<Dtype, float>::value;
  if (c.kink_range > 0) {
    options.kink = 0;
    options.kink_range = Dtype(c.kink_range);
  }
  if (is_float && c.float_step > 0) options.step = Dtype(c.float_step);
  if (!is_float && c.double_step > 0) options.step = Dtype(c.double_step);
  if (c.threshold > 0) options.threshold = Dtype(c.threshold);
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
  // An empty list would mean "every bottom": name none that exists.
  if (options.check_bottoms.empty()) options.check_bottoms.push_back(-1);
  for (int i = 0; i < ParseLayer(c.layer).top_size(); ++i) {
    owned.push_back(std::make_unique<Blob<Dtype>>());
    top.push_back(owned.back().get());
  }
  GradientChecker<Dtype>(options).Check(layer.get(), bottom, top);
}

template <typename Dtype>
class GpuUtilityLayers : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string reason = GpuSkipReason();
    if (!reason.empty()) GTEST_SKIP() << reason;
  }
};
TYPED_TEST_SUITE(GpuUtilityLayers, TestDtypes);

TYPED_TEST(GpuUtilityLayers, ShapeLayersMatchCpu) {
  for (const LayerCase& c : ShapeCases()) CompareCpuGpu<TypeParam>(c);
}

TYPED_TEST(GpuUtilityLayers, LookupAndReductionMatchCpu) {
  for (const LayerCase& c : LookupReductionCases()) CompareCpuGpu<TypeParam>(c);
}

TYPED_TEST(GpuUtilityLayers, LossesAndAccuracyMatchCpu) {
  for (const LayerCase& c : LossMetricCases()) CompareCpuGpu<TypeParam>(c);
}

TYPED_TEST(GpuUtilityLayers, Gradients) {
  for (const GradientCase& c : GradientCases()) {
    CheckGradientOn<TypeParam>(c, Device::kGpu);
    if (::testing::Test::HasFailure()) return;
  }
}

TYPED_TEST(GpuUtilityLayers, BadLabelsReportedAsOnCpu) {
  for (const LayerCase& c : BadLabelCases()) {
    const std::string cpu = ShapeErrorOf<TypeParam>(c, Device::kCpu);
    const std::string gpu = ShapeErrorOf<TypeParam>(c, Device::kGpu);
    EXPECT_FALSE(cpu.empty()) << c.name;
    EXPECT_EQ(cpu, gpu) << c.name;
  }
}

// Accuracy now runs on the device: a GPU pass moves no scores to the host.
TEST(GpuUtilityAccuracy, KeepsScoresOnTheDevice) {
  MOKA_REQUIRE_GPU();
  Context context(Device::kGpu, 0, 1701);
  auto layer = MakeLayer<float>(
      "type: 'Accuracy' top: 'acc' top: 'per_class' accuracy_param { top_k: 2 }", &context);
  Blob<float> scores, labels, accuracy, per_class;
  FillBottom(B::Gaussian({64, 10}), 3, &scores);
  FillBottom(B::Labels({64}, 10), 4, &labels);
  scores.gpu_data();
  labels.gpu_data();
  layer->SetUp({&scores, &labels}, {&accuracy, &per_class});
  SyncedMemory::ResetTransferCounts();
  layer->Forward({&scores, &labels}, {&accuracy, &per_class});
  EXPECT_EQ(SyncedMemory::transfers().device_to_host, 0u);
  EXPECT_EQ(per_class.data()->head(), SyncedMemory::Head::kAtGpu);
  EXPECT_EQ(layer->engine(), "caffe");
}

// The CPU side of every case above, on a CPU context: the definitions parse, set up and run, the
// bad-label cases really are refused, and the gradient cases pass on the CPU oracle.
template <typename Dtype>
class UtilityGpuCasesCpuSide : public ::testing::Test {};
TYPED_TEST_SUITE(UtilityGpuCasesCpuSide, TestDtypes);

TYPED_TEST(UtilityGpuCasesCpuSide, CompareCasesRun) {
  for (const LayerCase& c : AllCases()) {
    SCOPED_TRACE(c.name);
    try {
      const LayerRun<TypeParam> run = RunLayerCase<TypeParam>(c, Device::kCpu);
      EXPECT_FALSE(run.tops.empty() && !c.bottoms.empty()) << c.name << ": no top";
      for (size_t t = 0; t < run.tops.size(); ++t) {
        for (TypeParam v : run.tops[t]) {
          ASSERT_TRUE(std::isfinite(static_cast<double>(v))) << c.name << " top " << t;
        }
      }
    } catch (const std::exception& error) {
      ADD_FAILURE() << c.name << ": " << error.what();
    }
  }
}

TYPED_TEST(UtilityGpuCasesCpuSide, BadLabelCasesAreRefused) {
  for (const LayerCase& c : BadLabelCases()) {
    EXPECT_FALSE(ShapeErrorOf<TypeParam>(c, Device::kCpu).empty()) << c.name;
  }
}

TYPED_TEST(UtilityGpuCasesCpuSide, GradientCasesPass) {
  for (const GradientCase& c : GradientCases()) {
    CheckGradientOn<TypeParam>(c, Device::kCpu);
    if (::testing::Test::HasFailure()) return;
  }
}

}  // namespace
}  // namespace moka::test
