// Fuzz targets for every reader of untrusted input (issue 13). Each target takes one input,
// feeds it to a reader and returns 0; a reader may throw attnflow::Error (a clean rejection),
// anything else (another exception, a crash, a sanitizer report, a hang) is a finding.
// Built into a libFuzzer binary per target (clang, -DATTNFLOW_FUZZ=ON) and into
// attnflow_fuzz_replay, which replays the seed and regression files in every build.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace attnflow::fuzz {

using Target = int (*)(const std::uint8_t* data, std::size_t size);

struct NamedTarget {
  const char* name;
  Target run;
};

/// Every target: npy, safetensors, config, tokenizer_json, vocab_txt, bpe_files,
/// tokenizer_config, spiece_model, corpus, store.
const std::vector<NamedTarget>& targets();

/// The target called `name`, or nullptr.
Target find_target(const std::string& name);

/// Runs `target` on one input: returns true when it finished or threw attnflow::Error, false
/// (with `what` set) when it threw anything else.
bool run_one(Target target, const std::uint8_t* data, std::size_t size, std::string& what);

}  // namespace attnflow::fuzz
