// The `attnflow` executable: subcommands, each a thin layer over the library.
#include <CLI/CLI.hpp>
#include <iostream>

#include "analyze_command.hpp"
#include "attnflow/core/error.hpp"
#include "attnflow/version.hpp"
#include "demo_command.hpp"
#include "extract_command.hpp"
#include "generate_command.hpp"
#include "plot_command.hpp"
#include "reproduce_command.hpp"
#include "train_command.hpp"

int main(int argc, char** argv) {
  CLI::App app{"attnflow " ATTNFLOW_VERSION_STRING
               " - explain transformer models through their attention"};
  app.require_subcommand(1);
  app.set_version_flag("--version", ATTNFLOW_VERSION_STRING);
  attnflow::app::add_analyze_command(app);
  attnflow::app::add_plot_command(app);
  attnflow::app::add_extract_command(app);
  attnflow::app::add_generate_command(app);
  attnflow::app::add_train_command(app);
  attnflow::app::add_demo_command(app);
  attnflow::app::add_reproduce_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const attnflow::Error& e) {
    std::cerr << "attnflow: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "attnflow: unexpected error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
