// Helpers shared by every GoogleTest suite: temporary paths and folders under
// testing::TempDir(), checks that a call throws attnflow::Error with an exact message, and
// reading / writing whole files. Domain helpers (stores, stacks, figures) include this one.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>

#include "attnflow/core/error.hpp"

namespace attnflow::test {

/// PATH under testing::TempDir() for `name`, unique to the running test
/// ("attnflow_<Suite>.<Test>_<name>"; "attnflow_<name>" outside a test). Whatever an earlier
/// run left at PATH or PATH.partial (a file or a folder) is removed first.
inline std::string temp_path(const std::string& name) {
  std::string prefix = "attnflow_";
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
    std::string test = std::string(info->test_suite_name()) + "." + info->name();
    for (char& c : test) {
      if (c == '/') c = '_';  // parameterised tests: Prefix/Suite.Name/3
    }
    prefix += test + "_";
  }
  const std::string path = ::testing::TempDir() + prefix + name;
  std::error_code ignored;
  std::filesystem::remove_all(path, ignored);
  std::filesystem::remove_all(path + ".partial", ignored);
  return path;
}

/// temp_path(name) created as an empty folder.
inline std::string temp_dir(const std::string& name) {
  const std::string path = temp_path(name);
  std::filesystem::create_directories(path);
  return path;
}

/// The message of the attnflow::Error `f` throws, or "(no error)".
template <class F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

namespace detail {
/// Runs `f`; fails unless it throws attnflow::Error, whose message then goes to `check`.
template <class F, class Check>
void check_error(F&& f, const std::string& expected, Check&& check) {
  try {
    f();
    ADD_FAILURE() << "no error thrown, expected: " << expected;
  } catch (const Error& e) {
    check(std::string(e.what()));
  }
}
}  // namespace detail

/// Runs `f`, expects attnflow::Error whose message equals `message`.
template <class F>
void expect_error(F&& f, const std::string& message) {
  detail::check_error(f, message, [&](const std::string& got) { EXPECT_EQ(got, message); });
}

/// Runs `f`, expects attnflow::Error whose message contains `part`.
template <class F>
void expect_error_contains(F&& f, const std::string& part) {
  detail::check_error(f, "... " + part + " ...", [&](const std::string& got) {
    EXPECT_NE(got.find(part), std::string::npos) << got;
  });
}

/// Runs `f`, expects attnflow::Error whose message starts with `prefix`.
template <class F>
void expect_error_prefix(F&& f, const std::string& prefix) {
  detail::check_error(f, prefix + " ...", [&](const std::string& got) {
    EXPECT_EQ(got.substr(0, prefix.size()), prefix) << got;
  });
}

/// The bytes of the file at `path` ("" when it cannot be read).
inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Writes `bytes` to `path`, replacing what was there.
inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

/// Whether something (a file, a folder) exists at `path`.
inline bool file_exists(const std::string& path) {
  std::error_code ignored;
  return std::filesystem::exists(path, ignored);
}

}  // namespace attnflow::test
