// attnflow-torch: the subcommands of `attnflow` that need libtorch (extract, train, demo,
// reproduce, evaluate). `attnflow` execs it with its own arguments; it can also be run directly.
#include <CLI/CLI.hpp>

#include "attnflow/version.hpp"
#include "cli_main.hpp"
#include "demo_command.hpp"
#include "evaluate_command.hpp"
#include "extract_command.hpp"
#include "generate_text_command.hpp"
#include "reproduce_command.hpp"
#include "train_command.hpp"

int main(int argc, char** argv) {
  CLI::App app{"attnflow " ATTNFLOW_VERSION_STRING
               " - explain transformer models through their attention (libtorch subcommands)",
               "attnflow"};
  attnflow::app::configure_top_level(app);
  attnflow::app::add_extract_command(app);
  attnflow::app::add_train_command(app);
  attnflow::app::add_demo_command(app);
  attnflow::app::add_reproduce_command(app);
  attnflow::app::add_evaluate_command(app);
  attnflow::app::add_generate_text_command(app);
  return attnflow::app::run_cli(app, argc, argv);
}
