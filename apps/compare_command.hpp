// `attnflow compare A.h5 B.h5`: the same examples under two models, per layer and head (mean
// Jensen-Shannon divergence of the attention rows, entropy change) and per layer (change of the
// [CLS] / mean-pooled rollout readout), as CSV tables and figures (pipeline::compare).
#pragma once

#include <CLI/CLI.hpp>

namespace attnflow::app {

void add_compare_command(CLI::App& app);

}  // namespace attnflow::app
