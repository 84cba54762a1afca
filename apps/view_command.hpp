// `attnflow view`: one self-contained HTML page (head view, model view, method view, SVG/PNG
// export) of chosen examples of an HDF5 store (docs/views.md).
#pragma once

#include <CLI/CLI.hpp>

namespace attnflow::app {

void add_view_command(CLI::App& app);

}  // namespace attnflow::app
