// moka zoo: lists the models under models/ and fetches their published weights, checking each
// file's SHA-1 against its README so that a truncated or altered download is never used.
#include "tools/zoo.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "error.hpp"
#include "tools/verbs.hpp"

namespace moka {

namespace fs = std::filesystem;

namespace {

std::string Trim(const std::string& text) {
  const char* space = " \t\r\n";
  const size_t begin = text.find_first_not_of(space);
  if (begin == std::string::npos) return "";
  const size_t end = text.find_last_not_of(space);
  return text.substr(begin, end - begin + 1);
}

std::string Unquote(const std::string& text) {
  if (text.size() >= 2 && (text.front() == '"' || text.front() == '\'') &&
      text.back() == text.front()) {
    return text.substr(1, text.size() - 2);
  }
  return text;
}

std::string ReadTextFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  MOKA_CHECK(file, IoError, "cannot open '" << path << "'");
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

bool IsHexSha1(const std::string& text) {
  return text.size() == 40 &&
         std::all_of(text.begin(), text.end(), [](char c) { return std::isxdigit(c) != 0; });
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

ZooModel FindModel(const std::string& models_dir, const std::string& name) {
  for (const ZooModel& model : FindZooModels(models_dir)) {
    if (model.name == name) return model;
  }
  std::ostringstream known;
  for (const ZooModel& model : FindZooModels(models_dir)) {
    known << (known.tellp() > 0 ? ", " : "") << model.name;
  }
  MOKA_THROW(ConfigError, "no model '" << name << "' under " << models_dir << " (models: "
                                       << known.str() << ")");
}

/// "verified", "missing", "SHA-1 mismatch" or "present, no SHA-1 to check".
std::string WeightsStatus(const ZooModel& model) {
  if (model.caffemodel.empty()) return "no weights file named";
  const std::string path = model.directory + "/" + model.caffemodel;
  if (!fs::exists(path)) return "missing";
  if (model.sha1.empty()) return "present, no SHA-1 to check";
  return FileSha1(path) == model.sha1 ? "verified" : "SHA-1 mismatch";
}

// --- Downloading ---

struct Download {
  std::FILE* file = nullptr;
  curl_off_t resumed_from = 0;
  bool checked_restart = false;
  CURL* curl = nullptr;
  std::chrono::steady_clock::time_point last_report;
  bool reported = false;
  bool finished = false;
};

size_t WriteChunk(char* data, size_t size, size_t count, void* user) {
  auto* download = static_cast<Download*>(user);
  if (!download->checked_restart) {
    download->checked_restart = true;
    // A server that ignores the Range request sends the whole file again: start over.
    long code = 0;
    curl_easy_getinfo(download->curl, CURLINFO_RESPONSE_CODE, &code);
    if (download->resumed_from > 0 && code == 200) {
      if (std::fflush(download->file) != 0 || ftruncate(fileno(download->file), 0) != 0) return 0;
      std::rewind(download->file);
      download->resumed_from = 0;
    }
  }
  return std::fwrite(data, size, count, download->file) * size;
}

std::string Megabytes(double bytes) {
  std::ostringstream text;
  text << std::fixed << std::setprecision(1) << bytes / (1024.0 * 1024.0) << " MB";
  return text.str();
}

int ReportProgress(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
  auto* download = static_cast<Download*>(user);
  const auto clock = std::chrono::steady_clock::now();
  const bool done = total > 0 && now == total;
  if (done && download->finished) return 0;
  download->finished = done;
  if (!done && download->reported && clock - download->last_report < std::chrono::milliseconds(250)) {
    return 0;
  }
  if (total <= 0 && now == 0) return 0;
  download->last_report = clock;
  download->reported = true;
  const double have = static_cast<double>(now + download->resumed_from);
  const double whole = static_cast<double>(total + download->resumed_from);
  constexpr int kWidth = 40;
  std::ostringstream line;
  if (total > 0) {
    const double fraction = std::min(1.0, have / whole);
    const int filled = static_cast<int>(fraction * kWidth);
    line << "\r[" << std::string(filled, '=') << (filled < kWidth ? ">" : "")
         << std::string(std::max(0, kWidth - filled - 1), ' ') << "] " << std::setw(3)
         << static_cast<int>(fraction * 100) << "% " << Megabytes(have) << " of "
         << Megabytes(whole);
  } else {
    line << "\r" << Megabytes(have);
  }
  std::cerr << line.str() << std::flush;
  return 0;
}

/// Downloads `url` into `part`, continuing from what `part` already holds.
void DownloadTo(const std::string& url, const std::string& part) {
  Download download;
  std::error_code ignored;
  download.resumed_from = fs::exists(part) ? static_cast<curl_off_t>(fs::file_size(part, ignored)) : 0;
  download.file = std::fopen(part.c_str(), "ab");
  MOKA_CHECK(download.file != nullptr, IoError, "cannot write '" << part << "'");
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  MOKA_CHECK(curl != nullptr, IoError, "libcurl failed to start");
  download.curl = curl.get();
  char error_text[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error_text);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, WriteChunk);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &download);
  curl_easy_setopt(curl.get(), CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl.get(), CURLOPT_XFERINFOFUNCTION, ReportProgress);
  curl_easy_setopt(curl.get(), CURLOPT_XFERINFODATA, &download);
  // Give up on a stalled connection rather than hang: under 1 kB/s for a minute.
  curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_TIME, 60L);
  if (download.resumed_from > 0) {
    std::cerr << "Resuming " << part << " from " << Megabytes(download.resumed_from) << "\n";
    curl_easy_setopt(curl.get(), CURLOPT_RESUME_FROM_LARGE, download.resumed_from);
  }
  const CURLcode result = curl_easy_perform(curl.get());
  const bool closed = std::fclose(download.file) == 0;
  if (download.reported) std::cerr << "\n";
  // Asking to resume a file that is already complete is answered with a range error; the SHA-1
  // check that follows decides whether it really is complete.
  const bool already_complete =
      download.resumed_from > 0 &&
      (result == CURLE_RANGE_ERROR || result == CURLE_BAD_DOWNLOAD_RESUME ||
       (result == CURLE_HTTP_RETURNED_ERROR && [&] {
         long code = 0;
         curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &code);
         return code == 416;
       }()));
  if (result != CURLE_OK && !already_complete) {
    MOKA_THROW(IoError, "download of " << url << " failed: "
                                       << (error_text[0] != '\0' ? error_text
                                                                 : curl_easy_strerror(result))
                                       << " (what arrived is kept in " << part
                                       << "; run the command again to resume)");
  }
  MOKA_CHECK(closed, IoError, "cannot finish writing '" << part << "'");
}

std::string Usage() {
  return "usage: moka zoo list [--models=DIR]\n"
         "       moka zoo fetch NAME [--path=FILE] [--models=DIR]";
}

struct ZooArgs {
  std::string command;
  std::vector<std::string> positional;
  std::string models_dir = "models";
  std::string path;
};

ZooArgs ParseZooArgs(int argc, char** argv) {
  ZooArgs args;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--models=", 0) == 0) {
      args.models_dir = arg.substr(9);
    } else if (arg.rfind("--path=", 0) == 0) {
      args.path = arg.substr(7);
    } else if (arg.size() > 1 && arg[0] == '-') {
      MOKA_THROW(ConfigError, "unknown option '" << arg << "' for 'moka zoo'\n" << Usage());
    } else if (args.command.empty()) {
      args.command = arg;
    } else {
      args.positional.push_back(arg);
    }
  }
  return args;
}

int ListModels(const ZooArgs& args) {
  MOKA_CHECK(args.positional.empty() && args.path.empty(), ConfigError,
             "'moka zoo list' takes no model name or --path\n" << Usage());
  const std::vector<ZooModel> models = FindZooModels(args.models_dir);
  size_t name_width = 4, file_width = 7;
  for (const ZooModel& model : models) {
    name_width = std::max(name_width, model.name.size());
    file_width = std::max(file_width, model.caffemodel.size());
  }
  std::cout << std::left << std::setw(name_width + 2) << "NAME" << std::setw(file_width + 2)
            << "WEIGHTS" << "STATUS\n";
  for (const ZooModel& model : models) {
    std::cout << std::left << std::setw(name_width + 2) << model.name
              << std::setw(file_width + 2) << model.caffemodel << WeightsStatus(model) << "\n";
  }
  if (models.empty()) std::cout << "(no models with a README.md under " << args.models_dir << ")\n";
  return 0;
}

/// Checks `file` against the model's SHA-1 and moves or copies it into place; a file that does
/// not match is deleted when `remove_bad` (a download), left alone otherwise (the user's own).
void InstallWeights(const ZooModel& model, const std::string& file, bool move, bool remove_bad) {
  const std::string target = model.directory + "/" + model.caffemodel;
  const std::string sha1 = FileSha1(file);
  if (!model.sha1.empty() && sha1 != model.sha1) {
    if (remove_bad) fs::remove(file);
    MOKA_THROW(IoError, "SHA-1 of " << file << " is " << sha1 << " but " << model.directory
                                    << "/README.md gives " << model.sha1 << "; "
                                    << (remove_bad ? "deleted it" : "not installed"));
  }
  if (move) {
    fs::rename(file, target);
  } else if (fs::weakly_canonical(file) != fs::weakly_canonical(target)) {
    const std::string temporary = target + ".copy";
    fs::copy_file(file, temporary, fs::copy_options::overwrite_existing);
    fs::rename(temporary, target);
  }
  if (model.sha1.empty()) {
    std::cout << target << ": installed, not verified (the README gives no SHA-1; this file's is "
              << sha1 << ")\n";
  } else {
    std::cout << target << ": verified (SHA-1 " << sha1 << ")\n";
  }
}

int FetchModel(const ZooArgs& args) {
  MOKA_CHECK(args.positional.size() == 1, ConfigError,
             "'moka zoo fetch' needs exactly one model name\n" << Usage());
  const ZooModel model = FindModel(args.models_dir, args.positional[0]);
  MOKA_CHECK(!model.caffemodel.empty(), ConfigError,
             model.directory << "/README.md names no weights file (caffemodel:)");
  const std::string target = model.directory + "/" + model.caffemodel;

  if (fs::exists(target)) {
    if (!model.sha1.empty() && FileSha1(target) == model.sha1) {
      std::cout << target << ": already present and verified\n";
      return 0;
    }
    if (model.sha1.empty() && args.path.empty()) {
      std::cout << target << ": already present (the README gives no SHA-1 to check it)\n";
      return 0;
    }
    if (!model.sha1.empty()) {
      std::cerr << target << " does not match its SHA-1; replacing it\n";
      fs::remove(target);
    }
  }

  if (!args.path.empty()) {
    MOKA_CHECK(fs::is_regular_file(args.path), IoError, "no file '" << args.path << "'");
    InstallWeights(model, args.path, false, false);
    return 0;
  }

  const std::string url = model.url;
  MOKA_CHECK(url.find("://") != std::string::npos, ConfigError,
             model.directory << "/README.md gives no download URL (caffemodel_url: " << url
                             << "); see that README for how to get the weights, or give "
                                "--path=FILE");
  std::cout << "Fetching " << url << " -> " << target << std::endl;
  const std::string part = target + ".part";
  DownloadTo(url, part);
  InstallWeights(model, part, true, true);
  return 0;
}

}  // namespace

std::map<std::string, std::string> ParseFrontMatter(const std::string& text,
                                                    const std::string& origin) {
  std::istringstream lines(text);
  std::string line;
  int number = 0;
  bool opened = false;
  std::map<std::string, std::string> values;
  while (std::getline(lines, line)) {
    ++number;
    const std::string trimmed = Trim(line);
    if (!opened) {
      if (trimmed.empty()) continue;
      MOKA_CHECK(trimmed == "---", ParseError,
                 origin << ":" << number << ": front matter must open with a '---' line");
      opened = true;
      continue;
    }
    if (trimmed == "---") return values;
    if (trimmed.empty() || trimmed[0] == '#') continue;
    const size_t colon = trimmed.find(':');
    MOKA_CHECK(colon != std::string::npos && colon > 0, ParseError,
               origin << ":" << number << ": expected 'key: value', got '" << trimmed << "'");
    values[Trim(trimmed.substr(0, colon))] = Unquote(Trim(trimmed.substr(colon + 1)));
  }
  MOKA_THROW(ParseError, origin << ": " << (opened ? "front matter has no closing '---' line"
                                                  : "no front matter (a '---' line) found"));
}

std::string FileSha1(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  MOKA_CHECK(file, IoError, "cannot open '" << path << "'");
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                  EVP_MD_CTX_free);
  MOKA_CHECK(context != nullptr && EVP_DigestInit_ex(context.get(), EVP_sha1(), nullptr) == 1,
             InternalError, "OpenSSL could not start a SHA-1");
  std::vector<char> buffer(1 << 20);
  while (file) {
    file.read(buffer.data(), buffer.size());
    if (file.gcount() > 0) EVP_DigestUpdate(context.get(), buffer.data(), file.gcount());
  }
  MOKA_CHECK(file.eof(), IoError, "error reading '" << path << "'");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(context.get(), digest, &length);
  std::ostringstream hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex << std::hex << std::setw(2) << std::setfill('0') << static_cast<int>(digest[i]);
  }
  return hex.str();
}

std::vector<ZooModel> FindZooModels(const std::string& models_dir) {
  MOKA_CHECK(fs::is_directory(models_dir), IoError,
             "no models folder '" << models_dir << "' (run moka from the repository root, or "
                                     "give --models=DIR)");
  std::vector<ZooModel> models;
  for (const auto& entry : fs::directory_iterator(models_dir)) {
    if (!entry.is_directory()) continue;
    const std::string readme = (entry.path() / "README.md").string();
    if (!fs::exists(readme)) continue;
    const std::string text = ReadTextFile(readme);
    // A folder whose README has no front matter holds an example, not a zoo model.
    const size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos || text.compare(first, 3, "---") != 0) continue;
    const std::map<std::string, std::string> values = ParseFrontMatter(text, readme);
    auto value = [&values](const char* key) {
      auto found = values.find(key);
      return found == values.end() ? std::string() : found->second;
    };
    ZooModel model;
    model.name = entry.path().filename().string();
    model.directory = entry.path().string();
    model.title = value("name");
    model.caffemodel = value("caffemodel");
    model.url = value("caffemodel_url");
    model.sha1 = Lower(value("sha1"));
    if (!IsHexSha1(model.sha1)) model.sha1.clear();
    models.push_back(model);
  }
  std::sort(models.begin(), models.end(),
            [](const ZooModel& a, const ZooModel& b) { return a.name < b.name; });
  return models;
}

int ZooMain(int argc, char** argv) {
  const ZooArgs args = ParseZooArgs(argc, argv);
  if (args.command == "list") return ListModels(args);
  if (args.command == "fetch") return FetchModel(args);
  MOKA_THROW(ConfigError, (args.command.empty() ? std::string("no zoo command given")
                                                : "unknown zoo command '" + args.command + "'")
                              << "\n"
                              << Usage());
}

}  // namespace moka
