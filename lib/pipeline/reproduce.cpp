// reproduce_abnar2020: evaluate the held-out corpus (model runs, analysis, baselines) ->
// per-example Spearman correlations -> tables (text, CSV) -> figures.
#include "attnflow/pipeline/reproduce.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include "attnflow/core/analysis.hpp"
#include "attnflow/core/correlation.hpp"
#include "attnflow/core/error.hpp"
#include "attnflow/core/residual.hpp"
#include "attnflow/hf/tokenizer.hpp"
#include "attnflow/io/corpus_reader.hpp"
#include "attnflow/pipeline/baselines.hpp"
#include "attnflow/pipeline/output_folder.hpp"
#include "attnflow/plot.hpp"
#include "attnflow/torch/model.hpp"
#include "attnflow/torch/train.hpp"
#include "attnflow/version.hpp"

namespace attnflow::pipeline {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const std::vector<std::string> kMethods = {"raw", "rollout", "flow", "grad-rollout"};
const std::vector<Convention> kConventions = {Convention::Paper, Convention::Attnflow};

// The paper's Tables 1 (blank-out) and 2 (input gradients), CLS row, layers 1..6.
const std::map<std::string, std::map<std::string, std::vector<double>>> kPaper = {
    {"blank-out",
     {{"raw", {0.69, 0.10, -0.11, -0.09, 0.20, 0.29}},
      {"rollout", {0.32, 0.38, 0.51, 0.62, 0.70, 0.71}},
      {"flow", {0.32, 0.44, 0.70, 0.70, 0.71, 0.70}}}},
    {"input-gradient",
     {{"raw", {0.53, 0.16, -0.06, 0.00, 0.24, 0.46}},
      {"rollout", {0.22, 0.27, 0.39, 0.47, 0.53, 0.54}},
      {"flow", {0.22, 0.31, 0.54, 0.61, 0.60, 0.61}}}},
};

const std::map<std::string, std::string> kTitles = {
    {"blank-out", "Table 1: Spearman correlation with blank-out (CLS row, mean ± std)"},
    {"input-gradient",
     "Table 2: Spearman correlation with input gradients |sum_d g| (CLS row; behind LayerNorm "
     "sum_d g is 0 up to rounding: docs/reproduce.md)"},
    {"input-x-gradient", "Table 2b: Spearman correlation with input x gradient |sum_d g.e|"}};

const std::map<std::string, std::string> kTableIds = {
    {"blank-out", "1"}, {"input-gradient", "2"}, {"input-x-gradient", "2b"}};

// Running mean and spread of correlations.
struct Stat {
  double sum = 0, sum_sq = 0;
  std::int64_t count = 0;
  void add(double v) {
    if (std::isnan(v)) v = 0;  // the paper's convention: NaN (constant scores) counts as 0
    sum += v;
    sum_sq += v * v;
    ++count;
  }
  double mean() const { return count ? sum / static_cast<double>(count) : 0.0; }
  double std() const {
    if (count < 2) return 0.0;
    const double m = mean();
    return std::sqrt(std::max(0.0, sum_sq / static_cast<double>(count) - m * m));
  }
};

// An evaluated example kept as a candidate for the figures.
struct Evaluated {
  std::string text;
  std::vector<std::string> tokens;
  std::int64_t label = 0, prediction = 0;
  int attractors = 0;
  AnalysisResult result;
  AttentionStack attention;
};

// What the model and corpus are, once loaded and checked.
struct Setup {
  std::unique_ptr<torch::Model> model;
  std::unique_ptr<hf::Tokenizer> tokenizer;
  std::int64_t unk = 0;
  io::Corpus corpus;
  std::vector<int> attractors;  // per line of the test file
  int count = 0;                // examples to evaluate
};

// Everything the evaluation of the corpus gives.
struct Evaluation {
  std::vector<std::int64_t> predictions, labels;
  // convention, baseline, method -> one Stat per layer
  std::map<Convention, std::map<std::string, std::map<std::string, std::vector<Stat>>>> stats;
  std::vector<Evaluated> kept;  // for the figures
  double blank_zero_max = 0;    // blank-out of a position holding [UNK] already
};

std::string fixed(double v, int digits = 2) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

// The attractor counts from the JSONL (the corpus reader keeps text and label only).
std::vector<int> read_attractors(const std::string& path) {
  std::vector<int> attractors;
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line)) {
    const auto at = line.find("\"attractors\": ");
    attractors.push_back(at == std::string::npos ? 0 : std::atoi(line.c_str() + at + 14));
  }
  return attractors;
}

Setup load(const ReproduceOptions& o, const std::string& model_dir, const std::string& test_path,
           int wanted) {
  Setup s;
  torch::LoadOptions lo;
  lo.threads = o.threads;
  s.model = torch::Model::load(model_dir, lo);
  const torch::ModelInfo& info = s.model->info();
  if (info.head != torch::HeadKind::Classifier || info.num_labels != 2 || info.causal) {
    throw Error(model_dir +
                ": needs the non-causal 2-class encoder classifier (attnflow "
                "train), found " +
                info.architecture);
  }
  s.tokenizer = hf::load_tokenizer(model_dir);
  const auto unk = s.tokenizer->special_ids().unk;
  if (!unk) throw Error(model_dir + ": the tokenizer has no unknown token for blank-out");
  s.unk = *unk;
  s.corpus = io::read_corpus(test_path);
  s.count = std::min<int>(wanted, static_cast<int>(s.corpus.examples.size()));
  if (o.on_note && s.count < wanted) {
    o.on_note("note: " + test_path + " has only " + std::to_string(s.count) + " examples");
  }
  s.attractors = read_attractors(test_path);
  return s;
}

// Correlations of every method's CLS row with every baseline, under both conventions.
void add_correlations(const AnalysisResult& r, const BaselineScores& base, Evaluation& ev) {
  for (const std::string& m : kMethods) {
    const LayerMaps& maps = r.maps.at(parse_method(m));
    for (std::size_t l = 0; l < maps.maps.size(); ++l) {
      const Matrix& map = maps.maps[l];
      std::vector<double> row(static_cast<std::size_t>(map.cols()));
      for (Eigen::Index c = 0; c < map.cols(); ++c) row[static_cast<std::size_t>(c)] = map(0, c);
      for (const Convention c : kConventions)
        for (const std::string& b : baseline_names())
          ev.stats[c][b][m][l].add(convention_spearman(row, baseline(base, b), c));
    }
  }
}

// Step 1-2 for one example: model run (attention, dy/dA of the label's logit), analysis,
// baselines, correlations; keeps the example for the figures when it is a candidate.
void evaluate_example(Setup& s, const io::CorpusExample& e, const AnalysisOptions& ao,
                      const std::string& test_path, bool first, Evaluation& ev) {
  if (!e.label) throw Error(test_path + ":" + std::to_string(e.line) + ": no label");
  const torch::ModelInfo& info = s.model->info();
  const hf::Encoding enc = s.tokenizer->encode(e.text);
  const auto n = static_cast<int>(enc.ids.size());
  const torch::Input in{enc.ids, {}, e.label};
  torch::RunOptions ro;
  ro.target.kind = torch::TargetKind::Label;  // grad-rollout explains the correct class
  ro.logits = true;
  const torch::Output o = s.model->run({in}, ro).front();
  ev.predictions.push_back(*o.prediction);
  ev.labels.push_back(*e.label);
  const BaselineOptions bo;  // every position blanked in turn, [CLS] and [SEP] too (the paper)
  const BaselineScores base = baseline_scores(*s.model, in, s.unk, bo);
  if (first) {  // invariant: blanking a token that is already [UNK] changes nothing
    torch::Input with_unk = in;
    with_unk.ids[1] = s.unk;
    ev.blank_zero_max = torch::blank_out_scores(*s.model, with_unk, *e.label, s.unk, bo.skip)[1];
  }
  const AttentionStack attention(o.attention, info.layers, info.heads, n);
  const AttentionStack gradient(o.attention_gradient, info.layers, info.heads, n);
  AnalysisResult r = analyze(attention, &gradient, ao);
  add_correlations(r, base, ev);
  // Candidates for the figures: the first 60 examples, and the first misclassified one.
  const bool first_miss = *o.prediction != *e.label &&
                          std::none_of(ev.kept.begin(), ev.kept.end(),
                                       [](const auto& k) { return k.prediction != k.label; });
  if (ev.kept.size() < 60 || first_miss) {
    const auto line = static_cast<std::size_t>(e.line - 1);
    ev.kept.push_back({e.text, enc.tokens, *e.label, *o.prediction,
                       s.attractors.size() > line ? s.attractors[line] : 0, std::move(r),
                       attention});
  }
}

Evaluation evaluate_corpus(Setup& s, const ReproduceOptions& o, const std::string& test_path) {
  AnalysisOptions ao;
  ao.methods.clear();
  for (const std::string& m : kMethods) ao.methods.push_back(parse_method(m));
  ao.target_rows = {0};
  ao.flow.threads = o.threads;
  Evaluation ev;
  const auto layers = static_cast<std::size_t>(s.model->info().layers);
  for (const Convention c : kConventions)
    for (const auto& b : baseline_names())
      for (const auto& m : kMethods) ev.stats[c][b][m].assign(layers, {});
  for (int i = 0; i < s.count; ++i) {
    evaluate_example(s, s.corpus.examples[static_cast<std::size_t>(i)], ao, test_path, i == 0, ev);
    if (o.on_progress) o.on_progress(i + 1, s.count);
  }
  // Invariant: a token that already is [UNK] cannot change the prediction when blanked;
  // only float rounding between rows of one batch (~1e-8 with OpenBLAS) may show.
  if (!(ev.blank_zero_max < 1e-6)) {
    throw Error("reproduce: blank-out of an [UNK] token by [UNK] changed p_correct by " +
                std::to_string(ev.blank_zero_max) + ": the batched model runs disagree");
  }
  return ev;
}

// Step 3: the tables of one convention from the accumulated correlations, with the paper's
// numbers.
std::vector<CorrelationTable> correlation_tables(const Evaluation& ev, Convention convention) {
  std::vector<CorrelationTable> tables;
  for (const std::string& b : baseline_names()) {
    CorrelationTable t;
    t.id = kTableIds.at(b);
    t.convention = convention_name(convention);
    t.baseline = b;
    t.title = kTitles.at(b);
    t.methods = kMethods;
    for (const std::string& m : kMethods) {
      const auto& stats = ev.stats.at(convention).at(b).at(m);
      const auto paper = kPaper.count(b) && kPaper.at(b).count(m) ? &kPaper.at(b).at(m) : nullptr;
      std::vector<CorrelationCell> row;
      for (std::size_t l = 0; l < stats.size(); ++l) {
        CorrelationCell c;
        c.mean = stats[l].mean();
        c.std = stats[l].std();
        c.examples = stats[l].count;
        if (paper && l < paper->size()) c.paper = (*paper)[l];
        row.push_back(c);
      }
      t.cells.push_back(std::move(row));
    }
    tables.push_back(std::move(t));
  }
  return tables;
}

// Both conventions' tables, the chosen one first: a row per convention, table, method, layer.
std::string tables_csv(const std::vector<CorrelationTable>& first,
                       const std::vector<CorrelationTable>& second) {
  std::ostringstream csv;
  csv << "convention,table,baseline,method,layer,mean,std,paper,examples\n";
  for (const auto* tables : {&first, &second})
    for (const CorrelationTable& t : *tables)
      for (std::size_t k = 0; k < t.methods.size(); ++k)
        for (std::size_t l = 0; l < t.cells[k].size(); ++l) {
          const CorrelationCell& c = t.cells[k][l];
          csv << t.convention << "," << t.id << "," << t.baseline << "," << t.methods[k] << ","
              << l + 1 << "," << c.mean << "," << c.std << "," << (c.paper ? fixed(*c.paper) : "")
              << "," << c.examples << "\n";
        }
  return csv.str();
}

// The tables as text: per method, ours under the chosen convention, ours under the other one,
// and the paper's numbers, one row each.
void tables_text(const std::vector<CorrelationTable>& tables,
                 const std::vector<CorrelationTable>& other, int layers, std::ostream& txt) {
  constexpr int kLabel = 30;
  for (std::size_t i = 0; i < tables.size(); ++i) {
    const CorrelationTable& t = tables[i];
    txt << "\n" << t.title << "\n" << std::setw(kLabel) << "";
    for (int l = 1; l <= layers; ++l) txt << std::setw(14) << ("L" + std::to_string(l));
    txt << "\n";
    for (std::size_t k = 0; k < t.methods.size(); ++k) {
      const std::string& m = t.methods[k];
      for (const CorrelationTable* u : {&t, &other[i]}) {
        txt << std::setw(kLabel) << std::left << ("ours " + m + " [" + u->convention + "]")
            << std::right;
        for (const CorrelationCell& c : u->cells[k])
          txt << std::setw(14) << (fixed(c.mean) + "±" + fixed(c.std));
        txt << "\n";
      }
      if (kPaper.count(t.baseline) && kPaper.at(t.baseline).count(m)) {
        txt << std::setw(kLabel) << std::left << ("paper " + m) << std::right;
        for (double v : kPaper.at(t.baseline).at(m)) txt << std::setw(14) << fixed(v);
        txt << "\n";
      }
    }
  }
}

// The head of tables.txt: what ran on what, and the model's training record.
void header_text(const ReproduceReport& r, const torch::ModelInfo& info, bool ci,
                 std::ostream& txt) {
  txt << "Abnar & Zuidema (2020), SVA, reproduced by attnflow " << ATTNFLOW_VERSION_STRING
      << (ci ? "  [CI-sized run: " : "  [") << r.examples << " held-out examples]\n"
      << "model: " << r.model_dir << " (" << info.layers << " layers x " << info.heads
      << " heads, d=" << info.hidden_size
      << "); accuracy on these examples: " << fixed(r.accuracy, 3) << " (paper: 0.96)\n"
      << "conventions: [paper] = the paper's code (every Spearman over all input positions, "
         "[CLS] and [SEP] included, each blanked in turn); [attnflow] = the sentence tokens "
         "only ([CLS] and [SEP] left out); charts: ["
      << convention_name(r.convention) << "]\n";
  std::ifstream t(fs::path(r.model_dir) / "training.json");
  std::string line;
  while (std::getline(t, line)) {
    if (line.find("train_seconds") != std::string::npos ||
        line.find("test_accuracy") != std::string::npos) {
      txt << "training record:" << line << "\n";
    }
  }
}

// Step 4a: one chart per table (mean ± std per layer and method).
void draw_tables(const std::vector<CorrelationTable>& tables, const OutputFolder& folder,
                 ReproduceReport& r) {
  for (const CorrelationTable& t : tables) {
    std::vector<plot::CorrelationSeries> series;
    for (std::size_t k = 0; k < t.methods.size(); ++k) {
      plot::CorrelationSeries s;
      s.name = t.methods[k];
      for (std::size_t l = 0; l < t.cells[k].size(); ++l) {
        s.layers.push_back(static_cast<int>(l) + 1);
        s.values.push_back(t.cells[k][l].mean);
        s.spread.push_back(t.cells[k][l].std);
      }
      series.push_back(std::move(s));
    }
    plot::CorrelationChartOptions co;
    co.figure.title = t.title;
    const std::string name = "table_" + t.baseline + ".png";
    plot::plot_layer_correlations(series, folder.file(name), co);
    r.files.push_back(name);
  }
}

// Figures 1-3 on three sentences: two correct ones with attractors, one misclassified.
std::vector<const Evaluated*> choose_figure_sentences(const std::vector<Evaluated>& kept) {
  std::vector<const Evaluated*> chosen;
  for (const Evaluated& e : kept)
    if (chosen.size() < 2 && e.prediction == e.label && e.attractors > 0) chosen.push_back(&e);
  for (const Evaluated& e : kept)
    if (e.prediction != e.label) {
      chosen.push_back(&e);
      break;
    }
  for (const Evaluated& e : kept)
    if (chosen.size() < 3 && std::find(chosen.begin(), chosen.end(), &e) == chosen.end())
      chosen.push_back(&e);
  return chosen;
}

// Step 4b: Figures 2 and 3 per chosen sentence, Figure 1 on the first.
void draw_figures(const Evaluation& ev, const OutputFolder& folder, ReproduceReport& r) {
  const std::vector<const Evaluated*> chosen = choose_figure_sentences(ev.kept);
  for (std::size_t k = 0; k < chosen.size(); ++k) {
    const Evaluated& e = *chosen[k];
    const std::string tag = std::to_string(k + 1);
    const std::string what = "\"" + e.text + "\" (" + (e.label ? "plural" : "singular") +
                             (e.prediction == e.label ? ", correct)" : ", misclassified)");
    std::vector<plot::NamedMaps> raw, three;
    for (const auto& m : plot::named_maps(e.result)) {
      if (m.name == "raw") raw.push_back(m);
      if (m.name == "raw" || m.name == "rollout" || m.name == "flow") three.push_back(m);
    }
    plot::TargetMapsOptions fo;
    fo.figure.title = "Figure 2: raw attention of [CLS] per layer, " + what;
    plot::plot_target_maps(raw, 0, e.tokens, folder.file("figure2_" + tag + ".png"), fo);
    fo.figure.title = "Figure 3: raw / rollout / flow of [CLS], " + what;
    fo.shared_scale = false;
    plot::plot_target_maps(three, 0, e.tokens, folder.file("figure3_" + tag + ".png"), fo);
    r.files.push_back("figure2_" + tag + ".png");
    r.files.push_back("figure3_" + tag + ".png");
    r.figures.push_back(
        "figure " + tag + ": " + what +
        (e.attractors ? ", " + std::to_string(e.attractors) + " attractor(s)" : ""));
  }
  if (!chosen.empty()) {
    plot::AttentionGraphOptions go;
    go.figure.title =
        "Figure 1: attention graph (heads fused, residual added), \"" + chosen[0]->text + "\"";
    plot::plot_attention_graph(prepare_layers(chosen[0]->attention), chosen[0]->tokens,
                               folder.file("figure1_graph.png"), go);
    r.files.push_back("figure1_graph.png");
  }
}

void write_file(const OutputFolder& folder, const std::string& name, const std::string& text,
                ReproduceReport& r) {
  std::ofstream f(folder.path() / name);
  f << text;
  f.close();
  if (!f) throw Error(folder.file(name) + ": cannot write");
  r.files.push_back(name);
}

}  // namespace

Convention parse_convention(const std::string& name) {
  if (name == "paper") return Convention::Paper;
  if (name == "attnflow") return Convention::Attnflow;
  throw Error("reproduce: unknown convention '" + name + "' (paper or attnflow)");
}

std::string convention_name(Convention convention) {
  return convention == Convention::Paper ? "paper" : "attnflow";
}

double convention_spearman(const std::vector<double>& scores, const std::vector<double>& baseline,
                           Convention convention) {
  if (scores.size() != baseline.size()) {
    throw Error("reproduce: " + std::to_string(scores.size()) + " scores against " +
                std::to_string(baseline.size()) + " baseline values");
  }
  if (convention == Convention::Paper) return spearman(scores, baseline);
  if (scores.size() < 4) {
    throw Error(
        "reproduce: the attnflow convention needs at least 2 tokens between [CLS] and "
        "[SEP], got " +
        std::to_string(scores.size()) + " positions");
  }
  const auto inner = [](const std::vector<double>& v) {
    return std::vector<double>(v.begin() + 1, v.end() - 1);
  };
  return spearman(inner(scores), inner(baseline));
}

const std::vector<std::string>& reproducible_papers() {
  static const std::vector<std::string> papers = {"abnar2020"};
  return papers;
}

ReproduceReport reproduce(const ReproduceOptions& options) {
  if (options.paper != "abnar2020") {
    throw Error("reproduce: unknown paper '" + options.paper + "' (available: abnar2020)");
  }
  return reproduce_abnar2020(options);
}

ReproduceReport reproduce_abnar2020(const ReproduceOptions& o) {
  const auto started = Clock::now();
  ReproduceReport r;
  r.output = o.output;
  r.model_dir = shipped_path(o.model_dir, "datasets/models/sva");
  r.test_path = shipped_path(o.test_path, "datasets/sva/test.jsonl");
  plot::find_gnuplot();
  const int wanted = o.ci ? std::min(o.examples, 200) : o.examples;
  if (wanted <= 0) throw Error("--examples must be positive, got " + std::to_string(wanted));
  OutputFolder folder(o.output, o.overwrite);
  Setup setup = load(o, r.model_dir, r.test_path, wanted);
  const Evaluation ev = evaluate_corpus(setup, o, r.test_path);
  r.examples = setup.count;
  r.accuracy = torch::accuracy(ev.predictions, ev.labels);
  r.blank_out_invariant = ev.blank_zero_max;
  r.convention = o.convention;
  r.tables = correlation_tables(ev, o.convention);
  r.other_tables = correlation_tables(
      ev, o.convention == Convention::Paper ? Convention::Attnflow : Convention::Paper);

  std::ostringstream txt;
  header_text(r, setup.model->info(), o.ci, txt);
  tables_text(r.tables, r.other_tables, setup.model->info().layers, txt);
  draw_tables(r.tables, folder, r);
  txt << "\ninvariant: blank-out of a token that is already [UNK]: " << ev.blank_zero_max
      << " (must be < 1e-6: ok)\n";
  draw_figures(ev, folder, r);
  for (const std::string& line : r.figures) txt << line << "\n";
  r.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  txt << "\nrun time " << fixed(r.seconds, 1) << " s on " << std::thread::hardware_concurrency()
      << " hardware threads (CPU)\n";
  r.text = txt.str();
  write_file(folder, "tables.txt", r.text, r);
  write_file(folder, "tables.csv", tables_csv(r.tables, r.other_tables), r);
  folder.commit();
  return r;
}

}  // namespace attnflow::pipeline
