// Helpers shared by the attnflow::hf tests: where the test data lives, and the names these
// tests use for the generic helpers of support/test_support.hpp.
#pragma once

#include <string>
#include <utility>

#include "support/test_support.hpp"

namespace attnflow::hf::test {

using attnflow::test::temp_path;

/// The message of the attnflow::Error `f` throws, or "(no error)".
template <typename F>
std::string error_of(F&& f) {
  return attnflow::test::error_message(std::forward<F>(f));
}

inline std::string data_path(const std::string& relative) {
  return std::string(ATTNFLOW_TEST_DATA) + "/" + relative;
}

/// Writes `bytes` to `path`, replacing what was there.
inline void write_bytes(const std::string& path, const std::string& bytes) {
  attnflow::test::write_file(path, bytes);
}

}  // namespace attnflow::hf::test
