// `attnflow reproduce abnar2020`: Tables 1-2 and Figures 1-3 of Abnar & Zuidema (2020),
// "Quantifying Attention Flow in Transformers", on the generated agreement corpus, with
// gradient-weighted rollout as a fourth row.
#pragma once

#include <CLI/CLI.hpp>

namespace attnflow::app {

void add_reproduce_command(CLI::App& app);

}  // namespace attnflow::app
