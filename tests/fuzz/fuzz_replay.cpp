// attnflow_fuzz_replay TARGET FILE|DIR...: runs fuzz target TARGET on every file given (a folder:
// every file in it, sorted) and fails on the first input that throws anything but
// attnflow::Error (a crash fails the process). Runs in every build, so the seed corpora and the
// regression inputs of earlier findings (tests/fuzz/regressions/TARGET/) are checked by ctest
// without clang or libFuzzer.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz_targets.hpp"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: attnflow_fuzz_replay TARGET FILE|DIR...\n";
    return 2;
  }
  const attnflow::fuzz::Target target = attnflow::fuzz::find_target(argv[1]);
  if (target == nullptr) {
    std::cerr << "attnflow_fuzz_replay: unknown target '" << argv[1] << "'\n";
    return 2;
  }
  std::vector<fs::path> files;
  for (int k = 2; k < argc; ++k) {
    if (fs::is_directory(argv[k])) {
      for (const auto& e : fs::recursive_directory_iterator(argv[k])) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
    } else {
      files.emplace_back(argv[k]);
    }
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      std::cerr << f.string() << ": cannot read\n";
      return 1;
    }
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
    std::string what;
    if (!attnflow::fuzz::run_one(target, reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                 bytes.size(), what)) {
      std::cerr << argv[1] << " " << f.string() << ": " << what << "\n";
      return 1;
    }
  }
  std::cout << argv[1] << ": " << files.size() << " inputs, no finding\n";
  return 0;
}
