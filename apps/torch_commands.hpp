// The subcommands that need libtorch (extract, train, demo, reproduce). They live in a second
// executable, attnflow-torch, so that `attnflow --version`, `analyze`, `plot` and `generate`
// start without loading libtorch; `attnflow` lists them in --help and execs attnflow-torch.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace attnflow::app {

struct TorchCommand {
  const char* name;
  const char* description;
};

/// Name and one-line description of every libtorch subcommand (used by both executables).
const std::vector<TorchCommand>& torch_commands();

/// The description of torch command `name` (for its add_subcommand).
std::string torch_command_description(const std::string& name);

/// Registers every libtorch subcommand on the lean `attnflow` as a pass-through: its arguments
/// (--help included) go unparsed to attnflow-torch, which replaces this process. Without
/// libtorch (or without attnflow-torch beside attnflow) the subcommand fails with a clear error.
void add_torch_command_stubs(CLI::App& app, char** argv);

/// The same for one subcommand `name` of a lean command group (`generate text`).
void add_torch_subcommand_stub(CLI::App& parent, const std::string& name,
                               const std::string& description, char** argv);

}  // namespace attnflow::app
