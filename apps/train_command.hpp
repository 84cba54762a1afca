// `attnflow train`: the training command group. `train classifier` trains the encoder
// classifier of Abnar & Zuidema (2020) on a labelled JSONL corpus, or fine-tunes a linear head
// on a --backbone encoder; `train mlm` pretrains a small BERT by masked-LM. Each writes a model
// directory that `attnflow extract` and `attnflow demo` read.
#pragma once

#include <CLI/CLI.hpp>

namespace attnflow::app {

void add_train_command(CLI::App& app);

}  // namespace attnflow::app
