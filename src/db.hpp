#pragma once
// LMDB databases of serialized records (Caffe's Datum), as the Data layer and the convert tools
// use them. Readers open read-only and also work on a read-only filesystem; writers batch puts
// into transactions and grow the memory map when it fills. Every failure raises IoError naming
// the database path and LMDB's own message.
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common.hpp"

struct MDB_env;
struct MDB_txn;
struct MDB_cursor;

namespace moka::db {

class LmdbCursor;

/// A database opened for reading. Cursors must not outlive it.
class LmdbReader {
 public:
  explicit LmdbReader(const std::string& path);
  ~LmdbReader();
  MOKA_DISABLE_COPY(LmdbReader);

  /// A cursor on the first record (invalid when the database is empty).
  std::unique_ptr<LmdbCursor> NewCursor();
  /// Number of records.
  size_t size() const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  MDB_env* env_ = nullptr;
};

/// Walks the records in key order. Next() past the last record comes back to the first, so a
/// data layer can read epoch after epoch without special cases.
class LmdbCursor {
 public:
  ~LmdbCursor();
  MOKA_DISABLE_COPY(LmdbCursor);

  void SeekToFirst();
  /// Advances; returns true when it wrapped around to the first record.
  bool Next();
  /// False only for an empty database.
  bool valid() const { return valid_; }
  std::string key() const;
  std::string value() const;

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

/// Writes records, committing every `batch_size` puts. Creates the directory when missing;
/// an existing database is opened and added to. Call Commit() at the end: the destructor only
/// tries to commit what is pending and cannot report failures.
class LmdbWriter {
 public:
  explicit LmdbWriter(const std::string& path, size_t batch_size = 1000,
                      size_t initial_map_size = size_t(64) << 20);
  ~LmdbWriter();
  MOKA_DISABLE_COPY(LmdbWriter);

  void Put(const std::string& key, const std::string& value);
  /// Writes the pending puts in one transaction.
  void Commit();
  size_t map_size() const { return map_size_; }

 private:
  void DoubleMapSize();

  std::string path_;
  size_t batch_size_;
  size_t map_size_;
  MDB_env* env_ = nullptr;
  std::vector<std::pair<std::string, std::string>> pending_;
};

}  // namespace moka::db
