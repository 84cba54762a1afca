// `attnflow view`: options -> pipeline::write_view -> "wrote <page> (<size>, examples ...)".
#include "view_command.hpp"

#include <iostream>
#include <memory>

#include "analysis_flags.hpp"
#include "attnflow/pipeline/view.hpp"

namespace attnflow::app {
namespace {

struct ViewArgs {
  pipeline::ViewOptions options;
  bool no_derived = false;
  bool quiet = false;
};

void run(ViewArgs& a) {
  a.options.derived_runs = !a.no_derived;
  const pipeline::ViewReport report = pipeline::write_view(a.options);
  if (a.quiet) return;
  std::cout << "wrote " << report.output << " (" << report.bytes << " bytes, "
            << (report.examples.size() == 1 ? "example" : "examples");
  for (std::size_t i = 0; i < report.examples.size(); ++i) {
    std::cout << (i == 0 ? " " : ",") << report.examples[i];
  }
  std::cout << ")\n";
}

}  // namespace

void add_view_command(CLI::App& app) {
  auto args = std::make_shared<ViewArgs>();
  pipeline::ViewOptions& o = args->options;
  CLI::App* cmd = app.add_subcommand(
      "view",
      "Write one self-contained HTML page of corpus examples: head view, model view, method "
      "view, SVG/PNG export (works offline; docs/views.md)");
  cmd->add_option("input", o.input, "HDF5 store (.h5/.hdf5, docs/hdf5-schema.md)")->required();
  CLI::Option* example = cmd->add_option("--example", o.example, "Example to show (0-based index)");
  cmd->add_option("--examples", o.examples,
                  "Examples to show, chosen in the page: indices and ranges, e.g. 0,3,5 or 0-9 "
                  "or 0-4,7")
      ->excludes(example);
  cmd->add_option("-o,--output", o.output, "The page (.html)")->capture_default_str();
  cmd->add_option("-t,--target", o.target,
                  "Target token row of the method view (negative counts from the end, -1 = "
                  "last token; causal stores default to -1)")
      ->capture_default_str();
  cmd->add_option("--bits", o.page.bits,
                  "Attention quantisation: 8 or 16 bits per value (each row scaled to its "
                  "maximum)")
      ->capture_default_str();
  cmd->add_option("--min-weight", o.page.min_weight,
                  "Head view: lines below this weight are not drawn (changeable in the page)")
      ->capture_default_str();
  cmd->add_option("--title", o.page.title, "Page title (default: the first example's name)");
  cmd->add_flag("--no-derived", args->no_derived,
                "Leave out the maps of the store's derived runs (/derived)");
  cmd->add_option("-j,--threads", o.analysis.threads, "Flow threads (0 = all cores)")
      ->capture_default_str();
  cmd->add_flag("-q,--quiet", args->quiet, "Print nothing but errors");
  add_analysis_flags(*cmd, o.analysis);
  cmd->callback([args, cmd] {
    pipeline::ViewOptions& opt = args->options;
    opt.example_given = cmd->count("--example") > 0;
    opt.target_given = cmd->count("--target") > 0;
    opt.methods_given = cmd->count("--methods") > 0;
    run(*args);
  });
}

}  // namespace attnflow::app
