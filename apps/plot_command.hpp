// `attnflow plot`: draws one figure (heatmap, heads, maps, graph, bars,
// correlations) of one attention stack with attnflow::plot.
#pragma once

#include <CLI/CLI.hpp>

namespace attnflow::app {

void add_plot_command(CLI::App& app);

}  // namespace attnflow::app
