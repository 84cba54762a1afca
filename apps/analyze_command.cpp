// `attnflow analyze`: reads one attention stack (.npy), runs the chosen
// methods for the target rows, prints a table per method and writes a CSV;
// an HDF5 corpus (.h5/.hdf5) goes to the corpus mode (analyze_corpus.cpp).
#include "analyze_command.hpp"

#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>

#include "analyze_corpus.hpp"
#include "attnflow/core/analysis.hpp"
#include "attnflow/core/error.hpp"
#include "attnflow/io/npy.hpp"

namespace attnflow::app {
namespace {

struct AnalyzeArgs {
  std::string input;
  std::string gradient;
  std::string tokens;
  std::string output;
  std::vector<std::string> methods = {"raw", "rollout", "flow"};
  std::string fusion = "mean";
  std::vector<double> head_weights;
  double alpha = 0.5;
  bool no_residual = false;
  bool no_renormalize = false;
  double discard = 0.0;
  std::string discard_scope = "global";
  bool no_flow_normalize = false;
  std::string flow_algorithm = "push-relabel";
  int threads = 0;
  std::string grad_rule = "chefer";
  bool grad_signed = false;
  bool all_rows = false;
  bool quiet = false;
  AnalysisOptions options;
  CorpusArgs corpus;
};

std::string label(const std::vector<std::string>& tokens, int k) {
  return k < static_cast<int>(tokens.size()) ? tokens[static_cast<std::size_t>(k)]
                                             : std::to_string(k);
}

void print_tables(const AnalysisResult& result, const std::vector<std::string>& tokens,
                  std::ostream& os) {
  for (const auto& [method, maps] : result.maps) {
    for (std::size_t r = 0; r < maps.rows.size(); ++r) {
      os << "\n"
         << to_string(method) << " — target row " << maps.rows[r] << " ("
         << label(tokens, maps.rows[r]) << ")\nlayer";
      const auto n = maps.maps.front().cols();
      for (Eigen::Index j = 0; j < n; ++j) os << "\t" << label(tokens, static_cast<int>(j));
      os << "\n";
      for (std::size_t k = 0; k < maps.layers.size(); ++k) {
        os << "L" << maps.layers[k];
        for (Eigen::Index j = 0; j < n; ++j) {
          os << "\t" << std::fixed << std::setprecision(3)
             << maps.maps[k](static_cast<Eigen::Index>(r), j);
        }
        os << "\n";
      }
    }
  }
}

// Long-format CSV (method,layer,row,column,token,value), written to a
// temporary name and renamed, so a failed run leaves no complete-looking file.
void write_csv(const AnalysisResult& result, const std::vector<std::string>& tokens,
               const std::string& path) {
  const std::string tmp = path + ".partial";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) throw Error(path + ": cannot write output file");
    out << "method,layer,row,column,token,value\n" << std::setprecision(17);
    for (const auto& [method, maps] : result.maps) {
      for (std::size_t k = 0; k < maps.layers.size(); ++k) {
        for (std::size_t r = 0; r < maps.rows.size(); ++r) {
          for (Eigen::Index j = 0; j < maps.maps[k].cols(); ++j) {
            std::string tok = label(tokens, static_cast<int>(j));
            std::string quoted = "\"";
            for (char c : tok) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
            out << to_string(method) << "," << maps.layers[k] << "," << maps.rows[r] << "," << j
                << "," << quoted << "\"," << maps.maps[k](static_cast<Eigen::Index>(r), j) << "\n";
          }
        }
      }
    }
    if (!out.flush()) throw Error(path + ": write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw Error(path + ": cannot move the finished file into place");
  }
}

void run(AnalyzeArgs& a) {
  AnalysisOptions& o = a.options;
  o.methods.clear();
  for (const auto& m : a.methods) o.methods.push_back(parse_method(m));
  if (a.all_rows) o.target_rows.clear();
  o.prepare.fusion.method = parse_head_fusion(a.fusion);
  o.prepare.fusion.head_weights = a.head_weights;
  o.prepare.residual.enabled = !a.no_residual;
  o.prepare.residual.alpha = a.alpha;
  o.prepare.residual.renormalize = !a.no_renormalize;
  o.prepare.discard.ratio = a.discard;
  if (a.discard_scope == "global")
    o.prepare.discard.scope = DiscardScope::Global;
  else if (a.discard_scope == "row")
    o.prepare.discard.scope = DiscardScope::PerRow;
  else
    throw Error("--discard-scope: unknown '" + a.discard_scope + "' (expected global or row)");
  o.flow.normalize = !a.no_flow_normalize;
  o.flow.algorithm = parse_flow_algorithm(a.flow_algorithm);
  o.flow.threads = a.threads;
  if (a.grad_rule == "chefer")
    o.grad.rule = GradRolloutRule::Chefer;
  else if (a.grad_rule == "vit-explain")
    o.grad.rule = GradRolloutRule::VitExplain;
  else
    throw Error("--grad-rule: unknown '" + a.grad_rule + "' (expected chefer or vit-explain)");
  o.grad.signed_relevance = a.grad_signed;

  if (is_corpus_path(a.input)) {
    if (!a.gradient.empty() || !a.tokens.empty()) {
      throw Error(
          "--gradient and --tokens are for .npy input; an HDF5 corpus stores gradients "
          "and tokens per example");
    }
    run_corpus(a.input, o, a.threads, a.output, a.quiet, a.corpus);
    return;
  }
  const CorpusArgs defaults;
  if (!a.corpus.output_h5.empty() || a.corpus.run != defaults.run || a.corpus.no_store ||
      a.corpus.overwrite || a.corpus.resume || a.corpus.precision != defaults.precision ||
      a.corpus.csv_values) {
    throw Error(a.input +
                ": --output-h5, --run, --no-store, --overwrite, --resume, --precision and "
                "--csv-values are for HDF5 corpora (.h5/.hdf5)");
  }
  const io::NpyExample example = io::read_npy_example(a.input, a.gradient, a.tokens);
  const AttentionStack& attention = example.attention;
  const std::vector<std::string>& tokens = example.tokens;
  for (int& row : o.target_rows) {
    if (row < 0 && row + attention.tokens() >= 0) row += attention.tokens();  // -1 = last token
  }
  const AnalysisResult result = analyze(attention, example.gradient.get(), o);
  if (!a.quiet) {
    std::cout << a.input << ": " << attention.layers() << " layers, " << attention.heads()
              << " heads, " << attention.tokens() << " tokens\n";
    print_tables(result, tokens, std::cout);
  }
  if (!a.output.empty()) {
    write_csv(result, tokens, a.output);
    if (!a.quiet) std::cout << "\nwrote " << a.output << "\n";
  }
}

}  // namespace

void add_analyze_command(CLI::App& app) {
  auto args = std::make_shared<AnalyzeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "analyze", "Raw attention, rollout, attention flow and gradient rollout for target tokens");
  cmd->add_option("input", args->input,
                  "Attention stack: .npy float32/float64 of shape (layers, heads, n, n) or "
                  "(layers, n, n), row = query; or an HDF5 corpus (.h5/.hdf5, "
                  "docs/hdf5-schema.md)")
      ->required();
  cmd->add_option("--gradient", args->gradient, "dy/dA stack (.npy, same shape) for grad-rollout");
  cmd->add_option("--tokens", args->tokens, "Token labels, one per line (UTF-8)");
  cmd->add_option("-o,--output", args->output,
                  "CSV output. .npy: long format (method,layer,row,column,token,value); HDF5 "
                  "corpus: summary table, one row per example x method x row x layer");
  cmd->add_option("-m,--methods", args->methods, "raw, residual, rollout, flow, grad-rollout")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("-t,--target", args->options.target_rows,
                  "Target token rows (0 = CLS; negative counts from the end, -1 = last token)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_flag("--all-rows", args->all_rows, "Explain every token row");
  cmd->add_option("--layers", args->options.layers,
                  "Layers (1-based) for raw/residual/flow; default all")
      ->delimiter(',');
  cmd->add_option("--start-layer", args->options.start_layer, "First layer of rollout products")
      ->capture_default_str();
  cmd->add_option("--fusion", args->fusion, "Head fusion: mean, max, min, weighted")
      ->capture_default_str();
  cmd->add_option("--head-weights", args->head_weights,
                  "Weights for --fusion weighted: one per head, or per layer and head")
      ->delimiter(',');
  cmd->add_option("--alpha", args->alpha, "Residual weight: A_hat = (1-alpha) A + alpha I")
      ->capture_default_str();
  cmd->add_flag("--no-residual", args->no_residual, "Do not add the identity");
  cmd->add_flag("--no-renormalize", args->no_renormalize,
                "Do not renormalise rows after the residual");
  cmd->add_option("--discard", args->discard, "Fraction of smallest fused weights set to 0")
      ->capture_default_str();
  cmd->add_option("--discard-scope", args->discard_scope, "global or row")->capture_default_str();
  cmd->add_flag("--no-flow-normalize", args->no_flow_normalize,
                "Report raw max-flow values instead of row-normalised ones");
  cmd->add_option("--flow-algorithm", args->flow_algorithm, "bk, push-relabel or edmonds-karp")
      ->capture_default_str();
  cmd->add_option("-j,--threads", args->threads,
                  "Threads (0 = all cores): flow pairs for .npy; examples for an HDF5 corpus")
      ->capture_default_str();
  cmd->add_option("--grad-rule", args->grad_rule, "chefer or vit-explain")->capture_default_str();
  cmd->add_flag("--grad-signed", args->grad_signed, "Keep negative relevance (chefer rule)");
  cmd->add_flag("-q,--quiet", args->quiet, "Print nothing but errors (no progress bar)");
  add_corpus_options(*cmd, args->corpus);
  cmd->callback([args] { run(*args); });
}

}  // namespace attnflow::app
