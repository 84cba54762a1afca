// libFuzzer entry point of one target, chosen at compile time (ATTNFLOW_FUZZ_TARGET="npy").
// An exception other than attnflow::Error aborts, so libFuzzer records the input as a crash.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const attnflow::fuzz::Target target = attnflow::fuzz::find_target(ATTNFLOW_FUZZ_TARGET);
  std::string what;
  if (!attnflow::fuzz::run_one(target, data, size, what)) {
    std::fprintf(stderr, "attnflow fuzz %s: %s\n", ATTNFLOW_FUZZ_TARGET, what.c_str());
    std::abort();
  }
  return 0;
}
