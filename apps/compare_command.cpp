// `attnflow compare`: options -> pipeline::compare -> a summary on stdout.
#include "compare_command.hpp"

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <memory>

#include "attnflow/io/store.hpp"
#include "attnflow/pipeline/compare.hpp"

namespace attnflow::app {

namespace {

struct CompareArgs {
  pipeline::CompareOptions options;
  bool no_figures = false;
  bool quiet = false;
};

void print(const pipeline::CompareReport& r) {
  std::cout << "compared " << r.examples << " examples, " << r.layers << " layers x " << r.heads
            << " heads\n";
  std::cout << "layer  mean JS (max head)  mean entropy change  [CLS] rollout L1  mean-pooled L1\n";
  for (int l = 1; l <= r.layers; ++l) {
    double js = 0, top = 0, dh = 0;
    for (const pipeline::HeadChange& c : r.heads_changed) {
      if (c.layer != l) continue;
      js += c.js / r.heads;
      top = std::max(top, c.js);
      dh += c.entropy_change() / r.heads;
    }
    const pipeline::ReadoutChange& ro = r.readout[static_cast<std::size_t>(l - 1)];
    std::cout << std::setw(5) << l << "  " << std::scientific << std::setprecision(3) << js << " ("
              << top << ")  " << std::setw(19) << dh << "  " << std::setw(16) << ro.cls_l1 << "  "
              << std::setw(14) << ro.mean_l1 << "\n";
  }
  for (const std::string& f : r.files) std::cout << "wrote " << f << "\n";
}

}  // namespace

void add_compare_command(CLI::App& app) {
  auto args = std::make_shared<CompareArgs>();
  pipeline::CompareOptions& o = args->options;
  CLI::App* cmd = app.add_subcommand(
      "compare",
      "Compare the attention of two stores of the same examples (e.g. before / after "
      "fine-tuning): per-head JS divergence and entropy change, readout change, figures");
  cmd->add_option("before", o.before, "Store A (.h5), e.g. of the backbone")->required();
  cmd->add_option("after", o.after, "Store B (.h5): the same examples under the other model")
      ->required();
  cmd->add_option("-o,--output", o.output, "Folder for compare.csv, readout.csv and figures")
      ->required();
  cmd->add_option("--limit", o.limit, "Compare only the first N examples (0 = all)")
      ->capture_default_str();
  cmd->add_option("--layer", o.grid_layer, "Layer (1-based) of the before / after head grids")
      ->capture_default_str();
  cmd->add_option("--example", o.example, "Example (0-based) the head grids show")
      ->capture_default_str();
  cmd->add_option("--format", o.format, "Figure format: png, svg or pdf")->capture_default_str();
  cmd->add_option("--residual-alpha", o.residual_alpha,
                  "Residual weight of the rollout behind the readout change")
      ->capture_default_str();
  cmd->add_flag("--no-figures", args->no_figures, "Write only the CSV tables");
  cmd->add_flag("-q,--quiet", args->quiet, "Print nothing but errors");
  cmd->callback([args] {
    io::silence_hdf5_errors();
    args->options.figures = !args->no_figures;
    const pipeline::CompareReport r = pipeline::compare(args->options);
    if (!args->quiet) print(r);
  });
}

}  // namespace attnflow::app
