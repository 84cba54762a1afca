// UTC ISO 8601 timestamps: gmtime_r (thread-safe) and strftime.
#include "attnflow/core/util/utc_time.hpp"

namespace attnflow {

std::string utc_iso8601(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string utc_now_iso8601() {
  return utc_iso8601(std::time(nullptr));
}

}  // namespace attnflow
