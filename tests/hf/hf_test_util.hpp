// Helpers shared by the attnflow::hf tests: where the test data lives, and the names these
// tests use for the generic helpers of support/test_support.hpp.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

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

/// A scratch model directory for the running test holding `files` (name -> content).
inline std::string scratch(const std::string& name,
                           const std::vector<std::pair<std::string, std::string>>& files) {
  const std::string dir = temp_path("tok_" + name);
  std::filesystem::create_directories(dir);
  for (const auto& [file, content] : files) write_bytes(dir + "/" + file, content);
  return dir;
}

/// The bytes of the file at `path` ("" when it cannot be read).
inline std::string slurp(const std::string& path) {
  return attnflow::test::read_file(path);
}

}  // namespace attnflow::hf::test
