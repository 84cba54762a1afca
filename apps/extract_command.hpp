// `attnflow extract`: runs a transformer (attnflow::torch) over a text corpus and stores every
// example's attention maps (and, with a target, their gradients) in an HDF5 store
// (docs/extract.md) through pipeline::extract_corpus. Part of the libtorch executable only.
#pragma once

#include <CLI/CLI.hpp>

namespace attnflow::app {

void add_extract_command(CLI::App& app);

}  // namespace attnflow::app
