// run_demo: extract -> analyze (pipeline::analyze_corpus) -> figures -> summary.txt.
#include "attnflow/pipeline/demo.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <set>
#include <sstream>

#include "attnflow/core/analysis.hpp"
#include "attnflow/core/error.hpp"
#include "attnflow/core/fusion.hpp"
#include "attnflow/hf/tokenizer.hpp"
#include "attnflow/io/corpus_reader.hpp"
#include "attnflow/io/store.hpp"
#include "attnflow/pipeline/analyze_corpus.hpp"
#include "attnflow/pipeline/output_folder.hpp"
#include "attnflow/plot.hpp"
#include "attnflow/torch/model.hpp"
#include "attnflow/torch/train.hpp"
#include "attnflow/version.hpp"

namespace attnflow::pipeline {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}
std::string seconds_text(Clock::time_point t) {
  return std::to_string(since(t)).substr(0, 5);
}

const std::vector<std::string> kMethods = {"raw", "rollout", "flow", "grad-rollout"};
const std::set<std::string> kSpecial = {"[CLS]", "[SEP]"};

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

// Step 1: every sentence through the classifier (attention, dy/dA of the predicted class's
// logit) into a new store at `h5`.
std::vector<DemoSentence> extract(torch::Model& model, const hf::Tokenizer& tokenizer,
                                  const io::Corpus& corpus, const std::string& model_dir,
                                  const std::string& h5) {
  const torch::ModelInfo& info = model.info();
  io::StoreInfo store_info;
  store_info.model = model_dir;
  store_info.tokenizer = std::string(tokenizer.model_type()) + " (" + model_dir + ")";
  store_info.layers = info.layers;
  store_info.heads = info.heads;
  store_info.causal = info.causal;
  std::vector<DemoSentence> sentences;
  io::Store store = io::Store::create(h5, store_info);
  for (const io::CorpusExample& e : corpus.examples) {
    const hf::Encoding enc = tokenizer.encode(e.text);
    torch::RunOptions ro;
    ro.target.kind = torch::TargetKind::PredictedClass;
    ro.logits = true;
    const torch::Output o = model.run({torch::Input{enc.ids, {}, e.label}}, ro).front();
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
    DemoSentence s;
    s.text = e.text;
    s.label = e.label.value_or(-1);
    s.prediction = *o.prediction;
    s.probability = torch::class_probabilities(o)[static_cast<std::size_t>(*o.prediction)];
    s.tokens = enc.tokens;
    sentences.push_back(std::move(s));
  }
  return sentences;
}

// Step 2: CLS row, every layer, into the store (run "demo"), the maps as stored (float64).
std::vector<AnalysisResult> analyze(const std::string& h5, std::size_t sentences, int threads) {
  CorpusAnalysisOptions co;
  co.analysis.methods.clear();
  for (const std::string& m : kMethods) co.analysis.methods.push_back(parse_method(m));
  co.analysis.target_rows = {0};
  co.threads = threads;
  co.run = "demo";
  co.precision = io::Precision::Float64;
  std::vector<AnalysisResult> results(sentences);
  co.on_result = [&](const CorpusItem& item) {
    results[static_cast<std::size_t>(item.index)] = *item.result;
  };
  analyze_corpus(h5, co);
  return results;
}

// Step 3a: maps, head grid, attention graph and relevance bars of sentence `i`.
void draw_sentence(const io::Example& ex, const AnalysisResult& result, const DemoSentence& s,
                   int i, int layers, const OutputFolder& folder, DemoReport& r) {
  const std::vector<plot::NamedMaps> maps = plot::named_maps(result);
  const std::string id = std::to_string(i);
  const std::string verdict = s.prediction == s.label ? "correct" : "misclassified";
  const auto file = [&](const std::string& name) {
    r.files.push_back(name);
    return folder.file(name);
  };
  plot::TargetMapsOptions mo;
  mo.figure.title = "Sentence " + id + " (" + verdict + "): CLS row per layer";
  // Each method on its own scale (gradient rollout's relevance is on another scale than
  // attention) and without the [CLS]/[SEP] columns (rollouts keep most mass on [CLS]).
  mo.shared_scale = false;
  mo.hide_tokens = kSpecial;
  plot::plot_target_maps(maps, 0, ex.tokens, file("maps_" + id + ".png"), mo);
  plot::HeadGridOptions ho;
  plot::plot_head_grid(ex.attention, layers, ex.tokens, file("heads_" + id + ".png"), ho);
  plot::AttentionGraphOptions go;
  go.figure.title = "Sentence " + id + ": attention graph (heads fused, residual added)";
  PrepareOptions prep;
  plot::plot_attention_graph(prepare_layers(ex.attention, prep), ex.tokens,
                             file("graph_" + id + ".png"), go);
  plot::RelevanceBarsOptions bo;
  bo.hide_tokens = kSpecial;
  bo.scaling = plot::BarScaling::Max;
  plot::plot_relevance_bars(plot::relevance_at(maps, 0, layers, "demo"), ex.tokens,
                            file("bars_" + id + ".png"), bo);
}

// Step 3b: correlations between methods per layer, mean over all sentences (CLS row, specials
// out, NaN as 0).
std::vector<plot::CorrelationSeries> mean_correlations(const std::vector<AnalysisResult>& results,
                                                       const std::vector<DemoSentence>& sentences) {
  std::vector<plot::CorrelationSeries> mean;
  for (std::size_t i = 0; i < sentences.size(); ++i) {
    const auto series = plot::method_correlations(plot::named_maps(results[i]), 0,
                                                  sentences[i].tokens, kSpecial, "demo");
    if (mean.empty()) {
      mean = series;
      for (auto& s : mean) std::fill(s.values.begin(), s.values.end(), 0.0);
    }
    for (std::size_t k = 0; k < series.size(); ++k)
      for (std::size_t l = 0; l < series[k].values.size(); ++l)
        mean[k].values[l] += (std::isnan(series[k].values[l]) ? 0.0 : series[k].values[l]) /
                             static_cast<double>(sentences.size());
  }
  return mean;
}

void draw_figures(const std::string& h5, const std::vector<AnalysisResult>& results,
                  const DemoOptions& o, const OutputFolder& folder, DemoReport& r) {
  const io::Store store = io::Store::open(h5);
  const int figures = std::min<int>(o.figures, static_cast<int>(r.sentences.size()));
  for (int i = 0; i < figures; ++i) {
    const auto k = static_cast<std::size_t>(i);
    draw_sentence(store.read(i), results[k], r.sentences[k], i, r.layers, folder, r);
  }
  r.correlations = mean_correlations(results, r.sentences);
  plot::CorrelationChartOptions cc;
  cc.figure.title = "Spearman correlation between methods (CLS row), mean over " +
                    std::to_string(r.sentences.size()) + " sentences";
  r.files.push_back("correlations.png");
  plot::plot_layer_correlations(r.correlations, folder.file("correlations.png"), cc);
}

// Step 4: summary.txt.
std::string summary_text(const DemoReport& r, const std::vector<AnalysisResult>& results) {
  std::ostringstream s;
  s << "attnflow " << ATTNFLOW_VERSION_STRING << " demo\nmodel: " << r.model_dir << " ("
    << r.architecture << ", " << r.layers << " layers x " << r.heads
    << " heads)\nsentences: " << r.sentences_path << "\n\n";
  int correct = 0;
  for (std::size_t i = 0; i < r.sentences.size(); ++i) {
    const DemoSentence& x = r.sentences[i];
    correct += x.prediction == x.label ? 1 : 0;
    s << i << ". \"" << x.text << "\"\n   gold " << (x.label == 0 ? "singular" : "plural")
      << ", predicted " << (x.prediction == 0 ? "singular" : "plural") << " (p=" << std::fixed
      << std::setprecision(3) << x.probability << ")"
      << (x.prediction == x.label ? "" : "  <- misclassified") << "\n";
    for (const plot::NamedMaps& m : plot::named_maps(results[i])) {
      const LayerMaps& lm = m.maps;
      const Matrix& last = lm.maps.back();
      std::vector<double> row(static_cast<std::size_t>(last.cols()));
      for (Eigen::Index c = 0; c < last.cols(); ++c) row[static_cast<std::size_t>(c)] = last(0, c);
      s << "   " << std::left << std::setw(13) << m.name << std::right << " top at layer "
        << lm.layers.back() << ":";
      for (const auto& [tok, v] : top_tokens(row, x.tokens, 3)) {
        s << "  " << tok << " " << std::defaultfloat << std::setprecision(2) << v << std::fixed;
      }
      s << "\n";
    }
  }
  s << "\naccuracy on these sentences: " << correct << "/" << r.sentences.size() << "\n\n";
  s << "mean Spearman correlation per layer (CLS row, [CLS]/[SEP] left out):\n";
  for (const auto& m : r.correlations) {
    s << "   " << std::left << std::setw(28) << m.name << std::right;
    for (double v : m.values) s << std::setw(7) << std::setprecision(2) << v;
    s << "\n";
  }
  return s.str();
}

}  // namespace

DemoReport run_demo(const DemoOptions& o) {
  const auto started = Clock::now();
  DemoReport r;
  r.output = o.output;
  r.model_dir = shipped_path(o.model_dir, "datasets/models/sva");
  r.sentences_path = shipped_path(o.sentences_path, "datasets/sva/demo.jsonl");
  const auto say = [&](const std::string& line) {
    if (o.on_step) o.on_step(line);
  };
  plot::find_gnuplot();  // a clear error before any work when gnuplot is missing
  OutputFolder folder(o.output, o.overwrite);
  auto t = Clock::now();
  torch::LoadOptions lo;
  lo.threads = o.threads;
  auto model = torch::Model::load(r.model_dir, lo);
  const torch::ModelInfo& info = model->info();
  if (info.head != torch::HeadKind::Classifier) {
    throw Error(r.model_dir + ": the demo needs a classifier (this is a " + info.architecture +
                ")");
  }
  r.architecture = info.architecture;
  r.layers = info.layers;
  r.heads = info.heads;
  const auto tokenizer = hf::load_tokenizer(r.model_dir);
  const io::Corpus corpus = io::read_corpus(r.sentences_path);
  const std::string h5 = folder.file("demo.h5");
  r.sentences = extract(*model, *tokenizer, corpus, r.model_dir, h5);
  say("extract: " + std::to_string(r.sentences.size()) + " sentences with " + info.architecture +
      " (" + std::to_string(info.layers) + " layers x " + std::to_string(info.heads) +
      " heads) in " + seconds_text(t) + " s");
  t = Clock::now();
  const std::vector<AnalysisResult> results = analyze(h5, r.sentences.size(), o.threads);
  r.files.push_back("demo.h5");
  say("analyze: raw, rollout, flow, grad-rollout of the CLS row at every layer in " +
      seconds_text(t) + " s");
  t = Clock::now();
  draw_figures(h5, results, o, folder, r);
  say("figures: " + std::to_string(r.files.size() - 1) + " in " + seconds_text(t) + " s");
  std::vector<std::int64_t> predictions, labels;
  for (const DemoSentence& s : r.sentences) {
    predictions.push_back(s.prediction);
    labels.push_back(s.label);
  }
  r.accuracy = torch::accuracy(predictions, labels);
  r.summary = summary_text(r, results);
  {
    std::ofstream f(folder.path() / "summary.txt");
    f << r.summary;
    if (!f) throw Error(folder.file("summary.txt") + ": cannot write");
  }
  r.files.push_back("summary.txt");
  folder.commit();
  r.seconds = since(started);
  return r;
}

}  // namespace attnflow::pipeline
