// The progress bar of the long-running verbs: lines when the output is not a terminal, one line
// redrawn in place when it is, and messages that do not tear the bar.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>

#include "tools/progress.hpp"
#include "tools_test_util.hpp"

namespace moka {
namespace {

using test::Contains;

TEST(ToolsProgressTest, LinesWhenNotATerminal) {
  std::ostringstream out;
  {
    ProgressBar bar("convert", 200, "images", &out, false);
    for (int i = 0; i < 200; ++i) bar.Add();
    EXPECT_EQ(bar.done(), 200);
  }  // the destructor draws the final line
  const std::string text = out.str();
  EXPECT_EQ(text.find('\r'), std::string::npos) << text;
  EXPECT_TRUE(Contains(text, "convert 100% 200/200 images, ")) << text;
  EXPECT_TRUE(Contains(text, " images/s, ")) << text;
  // A quick run prints only its final line: intermediate lines are at least seconds apart.
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
}

TEST(ToolsProgressTest, RedrawsInPlaceOnATerminal) {
  std::ostringstream out;
  ProgressBar bar("extract", 10, "images", &out, true);
  bar.Add(5);
  bar.Message("skipping 'x.jpg'");
  bar.Add(5);
  bar.Finish();
  bar.Finish();  // a second call draws nothing
  const std::string text = out.str();
  EXPECT_TRUE(Contains(text, "\rextract [")) << text;
  EXPECT_TRUE(Contains(text, "skipping 'x.jpg'\n")) << text;
  EXPECT_TRUE(Contains(text, "100% 10/10 images")) << text;
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text.find("100% 10/10"), text.rfind("100% 10/10")) << text;
}

TEST(ToolsProgressTest, UnknownTotalAndDurations) {
  std::ostringstream out;
  ProgressBar bar("scan", 0, "records", &out, false);
  bar.Add(7);
  bar.Finish();
  EXPECT_TRUE(Contains(out.str(), "scan 7 records, ")) << out.str();
  EXPECT_EQ(FormatDuration(7), "0:07");
  EXPECT_EQ(FormatDuration(245), "4:05");
  EXPECT_EQ(FormatDuration(3723), "1:02:03");
  EXPECT_EQ(FormatDuration(-1), "?");
}

}  // namespace
}  // namespace moka
