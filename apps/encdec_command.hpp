// `attnflow encdec T5.h5 -o rel.csv`: Chefer et al.'s encoder-decoder relevance and the
// head-fused cross-attention of every example of an encoder-decoder store, as one long CSV
// (pipeline::analyze_encdec_corpus).
#pragma once

#include <CLI/CLI.hpp>

namespace attnflow::app {

void add_encdec_command(CLI::App& app);

}  // namespace attnflow::app
