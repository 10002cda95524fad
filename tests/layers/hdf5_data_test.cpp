#include "layers/hdf5_data.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>
#include <hdf5_hl.h>

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "temp_dir.hpp"
#include "test_util.hpp"

namespace moka {
namespace {

/// Writes `rows` rows: "data" (rows x 2 x 1 floats, row r of file f holding f*100 + r*10 + j) and
/// "label" (rows int32 values f*100 + r), with the HDF5 C API.
void WriteFile(const std::string& path, int file, int rows, int data_width = 2) {
  const hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(id, 0) << path;
  std::vector<float> data;
  std::vector<int> labels;
  for (int r = 0; r < rows; ++r) {
    for (int j = 0; j < data_width; ++j) data.push_back(float(file * 100 + r * 10 + j));
    labels.push_back(file * 100 + r);
  }
  const hsize_t data_dims[3] = {hsize_t(rows), hsize_t(data_width), 1};
  const hsize_t label_dims[1] = {hsize_t(rows)};
  EXPECT_GE(H5LTmake_dataset_float(id, "data", 3, data_dims, data.data()), 0);
  EXPECT_GE(H5LTmake_dataset_int(id, "label", 1, label_dims, labels.data()), 0);
  H5Fclose(id);
}

template <typename Dtype>
class HDF5DataLayerTest : public ::testing::Test {
 protected:
  HDF5DataLayerTest() {
    WriteFile(dir_ / "a.h5", 1, 3);
    WriteFile(dir_ / "b.h5", 2, 2);
    WriteList({"a.h5", "b.h5"});
  }

  void WriteList(const std::vector<std::string>& names) {
    std::ofstream list(dir_ / "list.txt");
    for (const auto& name : names) list << (dir_ / name) << "\n";
  }

  std::string LayerText(const std::string& param) const {
    return "name: 'h5' type: 'HDF5Data' top: 'data' top: 'label' hdf5_data_param { source: '" +
           (dir_ / "list.txt") + "' " + param + " }";
  }

  /// Labels of `batches` batches.
  std::vector<int> Labels(const std::string& param, uint64_t seed, int batches) {
    Context context(Device::kCpu, 0, seed);
    auto layer = test::MakeLayer<Dtype>(LayerText(param), &context);
    layer->SetUp({}, tops_);
    std::vector<int> labels;
    for (int b = 0; b < batches; ++b) {
      layer->Forward({}, tops_);
      for (int n = 0; n < label_.count(); ++n) labels.push_back(int(label_.cpu_data()[n]));
    }
    return labels;
  }

  test::TempDir dir_;
  Blob<Dtype> data_;
  Blob<Dtype> label_;
  std::vector<Blob<Dtype>*> tops_{&data_, &label_};
};

TYPED_TEST_SUITE(HDF5DataLayerTest, test::TestDtypes);

TYPED_TEST(HDF5DataLayerTest, ReadsRowsFileAfterFileAndWraps) {
  Context context;
  auto layer = test::MakeLayer<TypeParam>(this->LayerText("batch_size: 4"), &context);
  layer->SetUp({}, this->tops_);
  EXPECT_EQ(this->data_.shape(), (std::vector<int>{4, 2, 1}));
  EXPECT_EQ(this->label_.shape(), (std::vector<int>{4}));
  const std::vector<int> order = {100, 101, 102, 200, 201, 100, 101, 102, 200, 201, 100, 101};
  for (int batch = 0; batch < 3; ++batch) {
    layer->Forward({}, this->tops_);
    for (int n = 0; n < 4; ++n) {
      const int row = order[batch * 4 + n];
      EXPECT_EQ(this->label_.cpu_data()[n], TypeParam(row));
      // Data row r of file f holds f*100 + r*10 + j.
      const int base = (row / 100) * 100 + (row % 100) * 10;
      EXPECT_EQ(this->data_.cpu_data()[n * 2], TypeParam(base));
      EXPECT_EQ(this->data_.cpu_data()[n * 2 + 1], TypeParam(base + 1));
    }
  }
}

TYPED_TEST(HDF5DataLayerTest, ShuffleIsSeededAndVisitsEveryRowPerPass) {
  this->WriteList({"a.h5"});
  const std::vector<int> a = this->Labels("batch_size: 3 shuffle: true", 1, 4);
  EXPECT_EQ(a, this->Labels("batch_size: 3 shuffle: true", 1, 4));
  bool some_differ = false;
  for (uint64_t seed = 2; seed < 8 && !some_differ; ++seed)
    some_differ = a != this->Labels("batch_size: 3 shuffle: true", seed, 4);
  EXPECT_TRUE(some_differ);
  for (int pass = 0; pass < 4; ++pass)
    EXPECT_EQ(std::set<int>(a.begin() + 3 * pass, a.begin() + 3 * pass + 3),
              (std::set<int>{100, 101, 102}));
}

TYPED_TEST(HDF5DataLayerTest, SingleTopReadsItsOwnDataset) {
  Context context;
  auto layer =
      test::MakeLayer<TypeParam>("type: 'HDF5Data' top: 'label' hdf5_data_param { source: '" +
                                     (this->dir_ / "list.txt") + "' batch_size: 2 }",
                                 &context);
  std::vector<Blob<TypeParam>*> tops{&this->label_};
  layer->SetUp({}, tops);
  layer->Forward({}, tops);
  layer->Forward({}, tops);
  EXPECT_EQ(this->label_.cpu_data()[0], TypeParam(102));
  EXPECT_EQ(this->label_.cpu_data()[1], TypeParam(200));
}

TYPED_TEST(HDF5DataLayerTest, BadInputsGiveClearErrors) {
  auto expect_setup_error = [&](const std::string& text, const std::string& needle) {
    Context context;
    auto layer = test::MakeLayer<TypeParam>(text, &context);
    try {
      layer->SetUp({}, this->tops_);
      ADD_FAILURE() << "expected an error mentioning " << needle;
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find(needle), std::string::npos) << error.what();
    }
  };
  expect_setup_error(this->LayerText("batch_size: 0"), "batch_size");
  this->WriteList({"missing.h5"});
  expect_setup_error(this->LayerText("batch_size: 2"), "missing.h5");
  this->WriteList({});
  expect_setup_error(this->LayerText("batch_size: 2"), "lists no files");
  std::filesystem::remove(this->dir_ / "list.txt");
  expect_setup_error(this->LayerText("batch_size: 2"), "list.txt");
  this->WriteList({"a.h5"});
  expect_setup_error("type: 'HDF5Data' top: 'data' top: 'weights' hdf5_data_param { source: '" +
                         (this->dir_ / "list.txt") + "' batch_size: 2 }",
                     "weights");

  // A later file whose rows differ in shape fails the Forward that reaches it.
  WriteFile(this->dir_ / "wide.h5", 3, 2, /*data_width=*/5);
  this->WriteList({"a.h5", "wide.h5"});
  Context context;
  auto layer = test::MakeLayer<TypeParam>(this->LayerText("batch_size: 2"), &context);
  layer->SetUp({}, this->tops_);
  layer->Forward({}, this->tops_);
  try {
    layer->Forward({}, this->tops_);
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& error) {
    EXPECT_NE(std::string(error.what()).find("wide.h5"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace moka
