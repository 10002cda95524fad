#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "db.hpp"
#include "moka.pb.h"
#include "temp_dir.hpp"
#include "tools/verbs.hpp"

namespace moka {
namespace {

constexpr int kImages = 3;
constexpr int kSide = 28;

void PutBigEndian(std::string* out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(value >> shift));
}

uint8_t Pixel(int image, int j) {
  return static_cast<uint8_t>((image * 31 + j * 7) % 256);
}

std::string ImagesFile(uint32_t magic = 2051, uint32_t count = kImages, int stored = kImages) {
  std::string bytes;
  PutBigEndian(&bytes, magic);
  PutBigEndian(&bytes, count);
  PutBigEndian(&bytes, kSide);
  PutBigEndian(&bytes, kSide);
  for (int i = 0; i < stored; ++i)
    for (int j = 0; j < kSide * kSide; ++j) bytes.push_back(static_cast<char>(Pixel(i, j)));
  return bytes;
}

std::string LabelsFile(uint32_t magic = 2049, uint32_t count = kImages) {
  std::string bytes;
  PutBigEndian(&bytes, magic);
  PutBigEndian(&bytes, count);
  for (uint32_t i = 0; i < count; ++i) bytes.push_back(static_cast<char>(9 - i));
  return bytes;
}

void WritePlain(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

void WriteGzip(const std::string& path, const std::string& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  ASSERT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())),
            static_cast<int>(bytes.size()));
  gzclose(file);
}

/// Runs the verb and returns its exit status, with what it printed to stderr in *err.
int RunVerb(const std::vector<std::string>& args, std::string* err = nullptr) {
  std::vector<std::string> storage = {"convert_mnist"};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  ::testing::internal::CaptureStderr();
  ::testing::internal::CaptureStdout();
  const int status = ConvertMnistMain(static_cast<int>(storage.size()), argv.data());
  const std::string out = ::testing::internal::GetCapturedStdout();
  const std::string error = ::testing::internal::GetCapturedStderr();
  if (err != nullptr) *err = error;
  if (status == 0)
    EXPECT_NE(out.find("Processed " + std::to_string(kImages) + " items."), std::string::npos)
        << out;
  return status;
}

void ExpectDatabase(const std::string& path, db::Backend backend = db::Backend::kLmdb) {
  std::unique_ptr<db::Reader> reader = db::OpenReader(backend, path);
  ASSERT_EQ(reader->size(), static_cast<size_t>(kImages));
  auto cursor = reader->NewCursor();
  for (int i = 0; i < kImages; ++i) {
    char key[16];
    std::snprintf(key, sizeof(key), "%08d", i);
    EXPECT_EQ(cursor->key(), key);
    Datum datum;
    ASSERT_TRUE(datum.ParseFromString(cursor->value()));
    EXPECT_EQ(datum.channels(), 1);
    EXPECT_EQ(datum.height(), kSide);
    EXPECT_EQ(datum.width(), kSide);
    EXPECT_EQ(datum.label(), 9 - i);
    EXPECT_FALSE(datum.encoded());
    EXPECT_EQ(datum.float_data_size(), 0);
    ASSERT_EQ(datum.data().size(), static_cast<size_t>(kSide * kSide));
    for (int j = 0; j < kSide * kSide; ++j)
      ASSERT_EQ(static_cast<uint8_t>(datum.data()[j]), Pixel(i, j)) << "image " << i;
    cursor->Next();
  }
}

TEST(ConvertMnistTest, PlainIdxFiles) {
  test::TempDir dir;
  WritePlain(dir / "images", ImagesFile());
  WritePlain(dir / "labels", LabelsFile());
  ASSERT_EQ(RunVerb({dir / "images", dir / "labels", dir / "out_lmdb"}), 0);
  ExpectDatabase(dir / "out_lmdb");
}

TEST(ConvertMnistTest, GzippedIdxFilesWithBackendFlag) {
  test::TempDir dir;
  WriteGzip(dir / "images.gz", ImagesFile());
  WriteGzip(dir / "labels.gz", LabelsFile());
  ASSERT_EQ(RunVerb({dir / "images.gz", dir / "labels.gz", dir / "out_lmdb", "--backend=lmdb"}), 0);
  ExpectDatabase(dir / "out_lmdb");
}

TEST(ConvertMnistTest, LevelDbBackend) {
  test::TempDir dir;
  WritePlain(dir / "images", ImagesFile());
  WritePlain(dir / "labels", LabelsFile());
  ASSERT_EQ(RunVerb({dir / "images", dir / "labels", dir / "out_leveldb", "--backend=leveldb"}), 0);
  ExpectDatabase(dir / "out_leveldb", db::Backend::kLevelDb);
}

TEST(ConvertMnistTest, RefusesExistingOutput) {
  test::TempDir dir;
  WritePlain(dir / "images", ImagesFile());
  WritePlain(dir / "labels", LabelsFile());
  ASSERT_EQ(RunVerb({dir / "images", dir / "labels", dir / "out_lmdb"}), 0);
  std::string err;
  EXPECT_EQ(RunVerb({dir / "images", dir / "labels", dir / "out_lmdb"}, &err), 1);
  EXPECT_NE(err.find("already exists"), std::string::npos) << err;
  ExpectDatabase(dir / "out_lmdb");  // untouched
}

TEST(ConvertMnistTest, BadMagicNumbers) {
  test::TempDir dir;
  WritePlain(dir / "images", ImagesFile(1234));
  WritePlain(dir / "labels", LabelsFile());
  std::string err;
  EXPECT_EQ(RunVerb({dir / "images", dir / "labels", dir / "out_lmdb"}, &err), 1);
  EXPECT_NE(err.find("magic number 1234"), std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(dir / "out_lmdb"));

  // Swapped arguments: the messages say which kind of file each one is.
  EXPECT_EQ(RunVerb({dir / "labels", dir / "labels", dir / "out_lmdb"}, &err), 1);
  EXPECT_NE(err.find("looks like a labels file"), std::string::npos) << err;
}

TEST(ConvertMnistTest, MismatchedAndTruncatedCounts) {
  test::TempDir dir;
  WritePlain(dir / "images", ImagesFile());
  WritePlain(dir / "labels4", LabelsFile(2049, 4));
  std::string err;
  EXPECT_EQ(RunVerb({dir / "images", dir / "labels4", dir / "out_lmdb"}, &err), 1);
  EXPECT_NE(err.find("3 images"), std::string::npos) << err;

  WritePlain(dir / "short_images", ImagesFile(2051, kImages, kImages - 1));
  WritePlain(dir / "labels", LabelsFile());
  EXPECT_EQ(RunVerb({dir / "short_images", dir / "labels", dir / "out_lmdb"}, &err), 1);
  EXPECT_NE(err.find("truncated"), std::string::npos) << err;
  // A failed conversion leaves no half-written database behind.
  EXPECT_FALSE(std::filesystem::exists(dir / "out_lmdb"));
}

TEST(ConvertMnistTest, BadArguments) {
  test::TempDir dir;
  std::string err;
  EXPECT_EQ(RunVerb({dir / "images"}, &err), 1);
  EXPECT_NE(err.find("usage"), std::string::npos) << err;
  EXPECT_EQ(RunVerb({dir / "missing_images", dir / "missing_labels", dir / "out"}, &err), 1);
  EXPECT_NE(err.find("missing_images"), std::string::npos) << err;
  EXPECT_EQ(RunVerb({"a", "b", "c", "--backend=rocksdb"}, &err), 1);
  EXPECT_NE(err.find("rocksdb"), std::string::npos) << err;
  EXPECT_EQ(RunVerb({"a", "b", "c", "--bogus"}, &err), 1);
  EXPECT_NE(err.find("--bogus"), std::string::npos) << err;
}

}  // namespace
}  // namespace moka
