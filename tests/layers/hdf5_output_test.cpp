#include "layers/hdf5_output.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>
#include <hdf5_hl.h>

#include <string>
#include <vector>

#include "temp_dir.hpp"
#include "test_util.hpp"

namespace moka {
namespace {

template <typename Dtype>
class HDF5OutputLayerTest : public ::testing::Test {
 protected:
  HDF5OutputLayerTest() {
    data_.Reshape({3, 2, 2});
    label_.Reshape(std::vector<int>{3});
    test::FillUniform(&data_, Dtype(-1), Dtype(1));
    for (int i = 0; i < 3; ++i) label_.mutable_cpu_data()[i] = Dtype(i + 5);
  }

  std::string LayerText(const std::string& file) const {
    return "name: 'out' type: 'HDF5Output' bottom: 'data' bottom: 'label' "
           "hdf5_output_param { file_name: '" +
           file + "' }";
  }

  test::TempDir dir_;
  Blob<Dtype> data_;
  Blob<Dtype> label_;
  std::vector<Blob<Dtype>*> bottoms_{&data_, &label_};
};

TYPED_TEST_SUITE(HDF5OutputLayerTest, test::TestDtypes);

/// Dimensions and values of a dataset, read with the HDF5 C API.
void ReadDataset(const std::string& path, const char* name, std::vector<hsize_t>* dims,
                 std::vector<double>* values) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(file, 0) << path;
  int rank = 0;
  ASSERT_GE(H5LTget_dataset_ndims(file, name, &rank), 0) << name;
  dims->assign(rank, 0);
  H5T_class_t type_class;
  size_t type_size = 0;
  ASSERT_GE(H5LTget_dataset_info(file, name, dims->data(), &type_class, &type_size), 0);
  hsize_t count = 1;
  for (hsize_t d : *dims) count *= d;
  values->assign(count, 0);
  ASSERT_GE(H5LTread_dataset_double(file, name, values->data()), 0);
  H5Fclose(file);
}

TYPED_TEST(HDF5OutputLayerTest, WritesDataAndLabelAsFourAxisDatasets) {
  const std::string path = this->dir_ / "out.h5";
  {
    Context context;
    auto layer = test::MakeLayer<TypeParam>(this->LayerText(path), &context);
    std::vector<Blob<TypeParam>*> no_tops;
    layer->SetUp(this->bottoms_, no_tops);
    layer->Forward(this->bottoms_, no_tops);
    // As in Caffe, one Forward per file.
    try {
      layer->Forward(this->bottoms_, no_tops);
      FAIL() << "expected IoError";
    } catch (const IoError& error) {
      EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
    }
  }
  std::vector<hsize_t> dims;
  std::vector<double> values;
  ReadDataset(path, "data", &dims, &values);
  EXPECT_EQ(dims, (std::vector<hsize_t>{3, 2, 2, 1}));
  for (int i = 0; i < 12; ++i) EXPECT_EQ(TypeParam(values[i]), this->data_.cpu_data()[i]);
  ReadDataset(path, "label", &dims, &values);
  EXPECT_EQ(dims, (std::vector<hsize_t>{3, 1, 1, 1}));
  EXPECT_EQ(values, (std::vector<double>{5, 6, 7}));
}

TYPED_TEST(HDF5OutputLayerTest, BadInputsGiveClearErrors) {
  Context context;
  std::vector<Blob<TypeParam>*> no_tops;
  const std::string unwritable = this->dir_ / "no_such_dir/out.h5";
  auto layer = test::MakeLayer<TypeParam>(this->LayerText(unwritable), &context);
  try {
    layer->SetUp(this->bottoms_, no_tops);
    FAIL() << "expected IoError";
  } catch (const IoError& error) {
    EXPECT_NE(std::string(error.what()).find(unwritable), std::string::npos) << error.what();
  }
  auto unnamed =
      test::MakeLayer<TypeParam>("type: 'HDF5Output' bottom: 'data' bottom: 'label'", &context);
  EXPECT_THROW(unnamed->SetUp(this->bottoms_, no_tops), ConfigError);

  auto mismatched = test::MakeLayer<TypeParam>(this->LayerText(this->dir_ / "x.h5"), &context);
  mismatched->SetUp(this->bottoms_, no_tops);
  this->label_.Reshape(std::vector<int>{4});
  EXPECT_THROW(mismatched->Forward(this->bottoms_, no_tops), ShapeError);
}

}  // namespace
}  // namespace moka
