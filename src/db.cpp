#include "db.hpp"

#include <leveldb/db.h>
#include <leveldb/iterator.h>
#include <leveldb/options.h>
#include <leveldb/write_batch.h>
#include <lmdb.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <mutex>
#include <system_error>

namespace moka::db {

namespace {

#define MOKA_MDB_CHECK(call, path, what)                                                     \
  do {                                                                                       \
    const int moka_mdb_rc_ = (call);                                                         \
    MOKA_CHECK(moka_mdb_rc_ == MDB_SUCCESS, IoError,                                         \
               what << " LMDB database '" << (path) << "': " << mdb_strerror(moka_mdb_rc_)); \
  } while (0)

/// A hint for a database opened with the wrong backend: "" unless `path` holds the files of
/// `other`.
std::string LooksLike(const std::string& path, Backend other) {
  std::error_code error;
  const char* marker = other == Backend::kLmdb ? "/data.mdb" : "/CURRENT";
  if (!std::filesystem::exists(path + marker, error)) return "";
  return std::string(" (it looks like a ") + BackendName(other) +
         " database: set data_param.backend to " + (other == Backend::kLmdb ? "LMDB" : "LEVELDB") +
         ", Caffe's default being LEVELDB)";
}

/// Opens `path` read-only. A database on a read-only filesystem (or in a directory we may not
/// write) cannot get its lock file, so the open is retried without locking: nothing writes it
/// while we read, or nothing could.
MDB_env* OpenReadOnly(const std::string& path) {
  int rc = MDB_SUCCESS;
  for (const unsigned extra : {0u, static_cast<unsigned>(MDB_NOLOCK)}) {
    MDB_env* env = nullptr;
    MOKA_MDB_CHECK(mdb_env_create(&env), path, "cannot create an environment for");
    rc = mdb_env_open(env, path.c_str(), MDB_RDONLY | MDB_NOTLS | extra, 0664);
    if (rc == MDB_SUCCESS) return env;
    mdb_env_close(env);
    if (rc != EACCES && rc != EROFS) break;
  }
  MOKA_THROW(IoError, "cannot open LMDB database '" << path << "': " << mdb_strerror(rc)
                                                    << LooksLike(path, Backend::kLevelDb));
}

}  // namespace

Backend ParseBackend(const std::string& name) {
  if (name == "lmdb") return Backend::kLmdb;
  if (name == "leveldb") return Backend::kLevelDb;
  MOKA_THROW(ConfigError, "unknown database backend '" << name << "' (use lmdb or leveldb)");
}

const char* BackendName(Backend backend) {
  return backend == Backend::kLmdb ? "LMDB" : "LevelDB";
}

std::unique_ptr<Reader> OpenReader(Backend backend, const std::string& path) {
  if (backend == Backend::kLmdb) return std::make_unique<LmdbReader>(path);
  return std::make_unique<LevelDbReader>(path);
}

std::unique_ptr<Writer> OpenWriter(Backend backend, const std::string& path, size_t batch_size) {
  if (backend == Backend::kLmdb) return std::make_unique<LmdbWriter>(path, batch_size);
  return std::make_unique<LevelDbWriter>(path, batch_size);
}

// ---------------------------------------------------------------------------------------------
// LmdbReader

LmdbReader::LmdbReader(const std::string& path) : Reader(path), env_(OpenReadOnly(path)) {}

LmdbReader::~LmdbReader() {
  if (env_ != nullptr) mdb_env_close(env_);
}

std::unique_ptr<Cursor> LmdbReader::NewCursor() {
  MDB_txn* txn = nullptr;
  MOKA_MDB_CHECK(mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn), path_,
                 "cannot begin a read transaction on");
  MDB_dbi dbi = 0;
  MDB_cursor* cursor = nullptr;
  int rc = mdb_dbi_open(txn, nullptr, 0, &dbi);
  if (rc == MDB_SUCCESS) rc = mdb_cursor_open(txn, dbi, &cursor);
  if (rc != MDB_SUCCESS) {
    mdb_txn_abort(txn);
    MOKA_THROW(IoError,
               "cannot open a cursor on LMDB database '" << path_ << "': " << mdb_strerror(rc));
  }
  return std::unique_ptr<Cursor>(new LmdbCursor(path_, txn, cursor));
}

size_t LmdbReader::size() const {
  MDB_stat stat;
  MOKA_MDB_CHECK(mdb_env_stat(env_, &stat), path_, "cannot read the size of");
  return stat.ms_entries;
}

// ---------------------------------------------------------------------------------------------
// LmdbCursor

LmdbCursor::LmdbCursor(const std::string& path, MDB_txn* txn, MDB_cursor* cursor)
    : path_(path), txn_(txn), cursor_(cursor) {
  try {
    SeekToFirst();
  } catch (...) {
    mdb_cursor_close(cursor_);
    mdb_txn_abort(txn_);
    throw;
  }
}

LmdbCursor::~LmdbCursor() {
  mdb_cursor_close(cursor_);
  mdb_txn_abort(txn_);
}

void LmdbCursor::Fetch(unsigned op) {
  MDB_val key, value;
  const int rc = mdb_cursor_get(cursor_, &key, &value, static_cast<MDB_cursor_op>(op));
  if (rc == MDB_NOTFOUND) {
    valid_ = false;
    return;
  }
  MOKA_CHECK(rc == MDB_SUCCESS, IoError,
             "cannot read LMDB database '" << path_ << "': " << mdb_strerror(rc));
  valid_ = true;
  key_data_ = static_cast<const char*>(key.mv_data);
  key_size_ = key.mv_size;
  value_data_ = static_cast<const char*>(value.mv_data);
  value_size_ = value.mv_size;
}

void LmdbCursor::SeekToFirst() {
  Fetch(MDB_FIRST);
}

bool LmdbCursor::Next() {
  if (!valid_) return false;
  Fetch(MDB_NEXT);
  if (valid_) return false;
  SeekToFirst();
  return true;
}

std::string LmdbCursor::key() const {
  MOKA_ASSERT(valid_);
  return std::string(key_data_, key_size_);
}

std::string LmdbCursor::value() const {
  MOKA_ASSERT(valid_);
  return std::string(value_data_, value_size_);
}

// ---------------------------------------------------------------------------------------------
// LmdbWriter

LmdbWriter::LmdbWriter(const std::string& path, size_t batch_size, size_t initial_map_size)
    : path_(path), batch_size_(batch_size == 0 ? 1 : batch_size), map_size_(initial_map_size) {
  std::error_code error;
  std::filesystem::create_directories(path, error);
  MOKA_CHECK(!error, IoError,
             "cannot create the directory of LMDB database '" << path << "': " << error.message());
  MOKA_MDB_CHECK(mdb_env_create(&env_), path_, "cannot create an environment for");
  int rc = mdb_env_set_mapsize(env_, map_size_);
  if (rc == MDB_SUCCESS) rc = mdb_env_open(env_, path.c_str(), 0, 0664);
  if (rc != MDB_SUCCESS) {
    mdb_env_close(env_);
    env_ = nullptr;
    MOKA_THROW(IoError,
               "cannot open LMDB database '" << path << "' for writing: " << mdb_strerror(rc));
  }
  // An existing database may already be larger than the size we asked for; LMDB adopts its size.
  MDB_envinfo info;
  if (mdb_env_info(env_, &info) == MDB_SUCCESS) map_size_ = info.me_mapsize;
  pending_.reserve(batch_size_);
}

LmdbWriter::~LmdbWriter() {
  if (env_ == nullptr) return;
  try {
    Commit();
  } catch (const Error&) {
    // Destructors cannot throw; callers that care call Commit() themselves.
  }
  mdb_env_close(env_);
}

void LmdbWriter::Put(const std::string& key, const std::string& value) {
  pending_.emplace_back(key, value);
  if (pending_.size() >= batch_size_) Commit();
}

void LmdbWriter::Commit() {
  if (pending_.empty()) return;
  // The whole batch is retried after growing the map, since a failed transaction is lost.
  for (;;) {
    MDB_txn* txn = nullptr;
    MOKA_MDB_CHECK(mdb_txn_begin(env_, nullptr, 0, &txn), path_,
                   "cannot begin a write transaction on");
    MDB_dbi dbi = 0;
    int rc = mdb_dbi_open(txn, nullptr, 0, &dbi);
    for (size_t i = 0; rc == MDB_SUCCESS && i < pending_.size(); ++i) {
      MDB_val key{pending_[i].first.size(), const_cast<char*>(pending_[i].first.data())};
      MDB_val value{pending_[i].second.size(), const_cast<char*>(pending_[i].second.data())};
      rc = mdb_put(txn, dbi, &key, &value, 0);
    }
    if (rc == MDB_SUCCESS) {
      // mdb_txn_commit frees the transaction whatever it returns.
      rc = mdb_txn_commit(txn);
    } else {
      mdb_txn_abort(txn);
    }
    if (rc == MDB_MAP_FULL) {
      DoubleMapSize();
      continue;
    }
    MOKA_CHECK(rc == MDB_SUCCESS, IoError,
               "cannot write LMDB database '" << path_ << "': " << mdb_strerror(rc));
    pending_.clear();
    return;
  }
}

void LmdbWriter::DoubleMapSize() {
  MOKA_CHECK(map_size_ <= (size_t(1) << 46), IoError,
             "LMDB database '" << path_ << "' needs a map larger than " << map_size_ << " bytes");
  const size_t new_size = map_size_ * 2;
  MOKA_MDB_CHECK(mdb_env_set_mapsize(env_, new_size), path_, "cannot grow the map of");
  map_size_ = new_size;
}

// ---------------------------------------------------------------------------------------------
// LevelDbReader

namespace {

/// Open LevelDB handles by canonical directory, so that a second reader of the same database in
/// this process shares the first one's handle instead of failing on LevelDB's lock.
std::mutex level_db_mutex;
std::map<std::string, std::weak_ptr<leveldb::DB>>& OpenLevelDbs() {
  static std::map<std::string, std::weak_ptr<leveldb::DB>> open;
  return open;
}

std::shared_ptr<leveldb::DB> OpenLevelDbShared(const std::string& path) {
  std::string trimmed = path;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  std::error_code error;
  std::string key = std::filesystem::weakly_canonical(trimmed, error).string();
  if (error) key = trimmed;
  std::lock_guard<std::mutex> lock(level_db_mutex);
  auto& open = OpenLevelDbs();
  if (auto existing = open[key].lock()) return existing;
  MOKA_CHECK(std::filesystem::is_directory(path, error), IoError,
             "cannot open LevelDB database '" << path << "': no such directory");
  leveldb::Options options;
  options.create_if_missing = false;
  options.max_open_files = 100;
  leveldb::DB* raw = nullptr;
  const leveldb::Status status = leveldb::DB::Open(options, path, &raw);
  MOKA_CHECK(status.ok(), IoError,
             "cannot open LevelDB database '" << path << "': " << status.ToString()
                                              << LooksLike(path, Backend::kLmdb));
  std::shared_ptr<leveldb::DB> db(raw);
  open[key] = db;
  return db;
}

}  // namespace

LevelDbReader::LevelDbReader(const std::string& path)
    : Reader(path), db_(OpenLevelDbShared(path)) {}

LevelDbReader::~LevelDbReader() = default;

std::unique_ptr<Cursor> LevelDbReader::NewCursor() {
  return std::unique_ptr<Cursor>(new LevelDbCursor(path_, db_));
}

size_t LevelDbReader::size() const {
  leveldb::ReadOptions options;
  options.fill_cache = false;
  std::unique_ptr<leveldb::Iterator> iter(db_->NewIterator(options));
  size_t count = 0;
  for (iter->SeekToFirst(); iter->Valid(); iter->Next()) ++count;
  MOKA_CHECK(iter->status().ok(), IoError,
             "cannot read LevelDB database '" << path_ << "': " << iter->status().ToString());
  return count;
}

// ---------------------------------------------------------------------------------------------
// LevelDbCursor

LevelDbCursor::LevelDbCursor(const std::string& path, std::shared_ptr<leveldb::DB> db)
    : path_(path), db_(std::move(db)) {
  // The iterator reads a snapshot of the database taken now.
  iter_ = db_->NewIterator(leveldb::ReadOptions());
  try {
    SeekToFirst();
  } catch (...) {
    delete iter_;
    throw;
  }
}

LevelDbCursor::~LevelDbCursor() {
  delete iter_;
}

void LevelDbCursor::Check() {
  valid_ = iter_->Valid();
  if (valid_) return;
  const leveldb::Status status = iter_->status();
  MOKA_CHECK(status.ok(), IoError,
             "cannot read LevelDB database '" << path_ << "': " << status.ToString());
}

void LevelDbCursor::SeekToFirst() {
  iter_->SeekToFirst();
  Check();
}

bool LevelDbCursor::Next() {
  if (!valid_) return false;
  iter_->Next();
  Check();
  if (valid_) return false;
  SeekToFirst();
  return true;
}

std::string LevelDbCursor::key() const {
  MOKA_ASSERT(valid_);
  return iter_->key().ToString();
}

std::string LevelDbCursor::value() const {
  MOKA_ASSERT(valid_);
  return iter_->value().ToString();
}

// ---------------------------------------------------------------------------------------------
// LevelDbWriter

LevelDbWriter::LevelDbWriter(const std::string& path, size_t batch_size)
    : path_(path),
      batch_size_(batch_size == 0 ? 1 : batch_size),
      batch_(std::make_unique<leveldb::WriteBatch>()) {
  std::error_code error;
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, error);
  MOKA_CHECK(
      !error, IoError,
      "cannot create the directory of LevelDB database '" << path << "': " << error.message());
  leveldb::Options options;
  options.create_if_missing = true;
  options.max_open_files = 100;
  const leveldb::Status status = leveldb::DB::Open(options, path, &db_);
  MOKA_CHECK(status.ok(), IoError,
             "cannot open LevelDB database '" << path << "' for writing: " << status.ToString());
}

LevelDbWriter::~LevelDbWriter() {
  if (db_ == nullptr) return;
  try {
    Commit();
  } catch (const Error&) {
    // Destructors cannot throw; callers that care call Commit() themselves.
  }
  delete db_;
}

void LevelDbWriter::Put(const std::string& key, const std::string& value) {
  batch_->Put(key, value);
  if (++pending_ >= batch_size_) Commit();
}

void LevelDbWriter::Commit() {
  if (pending_ == 0) return;
  const leveldb::Status status = db_->Write(leveldb::WriteOptions(), batch_.get());
  MOKA_CHECK(status.ok(), IoError,
             "cannot write LevelDB database '" << path_ << "': " << status.ToString());
  batch_->Clear();
  pending_ = 0;
}

}  // namespace moka::db
