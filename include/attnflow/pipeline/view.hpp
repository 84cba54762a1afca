// `attnflow view` as a library call: one self-contained HTML page — head view, model view,
// method view, SVG/PNG export (docs/views.md) — for chosen examples of an HDF5 store, or for
// attention given in memory (the Python module's attnflow.show). Nothing in the page is
// fetched: d3 and the page's script and style are embedded in the library at build time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attnflow/core/analysis.hpp"
#include "attnflow/core/stack.hpp"
#include "attnflow/pipeline/analysis_settings.hpp"

namespace attnflow::pipeline {

/// One example as the page shows it.
struct ViewExample {
  std::string name;                     ///< e.g. "corpus.h5 example 3"
  std::int64_t index = 0;               ///< its number in the page's example selector
  std::vector<std::string> tokens;      ///< n UTF-8 labels
  AttentionStack attention;             ///< (L, H, n, n); head-fused attention has H = 1
  std::vector<std::string> head_names;  ///< H labels ("head 1", ... or "fused (mean)")
  int target = 0;                       ///< token row of the method view (0..n-1)
  /// Method view: per method (or derived run) the maps of the single row `target`.
  std::vector<NamedMaps> maps;
  std::vector<std::string> notes;  ///< shown above the method view (e.g. rows a run lacks)
};

struct ViewPageOptions {
  std::string title;  ///< page title; empty = the first example's name
  /// Attention quantisation: 8 or 16 bits per value, each row scaled to its maximum
  /// (value = q * row_max / (2^bits - 1)).
  int bits = 8;
  /// Head view: lines of weight below this are not drawn (the page can change it).
  double min_weight = 0.01;
};

struct ViewOptions {
  std::string input;                 ///< HDF5 store (docs/hdf5-schema.md)
  std::string output = "view.html";  ///< the page (written to OUTPUT.partial, then renamed)
  // Exactly one of example / examples:
  bool example_given = false;  ///< `example` was chosen
  std::int64_t example = 0;    ///< 0-based index
  std::string examples;        ///< indices and ranges, e.g. 0,3,5 or 0-9 or 0-4,7
  /// Method view: target row (negative counts from the end).
  int target = 0;
  /// false: a causal store explains its last token instead of `target`.
  bool target_given = true;
  /// Methods, fusion, residual, flow... as `analyze` (target_rows, all_rows and layers are
  /// not used: see `target`).
  AnalysisSettings analysis;
  /// false: raw, rollout, flow and, for examples with a stored gradient, grad-rollout.
  bool methods_given = false;
  bool derived_runs = true;  ///< also show the maps of the store's derived runs
  ViewPageOptions page;
};

struct ViewReport {
  std::string output;                  ///< the page written
  std::vector<std::int64_t> examples;  ///< in the page, in order
  std::uintmax_t bytes = 0;            ///< size of the page
};

/// False when the library was built without d3 (Debian's node-d3, or -DATTNFLOW_D3_JS):
/// view_page and write_view then throw Error saying so.
bool view_available();

/// Example for the page from attention in memory: `methods` (CLI names; empty = raw,
/// rollout, flow, and grad-rollout when `gradient` is given) at token row `target` (negative
/// counts from the end) with the settings of `analysis`. Validates the stack, the tokens
/// (n labels; empty = "0".."n-1") and the row; throws Error naming them.
ViewExample view_example(AttentionStack attention, const AttentionStack* gradient,
                         std::vector<std::string> tokens, int target,
                         const AnalysisSettings& analysis, bool methods_given);

/// Throws Error unless the page can be made with `options` (d3 embedded, bits 8 or 16,
/// min_weight in 0..1).
void check_view_page_options(const ViewPageOptions& options);

/// The page for `examples` (at least one), as one HTML document.
std::string view_page(const std::vector<ViewExample>& examples,
                      const ViewPageOptions& options = {});

/// Reads and analyses the chosen examples of the store (every check first: the options,
/// the store, each example's target row and gradient).
std::vector<ViewExample> load_view_examples(const ViewOptions& options);

/// load_view_examples, then view_page written to options.output.
ViewReport write_view(const ViewOptions& options);

}  // namespace attnflow::pipeline
