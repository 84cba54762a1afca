// `attnflow generate text MODEL --prompt ...`: samples a continuation from a causal LM (seed
// 004's character GPT, GPT-2, the Llama family). Runs in attnflow-torch; the lean attnflow's
// `generate` group passes `text` on to it (add_torch_subcommand_stub).
#pragma once

#include <CLI/CLI.hpp>

namespace attnflow::app {

/// Adds the `generate` group with its `text` subcommand (attnflow-torch).
void add_generate_text_command(CLI::App& app);

}  // namespace attnflow::app
