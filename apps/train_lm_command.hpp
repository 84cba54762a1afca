// `attnflow train lm`: trains seed 004's character GPT on a text and writes a model directory
// that extract / analyze / plot / `generate text` read (pipeline::train_lm).
#pragma once

#include <CLI/CLI.hpp>

namespace attnflow::app {

/// Adds `lm` to the `attnflow train` command group.
void add_train_lm_command(CLI::App& train_group);

}  // namespace attnflow::app
