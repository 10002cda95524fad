#pragma once
// A fast convolution path (depthwise, Winograd) against the general im2col + GEMM path, which is
// its oracle: the same bottom and parameters through both, every output and gradient compared.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "layers/base_convolution.hpp"
#include "test_util.hpp"

namespace moka::test {

/// One comparison: the layer (its full text), the bottom's shape, which gradients are wanted,
/// and the tolerance in float, relative to the largest value compared (1e-12 in double).
struct PathComparison {
  std::string layer_text;
  std::vector<int> shape;
  bool propagate_down = true;
  bool weight_grad = true;
  double float_tolerance = 2e-5;
};

/// What one Forward and Backward of a convolution produced, and the engine it reported.
template <typename Dtype>
struct ConvRun {
  std::vector<Dtype> top, bottom_diff;
  std::vector<std::vector<Dtype>> param_diffs;
  std::string engine;
};

/// Forward and Backward of the layer on a copy of `bottom_in`, with the parameters of `reference`,
/// after choose_path(layer). Forward runs twice, the second time after the weights changed, so
/// that a path which keeps something derived from them shows if it misses the change. Parameter
/// diffs start at 0.5 (they must accumulate), the bottom diff at 9 (it must be overwritten, or
/// left alone without propagate_down).
template <typename Dtype, typename ChoosePath>
ConvRun<Dtype> RunConvolution(const PathComparison& c, ChoosePath choose_path,
                              const Blob<Dtype>& bottom_in, Layer<Dtype>* reference) {
  Context context;
  auto layer = std::dynamic_pointer_cast<BaseConvolutionLayer<Dtype>>(
      MakeLayer<Dtype>(c.layer_text, &context));
  EXPECT_TRUE(layer != nullptr);
  choose_path(layer.get());
  Blob<Dtype> bottom(bottom_in.shape()), top;
  bottom.CopyFrom(bottom_in);
  layer->SetUp({&bottom}, {&top});
  for (size_t i = 0; i < layer->blobs().size(); ++i) {
    layer->blobs()[i]->CopyFrom(*reference->blobs()[i]);
  }
  layer->Forward({&bottom}, {&top});
  Dtype* weights = layer->blobs()[0]->mutable_cpu_data();
  for (int i = 0; i < layer->blobs()[0]->count(); i += 3) weights[i] = -weights[i];
  layer->Forward({&bottom}, {&top});
  for (auto& blob : layer->blobs()) blob->set_diff(Dtype(0.5));
  layer->set_param_propagate_down(0, c.weight_grad);
  ConvRun<Dtype> run;
  run.top.assign(top.cpu_data(), top.cpu_data() + top.count());
  FillUniform<Dtype>(&top, -1, 1, 11);
  cpu_copy(top.count(), top.cpu_data(), top.mutable_cpu_diff());
  bottom.set_diff(Dtype(9));
  layer->Backward({&top}, {c.propagate_down}, {&bottom});
  run.bottom_diff.assign(bottom.cpu_diff(), bottom.cpu_diff() + bottom.count());
  for (auto& blob : layer->blobs()) {
    run.param_diffs.emplace_back(blob->cpu_diff(), blob->cpu_diff() + blob->count());
  }
  run.engine = layer->engine();
  return run;
}

/// |actual - expected| <= tolerance * max(1, the largest |expected|), element by element: the
/// fast paths round differently from the direct sums, by an amount that follows the largest
/// values.
template <typename Dtype>
void ExpectCloseToLargest(const std::vector<Dtype>& actual, const std::vector<Dtype>& expected,
                          double tolerance, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  double scale = 1;
  for (Dtype v : expected) scale = std::max(scale, std::fabs(double(v)));
  for (size_t i = 0; i < actual.size(); ++i) {
    ASSERT_NEAR(actual[i], expected[i], tolerance * scale) << what << " element " << i;
  }
}

/// The general path (general_path(layer)), then the fast one on 1 and 3 threads
/// (fast_path(layer, threads)): the fast runs must report an engine starting with
/// `fast_engine`, the general one must not, their outputs and gradients must be close to the
/// general path's, and the thread count must not change a bit.
template <typename Dtype, typename GeneralPath, typename FastPath>
void CompareWithGeneralPath(const PathComparison& c, GeneralPath general_path, FastPath fast_path,
                            const std::string& fast_engine) {
  SCOPED_TRACE(c.layer_text + " on " + ShapeString(c.shape));
  const double tolerance = std::is_same<Dtype, float>::value ? c.float_tolerance : 1e-12;
  Blob<Dtype> bottom(c.shape);
  FillUniform<Dtype>(&bottom, -1, 1, 5);
  Context context;
  auto reference = MakeLayer<Dtype>(c.layer_text, &context);
  Blob<Dtype> top;
  reference->SetUp({&bottom}, {&top});
  const ConvRun<Dtype> general = RunConvolution<Dtype>(c, general_path, bottom, reference.get());
  EXPECT_EQ(general.engine.find(fast_engine), std::string::npos) << general.engine;
  std::vector<ConvRun<Dtype>> fast;
  for (int threads : {1, 3}) {
    fast.push_back(RunConvolution<Dtype>(
        c, [&](BaseConvolutionLayer<Dtype>* layer) { fast_path(layer, threads); }, bottom,
        reference.get()));
    const ConvRun<Dtype>& run = fast.back();
    ASSERT_EQ(run.engine.rfind(fast_engine, 0), 0u) << run.engine;
    ExpectCloseToLargest(run.top, general.top, tolerance, run.engine + " top");
    ExpectCloseToLargest(run.bottom_diff, general.bottom_diff, tolerance,
                         run.engine + " bottom diff");
    ASSERT_EQ(run.param_diffs.size(), general.param_diffs.size());
    for (size_t i = 0; i < run.param_diffs.size(); ++i) {
      ExpectCloseToLargest(run.param_diffs[i], general.param_diffs[i], tolerance,
                           run.engine + " param diff " + std::to_string(i));
    }
  }
  // Every output, and every sum over images, is computed by one task in a fixed order.
  EXPECT_EQ(fast[0].top, fast[1].top);
  EXPECT_EQ(fast[0].bottom_diff, fast[1].bottom_diff);
  EXPECT_EQ(fast[0].param_diffs, fast[1].param_diffs);
}

}  // namespace moka::test
