// `attnflow analyze`: options -> attnflow::analyze -> table and CSV.
#pragma once

#include <CLI/CLI.hpp>

namespace attnflow::app {

void add_analyze_command(CLI::App& app);

}  // namespace attnflow::app
