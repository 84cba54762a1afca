// `attnflow merge SHARDS... -o corpus.h5`: one store over the shards of a job (docs/scale.md).
#pragma once

#include <CLI/CLI.hpp>

namespace attnflow::app {

void add_merge_command(CLI::App& app);

}  // namespace attnflow::app
