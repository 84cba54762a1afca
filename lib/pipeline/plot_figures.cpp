// plot_figures: checks per input kind, example selection and figure names,
// then one draw_figure per figure (plot_draw.cpp).
#include "attnflow/pipeline/plot_figures.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <system_error>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/enum_names.hpp"
#include "attnflow/io/npy.hpp"
#include "attnflow/io/store.hpp"
#include "plot_draw.hpp"

namespace attnflow::pipeline {
namespace {

using detail::PlotInput;

// --format of the figures in a folder (the empty default is png).
constexpr EnumName<plot::ImageFormat> kFolderFormatNames[] = {
    {plot::ImageFormat::Png, "png"},
    {plot::ImageFormat::Svg, "svg"},
    {plot::ImageFormat::Pdf, "pdf"},
};

// "10 examples (0..9)": what --example / --examples may choose from.
std::string holds(const std::string& input, std::int64_t size) {
  if (size == 0) return input + " holds no examples";
  return input + " holds " + std::to_string(size) + (size == 1 ? " example" : " examples") +
         " (0.." + std::to_string(size - 1) + ")";
}

// -o names a folder when it ends with '/' or is an existing folder.
bool is_folder_output(const std::string& output) {
  return !output.empty() && (output.back() == '/' || std::filesystem::is_directory(output));
}

// Figure of example `index` in the folder: <folder>/fig_<kind>_<index>.<format>.
std::string figure_in_folder(const PlotOptions& a, std::int64_t index) {
  const std::string folder = a.output.back() == '/' ? a.output : a.output + "/";
  return folder + "fig_" + to_string(a.kind) + "_" + std::to_string(index) + "." +
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

// The corpus options that do not need the store: -o, --format, --examples.
void check_corpus_output(const PlotOptions& a, bool folder) {
  if (!a.gradient.empty() || !a.tokens.empty()) {
    throw Error(
        "--gradient and --tokens are for .npy input; an HDF5 corpus stores gradients and tokens "
        "per example");
  }
  if (folder) {
    if (!a.format.empty()) parse_enum(kFolderFormatNames, a.format, "--format");
    return;
  }
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

// `attnflow plot corpus.h5 --example I | --examples LIST`: every check that
// can fail before the first figure is written, then one figure per example.
PlotReport plot_corpus(const PlotOptions& a) {
  const bool folder = is_folder_output(a.output);
  check_corpus_output(a, folder);
  plot::find_gnuplot();
  const io::Store store = open_attention_store(a.input, "plot");
  const io::StoreInfo& info = store.info();
  const std::vector<std::int64_t> indices =
      choose_examples(a.input, store.size(), a.example_given, a.example, a.examples);
  if (detail::uses_cross(a.kind) && info.decoder_layers == 0) {
    throw Error("-k " + std::string(to_string(a.kind)) + ": " + a.input +
                " holds no cross-attention (not an encoder-decoder store); give it as .npy of "
                "shape (layers, heads, decoder tokens, encoder tokens) with --tokens and "
                "--encoder-tokens");
  }
  if (detail::uses_cross(a.kind) && (!a.tokens.empty() || !a.encoder_tokens.empty())) {
    throw Error("--tokens / --encoder-tokens: " + a.input +
                " holds its own decoder and encoder tokens");
  }
  detail::check_examples(a, store, indices);
  if (folder) prepare_folder(a.output);

  PlotReport report;
  io::ReadOptions read;
  read.gradient = detail::uses_methods(a.kind) && wants_gradient(a.analysis);
  for (std::int64_t i : indices) {
    io::Example example = store.read(i, read);
    PlotInput in;
    if (detail::uses_cross(a.kind)) {  // an encoder-decoder store: decoder rows, encoder columns
      in.cross = std::move(example.decoder.cross_attention);
      in.encoder_tokens = example.tokens;
      example.tokens = std::move(example.decoder.tokens);
    }
    in.attention = std::move(example.attention);
    in.contributions = std::move(example.contributions);
    if (!example.gradient.empty()) {
      in.gradient = std::make_unique<AttentionStack>(std::move(example.gradient));
    }
    in.tokens = std::move(example.tokens);
    in.name = a.input + " example " + std::to_string(i);
    if (info.mode == io::StoreMode::Fused) in.fused_by = info.fusion;
    in.layer_selection = info.layer_selection;
    in.head_selection = info.head_selection;
    // In a decoder the first token sees only itself: explain the last one.
    const int target = info.causal && !a.target_given ? -1 : a.target;
    const std::string output = folder ? figure_in_folder(a, i) : a.output;
    detail::draw_figure(a, target, in, output);
    report.figures.push_back(output);
    if (a.on_figure) a.on_figure(output);
  }
  return report;
}

}  // namespace

namespace detail {

void check_examples(const PlotOptions& a, const io::Store& store,
                    const std::vector<std::int64_t>& indices) {
  const io::StoreInfo& info = store.info();
  const bool gradient = detail::uses_methods(a.kind) && wants_gradient(a.analysis);
  if (info.mode == io::StoreMode::Fused) {
    const std::string note = a.input + " stores head-fused attention (store mode 'fused', " +
                             "heads fused by " + info.fusion + " before storing)";
    if (a.kind == PlotKind::Heads) {
      throw Error("-k heads: " + note + "; use -k heatmap for the fused layer");
    }
    if (a.kind == PlotKind::Heatmap && a.head != 0) {
      throw Error("--head " + std::to_string(a.head) + ": " + note +
                  "; leave --head at 0 for the fused layer");
    }
    if (gradient) throw Error("grad-rollout: " + note + ", which keeps no gradient");
  }
  if (!detail::uses_methods(a.kind)) return;
  io::ReadOptions check;
  check.attention = false;
  check.gradient = gradient;
  for (std::int64_t i : indices) {
    const io::Example e = store.read(i, check);
    resolve_target_row(a.target, e.tokens_count(),
                       "--target: example " + std::to_string(i) + " of " + a.input);
    if (gradient && e.gradient.empty()) {
      throw Error("grad-rollout: example " + std::to_string(i) + " of " + a.input +
                  " has no gradient stored");
    }
  }
}

}  // namespace detail

PlotKind parse_plot_kind(const std::string& name) {
  return parse_enum(kPlotKindNames, name, "--kind");
}

const char* to_string(PlotKind kind) {
  return enum_name(kPlotKindNames, kind);
}

io::Store open_attention_store(const std::string& input, const std::string& command) {
  io::silence_hdf5_errors();  // every HDF5 failure reaches the user as one attnflow error
  io::Store store = io::Store::open(input);
  if (store.info().mode == io::StoreMode::Derived) {
    throw Error(input +
                ": stores no attention (store mode 'derived': tokens, labels and derived runs "
                "only); " +
                command + " needs a store of mode 'per-head' or 'fused'");
  }
  return store;
}

std::vector<std::int64_t> choose_examples(const std::string& input, std::int64_t size,
                                          bool example_given, std::int64_t example,
                                          const std::string& examples) {
  if (!examples.empty()) return parse_examples(examples, input, size);
  if (!example_given) {
    throw Error(holds(input, size) +
                ": choose one with --example I or several with --examples LIST (e.g. 0,3,5 or "
                "0-9)");
  }
  if (example < 0 || example >= size) {
    throw Error("--example " + std::to_string(example) + ": " + holds(input, size));
  }
  return {example};
}

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

namespace {

// -k cross / cross-heads of a .npy cross-attention stack (layers, heads, m, n).
PlotInput read_cross_npy(const PlotOptions& a) {
  if (!a.gradient.empty())
    throw Error("--gradient: -k " + std::string(to_string(a.kind)) + " draws attention only");
  PlotInput in;
  in.cross = io::read_cross_attention_npy(a.input);
  validate(in.cross, AttentionCheck::weights(a.input));
  const auto labels = [&](const std::string& path, int count, const char* what) {
    if (path.empty()) return std::vector<std::string>{};
    std::vector<std::string> tokens = io::read_token_lines(path);
    if (static_cast<int>(tokens.size()) != count) {
      throw Error(path + ": " + std::to_string(tokens.size()) + " token labels for " +
                  std::to_string(count) + " " + what + " tokens in " + a.input);
    }
    return tokens;
  };
  in.tokens = labels(a.tokens, in.cross.queries(), "decoder");
  in.encoder_tokens = labels(a.encoder_tokens, in.cross.keys(), "encoder");
  in.name = a.input;
  return in;
}

}  // namespace

PlotReport plot_figures(const PlotOptions& a) {
  if (a.kind == PlotKind::Compare) return detail::plot_compare(a);
  if (!a.compare_with.empty()) {
    throw Error(std::to_string(a.compare_with.size() + 1) +
                " inputs: several stores are for -k compare (one panel each); -k " +
                to_string(a.kind) + " draws one input");
  }
  if (!a.encoder_tokens.empty() && !detail::uses_cross(a.kind)) {
    throw Error("--encoder-tokens is for -k cross and -k cross-heads");
  }
  if (is_corpus_path(a.input)) return plot_corpus(a);
  if (a.example_given || !a.examples.empty() || !a.format.empty()) {
    throw Error(a.input + ": --example, --examples and --format are for HDF5 corpora (.h5/.hdf5)");
  }
  // Cheap checks first, before reading and analysing.
  plot::image_format(a.output);
  plot::find_gnuplot();
  if (detail::uses_cross(a.kind)) {
    detail::draw_figure(a, a.target, read_cross_npy(a), a.output);
    if (a.on_figure) a.on_figure(a.output);
    return PlotReport{{a.output}};
  }
  io::NpyExample example = io::read_npy_example(a.input, a.gradient, a.tokens);
  PlotInput in;
  in.attention = std::move(example.attention);
  in.gradient = std::move(example.gradient);
  in.tokens = std::move(example.tokens);
  in.name = a.input;
  detail::draw_figure(a, a.target, in, a.output);
  if (a.on_figure) a.on_figure(a.output);
  return PlotReport{{a.output}};
}

}  // namespace attnflow::pipeline
