#pragma once
// Key-value databases of serialized records (Caffe's Datum), as the Data layer and the convert
// tools use them: LMDB and LevelDB (Caffe's two backends) behind one Reader/Cursor/Writer
// interface. Cursors walk the keys in byte order. LMDB readers open read-only and also work on a
// read-only filesystem; LMDB writers batch puts into transactions and grow the memory map when it
// fills. Every failure raises IoError naming the database path and the library's own message.
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common.hpp"

struct MDB_env;
struct MDB_txn;
struct MDB_cursor;

namespace leveldb {
class DB;
class Iterator;
class WriteBatch;
}  // namespace leveldb

namespace moka::db {

/// Caffe's DataParameter.DB values.
enum class Backend { kLevelDb, kLmdb };

/// "lmdb" or "leveldb", as the convert tools' --backend flag spells them; ConfigError otherwise.
Backend ParseBackend(const std::string& name);
/// "LMDB" or "LevelDB", for messages.
const char* BackendName(Backend backend);

/// Walks the records in key order. Next() past the last record comes back to the first, so a
/// data layer can read epoch after epoch without special cases.
class Cursor {
 public:
  virtual ~Cursor() = default;
  virtual void SeekToFirst() = 0;
  /// Advances; returns true when it wrapped around to the first record.
  virtual bool Next() = 0;
  /// False only for an empty database.
  virtual bool valid() const = 0;
  virtual std::string key() const = 0;
  virtual std::string value() const = 0;
};

/// A database opened for reading. Cursors must not outlive it.
class Reader {
 public:
  virtual ~Reader() = default;
  /// A cursor on the first record (invalid when the database is empty).
  virtual std::unique_ptr<Cursor> NewCursor() = 0;
  /// Number of records (LevelDB counts them by walking the database).
  virtual size_t size() const = 0;
  virtual Backend backend() const = 0;
  const std::string& path() const { return path_; }

 protected:
  explicit Reader(const std::string& path) : path_(path) {}
  std::string path_;
};

/// Adds records, writing them in batches. Call Commit() at the end: the destructor only tries to
/// write what is pending and cannot report failures.
class Writer {
 public:
  virtual ~Writer() = default;
  virtual void Put(const std::string& key, const std::string& value) = 0;
  /// Writes the pending puts in one batch.
  virtual void Commit() = 0;
};

std::unique_ptr<Reader> OpenReader(Backend backend, const std::string& path);
/// Creates the database (and missing directories) or opens an existing one to add to it.
std::unique_ptr<Writer> OpenWriter(Backend backend, const std::string& path,
                                   size_t batch_size = 1000);

// ---------------------------------------------------------------------------------------------
// LMDB

class LmdbReader : public Reader {
 public:
  explicit LmdbReader(const std::string& path);
  ~LmdbReader() override;
  MOKA_DISABLE_COPY(LmdbReader);

  std::unique_ptr<Cursor> NewCursor() override;
  size_t size() const override;
  Backend backend() const override { return Backend::kLmdb; }

 private:
  MDB_env* env_ = nullptr;
};

class LmdbCursor : public Cursor {
 public:
  ~LmdbCursor() override;
  MOKA_DISABLE_COPY(LmdbCursor);

  void SeekToFirst() override;
  bool Next() override;
  bool valid() const override { return valid_; }
  std::string key() const override;
  std::string value() const override;

 private:
  friend class LmdbReader;
  LmdbCursor(const std::string& path, MDB_txn* txn, MDB_cursor* cursor);
  void Fetch(unsigned op);

  std::string path_;
  MDB_txn* txn_;
  MDB_cursor* cursor_;
  bool valid_ = false;
  // Views into the memory map, valid while the read transaction lives.
  const char* key_data_ = nullptr;
  size_t key_size_ = 0;
  const char* value_data_ = nullptr;
  size_t value_size_ = 0;
};

/// Commits every `batch_size` puts, each batch in one transaction.
class LmdbWriter : public Writer {
 public:
  explicit LmdbWriter(const std::string& path, size_t batch_size = 1000,
                      size_t initial_map_size = size_t(64) << 20);
  ~LmdbWriter() override;
  MOKA_DISABLE_COPY(LmdbWriter);

  void Put(const std::string& key, const std::string& value) override;
  void Commit() override;
  size_t map_size() const { return map_size_; }

 private:
  void DoubleMapSize();

  std::string path_;
  size_t batch_size_;
  size_t map_size_;
  MDB_env* env_ = nullptr;
  std::vector<std::pair<std::string, std::string>> pending_;
};

// ---------------------------------------------------------------------------------------------
// LevelDB

/// LevelDB locks a database for one opener per process, so readers of the same directory (a
/// train and a test net on one source) share a single open handle.
class LevelDbReader : public Reader {
 public:
  explicit LevelDbReader(const std::string& path);
  ~LevelDbReader() override;
  MOKA_DISABLE_COPY(LevelDbReader);

  std::unique_ptr<Cursor> NewCursor() override;
  size_t size() const override;
  Backend backend() const override { return Backend::kLevelDb; }

 private:
  std::shared_ptr<leveldb::DB> db_;
};

class LevelDbCursor : public Cursor {
 public:
  ~LevelDbCursor() override;
  MOKA_DISABLE_COPY(LevelDbCursor);

  void SeekToFirst() override;
  bool Next() override;
  bool valid() const override { return valid_; }
  std::string key() const override;
  std::string value() const override;

 private:
  friend class LevelDbReader;
  LevelDbCursor(const std::string& path, std::shared_ptr<leveldb::DB> db);
  /// Records whether the iterator stands on a record, raising IoError when it stopped on an error.
  void Check();

  std::string path_;
  std::shared_ptr<leveldb::DB> db_;  // kept open while the iterator lives
  leveldb::Iterator* iter_ = nullptr;
  bool valid_ = false;
};

/// Writes every `batch_size` puts as one atomic write batch.
class LevelDbWriter : public Writer {
 public:
  explicit LevelDbWriter(const std::string& path, size_t batch_size = 1000);
  ~LevelDbWriter() override;
  MOKA_DISABLE_COPY(LevelDbWriter);

  void Put(const std::string& key, const std::string& value) override;
  void Commit() override;

 private:
  std::string path_;
  size_t batch_size_;
  size_t pending_ = 0;
  leveldb::DB* db_ = nullptr;
  std::unique_ptr<leveldb::WriteBatch> batch_;
};

}  // namespace moka::db
