// `attnflow plot`: reads one attention stack (.npy, as `attnflow analyze`),
// computes what the chosen figure needs with the core library and draws it
// with attnflow::plot into a .png, .svg or .pdf.
#include "plot_command.hpp"

#include <iostream>
#include <memory>
#include <set>

#include "attnflow/core/analysis.hpp"
#include "attnflow/core/error.hpp"
#include "attnflow/core/fusion.hpp"
#include "attnflow/core/residual.hpp"
#include "attnflow/io/npy.hpp"
#include "attnflow/plot.hpp"

namespace attnflow::app {
namespace {

struct PlotArgs {
  std::string input;
  std::string gradient;
  std::string tokens;
  std::string output;
  std::string kind = "maps";
  int layer = 0;
  int head = 0;
  int target = 0;
  std::vector<std::string> methods = {"raw", "rollout", "flow"};
  bool hide_special = false;
  std::vector<std::string> hide;
  int width = 0;
  int height = 0;
  double font_size = 10.0;
  std::string title;
  bool no_title = false;
  std::string fusion = "mean";
  bool no_residual = false;
  double min_weight = 0.05;
  std::string values = "auto";
  std::string scaling = "none";
  bool own_scales = false;
  int threads = 0;
  bool keep_script = false;
  bool quiet = false;
};

const std::set<std::string> kKinds = {"heatmap", "heads", "maps", "graph", "bars", "corr"};

// The layer given with --layer (0 = the last one), checked against the stack.
int chosen_layer(const PlotArgs& a, const AttentionStack& stack) {
  if (a.layer == 0) return stack.layers();
  if (a.layer < 0 || a.layer > stack.layers()) {
    throw Error("--layer: " + std::to_string(a.layer) + " out of range 1.." +
                std::to_string(stack.layers()) + " (" + a.input + " has " +
                std::to_string(stack.layers()) + " layers)");
  }
  return a.layer;
}

plot::FigureOptions figure_options(const PlotArgs& a) {
  plot::FigureOptions f;
  f.width = a.width;
  f.height = a.height;
  f.font_size = a.font_size;
  if (a.no_title) f.title = "";
  if (!a.title.empty()) f.title = a.title;
  f.keep_script = a.keep_script;
  return f;
}

AnalysisResult run_analysis(const PlotArgs& a, const AttentionStack& attention,
                            const AttentionStack* gradient) {
  AnalysisOptions o;
  o.methods.clear();
  for (const auto& m : a.methods) o.methods.push_back(parse_method(m));
  o.target_rows = {a.target};
  o.prepare.fusion.method = parse_head_fusion(a.fusion);
  o.prepare.residual.enabled = !a.no_residual;
  o.flow.threads = a.threads;
  return analyze(attention, gradient, o);
}

void run(const PlotArgs& a) {
  if (!kKinds.count(a.kind)) {
    throw Error("--kind: unknown '" + a.kind +
                "' (expected heatmap, heads, maps, graph, bars or corr)");
  }
  // Cheap checks first, before reading and analysing.
  plot::image_format(a.output);
  plot::find_gnuplot();

  const io::NpyExample example = io::read_npy_example(a.input, a.gradient, a.tokens);
  const AttentionStack& attention = example.attention;
  const std::vector<std::string>& tokens = example.tokens;
  std::set<std::string> hide(a.hide.begin(), a.hide.end());
  if (a.hide_special) hide.insert(plot::special_tokens().begin(), plot::special_tokens().end());
  const plot::FigureOptions figure = figure_options(a);

  if (a.kind == "heatmap") {
    const int layer = chosen_layer(a, attention);
    plot::HeatmapOptions o;
    o.figure = figure;
    o.hide_tokens = hide;
    if (a.values == "show") {
      o.values = plot::HeatmapOptions::Values::Show;
    } else if (a.values == "hide") {
      o.values = plot::HeatmapOptions::Values::Hide;
    } else if (a.values != "auto") {
      throw Error("--values: unknown '" + a.values + "' (expected auto, show or hide)");
    }
    Matrix m;
    if (a.head == 0) {
      FusionOptions f;
      f.method = parse_head_fusion(a.fusion);
      m = fuse_heads(attention, layer, f);
      if (!o.figure.title) {
        o.figure.title = "Layer " + std::to_string(layer) + ", heads fused (" + a.fusion + ")";
      }
    } else {
      if (a.head < 1 || a.head > attention.heads()) {
        throw Error("--head: " + std::to_string(a.head) + " out of range 1.." +
                    std::to_string(attention.heads()) + " (" + a.input + " has " +
                    std::to_string(attention.heads()) + " heads)");
      }
      m = attention.head(layer - 1, a.head - 1).cast<double>();
      if (!o.figure.title) {
        o.figure.title = "Layer " + std::to_string(layer) + ", head " + std::to_string(a.head);
      }
    }
    plot::plot_heatmap(m, tokens, a.output, o);
  } else if (a.kind == "heads") {
    plot::HeadGridOptions o;
    o.figure = figure;
    o.hide_tokens = hide;
    plot::plot_head_grid(attention, chosen_layer(a, attention), tokens, a.output, o);
  } else if (a.kind == "graph") {
    PrepareOptions p;
    p.fusion.method = parse_head_fusion(a.fusion);
    p.residual.enabled = !a.no_residual;
    plot::AttentionGraphOptions o;
    o.figure = figure;
    o.hide_tokens = hide;
    o.min_weight = a.min_weight;
    plot::plot_attention_graph(prepare_layers(attention, p), tokens, a.output, o);
  } else {
    const AnalysisResult result = run_analysis(a, attention, example.gradient.get());
    const std::vector<plot::NamedMaps> maps = plot::named_maps(result);
    if (a.kind == "maps") {
      plot::TargetMapsOptions o;
      o.figure = figure;
      o.hide_tokens = hide;
      o.shared_scale = !a.own_scales;
      plot::plot_target_maps(maps, a.target, tokens, a.output, o);
    } else if (a.kind == "bars") {
      plot::RelevanceBarsOptions o;
      o.figure = figure;
      o.hide_tokens = hide;
      if (a.scaling == "sum") {
        o.scaling = plot::BarScaling::Sum;
      } else if (a.scaling == "max") {
        o.scaling = plot::BarScaling::Max;
      } else if (a.scaling != "none") {
        throw Error("--scaling: unknown '" + a.scaling + "' (expected none, sum or max)");
      }
      chosen_layer(a, attention);  // validates --layer (0 = each method's last)
      const std::vector<std::string> labels =
          plot::token_labels(tokens, attention.tokens(), a.input);
      if (!o.figure.title) {
        o.figure.title = "Relevance for target token " + std::to_string(a.target) + " (" +
                         labels[static_cast<std::size_t>(a.target)] + ")" +
                         (a.layer ? ", layer " + std::to_string(a.layer) : std::string());
      }
      plot::plot_relevance_bars(plot::relevance_at(maps, a.target, a.layer, a.input), tokens,
                                a.output, o);
    } else {  // corr
      plot::CorrelationChartOptions o;
      o.figure = figure;
      if (!o.figure.title) {
        o.figure.title =
            "Spearman correlation of target token " + std::to_string(a.target) + " between methods";
      }
      plot::plot_layer_correlations(
          plot::method_correlations(maps, a.target, tokens, hide, a.input), a.output, o);
    }
  }
  if (!a.quiet) std::cout << "wrote " << a.output << "\n";
}

}  // namespace

void add_plot_command(CLI::App& app) {
  auto args = std::make_shared<PlotArgs>();
  CLI::App* cmd = app.add_subcommand(
      "plot", "Draw a figure of one attention stack: heatmap, heads, maps, graph, bars or corr");
  cmd->add_option("input", args->input,
                  "Attention stack: .npy of shape (layers, heads, n, n) or (layers, n, n)")
      ->required();
  cmd->add_option("-o,--output", args->output, "Figure file: .png, .svg or .pdf")->required();
  cmd->add_option("-k,--kind", args->kind,
                  "heatmap: one layer (fused) or one head; heads: every head of a layer; "
                  "maps: target-row maps per method (layers x tokens); graph: the layered "
                  "attention graph; bars: token relevance per method; corr: per-layer "
                  "correlations between methods")
      ->capture_default_str();
  cmd->add_option("--gradient", args->gradient, "dy/dA stack (.npy) for grad-rollout");
  cmd->add_option("--tokens", args->tokens, "Token labels, one per line (UTF-8)");
  cmd->add_option("-l,--layer", args->layer,
                  "Layer (1-based) for heatmap, heads and bars; 0 = the last")
      ->capture_default_str();
  cmd->add_option("--head", args->head, "heatmap: head (1-based); 0 = heads fused")
      ->capture_default_str();
  cmd->add_option("-t,--target", args->target, "Target token row for maps, bars and corr")
      ->capture_default_str();
  cmd->add_option("-m,--methods", args->methods, "raw, residual, rollout, flow, grad-rollout")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_flag("--hide-special", args->hide_special,
                "Leave out [CLS], [SEP], <s>, </s>, [PAD] ... (rows and columns)");
  cmd->add_option("--hide", args->hide, "Token labels to leave out")->delimiter(',');
  cmd->add_option("--width", args->width, "Width in pixels (0 = automatic)")->capture_default_str();
  cmd->add_option("--height", args->height, "Height in pixels (0 = automatic)")
      ->capture_default_str();
  cmd->add_option("--font-size", args->font_size, "Font size")->capture_default_str();
  cmd->add_option("--title", args->title, "Figure title (default: describes the data)");
  cmd->add_flag("--no-title", args->no_title, "No figure title");
  cmd->add_option("--fusion", args->fusion, "Head fusion: mean, max, min")->capture_default_str();
  cmd->add_flag("--no-residual", args->no_residual,
                "graph and methods: do not add the identity for the skip connection");
  cmd->add_option("--min-weight", args->min_weight, "graph: edges below this weight are hidden")
      ->capture_default_str();
  cmd->add_option("--values", args->values, "heatmap: cell values auto, show or hide")
      ->capture_default_str();
  cmd->add_option("--scaling", args->scaling, "bars: none, sum or max per method")
      ->capture_default_str();
  cmd->add_flag("--own-scales", args->own_scales, "maps: one colour scale per method");
  cmd->add_option("-j,--threads", args->threads, "Flow threads (0 = all cores)")
      ->capture_default_str();
  cmd->add_flag("--keep-script", args->keep_script, "Also write the gnuplot script (<output>.gp)");
  cmd->add_flag("-q,--quiet", args->quiet, "Print nothing but errors");
  cmd->callback([args] { run(*args); });
}

}  // namespace attnflow::app
