// The `attnflow` executable: subcommands, each a thin layer over the library. This one never
// loads libtorch: extract, train, demo and reproduce run in attnflow-torch (torch_main.cpp),
// which it execs for them.
#include <CLI/CLI.hpp>

#include "analyze_command.hpp"
#include "attnflow/version.hpp"
#include "cli_main.hpp"
#include "compare_command.hpp"
#include "encdec_command.hpp"
#include "generate_command.hpp"
#include "merge_command.hpp"
#include "plot_command.hpp"
#include "torch_commands.hpp"
#include "view_command.hpp"

int main(int argc, char** argv) {
  CLI::App app{"attnflow " ATTNFLOW_VERSION_STRING
               " - explain transformer models through their attention",
               "attnflow"};
  attnflow::app::configure_top_level(app);
  attnflow::app::add_analyze_command(app);
  attnflow::app::add_plot_command(app);
  attnflow::app::add_generate_command(app);
  attnflow::app::add_view_command(app);
  attnflow::app::add_merge_command(app);
  attnflow::app::add_compare_command(app);
  attnflow::app::add_encdec_command(app);
  attnflow::app::add_torch_command_stubs(app, argv);
  attnflow::app::add_torch_subcommand_stub(
      *app.get_subcommand("generate"), "text",
      "Sample a continuation of a prompt from a causal LM (runs in attnflow-torch)", argv);
  return attnflow::app::run_cli(app, argc, argv);
}
