#pragma once
// The model zoo: each folder under models/ describes one model in a README.md whose front matter
// (between two "---" lines, one "key: value" per line, as in Caffe's model zoo) names the weights
// file, where to download it and its SHA-1.
#include <map>
#include <string>
#include <vector>

namespace moka {

/// The "key: value" lines between the opening and the closing "---" of `text`. Blank lines and
/// lines starting with '#' are skipped; values lose surrounding whitespace and quotes. Throws
/// ParseError (naming `origin` and the line) when the front matter is missing or malformed.
std::map<std::string, std::string> ParseFrontMatter(const std::string& text,
                                                    const std::string& origin);

/// The SHA-1 of a file's bytes as 40 lowercase hex digits; IoError if it cannot be read.
std::string FileSha1(const std::string& path);

struct ZooModel {
  std::string name;        // the folder name, used on the command line
  std::string directory;   // models/NAME
  std::string title;       // front matter `name`
  std::string caffemodel;  // weights file name inside `directory`
  std::string url;         // caffemodel_url
  std::string sha1;        // empty when the README publishes none
};

/// Every folder of `models_dir` with a README.md holding front matter, sorted by name.
std::vector<ZooModel> FindZooModels(const std::string& models_dir);

}  // namespace moka
