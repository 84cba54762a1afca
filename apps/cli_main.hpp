// The part of main() both executables share: parse, run the chosen subcommand, and turn errors
// into one "attnflow: error: ..." line and a non-zero exit status.
#pragma once

#include <CLI/CLI.hpp>

namespace attnflow::app {

/// What both executables' top-level apps share: exactly one subcommand, and --version.
void configure_top_level(CLI::App& app);

/// Parses `argv` with `app` (whose subcommand callbacks do the work) and returns the exit
/// status: 0, 1 for an attnflow::Error, 2 for any other exception, CLI11's for parse errors.
int run_cli(CLI::App& app, int argc, char** argv);

}  // namespace attnflow::app
