// `attnflow extract`: runs a transformer (attnflow::torch) over a text corpus and stores every
// example's attention maps (and, with a target, their gradients) in an HDF5 store
// (docs/extract.md). Without libtorch the subcommand exists but only says so and exits 1.
#pragma once

#include <CLI/CLI.hpp>

namespace attnflow::app {

void add_extract_command(CLI::App& app);

}  // namespace attnflow::app
