// moka convert_imageset on a folder of PNG and JPEG images the test draws with OpenCV, plus a
// corrupt file and a listed file that does not exist: records are read back and compared with
// what OpenCV decodes, bad images are named and skipped.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "db.hpp"
#include "moka.pb.h"
#include "temp_dir.hpp"
#include "tools/datum_io.hpp"
#include "tools/verbs.hpp"
#include "tools_test_util.hpp"

namespace moka {
namespace {

using test::Contains;

/// A color image whose pixels differ by row, column and channel.
cv::Mat Pattern(int height, int width, int seed) {
  cv::Mat image(height, width, CV_8UC3);
  for (int h = 0; h < height; ++h) {
    for (int w = 0; w < width; ++w) {
      image.at<cv::Vec3b>(h, w) = cv::Vec3b(static_cast<uint8_t>(seed + 10 * h + w),
                                             static_cast<uint8_t>(100 + seed + 3 * w),
                                             static_cast<uint8_t>(200 - seed - 7 * h));
    }
  }
  return image;
}

/// root/: a.png (5x4), sub/b.jpg (6x3), c.png (gray 5x4), corrupt.jpg; list.txt also names
/// missing.png. Labels 0..4 in list order.
struct ImageFolder {
  test::TempDir dir;
  std::string root = dir.path() + "/";
  std::vector<std::string> files = {"a.png", "sub/b.jpg", "corrupt.jpg", "missing.png", "c.png"};

  ImageFolder() {
    std::filesystem::create_directories(dir / "sub");
    cv::imwrite(dir / "a.png", Pattern(5, 4, 1));
    cv::imwrite(dir / "sub/b.jpg", Pattern(6, 3, 20));
    cv::Mat gray;
    cv::cvtColor(Pattern(5, 4, 40), gray, cv::COLOR_BGR2GRAY);
    cv::imwrite(dir / "c.png", gray);
    std::ofstream(dir / "corrupt.jpg", std::ios::binary) << "\xff\xd8\xff\xe0 not really a jpeg";
    std::ofstream list(dir / "list.txt");
    for (size_t i = 0; i < files.size(); ++i) list << files[i] << " " << i << "\n";
  }
};

std::map<std::string, Datum> ReadAll(const std::string& path, db::Backend backend) {
  std::map<std::string, Datum> records;
  std::unique_ptr<db::Reader> reader = db::OpenReader(backend, path);
  const size_t size = reader->size();
  std::unique_ptr<db::Cursor> cursor = reader->NewCursor();
  for (size_t i = 0; i < size; ++i) {
    Datum datum;
    EXPECT_TRUE(datum.ParseFromString(cursor->value()));
    records[cursor->key()] = datum;
    cursor->Next();
  }
  return records;
}

/// The record must hold exactly OpenCV's decoding of `path`, planar (CHW), channels in BGR order.
void ExpectPixels(const Datum& datum, const std::string& path, int flags) {
  const cv::Mat image = cv::imread(path, flags);
  ASSERT_FALSE(image.empty()) << path;
  ASSERT_EQ(datum.channels(), image.channels());
  ASSERT_EQ(datum.height(), image.rows);
  ASSERT_EQ(datum.width(), image.cols);
  ASSERT_FALSE(datum.encoded());
  ASSERT_EQ(datum.data().size(), image.total() * image.channels());
  for (int c = 0; c < image.channels(); ++c) {
    for (int h = 0; h < image.rows; ++h) {
      for (int w = 0; w < image.cols; ++w) {
        const uint8_t expected = image.ptr<uint8_t>(h)[w * image.channels() + c];
        const uint8_t got =
            static_cast<uint8_t>(datum.data()[(c * image.rows + h) * image.cols + w]);
        ASSERT_EQ(got, expected) << path << " at c=" << c << " h=" << h << " w=" << w;
      }
    }
  }
}

TEST(ToolsConvertImagesetTest, RawRecordsSkipBadImages) {
  ImageFolder folder;
  const std::string db = folder.dir / "out_lmdb";
  const test::VerbResult result = test::RunVerb(ConvertImagesetMain, "convert_imageset",
                                                {folder.root, folder.dir / "list.txt", db});
  ASSERT_EQ(result.status, 0) << result.error << result.err;
  EXPECT_TRUE(Contains(result.err, "corrupt.jpg")) << result.err;
  EXPECT_TRUE(Contains(result.err, "missing.png")) << result.err;
  EXPECT_TRUE(Contains(result.out, "wrote 3 of 5 images")) << result.out;
  EXPECT_TRUE(Contains(result.out, "skipped 2: corrupt.jpg missing.png")) << result.out;

  const auto records = ReadAll(db, db::Backend::kLmdb);
  ASSERT_EQ(records.size(), 3u);
  // Keys keep the line number of each image, so skipped lines leave gaps.
  ASSERT_TRUE(records.count("00000000_a.png"));
  ASSERT_TRUE(records.count("00000001_sub/b.jpg"));
  ASSERT_TRUE(records.count("00000004_c.png"));
  EXPECT_EQ(records.at("00000000_a.png").label(), 0);
  EXPECT_EQ(records.at("00000001_sub/b.jpg").label(), 1);
  EXPECT_EQ(records.at("00000004_c.png").label(), 4);
  ExpectPixels(records.at("00000000_a.png"), folder.dir / "a.png", cv::IMREAD_COLOR);
  ExpectPixels(records.at("00000001_sub/b.jpg"), folder.dir / "sub/b.jpg", cv::IMREAD_COLOR);
  // Without --gray a gray file is read as three equal channels.
  ExpectPixels(records.at("00000004_c.png"), folder.dir / "c.png", cv::IMREAD_COLOR);
  EXPECT_EQ(records.at("00000004_c.png").channels(), 3);

  // Exact bytes for the PNG: B, G, R planes of Pattern(5, 4, 1).
  const Datum& a = records.at("00000000_a.png");
  EXPECT_EQ(static_cast<uint8_t>(a.data()[0]), 1);                       // B at (0, 0)
  EXPECT_EQ(static_cast<uint8_t>(a.data()[20 + 4 * 2 + 3]), 101 + 9);    // G at (2, 3)
  EXPECT_EQ(static_cast<uint8_t>(a.data()[40 + 4 * 4 + 0]), 200 - 1 - 28);  // R at (4, 0)
}

TEST(ToolsConvertImagesetTest, GrayResizeAndCheckSize) {
  ImageFolder folder;
  const std::string db = folder.dir / "gray_lmdb";
  test::VerbResult result = test::RunVerb(
      ConvertImagesetMain, "convert_imageset",
      {"--gray", "--resize_width=3", "--resize_height=2", "--check_size", "--threads=2",
       folder.root, folder.dir / "list.txt", db});
  ASSERT_EQ(result.status, 0) << result.error << result.err;
  const auto records = ReadAll(db, db::Backend::kLmdb);
  ASSERT_EQ(records.size(), 3u);
  for (const auto& [key, datum] : records) {
    EXPECT_EQ(datum.channels(), 1) << key;
    EXPECT_EQ(datum.height(), 2) << key;
    EXPECT_EQ(datum.width(), 3) << key;
  }
  cv::Mat expected;
  cv::resize(cv::imread(folder.dir / "a.png", cv::IMREAD_GRAYSCALE), expected, cv::Size(3, 2));
  const Datum& a = records.at("00000000_a.png");
  for (int i = 0; i < 6; ++i) EXPECT_EQ(static_cast<uint8_t>(a.data()[i]), expected.data[i]);

  // Unresized, --check_size skips the images whose size differs from the first one's.
  result = test::RunVerb(ConvertImagesetMain, "convert_imageset",
                         {"--check_size", folder.root, folder.dir / "list.txt",
                          folder.dir / "checked_lmdb"});
  ASSERT_EQ(result.status, 0) << result.error << result.err;
  EXPECT_TRUE(Contains(result.err, "sub/b.jpg")) << result.err;
  EXPECT_TRUE(Contains(result.err, "--check_size")) << result.err;
  const auto checked = ReadAll(folder.dir / "checked_lmdb", db::Backend::kLmdb);
  EXPECT_EQ(checked.size(), 2u);
  EXPECT_TRUE(checked.count("00000004_c.png"));
}

TEST(ToolsConvertImagesetTest, EncodedKeepsFileBytesOrReencodes) {
  ImageFolder folder;
  const std::string db = folder.dir / "enc_lmdb";
  test::VerbResult result = test::RunVerb(
      ConvertImagesetMain, "convert_imageset",
      {"--encoded", folder.root, folder.dir / "list.txt", db});
  ASSERT_EQ(result.status, 0) << result.error << result.err;
  auto records = ReadAll(db, db::Backend::kLmdb);
  ASSERT_EQ(records.size(), 3u);
  std::ifstream png(folder.dir / "a.png", std::ios::binary);
  const std::string png_bytes((std::istreambuf_iterator<char>(png)),
                              std::istreambuf_iterator<char>());
  const Datum& a = records.at("00000000_a.png");
  EXPECT_TRUE(a.encoded());
  EXPECT_EQ(a.label(), 0);
  EXPECT_EQ(a.data(), png_bytes);

  // An explicit type re-encodes (as Caffe does): a PNG of the decoded JPEG, lossless.
  result = test::RunVerb(ConvertImagesetMain, "convert_imageset",
                         {"--encode_type=png", folder.root, folder.dir / "list.txt",
                          folder.dir / "png_lmdb"});
  ASSERT_EQ(result.status, 0) << result.error << result.err;
  records = ReadAll(folder.dir / "png_lmdb", db::Backend::kLmdb);
  Datum b = records.at("00000001_sub/b.jpg");
  EXPECT_TRUE(b.encoded());
  EXPECT_EQ(b.data().compare(1, 3, "PNG"), 0);
  ASSERT_TRUE(DecodeDatumNative(&b));
  ExpectPixels(b, folder.dir / "sub/b.jpg", cv::IMREAD_COLOR);
}

TEST(ToolsConvertImagesetTest, LevelDbBackend) {
  ImageFolder folder;
  const std::string db = folder.dir / "out_leveldb";
  const test::VerbResult result =
      test::RunVerb(ConvertImagesetMain, "convert_imageset",
                    {"--backend=leveldb", folder.root, folder.dir / "list.txt", db});
  ASSERT_EQ(result.status, 0) << result.error << result.err;
  const auto records = ReadAll(db, db::Backend::kLevelDb);
  ASSERT_EQ(records.size(), 3u);
  ExpectPixels(records.at("00000000_a.png"), folder.dir / "a.png", cv::IMREAD_COLOR);
}

TEST(ToolsConvertImagesetTest, ManyImagesKeepListOrderAcrossThreads) {
  test::TempDir dir;
  std::ofstream list(dir / "list.txt");
  constexpr int kImages = 40;
  for (int i = 0; i < kImages; ++i) {
    const std::string name = "img" + std::to_string(i) + ".png";
    cv::imwrite(dir / name, Pattern(3, 2, i));
    list << name << " " << (i % 7) << "\r\n";  // Windows line ends too
  }
  list.close();
  const test::VerbResult result =
      test::RunVerb(ConvertImagesetMain, "convert_imageset",
                    {"--threads=4", dir.path() + "/", dir / "list.txt", dir / "db"});
  ASSERT_EQ(result.status, 0) << result.error << result.err;
  const auto records = ReadAll(dir / "db", db::Backend::kLmdb);
  ASSERT_EQ(records.size(), static_cast<size_t>(kImages));
  for (int i = 0; i < kImages; ++i) {
    char key[64];
    std::snprintf(key, sizeof(key), "%08d_img%d.png", i, i);
    ASSERT_TRUE(records.count(key)) << key;
    EXPECT_EQ(records.at(key).label(), i % 7);
    EXPECT_EQ(static_cast<uint8_t>(records.at(key).data()[0]), i);  // B at (0, 0) = seed
  }
}

TEST(ToolsConvertImagesetTest, UserErrors) {
  ImageFolder folder;
  test::VerbResult result = test::RunVerb(ConvertImagesetMain, "convert_imageset",
                                          {folder.root, folder.dir / "list.txt"});
  EXPECT_EQ(result.status, 1);
  EXPECT_TRUE(Contains(result.error, "expected 3 arguments")) << result.error;

  result = test::RunVerb(ConvertImagesetMain, "convert_imageset",
                         {"--backend=rocksdb", folder.root, folder.dir / "list.txt",
                          folder.dir / "db"});
  EXPECT_EQ(result.status, 1);
  EXPECT_TRUE(Contains(result.error, "rocksdb")) << result.error;

  result = test::RunVerb(ConvertImagesetMain, "convert_imageset",
                         {"--colour", folder.root, folder.dir / "list.txt", folder.dir / "db"});
  EXPECT_EQ(result.status, 1);
  EXPECT_TRUE(Contains(result.error, "unknown flag '--colour'")) << result.error;

  result = test::RunVerb(ConvertImagesetMain, "convert_imageset",
                         {folder.root, folder.dir / "no_list.txt", folder.dir / "db"});
  EXPECT_EQ(result.status, 1);
  EXPECT_TRUE(Contains(result.error, "no_list.txt")) << result.error;
  EXPECT_FALSE(std::filesystem::exists(folder.dir / "db"));

  // An existing database is left alone.
  std::filesystem::create_directories(folder.dir / "db");
  result = test::RunVerb(ConvertImagesetMain, "convert_imageset",
                         {folder.root, folder.dir / "list.txt", folder.dir / "db"});
  EXPECT_EQ(result.status, 1);
  EXPECT_TRUE(Contains(result.error, "already exists")) << result.error;
  EXPECT_TRUE(std::filesystem::exists(folder.dir / "db"));
}

}  // namespace
}  // namespace moka
