// `attnflow plot`: draws one figure (heatmap, heads, maps, graph, bars,
// correlations) of one attention stack (.npy) or of each chosen example of
// an HDF5 corpus with attnflow::plot (docs/plots.md).
#pragma once

#include <CLI/CLI.hpp>

namespace attnflow::app {

void add_plot_command(CLI::App& app);

}  // namespace attnflow::app
