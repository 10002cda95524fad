#pragma once
// A progress bar for long-running verbs (convert_imageset, compute_image_mean, extract): done and
// total counts, the rate, and the time left. On a terminal it redraws one line in place, a few times
// a second; into a file or a pipe (a log, CI) it writes a handful of whole lines instead, so that
// logs do not fill with carriage returns.
#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace moka {

class ProgressBar {
 public:
  /// `total` items named `unit` ("images"); total 0 means unknown (no bar, no ETA). Draws on
  /// stderr, in place when stderr is a terminal.
  ProgressBar(const std::string& label, int64_t total, const std::string& unit);
  /// As above on `out`, which is drawn on in place when `interactive` is true.
  ProgressBar(const std::string& label, int64_t total, const std::string& unit, std::ostream* out,
              bool interactive);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  /// `count` more items are done.
  void Add(int64_t count = 1);
  /// Prints a line of its own (a warning about one item) without tearing the bar.
  void Message(const std::string& text);
  /// Draws the final state once, with the mean rate; later calls do nothing. The destructor calls
  /// it when it was not called.
  void Finish();

  int64_t done() const { return done_; }
  /// Items per second since construction.
  double rate() const;
  double elapsed_seconds() const;

  /// Whether stderr is a terminal.
  static bool StderrIsTerminal();

 private:
  /// The bar's text for the current state.
  std::string Line(bool final_line) const;
  void Draw(bool final_line);

  std::string label_;
  int64_t total_;
  std::string unit_;
  std::ostream* out_;
  bool interactive_;
  int64_t done_ = 0;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  /// In line mode, the next tenth of the total that gets a line.
  int next_step_ = 1;
  size_t drawn_width_ = 0;
};

/// "1:02:03", "4:05", "0:07" for a duration in seconds.
std::string FormatDuration(double seconds);

}  // namespace moka
