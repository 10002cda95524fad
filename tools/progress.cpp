#include "tools/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

namespace moka {

namespace {

constexpr int kBarWidth = 30;
// Redrawing more often than this costs time and shows nothing new.
constexpr std::chrono::milliseconds kRedrawInterval(100);
// In line mode: one line per tenth of the total, but never more often than this.
constexpr std::chrono::seconds kMinLineInterval(2);

std::string FormatRate(double rate) {
  char text[32];
  if (rate >= 100) {
    std::snprintf(text, sizeof(text), "%.0f", rate);
  } else {
    std::snprintf(text, sizeof(text), "%.1f", rate);
  }
  return text;
}

}  // namespace

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long total = std::lround(seconds);
  const long hours = total / 3600, minutes = (total / 60) % 60, secs = total % 60;
  char text[32];
  if (hours > 0) {
    std::snprintf(text, sizeof(text), "%ld:%02ld:%02ld", hours, minutes, secs);
  } else {
    std::snprintf(text, sizeof(text), "%ld:%02ld", minutes, secs);
  }
  return text;
}

bool ProgressBar::StderrIsTerminal() { return isatty(STDERR_FILENO) == 1; }

ProgressBar::ProgressBar(const std::string& label, int64_t total, const std::string& unit)
    : ProgressBar(label, total, unit, &std::cerr, StderrIsTerminal()) {}

ProgressBar::ProgressBar(const std::string& label, int64_t total, const std::string& unit,
                         std::ostream* out, bool interactive)
    : label_(label),
      total_(std::max<int64_t>(total, 0)),
      unit_(unit),
      out_(out),
      interactive_(interactive),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {
  if (interactive_) Draw(false);
}

ProgressBar::~ProgressBar() {
  try {
    Finish();
  } catch (...) {
    // A failing stream must not turn unwinding into termination.
  }
}

double ProgressBar::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

double ProgressBar::rate() const {
  const double seconds = elapsed_seconds();
  return seconds > 0 ? done_ / seconds : 0.0;
}

std::string ProgressBar::Line(bool final_line) const {
  std::ostringstream line;
  line << label_ << " ";
  if (total_ > 0) {
    const double fraction = std::min(1.0, static_cast<double>(done_) / total_);
    if (interactive_) {
      const int filled = static_cast<int>(fraction * kBarWidth);
      line << "[" << std::string(filled, '#') << std::string(kBarWidth - filled, '.') << "] ";
    }
    line << static_cast<int>(fraction * 100) << "% " << done_ << "/" << total_;
  } else {
    line << done_;
  }
  line << " " << unit_ << ", " << FormatRate(rate()) << " " << unit_ << "/s";
  const double seconds = elapsed_seconds();
  if (final_line) {
    line << ", " << FormatDuration(seconds);
  } else if (total_ > 0 && done_ > 0) {
    line << ", ETA " << FormatDuration(seconds * (total_ - done_) / done_);
  }
  return line.str();
}

void ProgressBar::Draw(bool final_line) {
  const std::string line = Line(final_line);
  if (interactive_) {
    // Pads over the end of a longer previous line instead of relying on terminal escapes.
    std::string padded = line;
    if (padded.size() < drawn_width_) padded.append(drawn_width_ - padded.size(), ' ');
    *out_ << "\r" << padded << (final_line ? "\n" : "") << std::flush;
    drawn_width_ = final_line ? 0 : line.size();
  } else {
    *out_ << line << "\n" << std::flush;
  }
  last_draw_ = std::chrono::steady_clock::now();
}

void ProgressBar::Add(int64_t count) {
  if (finished_) return;
  done_ += count;
  const auto now = std::chrono::steady_clock::now();
  if (interactive_) {
    if (now - last_draw_ >= kRedrawInterval) Draw(false);
    return;
  }
  if (total_ <= 0) return;
  const int step = static_cast<int>(10 * std::min<int64_t>(done_, total_) / total_);
  if (step >= next_step_ && done_ < total_) {
    next_step_ = step + 1;
    if (now - last_draw_ >= kMinLineInterval) Draw(false);
  }
}

void ProgressBar::Message(const std::string& text) {
  if (interactive_ && drawn_width_ > 0 && !finished_) {
    *out_ << "\r" << std::string(drawn_width_, ' ') << "\r" << text << "\n";
    drawn_width_ = 0;
    Draw(false);
  } else {
    *out_ << text << "\n" << std::flush;
  }
}

void ProgressBar::Finish() {
  if (finished_) return;
  Draw(true);
  finished_ = true;
}

}  // namespace moka
