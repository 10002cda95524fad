#include "db.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <tuple>

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

// ---------------------------------------------------------------------------------------------
// Both backends through the common interface.

class AnyBackendTest : public ::testing::TestWithParam<db::Backend> {};

INSTANTIATE_TEST_SUITE_P(Backends, AnyBackendTest,
                         ::testing::Values(db::Backend::kLmdb, db::Backend::kLevelDb),
                         [](const auto& info) { return std::string(db::BackendName(info.param)); });

TEST_P(AnyBackendTest, WriteReadRoundTripWrapsInKeyOrder) {
  TempDir dir;
  const std::string path = dir / "nested/db";
  {
    auto writer = db::OpenWriter(GetParam(), path, /*batch_size=*/2);
    writer->Put("00000002", "two");
    writer->Put("00000000", std::string("zero\0with nul", 13));
    writer->Put("00000001", "one");
    writer->Commit();
  }
  auto reader = db::OpenReader(GetParam(), path);
  EXPECT_EQ(reader->backend(), GetParam());
  EXPECT_EQ(reader->path(), path);
  EXPECT_EQ(reader->size(), 3u);
  auto cursor = reader->NewCursor();
  ASSERT_TRUE(cursor->valid());
  std::string keys;
  int wraps = 0;
  for (int i = 0; i < 7; ++i) {
    keys += cursor->key().substr(7) + ",";
    if (cursor->Next()) ++wraps;
  }
  EXPECT_EQ(keys, "0,1,2,0,1,2,0,");
  EXPECT_EQ(wraps, 2);
  EXPECT_EQ(cursor->value(), "one");
  cursor->SeekToFirst();
  EXPECT_EQ(cursor->value(), std::string("zero\0with nul", 13));
}

TEST_P(AnyBackendTest, DestructorCommitsAndExistingDatabaseIsAddedTo) {
  TempDir dir;
  const std::string path = dir / "db";
  { db::OpenWriter(GetParam(), path)->Put("a", "1"); }
  { db::OpenWriter(GetParam(), path)->Put("b", "2"); }
  auto reader = db::OpenReader(GetParam(), path);
  EXPECT_EQ(reader->size(), 2u);
}

TEST_P(AnyBackendTest, EmptyDatabaseHasInvalidCursor) {
  TempDir dir;
  const std::string path = dir / "db";
  { db::OpenWriter(GetParam(), path)->Commit(); }
  auto reader = db::OpenReader(GetParam(), path);
  EXPECT_EQ(reader->size(), 0u);
  auto cursor = reader->NewCursor();
  EXPECT_FALSE(cursor->valid());
  EXPECT_FALSE(cursor->Next());
}

TEST_P(AnyBackendTest, MissingPathRaisesIoErrorNamingIt) {
  TempDir dir;
  const std::string path = dir / "no_such_db";
  try {
    db::OpenReader(GetParam(), path);
    FAIL() << "expected IoError";
  } catch (const IoError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find(db::BackendName(GetParam())), std::string::npos) << message;
  }
  // Reading must not create anything.
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(DbTest, ParseBackendNamesAndErrors) {
  EXPECT_EQ(db::ParseBackend("lmdb"), db::Backend::kLmdb);
  EXPECT_EQ(db::ParseBackend("leveldb"), db::Backend::kLevelDb);
  EXPECT_STREQ(db::BackendName(db::Backend::kLevelDb), "LevelDB");
  try {
    db::ParseBackend("rocksdb");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("rocksdb"), std::string::npos) << error.what();
  }
}

TEST(LevelDbTest, ReadersOfOneDatabaseShareItDespiteTheLock) {
  TempDir dir;
  const std::string path = dir / "db";
  {
    db::LevelDbWriter writer(path);
    writer.Put("k", "v");
  }
  // A train and a test net reading one source: LevelDB alone would refuse the second open.
  db::LevelDbReader first(path);
  db::LevelDbReader second(path + "/");
  auto a = first.NewCursor();
  auto b = second.NewCursor();
  EXPECT_EQ(a->value(), "v");
  EXPECT_EQ(b->value(), "v");
}

TEST(LevelDbTest, CursorKeepsTheDatabaseOpenAfterItsReader) {
  TempDir dir;
  const std::string path = dir / "db";
  { db::LevelDbWriter(path).Put("k", "v"); }
  std::unique_ptr<db::Cursor> cursor;
  {
    db::LevelDbReader reader(path);
    cursor = reader.NewCursor();
  }
  EXPECT_EQ(cursor->key(), "k");
  EXPECT_TRUE(cursor->Next());  // the only record: straight back to it
  EXPECT_EQ(cursor->value(), "v");
  cursor.reset();
  // Everything is closed now: a writer may take the lock again.
  db::LevelDbWriter writer(path);
  writer.Put("l", "w");
  writer.Commit();
}

TEST(DbTest, WrongBackendErrorsSayWhichBackendFits) {
  TempDir dir;
  const std::string lmdb = dir / "lmdb", leveldb = dir / "leveldb";
  { db::LmdbWriter(lmdb).Put("k", "v"); }
  { db::LevelDbWriter(leveldb).Put("k", "v"); }
  for (const auto& [backend, path, hint] :
       {std::make_tuple(db::Backend::kLevelDb, lmdb, "backend to LMDB"),
        std::make_tuple(db::Backend::kLmdb, leveldb, "backend to LEVELDB")}) {
    try {
      db::OpenReader(backend, path);
      ADD_FAILURE() << "expected IoError for " << path;
    } catch (const IoError& error) {
      EXPECT_NE(std::string(error.what()).find(hint), std::string::npos) << error.what();
    }
  }
}

TEST(LevelDbTest, CorruptDatabaseRaisesIoError) {
  TempDir dir;
  const std::string path = dir / "garbage_db";
  std::filesystem::create_directories(path);
  { std::ofstream(path + "/CURRENT") << "MANIFEST-000007\n"; }
  try {
    db::LevelDbReader reader(path);
    FAIL() << "expected IoError";
  } catch (const IoError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("LevelDB"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace moka
