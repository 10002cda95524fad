// The data layers that read files or memory (ImageData, WindowData, HDF5Data, MemoryData,
// HDF5Output) deliver on the GPU exactly the batches they deliver on the CPU. The CPU half of
// every case also runs in CPU-only builds, so that a broken case text shows up there.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <hdf5_hl.h>

#include <opencv2/imgcodecs.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "gpu/gpu_test_util.hpp"
#include "layers/memory_data.hpp"
#include "temp_dir.hpp"

namespace moka::test {
namespace {

/// Image files, a list and a window file for them, and two HDF5 files with their list.
class DataFiles {
 public:
  DataFiles() {
    std::ofstream list(dir_ / "images.txt");
    for (int i = 0; i < 4; ++i) {
      cv::Mat image(6, 7, CV_8UC3);
      for (int h = 0; h < 6; ++h)
        for (int w = 0; w < 7; ++w)
          for (int c = 0; c < 3; ++c)
            image.at<cv::Vec3b>(h, w)[c] = (i * 50 + h * 17 + w * 9 + c * 80) % 256;
      const std::string name = "img" + std::to_string(i) + ".png";
      cv::imwrite(dir_ / name, image);
      list << name << " " << i << "\n";
    }
    std::ofstream(dir_ / "windows.txt") << "# 0\nimg0.png\n3 6 7 3\n1 0.8 1 1 5 4\n0 0.1 0 0 6 5\n"
                                        << "2 0.9 0 2 3 5\n# 1\nimg1.png\n3 6 7 1\n3 0.6 2 0 6 3\n";
    for (int f = 0; f < 2; ++f) {
      const std::string path = dir_ / ("part" + std::to_string(f) + ".h5");
      const hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
      std::vector<float> data(5 * 3 * 2), labels(5);
      for (size_t i = 0; i < data.size(); ++i) data[i] = float(f * 100 + i) * 0.25f;
      for (int i = 0; i < 5; ++i) labels[i] = float(f * 10 + i);
      const hsize_t data_dims[3] = {5, 3, 2}, label_dims[1] = {5};
      H5LTmake_dataset_float(id, "data", 3, data_dims, data.data());
      H5LTmake_dataset_float(id, "label", 1, label_dims, labels.data());
      H5Fclose(id);
    }
    std::ofstream(dir_ / "h5.txt") << (dir_ / "part0.h5") << "\n" << (dir_ / "part1.h5") << "\n";
  }

  std::vector<LayerCase> Cases() const {
    return {
        {"image_data",
         "name: 'images' type: 'ImageData' top: 'data' top: 'label' phase: TRAIN "
         "image_data_param { source: '" +
             (dir_ / "images.txt") + "' root_folder: '" + dir_.path() +
             "/' batch_size: 3 shuffle: true } "
             "transform_param { crop_size: 4 mirror: true mean_value: 20 scale: 0.5 }",
         {},
         false},
        {"window_data",
         "name: 'windows' type: 'WindowData' top: 'data' top: 'label' window_data_param { "
         "source: '" +
             (dir_ / "windows.txt") + "' root_folder: '" + dir_.path() +
             "/' batch_size: 4 fg_fraction: 0.5 context_pad: 1 } "
             "transform_param { crop_size: 5 mirror: true }",
         {},
         false},
        {"hdf5_data",
         "name: 'h5' type: 'HDF5Data' top: 'data' top: 'label' hdf5_data_param { source: '" +
             (dir_ / "h5.txt") + "' batch_size: 4 shuffle: true }",
         {},
         false},
    };
  }

 private:
  TempDir dir_;
};

TEST(GpuDataLayers, CpuSideOfEveryCaseRuns) {
  DataFiles files;
  for (const LayerCase& c : files.Cases()) {
    SCOPED_TRACE(c.name);
    const LayerRun<float> run = RunLayerCase<float>(c, Device::kCpu);
    ASSERT_EQ(run.tops.size(), 2u);
    EXPECT_GT(run.tops[0].size(), 0u);
  }
}

TEST(GpuDataLayers, DeliverTheCpuBatches) {
  MOKA_REQUIRE_GPU();
  DataFiles files;
  for (const LayerCase& c : files.Cases()) {
    CompareCpuGpu<float>(c);
    CompareCpuGpu<double>(c);
  }
}

template <typename Dtype>
std::vector<Dtype> MemoryDataPasses(Device device) {
  Context context(device);
  auto layer = std::dynamic_pointer_cast<MemoryDataLayer<Dtype>>(
      MakeLayer<Dtype>("type: 'MemoryData' top: 'data' top: 'label' "
                       "memory_data_param { batch_size: 2 channels: 3 height: 2 width: 1 }",
                       &context));
  Blob<Dtype> data, label;
  std::vector<Blob<Dtype>*> top{&data, &label};
  layer->SetUp({}, top);
  std::vector<Dtype> values(4 * 6), labels(4);
  for (size_t i = 0; i < values.size(); ++i) values[i] = Dtype(i) / 3;
  for (int i = 0; i < 4; ++i) labels[i] = Dtype(i);
  layer->Reset(values.data(), labels.data(), 4);
  std::vector<Dtype> out;
  for (int pass = 0; pass < 3; ++pass) {
    layer->Forward({}, top);
    out.insert(out.end(), data.cpu_data(), data.cpu_data() + data.count());
    out.insert(out.end(), label.cpu_data(), label.cpu_data() + label.count());
  }
  return out;
}

TEST(GpuDataLayers, MemoryDataDeliversTheCpuBatches) {
  EXPECT_EQ(MemoryDataPasses<float>(Device::kCpu).size(), 3u * (12 + 2));
  MOKA_REQUIRE_GPU();
  EXPECT_EQ(MemoryDataPasses<float>(Device::kCpu), MemoryDataPasses<float>(Device::kGpu));
  EXPECT_EQ(MemoryDataPasses<double>(Device::kCpu), MemoryDataPasses<double>(Device::kGpu));
}

}  // namespace
}  // namespace moka::test
