// torch_commands: the table of libtorch subcommands, shared by attnflow (for --help) and
// attnflow-torch (which runs them).
#include "torch_commands.hpp"

#include "attnflow/core/error.hpp"

namespace attnflow::app {

const std::vector<TorchCommand>& torch_commands() {
  static const std::vector<TorchCommand> commands = {
      {"extract",
       "Run a transformer over a text corpus and store its attention maps (and gradients) in an "
       "HDF5 store"},
      {"train",
       "Train a model: classifier (Abnar & Zuidema's encoder classifier from scratch, or a head on "
       "a --backbone), mlm (BERT pretraining), lm (seed 004's character GPT)"},
      {"demo", "Extract, analyze and draw on the shipped model and sentences (offline)"},
      {"reproduce", "Reproduce a paper's tables and figures (abnar2020: Abnar & Zuidema 2020)"},
      {"evaluate",
       "Faithfulness benchmark of every method on a classifier and a labelled corpus (deletion, "
       "insertion, AOPC)"},
  };
  return commands;
}

std::string torch_command_description(const std::string& name) {
  for (const TorchCommand& c : torch_commands()) {
    if (name == c.name) return c.description;
  }
  throw Error("no libtorch subcommand '" + name + "'");
}

}  // namespace attnflow::app
