// draw_figure: heatmap, heads and graph from the attention; maps, bars and
// corr from attnflow::analyze (and core correlations), drawn by attnflow::plot.
#include "plot_draw.hpp"

#include <set>

#include "attnflow/core/analysis.hpp"
#include "attnflow/core/error.hpp"
#include "attnflow/core/fusion.hpp"
#include "attnflow/core/residual.hpp"
#include "attnflow/core/util/enum_names.hpp"
#include "attnflow/plot.hpp"

namespace attnflow::pipeline::detail {
namespace {

constexpr EnumName<plot::HeatmapOptions::Values> kValuesNames[] = {
    {plot::HeatmapOptions::Values::Auto, "auto"},
    {plot::HeatmapOptions::Values::Show, "show"},
    {plot::HeatmapOptions::Values::Hide, "hide"},
};
constexpr EnumName<plot::BarScaling> kScalingNames[] = {
    {plot::BarScaling::None, "none"},
    {plot::BarScaling::Sum, "sum"},
    {plot::BarScaling::Max, "max"},
};

// The layer given with --layer (0 = the last one), checked against the stack.
int chosen_layer(const PlotOptions& o, const AttentionStack& stack, const std::string& name) {
  if (o.layer == 0) return stack.layers();
  if (o.layer < 0 || o.layer > stack.layers()) {
    throw Error("--layer: " + std::to_string(o.layer) + " out of range 1.." +
                std::to_string(stack.layers()) + " (" + name + " has " +
                std::to_string(stack.layers()) + " layers)");
  }
  return o.layer;
}

std::set<std::string> hidden_tokens(const PlotOptions& o) {
  std::set<std::string> hide(o.hide.begin(), o.hide.end());
  if (o.hide_special) hide.insert(plot::special_tokens().begin(), plot::special_tokens().end());
  return hide;
}

void draw_heatmap(const PlotOptions& a, const PlotInput& in, const std::string& output) {
  const AttentionStack& attention = in.attention;
  const int layer = chosen_layer(a, attention, in.name);
  plot::HeatmapOptions o;
  o.figure = a.figure;
  o.hide_tokens = hidden_tokens(a);
  o.values = parse_enum(kValuesNames, a.values, "--values");
  Matrix m;
  if (a.head == 0) {
    m = fuse_heads(attention, layer, prepare_options(a.analysis).fusion);
    if (!o.figure.title) {
      o.figure.title =
          "Layer " + std::to_string(layer) + ", heads fused (" +
          (in.fused_by.empty() ? a.analysis.fusion : in.fused_by + ", before storing") + ")";
    }
  } else {
    if (a.head < 1 || a.head > attention.heads()) {
      throw Error("--head: " + std::to_string(a.head) + " out of range 1.." +
                  std::to_string(attention.heads()) + " (" + in.name + " has " +
                  std::to_string(attention.heads()) + " heads)");
    }
    m = attention.head(layer - 1, a.head - 1).cast<double>();
    if (!o.figure.title) {
      o.figure.title = "Layer " + std::to_string(layer) + ", head " + std::to_string(a.head);
    }
  }
  plot::plot_heatmap(m, in.tokens, output, o);
}

void draw_bars(const PlotOptions& a, const std::vector<NamedMaps>& maps, int target,
               const PlotInput& in, const std::string& output) {
  plot::RelevanceBarsOptions o;
  o.figure = a.figure;
  o.hide_tokens = hidden_tokens(a);
  o.scaling = parse_enum(kScalingNames, a.scaling, "--scaling");
  chosen_layer(a, in.attention, in.name);  // validates --layer (0 = each method's last)
  const std::vector<std::string> labels =
      plot::token_labels(in.tokens, in.attention.tokens(), in.name);
  if (!o.figure.title) {
    o.figure.title = "Relevance for target token " + std::to_string(target) + " (" +
                     labels[static_cast<std::size_t>(target)] + ")" +
                     (a.layer ? ", layer " + std::to_string(a.layer) : std::string());
  }
  plot::plot_relevance_bars(plot::relevance_at(maps, target, a.layer, in.name), in.tokens, output,
                            o);
}

// maps, bars, corr: the methods for the target row, then the figure.
void draw_methods(const PlotOptions& a, int target, const PlotInput& in,
                  const std::string& output) {
  AnalysisOptions options = analysis_options(a.analysis);
  options.layers.clear();
  options.start_layer = 1;
  // A negative target counts from the end (-1 = last token), as in `analyze`.
  target = resolve_target_row(target, in.attention.tokens(), "target rows");
  options.target_rows = {target};
  const AnalysisResult result =
      analyze(in.attention, in.gradient.get(), &in.contributions, options);
  const std::vector<NamedMaps> maps = named_maps(result);
  if (a.kind == PlotKind::Maps) {
    plot::TargetMapsOptions o;
    o.figure = a.figure;
    o.hide_tokens = hidden_tokens(a);
    o.shared_scale = !a.own_scales;
    plot::plot_target_maps(maps, target, in.tokens, output, o);
  } else if (a.kind == PlotKind::Bars) {
    draw_bars(a, maps, target, in, output);
  } else {
    plot::CorrelationChartOptions o;
    o.figure = a.figure;
    if (!o.figure.title) {
      o.figure.title =
          "Spearman correlation of target token " + std::to_string(target) + " between methods";
    }
    plot::plot_layer_correlations(
        plot::method_correlations(maps, target, in.tokens, hidden_tokens(a), in.name), output, o);
  }
}

}  // namespace

bool uses_methods(PlotKind kind) {
  return kind == PlotKind::Maps || kind == PlotKind::Bars || kind == PlotKind::Corr;
}

void draw_figure(const PlotOptions& a, int target, const PlotInput& in, const std::string& output) {
  switch (a.kind) {
    case PlotKind::Heatmap: draw_heatmap(a, in, output); break;
    case PlotKind::Heads: {
      plot::HeadGridOptions o;
      o.figure = a.figure;
      o.hide_tokens = hidden_tokens(a);
      plot::plot_head_grid(in.attention, chosen_layer(a, in.attention, in.name), in.tokens, output,
                           o);
      break;
    }
    case PlotKind::Graph: {
      plot::AttentionGraphOptions o;
      o.figure = a.figure;
      o.hide_tokens = hidden_tokens(a);
      o.min_weight = a.min_weight;
      plot::plot_attention_graph(prepare_layers(in.attention, prepare_options(a.analysis)),
                                 in.tokens, output, o);
      break;
    }
    default: draw_methods(a, target, in, output);
  }
}

}  // namespace attnflow::pipeline::detail
