// `attnflow plot`: options -> pipeline::plot_figures (one .npy stack, or
// examples of an HDF5 corpus) -> "wrote <figure>" per figure.
#include "plot_command.hpp"

#include <iostream>
#include <memory>

#include "analysis_flags.hpp"
#include "attnflow/pipeline/plot_figures.hpp"

namespace attnflow::app {
namespace {

struct PlotArgs {
  pipeline::PlotOptions options;
  std::vector<std::string> inputs;  ///< the first is options.input, the rest compare_with
  std::string kind = "maps";
  std::string title;
  bool no_title = false;
  bool quiet = false;
};

void run(PlotArgs& a) {
  pipeline::PlotOptions& o = a.options;
  o.kind = pipeline::parse_plot_kind(a.kind);
  o.input = a.inputs.front();
  o.compare_with.assign(a.inputs.begin() + 1, a.inputs.end());
  if (a.no_title) o.figure.title = "";
  if (!a.title.empty()) o.figure.title = a.title;
  o.on_figure = [&](const std::string& path) {
    if (!a.quiet) std::cout << "wrote " << path << "\n";
  };
  pipeline::plot_figures(o);
}

void add_figure_flags(CLI::App& cmd, PlotArgs& a) {
  pipeline::PlotOptions& o = a.options;
  cmd.add_option("-l,--layer", o.layer, "Layer (1-based) for heatmap, heads and bars; 0 = the last")
      ->capture_default_str();
  cmd.add_option("--head", o.head, "heatmap: head (1-based); 0 = heads fused")
      ->capture_default_str();
  cmd.add_option("-t,--target", o.target,
                 "Target token row for maps, bars and corr (negative counts from the end, -1 = "
                 "last token; causal corpora default to -1)")
      ->capture_default_str();
  cmd.add_flag("--hide-special", o.hide_special,
               "Leave out [CLS], [SEP], <s>, </s>, [PAD] ... (rows and columns)");
  cmd.add_option("--hide", o.hide, "Token labels to leave out")->delimiter(',');
  cmd.add_option("--width", o.figure.width, "Width in pixels (0 = automatic)")
      ->capture_default_str();
  cmd.add_option("--height", o.figure.height, "Height in pixels (0 = automatic)")
      ->capture_default_str();
  cmd.add_option("--font-size", o.figure.font_size, "Font size")->capture_default_str();
  cmd.add_option("--title", a.title, "Figure title (default: describes the data)");
  cmd.add_flag("--no-title", a.no_title, "No figure title");
  cmd.add_option("--min-weight", o.min_weight, "graph: edges below this weight are hidden")
      ->capture_default_str();
  cmd.add_option("--values", o.values, "heatmap: cell values auto, show or hide")
      ->capture_default_str();
  cmd.add_option("--scaling", o.scaling, "bars: none, sum or max per method")
      ->capture_default_str();
  cmd.add_flag("--own-scales", o.own_scales,
               "maps: one colour scale per method; compare: one per panel");
  cmd.add_option("--titles", o.panel_titles,
                 "compare: panel titles, one per store (default: each store's model name)")
      ->delimiter(',');
  cmd.add_option("-j,--threads", o.analysis.threads, "Flow threads (0 = all cores)")
      ->capture_default_str();
  cmd.add_flag("--keep-script", o.figure.keep_script,
               "Also write the gnuplot script (<output>.gp)");
  cmd.add_flag("-q,--quiet", a.quiet, "Print nothing but errors");
}

}  // namespace

void add_plot_command(CLI::App& app) {
  auto args = std::make_shared<PlotArgs>();
  pipeline::PlotOptions& o = args->options;
  CLI::App* cmd = app.add_subcommand(
      "plot",
      "Draw a figure of one attention stack or of corpus examples: heatmap, heads, maps, graph, "
      "bars, corr, cross, cross-heads or compare");
  cmd->add_option("input", args->inputs,
                  "Attention stack: .npy of shape (layers, heads, n, n) or (layers, n, n); or an "
                  "HDF5 corpus (.h5/.hdf5, docs/hdf5-schema.md) with --example or --examples; "
                  "-k cross: .npy (layers, heads, m, n); -k compare: two or more HDF5 stores")
      ->required();
  cmd->add_option("-o,--output", o.output,
                  "Figure file: .png, .svg or .pdf; or a folder (DIR/) that gets "
                  "fig_<kind>_<index>.<format> per corpus example")
      ->required();
  cmd->add_option("-k,--kind", args->kind,
                  "heatmap: one layer (fused) or one head; heads: every head of a layer; "
                  "maps: target-row maps per method (layers x tokens); graph: the layered "
                  "attention graph; bars: token relevance per method; corr: per-layer "
                  "correlations between methods; cross: cross-attention of a layer (decoder x "
                  "encoder tokens, fused or one head); cross-heads: every cross-attention head "
                  "of a layer; compare: one method (-m) at one layer, a panel per store")
      ->capture_default_str();
  cmd->add_option("--gradient", o.gradient, "dy/dA stack (.npy) for grad-rollout");
  cmd->add_option("--tokens", o.tokens,
                  "Token labels, one per line (UTF-8); -k cross: the decoder tokens");
  cmd->add_option("--encoder-tokens", o.encoder_tokens,
                  "-k cross, cross-heads: encoder token labels, one per line");
  add_figure_flags(*cmd, *args);
  add_analysis_flags(*cmd, o.analysis);
  const std::string group = "HDF5 corpus (.h5/.hdf5 input)";
  CLI::Option* example =
      cmd->add_option("--example", o.example, "Example to draw (0-based index)")->group(group);
  cmd->add_option("--examples", o.examples,
                  "Examples to draw, one figure each into the folder -o DIR/: indices and "
                  "ranges, e.g. 0,3,5 or 0-9 or 0-4,7")
      ->group(group)
      ->excludes(example);
  cmd->add_option("--format", o.format, "Figures in a folder (-o DIR/): png (default), svg or pdf")
      ->group(group);
  cmd->callback([args, cmd] {
    args->options.example_given = cmd->count("--example") > 0;
    args->options.target_given = cmd->count("--target") > 0;
    args->options.methods_given = cmd->count("--methods") > 0;
    run(*args);
  });
}

}  // namespace attnflow::app
