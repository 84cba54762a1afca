// attnflow::Error — the one exception type of the library.
// Every message names the input that is wrong and the value found, so an app
// can print it as is and exit non-zero.
#pragma once

#include <stdexcept>
#include <string>

namespace attnflow {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace attnflow
