// `attnflow plot` as one library call: one figure of an attention stack
// (.npy), or one per chosen example of an HDF5 corpus (named
// fig_<kind>_<index>.<format> in a folder), computed with core and drawn with
// attnflow::plot (docs/plots.md).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "attnflow/core/util/enum_names.hpp"
#include "attnflow/io/store.hpp"
#include "attnflow/pipeline/analysis_settings.hpp"
#include "attnflow/plot/figure.hpp"

namespace attnflow::pipeline {

enum class PlotKind {
  Heatmap,     ///< one layer (heads fused) or one head
  Heads,       ///< every head of a layer
  Maps,        ///< target-row maps per method (layers x tokens)
  Graph,       ///< the layered attention graph
  Bars,        ///< token relevance per method at one layer
  Corr,        ///< per-layer Spearman correlations between methods
  Cross,       ///< encoder-decoder cross-attention of one layer (fused or one head)
  CrossHeads,  ///< every head of one cross-attention layer
  Compare,     ///< one method side by side in several stores (models), one panel each
};

inline constexpr EnumName<PlotKind> kPlotKindNames[] = {
    {PlotKind::Heatmap, "heatmap"}, {PlotKind::Heads, "heads"},
    {PlotKind::Maps, "maps"},       {PlotKind::Graph, "graph"},
    {PlotKind::Bars, "bars"},       {PlotKind::Corr, "corr"},
    {PlotKind::Cross, "cross"},     {PlotKind::CrossHeads, "cross-heads"},
    {PlotKind::Compare, "compare"},
};

/// heatmap, heads, maps, graph, bars, corr, cross, cross-heads, compare. Throws
/// Error("--kind: unknown 'x' (expected heatmap, heads, ..., cross-heads or compare)").
PlotKind parse_plot_kind(const std::string& name);
const char* to_string(PlotKind kind);

struct PlotOptions {
  std::string input;  ///< .npy stack, or an HDF5 corpus (.h5/.hdf5)
  /// compare: the other HDF5 stores, one panel each after `input`'s (other kinds: empty).
  std::vector<std::string> compare_with;
  std::string gradient;  ///< .npy only: dy/dA stack for grad-rollout
  std::string tokens;    ///< .npy only: token labels file (cross kinds: decoder tokens)
  /// cross, cross-heads with a .npy cross-attention stack (L, H, m, n): encoder token labels.
  std::string encoder_tokens;
  /// Figure file (.png, .svg, .pdf), or for a corpus a folder (ends in '/' or
  /// exists) that gets fig_<kind>_<index>.<format> per example.
  std::string output;
  PlotKind kind = PlotKind::Maps;
  int layer = 0;  ///< heatmap, heads, bars: 1-based; 0 = the last
  int head = 0;   ///< heatmap: 1-based; 0 = heads fused
  /// maps, bars, corr: target row (negative counts from the end).
  int target = 0;
  /// false: a causal corpus explains its last token instead of `target`.
  bool target_given = true;
  /// Methods, fusion, residual, flow...: as `analyze` (target_rows, all_rows
  /// and layers are not used: see `target`).
  AnalysisSettings analysis;
  bool hide_special = false;      ///< leave out [CLS], [SEP], <s> ... (plot::special_tokens)
  std::vector<std::string> hide;  ///< token labels to leave out
  plot::FigureOptions figure;     ///< size, font, title (unset = automatic), keep_script
  double min_weight = 0.05;       ///< graph: edges below this weight are hidden
  std::string values = "auto";    ///< heatmap: cell values auto, show or hide
  std::string scaling = "none";   ///< bars: none, sum or max per method
  bool own_scales = false;        ///< maps, compare: one colour scale per method / panel
  /// compare: panel titles, one per store (empty = each store's model name, or its file name
  /// when the store names no model).
  std::vector<std::string> panel_titles;
  /// compare draws one method: analysis.methods when it names exactly one; when the methods
  /// were not given (false) and they are not one, raw.
  bool methods_given = false;
  // HDF5 corpus input (exactly one of example / examples):
  bool example_given = false;  ///< `example` was chosen
  std::int64_t example = 0;    ///< 0-based index
  std::string examples;        ///< indices and ranges, e.g. 0,3,5 or 0-9 or 0-4,7
  std::string format;          ///< figures in a folder: png (empty = png), svg or pdf
  /// Called with the path of each figure once it is written.
  std::function<void(const std::string&)> on_figure;
};

struct PlotReport {
  std::vector<std::string> figures;  ///< written, in order
};

/// Draws the figures. Every check that can fail before the first figure is
/// written runs first (options, gnuplot, output folder, each example's
/// target row and gradient). Throws Error with the CLI's messages.
PlotReport plot_figures(const PlotOptions& options);

/// Opens the HDF5 corpus `input` for `command` (plot, view) with HDF5's own error printing
/// off. Throws Error for a store of mode 'derived' (no attention).
io::Store open_attention_store(const std::string& input, const std::string& command);

/// The examples of a corpus `input` with `size` examples that --example I (`example_given`)
/// or --examples LIST (non-empty `examples`, parse_examples) choose, for plot and view.
/// Throws Error("--example 9: c.h5 holds 4 examples (0..3)"), or, with neither, Error("c.h5
/// holds 4 examples (0..3): choose one with --example I or several with --examples LIST ...").
std::vector<std::int64_t> choose_examples(const std::string& input, std::int64_t size,
                                          bool example_given, std::int64_t example,
                                          const std::string& examples);

/// --examples LIST of a corpus with `size` examples: comma-separated indices
/// and ranges A-B (both ends included), in the order given, duplicates
/// dropped. Throws Error naming `input` for an index >= size.
std::vector<std::int64_t> parse_examples(const std::string& list, const std::string& input,
                                         std::int64_t size);

}  // namespace attnflow::pipeline
