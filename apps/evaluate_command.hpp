// `attnflow evaluate`: the faithfulness benchmark (deletion / insertion curves, ERASER's AOPC
// comprehensiveness and sufficiency, Spearman with blank-out) of every method on a classifier
// and a labelled corpus.
#pragma once

#include <CLI/CLI.hpp>

namespace attnflow::app {

void add_evaluate_command(CLI::App& app);

}  // namespace attnflow::app
