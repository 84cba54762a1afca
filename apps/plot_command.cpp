// `attnflow plot`: reads one attention stack (.npy, as `attnflow analyze`) or
// examples of an HDF5 corpus (.h5/.hdf5, docs/hdf5-schema.md), computes what
// the chosen figure needs with the core library and draws it with
// attnflow::plot into a .png, .svg or .pdf (one figure per example).
#include "plot_command.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <set>
#include <system_error>

#include "analyze_corpus.hpp"
#include "attnflow/core/analysis.hpp"
#include "attnflow/core/error.hpp"
#include "attnflow/core/fusion.hpp"
#include "attnflow/core/residual.hpp"
#include "attnflow/io/npy.hpp"
#include "attnflow/io/store.hpp"
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
  // HDF5 corpus input:
  std::int64_t example = 0;    ///< --example I
  bool example_given = false;  ///< --example was given
  std::string examples;        ///< --examples LIST (0,3,5 or 0-9 or both)
  std::string format;          ///< --format of figures in a folder (-o DIR/); empty = png
  bool target_given = false;   ///< -t was given (causal corpora default to the last token)
};

// One example to draw: its attention, optional gradient and token labels.
struct PlotInput {
  AttentionStack attention;
  std::unique_ptr<AttentionStack> gradient;  ///< null when none
  std::vector<std::string> tokens;           ///< empty = indices
  std::string name;                          ///< for messages: "a.npy", "c.h5 example 3"
  std::string fused_by;  ///< head-fused corpus: how the heads were fused; empty = per-head
};

const std::set<std::string> kKinds = {"heatmap", "heads", "maps", "graph", "bars", "corr"};

// The layer given with --layer (0 = the last one), checked against the stack.
int chosen_layer(const PlotArgs& a, const AttentionStack& stack, const std::string& name) {
  if (a.layer == 0) return stack.layers();
  if (a.layer < 0 || a.layer > stack.layers()) {
    throw Error("--layer: " + std::to_string(a.layer) + " out of range 1.." +
                std::to_string(stack.layers()) + " (" + name + " has " +
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

bool uses_methods(const PlotArgs& a) {
  return a.kind == "maps" || a.kind == "bars" || a.kind == "corr";
}

bool wants_gradient(const PlotArgs& a) {
  return uses_methods(a) &&
         std::find(a.methods.begin(), a.methods.end(), "grad-rollout") != a.methods.end();
}

AnalysisResult run_analysis(const PlotArgs& a, int target, const AttentionStack& attention,
                            const AttentionStack* gradient) {
  AnalysisOptions o;
  o.methods.clear();
  for (const auto& m : a.methods) o.methods.push_back(parse_method(m));
  o.target_rows = {target};
  o.prepare.fusion.method = parse_head_fusion(a.fusion);
  o.prepare.residual.enabled = !a.no_residual;
  o.flow.threads = a.threads;
  return analyze(attention, gradient, o);
}

// Draws the figure `a.kind` of `in` into `output`: the one drawing path of
// both inputs (.npy stack and corpus example).
void draw_figure(const PlotArgs& a, const PlotInput& in, const std::string& output) {
  const AttentionStack& attention = in.attention;
  const std::vector<std::string>& tokens = in.tokens;
  // A negative target counts from the end (-1 = last token), as in `analyze`.
  const int target =
      a.target < 0 && a.target + attention.tokens() >= 0 ? a.target + attention.tokens() : a.target;
  std::set<std::string> hide(a.hide.begin(), a.hide.end());
  if (a.hide_special) hide.insert(plot::special_tokens().begin(), plot::special_tokens().end());
  const plot::FigureOptions figure = figure_options(a);

  if (a.kind == "heatmap") {
    const int layer = chosen_layer(a, attention, in.name);
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
        o.figure.title = "Layer " + std::to_string(layer) + ", heads fused (" +
                         (in.fused_by.empty() ? a.fusion : in.fused_by + ", before storing") + ")";
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
    plot::plot_heatmap(m, tokens, output, o);
  } else if (a.kind == "heads") {
    plot::HeadGridOptions o;
    o.figure = figure;
    o.hide_tokens = hide;
    plot::plot_head_grid(attention, chosen_layer(a, attention, in.name), tokens, output, o);
  } else if (a.kind == "graph") {
    PrepareOptions p;
    p.fusion.method = parse_head_fusion(a.fusion);
    p.residual.enabled = !a.no_residual;
    plot::AttentionGraphOptions o;
    o.figure = figure;
    o.hide_tokens = hide;
    o.min_weight = a.min_weight;
    plot::plot_attention_graph(prepare_layers(attention, p), tokens, output, o);
  } else {
    const AnalysisResult result = run_analysis(a, target, attention, in.gradient.get());
    const std::vector<plot::NamedMaps> maps = plot::named_maps(result);
    if (a.kind == "maps") {
      plot::TargetMapsOptions o;
      o.figure = figure;
      o.hide_tokens = hide;
      o.shared_scale = !a.own_scales;
      plot::plot_target_maps(maps, target, tokens, output, o);
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
      chosen_layer(a, attention, in.name);  // validates --layer (0 = each method's last)
      const std::vector<std::string> labels =
          plot::token_labels(tokens, attention.tokens(), in.name);
      if (!o.figure.title) {
        o.figure.title = "Relevance for target token " + std::to_string(target) + " (" +
                         labels[static_cast<std::size_t>(target)] + ")" +
                         (a.layer ? ", layer " + std::to_string(a.layer) : std::string());
      }
      plot::plot_relevance_bars(plot::relevance_at(maps, target, a.layer, in.name), tokens, output,
                                o);
    } else {  // corr
      plot::CorrelationChartOptions o;
      o.figure = figure;
      if (!o.figure.title) {
        o.figure.title =
            "Spearman correlation of target token " + std::to_string(target) + " between methods";
      }
      plot::plot_layer_correlations(plot::method_correlations(maps, target, tokens, hide, in.name),
                                    output, o);
    }
  }
  if (!a.quiet) std::cout << "wrote " << output << "\n";
}

// "10 examples (0..9)": what --example / --examples may choose from.
std::string holds(const std::string& input, std::int64_t size) {
  if (size == 0) return input + " holds no examples";
  return input + " holds " + std::to_string(size) + (size == 1 ? " example" : " examples") +
         " (0.." + std::to_string(size - 1) + ")";
}

// --examples: comma-separated indices and ranges A-B (both ends included),
// in the order given, duplicates dropped; every index below `size`.
std::vector<std::int64_t> parse_examples(const std::string& list, const std::string& input,
                                         std::int64_t size) {
  std::vector<std::int64_t> out;
  std::set<std::int64_t> seen;
  const auto number = [&](const std::string& text, const std::string& item) {
    if (text.empty() || text.size() > 18 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      throw Error("--examples: '" + item + "' is not an index or a range A-B (e.g. 0,3,5 or 0-9)");
    }
    const std::int64_t v = std::stoll(text);
    if (v >= size) throw Error("--examples " + list + ": " + holds(input, size));
    return v;
  };
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t comma = std::min(list.find(',', start), list.size());
    const std::string item = list.substr(start, comma - start);
    const std::size_t dash = item.find('-');
    const std::int64_t first = number(item.substr(0, dash), item);
    const std::int64_t last =
        dash == std::string::npos ? first : number(item.substr(dash + 1), item);
    if (last < first) {
      throw Error("--examples: range " + item + " is empty (write " + std::to_string(last) + "-" +
                  std::to_string(first) + ")");
    }
    for (std::int64_t i = first; i <= last; ++i) {
      if (seen.insert(i).second) out.push_back(i);
    }
    start = comma + 1;
  }
  return out;
}

// -o names a folder when it ends with '/' or is an existing folder.
bool is_folder_output(const std::string& output) {
  return !output.empty() && (output.back() == '/' || std::filesystem::is_directory(output));
}

// Figure of example `index` in the folder: <folder>/fig_<kind>_<index>.<format>.
std::string figure_in_folder(const PlotArgs& a, std::int64_t index) {
  const std::string folder = a.output.back() == '/' ? a.output : a.output + "/";
  return folder + "fig_" + a.kind + "_" + std::to_string(index) + "." +
         (a.format.empty() ? "png" : a.format);
}

// Creates the output folder when needed and checks that figures can go into it.
void prepare_folder(const std::string& folder) {
  std::error_code ec;
  const std::string bare = folder.substr(0, folder.find_last_not_of('/') + 1);
  if (std::filesystem::exists(bare, ec) && !std::filesystem::is_directory(bare, ec)) {
    throw Error(folder + ": output folder is a file");
  }
  std::filesystem::create_directories(folder, ec);
  if (ec) throw Error(folder + ": cannot create the output folder (" + ec.message() + ")");
  if (::access(folder.c_str(), W_OK | X_OK) != 0) {
    throw Error(folder + ": output folder is not writable");
  }
}

// `attnflow plot corpus.h5 --example I | --examples LIST`: every check that
// can fail before the first figure is written, then one figure per example.
void run_corpus(const PlotArgs& a) {
  if (!a.gradient.empty() || !a.tokens.empty()) {
    throw Error(
        "--gradient and --tokens are for .npy input; an HDF5 corpus stores gradients and tokens "
        "per example");
  }
  const bool folder = is_folder_output(a.output);
  if (folder) {
    if (!a.format.empty() && a.format != "png" && a.format != "svg" && a.format != "pdf") {
      throw Error("--format: unknown '" + a.format + "' (expected png, svg or pdf)");
    }
  } else {
    if (!a.examples.empty()) {
      throw Error("--examples writes one figure per example: -o " + a.output +
                  " must name a folder, ending in '/' (e.g. -o figs/), where they are named "
                  "fig_<kind>_<index>.<format>");
    }
    if (!a.format.empty()) {
      throw Error("--format is for a folder output (-o DIR/); " + a.output +
                  " gets its format from its extension");
    }
    plot::image_format(a.output);
  }
  plot::find_gnuplot();

  io::silence_hdf5_errors();  // every HDF5 failure reaches the user as one attnflow error
  const io::Store store = io::Store::open(a.input);
  const io::StoreInfo& info = store.info();
  const std::int64_t size = store.size();
  if (info.mode == io::StoreMode::Derived) {
    throw Error(a.input +
                ": stores no attention (store mode 'derived': tokens, labels and derived runs "
                "only); plot needs a store of mode 'per-head' or 'fused'");
  }
  std::vector<std::int64_t> indices;
  if (!a.examples.empty()) {
    indices = parse_examples(a.examples, a.input, size);
  } else if (!a.example_given) {
    throw Error(holds(a.input, size) +
                ": choose one with --example I or several with --examples LIST (e.g. 0,3,5 or "
                "0-9)");
  } else if (a.example < 0 || a.example >= size) {
    throw Error("--example " + std::to_string(a.example) + ": " + holds(a.input, size));
  } else {
    indices = {a.example};
  }
  const bool fused = info.mode == io::StoreMode::Fused;
  const std::string fused_note = a.input + " stores head-fused attention (store mode 'fused', " +
                                 "heads fused by " + info.fusion + " before storing)";
  if (fused && a.kind == "heads") {
    throw Error("-k heads: " + fused_note + "; use -k heatmap for the fused layer");
  }
  if (fused && a.kind == "heatmap" && a.head != 0) {
    throw Error("--head " + std::to_string(a.head) + ": " + fused_note +
                "; leave --head at 0 for the fused layer");
  }
  if (fused && wants_gradient(a)) {
    throw Error("grad-rollout: " + fused_note + ", which keeps no gradient");
  }
  // Example lengths differ: before any figure is drawn, every chosen example
  // has the target row and, for grad-rollout, a gradient.
  if (uses_methods(a)) {
    io::ReadOptions check;
    check.attention = false;
    check.gradient = wants_gradient(a);
    for (std::int64_t i : indices) {
      const io::Example e = store.read(i, check);
      const int n = e.tokens_count();
      if (a.target >= n || a.target < -n) {
        throw Error("--target " + std::to_string(a.target) + ": example " + std::to_string(i) +
                    " of " + a.input + " has " + std::to_string(n) + " tokens (valid 0.." +
                    std::to_string(n - 1) + ", or -" + std::to_string(n) + "..-1 from the end)");
      }
      if (wants_gradient(a) && e.gradient.empty()) {
        throw Error("grad-rollout: example " + std::to_string(i) + " of " + a.input +
                    " has no gradient stored");
      }
    }
  }
  if (folder) prepare_folder(a.output);

  io::ReadOptions read;
  read.gradient = wants_gradient(a);
  for (std::int64_t i : indices) {
    io::Example example = store.read(i, read);
    PlotInput in;
    in.attention = std::move(example.attention);
    if (!example.gradient.empty()) {
      in.gradient = std::make_unique<AttentionStack>(std::move(example.gradient));
    }
    in.tokens = std::move(example.tokens);
    in.name = a.input + " example " + std::to_string(i);
    if (fused) in.fused_by = info.fusion;
    PlotArgs args = a;
    // In a decoder the first token sees only itself: explain the last one.
    if (info.causal && !a.target_given) args.target = -1;
    draw_figure(args, in, folder ? figure_in_folder(a, i) : a.output);
  }
}

void run(const PlotArgs& a) {
  if (!kKinds.count(a.kind)) {
    throw Error("--kind: unknown '" + a.kind +
                "' (expected heatmap, heads, maps, graph, bars or corr)");
  }
  if (is_corpus_path(a.input)) {
    run_corpus(a);
    return;
  }
  if (a.example_given || !a.examples.empty() || !a.format.empty()) {
    throw Error(a.input + ": --example, --examples and --format are for HDF5 corpora (.h5/.hdf5)");
  }
  // Cheap checks first, before reading and analysing.
  plot::image_format(a.output);
  plot::find_gnuplot();

  io::NpyExample example = io::read_npy_example(a.input, a.gradient, a.tokens);
  PlotInput in;
  in.attention = std::move(example.attention);
  in.gradient = std::move(example.gradient);
  in.tokens = std::move(example.tokens);
  in.name = a.input;
  draw_figure(a, in, a.output);
}

}  // namespace

void add_plot_command(CLI::App& app) {
  auto args = std::make_shared<PlotArgs>();
  CLI::App* cmd = app.add_subcommand(
      "plot",
      "Draw a figure of one attention stack or of corpus examples: heatmap, heads, maps, graph, "
      "bars or corr");
  cmd->add_option("input", args->input,
                  "Attention stack: .npy of shape (layers, heads, n, n) or (layers, n, n); or an "
                  "HDF5 corpus (.h5/.hdf5, docs/hdf5-schema.md) with --example or --examples")
      ->required();
  cmd->add_option("-o,--output", args->output,
                  "Figure file: .png, .svg or .pdf; or a folder (DIR/) that gets "
                  "fig_<kind>_<index>.<format> per corpus example")
      ->required();
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
  cmd->add_option("-t,--target", args->target,
                  "Target token row for maps, bars and corr (negative counts from the end, -1 = "
                  "last token; causal corpora default to -1)")
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
  const std::string group = "HDF5 corpus (.h5/.hdf5 input)";
  CLI::Option* example =
      cmd->add_option("--example", args->example, "Example to draw (0-based index)")->group(group);
  cmd->add_option("--examples", args->examples,
                  "Examples to draw, one figure each into the folder -o DIR/: indices and "
                  "ranges, e.g. 0,3,5 or 0-9 or 0-4,7")
      ->group(group)
      ->excludes(example);
  cmd->add_option("--format", args->format,
                  "Figures in a folder (-o DIR/): png (default), svg or pdf")
      ->group(group);
  cmd->callback([args, cmd] {
    args->example_given = cmd->count("--example") > 0;
    args->target_given = cmd->count("--target") > 0;
    run(*args);
  });
}

}  // namespace attnflow::app
