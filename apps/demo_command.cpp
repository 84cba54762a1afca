#include "demo_command.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "attnflow/core/error.hpp"
#include "attnflow/version.hpp"
#include "output_folder.hpp"

#ifdef ATTNFLOW_HAVE_TORCH
#include "attnflow/core/analysis.hpp"
#include "attnflow/core/correlation.hpp"
#include "attnflow/core/fusion.hpp"
#include "attnflow/hf/tokenizer.hpp"
#include "attnflow/io/corpus_analysis.hpp"
#include "attnflow/io/corpus_reader.hpp"
#include "attnflow/io/store.hpp"
#include "attnflow/plot.hpp"
#include "attnflow/torch/model.hpp"
#endif

namespace attnflow::app {
namespace {

namespace fs = std::filesystem;

struct DemoArgs {
  std::string output = "attnflow-demo";
  std::string model;
  std::string sentences;
  int figures = 3;
  int threads = 0;
  bool overwrite = false;
  bool quiet = false;
};

#ifdef ATTNFLOW_HAVE_TORCH

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

const std::vector<std::string> kMethods = {"raw", "rollout", "flow", "grad-rollout"};

struct Sentence {
  std::string text;
  std::int64_t label = 0;
  std::int64_t prediction = 0;
  double probability = 0;  // of the predicted class
  std::vector<std::string> tokens;
};

std::vector<std::pair<std::string, double>> top_tokens(const std::vector<double>& values,
                                                       const std::vector<std::string>& tokens,
                                                       std::size_t k) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (tokens[i] != "[CLS]" && tokens[i] != "[SEP]") order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return values[a] > values[b]; });
  std::vector<std::pair<std::string, double>> out;
  for (std::size_t i = 0; i < std::min(k, order.size()); ++i) {
    out.emplace_back(tokens[order[i]], values[order[i]]);
  }
  return out;
}

void run_demo(const DemoArgs& a) {
  const auto started = Clock::now();
  const std::string model_dir = shipped_path(a.model, "datasets/models/sva");
  const std::string sentences_path = shipped_path(a.sentences, "datasets/sva/demo.jsonl");
  plot::find_gnuplot();  // a clear error before any work when gnuplot is missing
  OutputFolder folder(a.output, a.overwrite);
  const fs::path partial = folder.path();
  std::vector<std::string> written;
  const auto say = [&](const std::string& line) {
    if (!a.quiet) std::cerr << line << "\n";
  };
  {
    // 1. extract
    auto t = Clock::now();
    torch::LoadOptions lo;
    lo.threads = a.threads;
    auto model = torch::Model::load(model_dir, lo);
    const torch::ModelInfo& info = model->info();
    if (info.head != torch::HeadKind::Classifier) {
      throw Error(model_dir + ": the demo needs a classifier (this is a " + info.architecture +
                  ")");
    }
    const auto tokenizer = hf::load_tokenizer(model_dir);
    const io::Corpus corpus = io::read_corpus(sentences_path);
    io::StoreInfo store_info;
    store_info.model = model_dir;
    store_info.tokenizer = std::string(tokenizer->model_type()) + " (" + model_dir + ")";
    store_info.layers = info.layers;
    store_info.heads = info.heads;
    store_info.causal = info.causal;
    const std::string h5 = (partial / "demo.h5").string();
    std::vector<Sentence> sentences;
    {
      io::Store store = io::Store::create(h5, store_info);
      for (const io::CorpusExample& e : corpus.examples) {
        const hf::Encoding enc = tokenizer->encode(e.text);
        torch::RunOptions ro;
        ro.target.kind = torch::TargetKind::PredictedClass;
        ro.logits = true;
        const torch::Output o = model->run({torch::Input{enc.ids, {}, e.label}}, ro).front();
        const auto n = static_cast<int>(o.n);
        io::Example ex;
        ex.tokens = enc.tokens;
        ex.token_ids = enc.ids;
        ex.attention = AttentionStack(o.attention, info.layers, info.heads, n);
        ex.gradient = AttentionStack(o.attention_gradient, info.layers, info.heads, n);
        ex.label = e.label;
        ex.target = o.target_index;
        ex.prediction = o.prediction;
        store.append(ex);
        Sentence s;
        s.text = e.text;
        s.label = e.label.value_or(-1);
        s.prediction = *o.prediction;
        s.probability = torch::class_probabilities(o)[static_cast<std::size_t>(*o.prediction)];
        s.tokens = enc.tokens;
        sentences.push_back(std::move(s));
      }
    }
    say("extract: " + std::to_string(sentences.size()) + " sentences with " + info.architecture +
        " (" + std::to_string(info.layers) + " layers x " + std::to_string(info.heads) +
        " heads) in " + std::to_string(since(t)).substr(0, 5) + " s");

    // 2. analyze: CLS row, every layer, into the store (run "demo")
    t = Clock::now();
    io::CorpusAnalysisOptions co;
    co.analysis.methods.clear();
    for (const std::string& m : kMethods) co.analysis.methods.push_back(parse_method(m));
    co.analysis.target_rows = {0};
    co.threads = a.threads;
    co.run = "demo";
    co.precision = io::Precision::Float64;
    std::vector<AnalysisResult> results(sentences.size());
    co.on_result = [&](const io::CorpusItem& item) {
      results[static_cast<std::size_t>(item.index)] = *item.result;
    };
    io::analyze_corpus(h5, co);
    written.push_back("demo.h5");
    say("analyze: raw, rollout, flow, grad-rollout of the CLS row at every layer in " +
        std::to_string(since(t)).substr(0, 5) + " s");

    // 3. figures for the first sentences
    t = Clock::now();
    const io::Store store = io::Store::open(h5);
    const std::set<std::string> special = {"[CLS]", "[SEP]"};
    const int figures = std::min<int>(a.figures, static_cast<int>(sentences.size()));
    for (int i = 0; i < figures; ++i) {
      const io::Example ex = store.read(i);
      const std::vector<plot::NamedMaps> maps =
          plot::named_maps(results[static_cast<std::size_t>(i)]);
      const std::string id = std::to_string(i);
      const std::string verdict = sentences[static_cast<std::size_t>(i)].prediction ==
                                          sentences[static_cast<std::size_t>(i)].label
                                      ? "correct"
                                      : "misclassified";
      const auto file = [&](const std::string& name) {
        written.push_back(name);
        return (partial / name).string();
      };
      plot::TargetMapsOptions mo;
      mo.figure.title = "Sentence " + id + " (" + verdict + "): CLS row per layer";
      // Each method on its own scale (gradient rollout's relevance is on another scale than
      // attention) and without the [CLS]/[SEP] columns (rollouts keep most mass on [CLS]).
      mo.shared_scale = false;
      mo.hide_tokens = special;
      plot::plot_target_maps(maps, 0, ex.tokens, file("maps_" + id + ".png"), mo);
      plot::HeadGridOptions ho;
      plot::plot_head_grid(ex.attention, info.layers, ex.tokens, file("heads_" + id + ".png"), ho);
      plot::AttentionGraphOptions go;
      go.figure.title = "Sentence " + id + ": attention graph (heads fused, residual added)";
      PrepareOptions prep;
      plot::plot_attention_graph(prepare_layers(ex.attention, prep), ex.tokens,
                                 file("graph_" + id + ".png"), go);
      plot::RelevanceBarsOptions bo;
      bo.hide_tokens = special;
      bo.scaling = plot::BarScaling::Max;
      plot::plot_relevance_bars(plot::relevance_at(maps, 0, info.layers, "demo"), ex.tokens,
                                file("bars_" + id + ".png"), bo);
    }
    // Correlations between methods per layer, mean over all sentences (CLS row, specials out).
    std::vector<plot::CorrelationSeries> mean;
    for (std::size_t i = 0; i < sentences.size(); ++i) {
      const auto series = plot::method_correlations(plot::named_maps(results[i]), 0,
                                                    sentences[i].tokens, special, "demo");
      if (mean.empty()) {
        mean = series;
        for (auto& s : mean) std::fill(s.values.begin(), s.values.end(), 0.0);
      }
      for (std::size_t k = 0; k < series.size(); ++k)
        for (std::size_t l = 0; l < series[k].values.size(); ++l)
          mean[k].values[l] += (std::isnan(series[k].values[l]) ? 0.0 : series[k].values[l]) /
                               static_cast<double>(sentences.size());
    }
    plot::CorrelationChartOptions cc;
    cc.figure.title = "Spearman correlation between methods (CLS row), mean over " +
                      std::to_string(sentences.size()) + " sentences";
    written.push_back("correlations.png");
    plot::plot_layer_correlations(mean, (partial / "correlations.png").string(), cc);
    say("figures: " + std::to_string(written.size() - 1) + " in " +
        std::to_string(since(t)).substr(0, 5) + " s");

    // 4. summary
    std::ostringstream s;
    s << "attnflow " << ATTNFLOW_VERSION_STRING << " demo\nmodel: " << model_dir << " ("
      << info.architecture << ", " << info.layers << " layers x " << info.heads
      << " heads)\nsentences: " << sentences_path << "\n\n";
    int correct = 0;
    for (std::size_t i = 0; i < sentences.size(); ++i) {
      const Sentence& x = sentences[i];
      correct += x.prediction == x.label ? 1 : 0;
      s << i << ". \"" << x.text << "\"\n   gold " << (x.label == 0 ? "singular" : "plural")
        << ", predicted " << (x.prediction == 0 ? "singular" : "plural") << " (p=" << std::fixed
        << std::setprecision(3) << x.probability << ")"
        << (x.prediction == x.label ? "" : "  <- misclassified") << "\n";
      const auto named = plot::named_maps(results[i]);
      for (const plot::NamedMaps& m : named) {
        const LayerMaps& lm = m.maps;
        const Matrix& last = lm.maps.back();
        std::vector<double> row(static_cast<std::size_t>(last.cols()));
        for (Eigen::Index c = 0; c < last.cols(); ++c)
          row[static_cast<std::size_t>(c)] = last(0, c);
        s << "   " << std::left << std::setw(13) << m.name << std::right << " top at layer "
          << lm.layers.back() << ":";
        for (const auto& [tok, v] : top_tokens(row, x.tokens, 3)) {
          s << "  " << tok << " " << std::defaultfloat << std::setprecision(2) << v << std::fixed;
        }
        s << "\n";
      }
    }
    s << "\naccuracy on these sentences: " << correct << "/" << sentences.size() << "\n\n";
    s << "mean Spearman correlation per layer (CLS row, [CLS]/[SEP] left out):\n";
    for (const auto& m : mean) {
      s << "   " << std::left << std::setw(28) << m.name << std::right;
      for (double v : m.values) s << std::setw(7) << std::setprecision(2) << v;
      s << "\n";
    }
    {
      std::ofstream f(partial / "summary.txt");
      f << s.str();
      if (!f) throw Error((partial / "summary.txt").string() + ": cannot write");
    }
    written.push_back("summary.txt");
    folder.commit();
    std::cout << s.str() << "\nwrote " << written.size() << " files to " << a.output << "/ in "
              << std::setprecision(1) << since(started) << " s:";
    for (const std::string& f : written) std::cout << " " << f;
    std::cout << "\n";
  }
}

#endif  // ATTNFLOW_HAVE_TORCH

}  // namespace

void add_demo_command(CLI::App& app) {
  auto args = std::make_shared<DemoArgs>();
  CLI::App* cmd = app.add_subcommand(
      "demo", "Extract, analyze and draw on the shipped model and sentences (offline)");
  cmd->add_option("-o,--output", args->output, "Output folder")->capture_default_str();
  cmd->add_option("--model", args->model, "Model directory (default: datasets/models/sva)");
  cmd->add_option("--sentences", args->sentences,
                  "JSONL sentences with labels (default: datasets/sva/demo.jsonl)");
  cmd->add_option("--figures", args->figures, "Sentences to draw")->capture_default_str();
  cmd->add_option("-j,--threads", args->threads, "Threads (0 = all cores)")->capture_default_str();
  cmd->add_flag("--overwrite", args->overwrite, "Replace an existing output folder");
  cmd->add_flag("-q,--quiet", args->quiet, "Print only the summary");
  cmd->callback([args] {
#ifdef ATTNFLOW_HAVE_TORCH
    run_demo(*args);
#else
    throw Error("attnflow was built without libtorch: demo is not available");
#endif
  });
}

}  // namespace attnflow::app
