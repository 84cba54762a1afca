// UTC ISO 8601 timestamps (core/util/utc_time): exact text of fixed times, and the shape
// of the current one.
#include "attnflow/core/util/utc_time.hpp"

#include <gtest/gtest.h>

#include <regex>

namespace attnflow {
namespace {

TEST(UtcTime, FormatsFixedTimes) {
  EXPECT_EQ(utc_iso8601(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(utc_iso8601(1714564800), "2024-05-01T12:00:00Z");
  EXPECT_EQ(utc_iso8601(951782399), "2000-02-28T23:59:59Z");
  EXPECT_EQ(utc_iso8601(951868800), "2000-03-01T00:00:00Z");  // after 29 February
}

TEST(UtcTime, NowIsIso8601AndCurrent) {
  const std::time_t before = std::time(nullptr);
  const std::string now = utc_now_iso8601();
  const std::time_t after = std::time(nullptr);
  EXPECT_TRUE(std::regex_match(now, std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)"))) << now;
  EXPECT_TRUE(now == utc_iso8601(before) || now == utc_iso8601(after)) << now;
}

}  // namespace
}  // namespace attnflow
