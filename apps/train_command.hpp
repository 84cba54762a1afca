// `attnflow train`: trains the encoder classifier of Abnar & Zuidema (2020) on a labelled
// JSONL corpus (e.g. the generated agreement corpus) and writes a model directory that
// `attnflow extract` and `attnflow demo` read.
#pragma once

#include <CLI/CLI.hpp>

namespace attnflow::app {

void add_train_command(CLI::App& app);

}  // namespace attnflow::app
