// `attnflow generate`: corpora made by attnflow's own code (attnflow::datasets).
#pragma once

#include <CLI/CLI.hpp>

namespace attnflow::app {

/// `attnflow generate sva`: the subject–verb agreement corpus (datasets/README.md).
void add_generate_command(CLI::App& app);

}  // namespace attnflow::app
