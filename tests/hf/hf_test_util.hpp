// Helpers shared by the attnflow::hf tests: the message of the Error a call throws, temp paths.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "attnflow/core/error.hpp"

namespace attnflow::hf::test {

/// The message of the attnflow::Error `f` throws, or "<no error>".
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const attnflow::Error& e) {
    return e.what();
  }
  return "<no error>";
}

inline std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "attnflow_hf_" + name;
}

inline std::string data_path(const std::string& relative) {
  return std::string(ATTNFLOW_TEST_DATA) + "/" + relative;
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

}  // namespace attnflow::hf::test
