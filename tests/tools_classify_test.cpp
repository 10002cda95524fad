// moka classify on a tiny deploy net whose class k scores the mean of input channel k (B, G, R):
// top-k lines, labels, mean file and mean values, resizing, gray images, and bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>

#include "moka.pb.h"
#include "proto_io.hpp"
#include "temp_dir.hpp"
#include "tools/verbs.hpp"
#include "tools_test_util.hpp"

namespace moka {
namespace {

using test::Contains;

struct Classifier {
  test::TempDir dir;
  std::string model = dir / "deploy.prototxt";
  std::string weights = dir / "deploy.caffemodel";
  std::string labels = dir / "labels.txt";
  std::string image = dir / "bgr.png";

  Classifier() {
    std::ofstream(model) << R"(name: "channels"
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 dim: 2 dim: 2 } } }
layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 3 } }
layer { name: "prob" type: "Softmax" bottom: "ip" top: "prob" }
)";
    NetParameter trained;
    LayerParameter* ip = trained.add_layer();
    ip->set_name("ip");
    BlobProto* w = ip->add_blobs();
    w->mutable_shape()->add_dim(3);
    w->mutable_shape()->add_dim(12);
    for (int k = 0; k < 3; ++k)
      for (int j = 0; j < 12; ++j) w->add_data(j / 4 == k ? 0.25f : 0.0f);
    BlobProto* b = ip->add_blobs();
    b->mutable_shape()->add_dim(3);
    for (int k = 0; k < 3; ++k) b->add_data(0.0f);
    WriteProtoToBinaryFile(trained, weights);
    std::ofstream(labels) << "blue\ngreen things\nred\n";
    // 4 x 4, resized to the net's 2 x 2: a uniform image stays uniform.
    cv::imwrite(image, cv::Mat(4, 4, CV_8UC3, cv::Scalar(10, 200, 50)));
  }

  test::VerbResult Classify(std::vector<std::string> extra) {
    std::vector<std::string> args = {"--model=" + model, "--weights=" + weights,
                                     "--labels=" + labels};
    args.insert(args.end(), extra.begin(), extra.end());
    return test::RunVerb(ClassifyMain, "classify", args);
  }
};

/// The lines cpp_classification prints for softmax(scores), best first.
std::string Expected(const std::string& file, const std::vector<double>& scores, int top_k) {
  const std::vector<std::string> names = {"blue", "green things", "red"};
  double sum = 0;
  for (double s : scores) sum += std::exp(s);
  std::vector<int> order = {0, 1, 2};
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return scores[a] > scores[b]; });
  std::ostringstream text;
  text << "---------- Prediction for " << file << " ----------\n";
  for (int i = 0; i < top_k; ++i) {
    text << std::fixed << std::setprecision(4) << std::exp(scores[order[i]]) / sum << " - \""
         << names[order[i]] << "\"\n";
  }
  return text.str();
}

TEST(ToolsClassifyTest, TopKWithScaleAndMeanValues) {
  Classifier classifier;
  test::VerbResult result = classifier.Classify({"--scale=0.01", classifier.image});
  ASSERT_EQ(result.status, 0) << result.error << result.err;
  EXPECT_EQ(result.out, Expected(classifier.image, {0.1, 2.0, 0.5}, 3));

  result = classifier.Classify(
      {"--scale=0.01", "--mean_value=10,10,10", "--top_k=2", classifier.image});
  ASSERT_EQ(result.status, 0) << result.error << result.err;
  EXPECT_EQ(result.out, Expected(classifier.image, {0.0, 1.9, 0.4}, 2));
}

TEST(ToolsClassifyTest, MeanFileIsReducedToChannelMeans) {
  Classifier classifier;
  BlobProto mean;
  mean.set_num(1);
  mean.set_channels(3);
  mean.set_height(2);
  mean.set_width(2);
  for (float v : {0, 20, 0, 20, 90, 110, 100, 100, -5, 5, 0, 0}) mean.add_data(v);
  WriteProtoToBinaryFile(mean, classifier.dir / "mean.binaryproto");
  const test::VerbResult result = classifier.Classify(
      {"--scale=0.01", "--mean=" + (classifier.dir / "mean.binaryproto"), classifier.image});
  ASSERT_EQ(result.status, 0) << result.error << result.err;
  EXPECT_EQ(result.out, Expected(classifier.image, {0.0, 1.0, 0.5}, 3));
}

TEST(ToolsClassifyTest, GrayImageBecomesThreeEqualChannels) {
  Classifier classifier;
  const std::string gray = classifier.dir / "gray.png";
  cv::imwrite(gray, cv::Mat(3, 5, CV_8UC1, cv::Scalar(100)));
  const test::VerbResult result = classifier.Classify({"--scale=0.01", "--top_k=1", gray});
  ASSERT_EQ(result.status, 0) << result.error << result.err;
  EXPECT_EQ(result.out, Expected(gray, {1.0, 1.0, 1.0}, 1));
}

TEST(ToolsClassifyTest, BadImagesAndLabels) {
  Classifier classifier;
  const std::string missing = classifier.dir / "missing.jpg";
  test::VerbResult result = classifier.Classify({missing, classifier.image});
  EXPECT_EQ(result.status, 1);
  EXPECT_TRUE(Contains(result.err, "missing.jpg")) << result.err;
  EXPECT_TRUE(Contains(result.error, "1 of 2 images")) << result.error;
  // The readable image is still classified.
  EXPECT_TRUE(Contains(result.out, "Prediction for " + classifier.image)) << result.out;

  std::ofstream(classifier.dir / "two.txt") << "a\nb\n";
  result = test::RunVerb(ClassifyMain, "classify",
                         {"--model=" + classifier.model, "--weights=" + classifier.weights,
                          "--labels=" + (classifier.dir / "two.txt"), classifier.image});
  EXPECT_EQ(result.status, 1);
  EXPECT_TRUE(Contains(result.error, "has 2 labels")) << result.error;
  EXPECT_TRUE(Contains(result.error, "3 classes")) << result.error;

  result = classifier.Classify({"--mean_value=1,2", classifier.image});
  EXPECT_EQ(result.status, 1);
  EXPECT_TRUE(Contains(result.error, "--mean_value needs 1 or 3 values")) << result.error;
}

}  // namespace
}  // namespace moka
