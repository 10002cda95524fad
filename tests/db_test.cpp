#include "db.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "temp_dir.hpp"

namespace moka {
namespace {

using test::TempDir;

std::map<std::string, std::string> ReadAll(const std::string& path) {
  db::LmdbReader reader(path);
  std::map<std::string, std::string> records;
  auto cursor = reader.NewCursor();
  if (!cursor->valid()) return records;
  do {
    records[cursor->key()] = cursor->value();
  } while (!cursor->Next());
  return records;
}

TEST(LmdbTest, WriteReadRoundTripInKeyOrder) {
  TempDir dir;
  const std::string path = dir / "db";
  {
    db::LmdbWriter writer(path);
    writer.Put("00000002", "two");
    writer.Put("00000000", std::string("zero\0with nul", 13));
    writer.Put("00000001", "one");
    writer.Commit();
  }
  db::LmdbReader reader(path);
  EXPECT_EQ(reader.size(), 3u);
  auto cursor = reader.NewCursor();
  ASSERT_TRUE(cursor->valid());
  EXPECT_EQ(cursor->key(), "00000000");
  EXPECT_EQ(cursor->value(), std::string("zero\0with nul", 13));
  EXPECT_FALSE(cursor->Next());
  EXPECT_EQ(cursor->key(), "00000001");
  EXPECT_EQ(cursor->value(), "one");
  EXPECT_FALSE(cursor->Next());
  EXPECT_EQ(cursor->key(), "00000002");
  EXPECT_EQ(cursor->value(), "two");
}

TEST(LmdbTest, CursorWrapsAroundToFirstRecord) {
  TempDir dir;
  const std::string path = dir / "db";
  {
    db::LmdbWriter writer(path);
    for (const char* key : {"a", "b", "c"}) writer.Put(key, std::string("value ") + key);
    writer.Commit();
  }
  db::LmdbReader reader(path);
  auto cursor = reader.NewCursor();
  std::string seen;
  int wraps = 0;
  for (int i = 0; i < 8; ++i) {
    seen += cursor->key();
    if (cursor->Next()) ++wraps;
  }
  EXPECT_EQ(seen, "abcabcab");
  EXPECT_EQ(wraps, 2);
  EXPECT_EQ(cursor->value(), "value c");
  cursor->SeekToFirst();
  EXPECT_EQ(cursor->key(), "a");
}

TEST(LmdbTest, BatchedCommitsGrowTheMap) {
  TempDir dir;
  const std::string path = dir / "nested/db";  // the writer creates missing directories
  const size_t initial_map = 64 * 1024;
  const std::string payload(1500, 'x');
  size_t final_map = 0;
  {
    db::LmdbWriter writer(path, /*batch_size=*/60, initial_map);
    for (int i = 0; i < 300; ++i)
      writer.Put("key" + std::to_string(1000 + i), payload + std::to_string(i));
    writer.Commit();
    final_map = writer.map_size();
  }
  EXPECT_GT(final_map, initial_map);
  const auto records = ReadAll(path);
  ASSERT_EQ(records.size(), 300u);
  EXPECT_EQ(records.at("key1000"), payload + "0");
  EXPECT_EQ(records.at("key1299"), payload + "299");
}

TEST(LmdbTest, DestructorCommitsPendingPuts) {
  TempDir dir;
  const std::string path = dir / "db";
  {
    db::LmdbWriter writer(path, 1000);
    writer.Put("k", "v");
  }
  EXPECT_EQ(ReadAll(path).at("k"), "v");
}

TEST(LmdbTest, ExistingDatabaseIsAddedTo) {
  TempDir dir;
  const std::string path = dir / "db";
  {
    db::LmdbWriter writer(path);
    writer.Put("a", "1");
  }
  {
    db::LmdbWriter writer(path);
    writer.Put("b", "2");
  }
  EXPECT_EQ(ReadAll(path).size(), 2u);
}

TEST(LmdbTest, EmptyDatabaseHasInvalidCursor) {
  TempDir dir;
  const std::string path = dir / "db";
  { db::LmdbWriter writer(path); }
  db::LmdbReader reader(path);
  EXPECT_EQ(reader.size(), 0u);
  auto cursor = reader.NewCursor();
  EXPECT_FALSE(cursor->valid());
  EXPECT_FALSE(cursor->Next());
}

TEST(LmdbTest, MissingPathRaisesIoErrorNamingIt) {
  TempDir dir;
  const std::string path = dir / "no_such_db";
  try {
    db::LmdbReader reader(path);
    FAIL() << "expected IoError";
  } catch (const IoError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("No such file or directory"), std::string::npos) << message;
  }
}

TEST(LmdbTest, CorruptDatabaseRaisesIoError) {
  TempDir dir;
  const std::string path = dir / "garbage_db";
  std::filesystem::create_directories(path);
  {
    std::ofstream out(path + "/data.mdb", std::ios::binary);
    for (int i = 0; i < 20000; ++i) out.put(static_cast<char>((i * 7919) % 251));
  }
  try {
    db::LmdbReader reader(path);
    auto cursor = reader.NewCursor();
    FAIL() << "expected IoError";
  } catch (const IoError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("LMDB"), std::string::npos) << message;
  }
}

TEST(LmdbTest, RegularFileIsNotADatabase) {
  TempDir dir;
  const std::string path = dir / "plain_file";
  { std::ofstream(path) << "hello"; }
  EXPECT_THROW(db::LmdbReader reader(path), IoError);
}

TEST(LmdbTest, ReadsWithoutLockFileInReadOnlyDirectory) {
  TempDir dir;
  const std::string path = dir / "db";
  {
    db::LmdbWriter writer(path);
    writer.Put("k", "v");
  }
  std::filesystem::remove(path + "/lock.mdb");
  ASSERT_EQ(chmod(path.c_str(), 0555), 0);
  if (access(path.c_str(), W_OK) == 0) {
    chmod(path.c_str(), 0755);
    GTEST_SKIP() << "running with permission to write anywhere (root?); cannot test read-only";
  }
  std::map<std::string, std::string> records;
  EXPECT_NO_THROW(records = ReadAll(path));
  chmod(path.c_str(), 0755);
  EXPECT_EQ(records["k"], "v");
}

}  // namespace
}  // namespace moka
