// -k compare: the same example of several stores (e.g. one sentence in BERT, GPT-2 and T5),
// one method at one layer, drawn side by side with each store's own tokens.
#include <algorithm>
#include <filesystem>

#include "attnflow/core/analysis.hpp"
#include "attnflow/core/error.hpp"
#include "attnflow/plot/side_by_side.hpp"
#include "plot_draw.hpp"

namespace attnflow::pipeline::detail {
namespace {

// The one method every panel draws (PlotOptions::methods_given).
std::string compare_method(const PlotOptions& a) {
  const std::vector<std::string>& m = a.analysis.methods;
  if (m.size() == 1) return m.front();
  if (!a.methods_given) return "raw";
  std::string list;
  for (const std::string& name : m) list += (list.empty() ? "" : ",") + name;
  throw Error("-k compare draws one method in every panel: -m " + list + " names " +
              std::to_string(m.size()) + " (e.g. -m rollout)");
}

// The checks that need no store.
std::vector<std::string> compare_inputs(const PlotOptions& a) {
  std::vector<std::string> inputs = {a.input};
  inputs.insert(inputs.end(), a.compare_with.begin(), a.compare_with.end());
  if (inputs.size() < 2) {
    throw Error("-k compare needs two or more HDF5 stores (one panel each), got " + a.input);
  }
  for (const std::string& input : inputs) {
    if (!is_corpus_path(input)) {
      throw Error("-k compare: " + input + " is not an HDF5 store (.h5/.hdf5)");
    }
  }
  if (!a.gradient.empty() || !a.tokens.empty() || !a.encoder_tokens.empty()) {
    throw Error("-k compare: --gradient, --tokens and --encoder-tokens are for .npy input");
  }
  if (!a.examples.empty() || !a.format.empty()) {
    throw Error(
        "-k compare draws one figure: choose the example with --example I (not "
        "--examples or --format)");
  }
  if (!a.example_given) {
    throw Error("-k compare: choose the example of every store with --example I");
  }
  if (!a.panel_titles.empty() && a.panel_titles.size() != inputs.size()) {
    throw Error("--titles: " + std::to_string(a.panel_titles.size()) + " titles for " +
                std::to_string(inputs.size()) + " stores");
  }
  plot::image_format(a.output);
  return inputs;
}

// A panel's title: --titles, or the store's model, or its file name.
std::string panel_title(const PlotOptions& a, std::size_t k, const std::string& input,
                        const io::StoreInfo& info) {
  if (!a.panel_titles.empty()) return a.panel_titles[k];
  if (!info.model.empty()) return info.model;
  return std::filesystem::path(input).filename().string();
}

}  // namespace

PlotReport plot_compare(const PlotOptions& a) {
  const std::vector<std::string> inputs = compare_inputs(a);
  const std::string method_name = compare_method(a);
  const Method method = parse_method(method_name);
  PlotOptions one = a;  // the options of a single store, for the shared checks
  one.kind = PlotKind::Compare;
  one.analysis.methods = {method_name};
  AnalysisOptions options = analysis_options(one.analysis);
  options.target_rows.clear();  // the whole matrix: every row
  options.start_layer = 1;
  plot::find_gnuplot();

  std::vector<plot::SidePanel> panels;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    one.input = inputs[k];
    const io::Store store = open_attention_store(one.input, "plot");
    const std::vector<std::int64_t> index =
        choose_examples(one.input, store.size(), true, a.example, "");
    check_examples(one, store, index);
    io::ReadOptions read;
    read.gradient = wants_gradient(one.analysis);
    io::Example e = store.read(index.front(), read);
    const std::string name = one.input + " example " + std::to_string(a.example);
    const int layers = e.attention.empty() ? store.info().layers : e.attention.layers();
    const int layer = chosen_layer(a, layers, name);
    options.layers = {layer};
    const AnalysisResult result =
        analyze(e.attention, e.gradient.empty() ? nullptr : &e.gradient, &e.contributions, options);
    const LayerMaps& maps = result.maps.at(method);
    const auto at = std::find(maps.layers.begin(), maps.layers.end(), layer);
    if (at == maps.layers.end()) {
      throw Error("-k compare: " + method_name + " of " + name + " reports no layer " +
                  std::to_string(layer));
    }
    plot::SidePanel panel;
    panel.title = panel_title(a, k, one.input, store.info()) + ", layer " + std::to_string(layer);
    panel.matrix = maps.maps[static_cast<std::size_t>(at - maps.layers.begin())];
    panel.row_tokens = std::move(e.tokens);
    panels.push_back(std::move(panel));
  }
  plot::SideBySideOptions o;
  o.figure = a.figure;
  o.hide_tokens = hidden_tokens(a);
  o.shared_scale = !a.own_scales;
  if (!o.figure.title) {
    o.figure.title =
        method_name +
        (a.layer == 0 ? " at the last layer" : " at layer " + std::to_string(a.layer)) +
        ", example " + std::to_string(a.example);
  }
  plot::plot_side_by_side(panels, a.output, o);
  if (a.on_figure) a.on_figure(a.output);
  return PlotReport{{a.output}};
}

}  // namespace attnflow::pipeline::detail
