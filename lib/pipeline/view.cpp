// write_view: the chosen examples of an HDF5 store (attention, the methods' target-row maps
// and the store's derived runs) -> view_page -> the page, written atomically.
#include "attnflow/pipeline/view.hpp"

#include <algorithm>
#include <filesystem>
#include <utility>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/atomic_file.hpp"
#include "attnflow/io/derived_run.hpp"
#include "attnflow/io/store.hpp"
#include "attnflow/pipeline/plot_figures.hpp"

namespace attnflow::pipeline {
namespace {

// The maps of row `target` of every method of every derived run that has example `index`;
// what a run lacks becomes a note.
void add_derived_runs(const io::Store& store, std::int64_t index, ViewExample& e) {
  for (const io::RunInfo& run : io::list_runs(store)) {
    if (index >= run.size) {
      e.notes.push_back("Run '" + run.name + "' has no results for example " +
                        std::to_string(index) + ".");
      continue;
    }
    for (NamedMaps& m : named_maps(io::read_derived(store, run.name, index))) {
      const std::vector<int>& rows = m.maps.rows;
      const auto r = std::find(rows.begin(), rows.end(), e.target) - rows.begin();
      const std::string name = run.name + ": " + m.name;
      if (r == static_cast<std::ptrdiff_t>(rows.size())) {
        e.notes.push_back("Run '" + run.name + "' keeps no " + m.name + " maps of row " +
                          std::to_string(e.target) + ".");
        continue;
      }
      LayerMaps row{m.maps.layers, {e.target}, {}};
      for (const Matrix& map : m.maps.maps) row.maps.push_back(map.row(r));
      e.maps.push_back({name, std::move(row)});
    }
  }
}

}  // namespace

ViewExample view_example(AttentionStack attention, const AttentionStack* gradient,
                         std::vector<std::string> tokens, int target,
                         const AnalysisSettings& analysis, bool methods_given) {
  validate(attention, AttentionCheck::weights("attention"));
  const int n = attention.tokens();
  if (tokens.empty()) {
    for (int i = 0; i < n; ++i) tokens.push_back(std::to_string(i));
  }
  if (static_cast<int>(tokens.size()) != n) {
    throw Error("tokens: " + std::to_string(tokens.size()) + " labels for the " +
                std::to_string(n) + " tokens of the attention");
  }
  ViewExample e;
  e.target = resolve_target_row(target, n, "target row");
  AnalysisSettings settings = analysis;
  if (!methods_given) {
    settings.methods = {"raw", "rollout", "flow"};
    if (gradient != nullptr) settings.methods.push_back("grad-rollout");
  }
  settings.target_rows = {e.target};
  settings.all_rows = false;
  settings.layers.clear();
  e.maps = named_maps(analyze(attention, gradient, analysis_options(settings)));
  for (int h = 1; h <= attention.heads(); ++h) e.head_names.push_back("head " + std::to_string(h));
  e.tokens = std::move(tokens);
  e.attention = std::move(attention);
  return e;
}

std::vector<ViewExample> load_view_examples(const ViewOptions& o) {
  if (!is_corpus_path(o.input)) {
    throw Error(o.input + ": view reads an HDF5 store (.h5/.hdf5, docs/hdf5-schema.md)");
  }
  const io::Store store = open_attention_store(o.input, "view");
  const io::StoreInfo& info = store.info();
  const std::vector<std::int64_t> indices =
      choose_examples(o.input, store.size(), o.example_given, o.example, o.examples);
  const bool fused = info.mode == io::StoreMode::Fused;
  analysis_options(o.analysis);  // unknown names fail before any reading
  if (fused && o.methods_given && wants_gradient(o.analysis)) {
    throw Error("grad-rollout: " + o.input + " stores head-fused attention (store mode 'fused'), " +
                "which keeps no gradient");
  }
  // Every example's target row and gradient first, so that nothing is analysed in vain.
  io::ReadOptions check = io::ReadOptions::metadata_only();
  check.gradient = o.methods_given && wants_gradient(o.analysis);
  const int requested = info.causal && !o.target_given ? -1 : o.target;
  for (std::int64_t i : indices) {
    const io::Example e = store.read(i, check);
    resolve_target_row(requested, e.tokens_count(),
                       "--target: example " + std::to_string(i) + " of " + o.input);
    if (check.gradient && e.gradient.empty()) {
      throw Error("grad-rollout: example " + std::to_string(i) + " of " + o.input +
                  " has no gradient stored");
    }
  }
  std::vector<ViewExample> out;
  for (std::int64_t i : indices) {
    io::Example stored = store.read(i);
    const AttentionStack* gradient = stored.gradient.empty() ? nullptr : &stored.gradient;
    if (o.methods_given && !wants_gradient(o.analysis)) gradient = nullptr;
    ViewExample e = view_example(std::move(stored.attention), gradient, std::move(stored.tokens),
                                 requested, o.analysis, o.methods_given);
    e.name = o.input + " example " + std::to_string(i);
    e.index = i;
    if (fused) e.head_names = {"fused (" + info.fusion + ")"};
    if (o.derived_runs) add_derived_runs(store, i, e);
    out.push_back(std::move(e));
  }
  return out;
}

ViewReport write_view(const ViewOptions& o) {
  check_view_page_options(o.page);
  if (o.output.empty()) throw Error("-o: the page's file name is empty");
  AtomicFile file(o.output);  // a folder that cannot take the page fails here, before any work
  std::vector<ViewExample> examples = load_view_examples(o);
  file.stream() << view_page(examples, o.page);
  file.commit();
  ViewReport report;
  report.output = o.output;
  for (const ViewExample& e : examples) report.examples.push_back(e.index);
  report.bytes = std::filesystem::file_size(o.output);
  return report;
}

}  // namespace attnflow::pipeline
