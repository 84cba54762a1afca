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

// " (model layer 3)" for stored layer or head `k` (1-based) of a selection; "" without one.
std::string model_number(const std::vector<int>& selection, int k, const char* what) {
  if (selection.empty()) return "";
  return " (model " + std::string(what) + " " +
         std::to_string(selection[static_cast<std::size_t>(k - 1)]) + ")";
}

// "model heads 2,4" for a head selection; "heads" without one.
std::string model_heads(const std::vector<int>& selection) {
  std::string text;
  for (int h : selection) text += (text.empty() ? "model heads " : ",") + std::to_string(h);
  return text.empty() ? "heads" : text;
}

// heatmap, cross: layer `layer` with its heads fused (--head 0) or head --head of it.
template <class Stack>
Matrix chosen_map(const PlotOptions& a, const Stack& stack, int layer, const std::string& name) {
  if (a.head == 0) return fuse_heads(stack, layer, prepare_options(a.analysis).fusion);
  if (a.head < 1 || a.head > stack.heads()) {
    throw Error("--head: " + std::to_string(a.head) + " out of range 1.." +
                std::to_string(stack.heads()) + " (" + name + " has " +
                std::to_string(stack.heads()) + " heads)");
  }
  return stack.head(layer - 1, a.head - 1).template cast<double>();
}

void draw_heatmap(const PlotOptions& a, const PlotInput& in, const std::string& output) {
  const AttentionStack& attention = in.attention;
  const int layer = chosen_layer(a, attention.layers(), in.name);
  plot::HeatmapOptions o;
  o.figure = a.figure;
  o.hide_tokens = hidden_tokens(a);
  o.values = parse_enum(kValuesNames, a.values, "--values");
  const Matrix m = chosen_map(a, attention, layer, in.name);
  const std::string title_layer =
      "Layer " + std::to_string(layer) + model_number(in.layer_selection, layer, "layer");
  if (a.head == 0) {
    if (!o.figure.title) {
      o.figure.title =
          title_layer + ", " + model_heads(in.head_selection) + " fused (" +
          (in.fused_by.empty() ? a.analysis.fusion : in.fused_by + ", before storing") + ")";
    }
  } else {
    if (!o.figure.title) {
      o.figure.title = title_layer + ", head " + std::to_string(a.head) +
                       model_number(in.head_selection, a.head, "head");
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
  chosen_layer(a, in.attention.layers(), in.name);  // validates --layer (0 = each method's last)
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

// cross: one decoder layer's cross-attention, heads fused or one head; cross-heads: all heads.
void draw_cross(const PlotOptions& a, const PlotInput& in, const std::string& output) {
  const CrossAttentionStack& cross = in.cross;
  const int layer = chosen_layer(a, cross.layers(), in.name);
  if (a.kind == PlotKind::CrossHeads) {
    plot::HeadGridOptions o;
    o.figure = a.figure;
    o.hide_tokens = hidden_tokens(a);
    plot::plot_head_grid(cross, layer, in.tokens, in.encoder_tokens, output, o);
    return;
  }
  plot::HeatmapOptions o;
  o.figure = a.figure;
  o.hide_tokens = hidden_tokens(a);
  o.values = parse_enum(kValuesNames, a.values, "--values");
  o.x_label = "encoder token";
  o.y_label = "decoder token";
  const Matrix m = chosen_map(a, cross, layer, in.name);
  const std::string what =
      a.head == 0 ? "heads fused (" + a.analysis.fusion + ")" : "head " + std::to_string(a.head);
  if (!o.figure.title) {
    o.figure.title = "Cross-attention, layer " + std::to_string(layer) + ", " + what;
  }
  plot::plot_heatmap(m, in.tokens, in.encoder_tokens, output, o);
}

}  // namespace

int chosen_layer(const PlotOptions& o, int layers, const std::string& name) {
  if (o.layer == 0) return layers;
  if (o.layer < 0 || o.layer > layers) {
    throw Error("--layer: " + std::to_string(o.layer) + " out of range 1.." +
                std::to_string(layers) + " (" + name + " has " + std::to_string(layers) +
                " layers)");
  }
  return o.layer;
}

std::set<std::string> hidden_tokens(const PlotOptions& o) {
  std::set<std::string> hide(o.hide.begin(), o.hide.end());
  if (o.hide_special) hide.insert(plot::special_tokens().begin(), plot::special_tokens().end());
  return hide;
}

bool uses_methods(PlotKind kind) {
  return kind == PlotKind::Maps || kind == PlotKind::Bars || kind == PlotKind::Corr ||
         kind == PlotKind::Compare;
}

bool uses_cross(PlotKind kind) {
  return kind == PlotKind::Cross || kind == PlotKind::CrossHeads;
}

void draw_figure(const PlotOptions& a, int target, const PlotInput& in, const std::string& output) {
  switch (a.kind) {
    case PlotKind::Heatmap: draw_heatmap(a, in, output); break;
    case PlotKind::Heads: {
      plot::HeadGridOptions o;
      o.figure = a.figure;
      o.hide_tokens = hidden_tokens(a);
      const int layer = chosen_layer(a, in.attention.layers(), in.name);
      if (!o.figure.title && !(in.layer_selection.empty() && in.head_selection.empty())) {
        o.figure.title =
            "Layer " + std::to_string(layer) + model_number(in.layer_selection, layer, "layer") +
            ": attention of each head" +
            (in.head_selection.empty() ? "" : " (" + model_heads(in.head_selection) + ")");
      }
      plot::plot_head_grid(in.attention, layer, in.tokens, output, o);
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
    case PlotKind::Cross:
    case PlotKind::CrossHeads: draw_cross(a, in, output); break;
    default: draw_methods(a, target, in, output);
  }
}

}  // namespace attnflow::pipeline::detail
