#include "reproduce_command.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "attnflow/core/error.hpp"
#include "attnflow/version.hpp"
#include "output_folder.hpp"

#ifdef ATTNFLOW_HAVE_TORCH
#include "attnflow/core/analysis.hpp"
#include "attnflow/core/correlation.hpp"
#include "attnflow/core/residual.hpp"
#include "attnflow/hf/tokenizer.hpp"
#include "attnflow/io/corpus_reader.hpp"
#include "attnflow/plot.hpp"
#include "attnflow/torch/model.hpp"
#include "progress_bar.hpp"
#endif

namespace attnflow::app {
namespace {

namespace fs = std::filesystem;

struct ReproduceArgs {
  std::string paper = "abnar2020";
  std::string output = "out/abnar2020";
  std::string model;
  std::string test;
  int examples = 2000;
  bool ci = false;
  int threads = 0;
  bool overwrite = false;
  bool quiet = false;
};

#ifdef ATTNFLOW_HAVE_TORCH

using Clock = std::chrono::steady_clock;

const std::vector<std::string> kMethods = {"raw", "rollout", "flow", "grad-rollout"};
const std::vector<std::string> kBaselines = {"blank-out", "input-gradient", "input-x-gradient"};

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

struct Evaluated {
  std::string text;
  std::vector<std::string> tokens;
  std::int64_t label = 0, prediction = 0;
  int attractors = 0;
  AnalysisResult result;
  AttentionStack attention;
};

std::string fixed(double v, int digits = 2) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

void run_reproduce(const ReproduceArgs& a) {
  if (a.paper != "abnar2020") {
    throw Error("reproduce: unknown paper '" + a.paper + "' (available: abnar2020)");
  }
  const auto started = Clock::now();
  const std::string model_dir = shipped_path(a.model, "datasets/models/sva");
  const std::string test_path = shipped_path(a.test, "datasets/sva/test.jsonl");
  plot::find_gnuplot();
  const int wanted = a.ci ? std::min(a.examples, 200) : a.examples;
  if (wanted <= 0) throw Error("--examples must be positive, got " + std::to_string(wanted));
  OutputFolder folder(a.output, a.overwrite);
  const fs::path partial = folder.path();
  {
    torch::LoadOptions lo;
    lo.threads = a.threads;
    auto model = torch::Model::load(model_dir, lo);
    const torch::ModelInfo& info = model->info();
    if (info.head != torch::HeadKind::Classifier || info.num_labels != 2 || info.causal) {
      throw Error(model_dir +
                  ": needs the non-causal 2-class encoder classifier (attnflow "
                  "train), found " +
                  info.architecture);
    }
    const auto tokenizer = hf::load_tokenizer(model_dir);
    const auto unk = tokenizer->special_ids().unk;
    if (!unk) throw Error(model_dir + ": the tokenizer has no unknown token for blank-out");
    const io::Corpus corpus = io::read_corpus(test_path);
    const int count = std::min<int>(wanted, static_cast<int>(corpus.examples.size()));
    if (!a.quiet && count < wanted) {
      std::cerr << "note: " << test_path << " has only " << count << " examples\n";
    }
    // The attractor counts from the JSONL (the corpus reader keeps text and label only).
    std::vector<int> attractors;
    {
      std::ifstream f(test_path);
      std::string line;
      while (std::getline(f, line)) {
        const auto at = line.find("\"attractors\": ");
        attractors.push_back(at == std::string::npos ? 0 : std::atoi(line.c_str() + at + 14));
      }
    }

    AnalysisOptions ao;
    ao.methods.clear();
    for (const std::string& m : kMethods) ao.methods.push_back(parse_method(m));
    ao.target_rows = {0};
    ao.flow.threads = a.threads;
    std::map<std::string, std::map<std::string, std::vector<Stat>>> table;  // baseline, method
    for (const auto& b : kBaselines)
      for (const auto& m : kMethods) table[b][m].assign(static_cast<std::size_t>(info.layers), {});
    std::vector<Evaluated> kept;  // for the figures
    int correct = 0;
    double blank_zero_max = 0;  // blank-out of a position holding [UNK] already
    ProgressBar bar(!a.quiet && ProgressBar::stderr_is_terminal());
    for (int i = 0; i < count; ++i) {
      const io::CorpusExample& e = corpus.examples[static_cast<std::size_t>(i)];
      if (!e.label) throw Error(test_path + ":" + std::to_string(e.line) + ": no label");
      const hf::Encoding enc = tokenizer->encode(e.text);
      const auto n = static_cast<int>(enc.ids.size());
      torch::Input in{enc.ids, {}, e.label};
      torch::RunOptions ro;
      ro.target.kind = torch::TargetKind::Label;  // grad-rollout explains the correct class
      ro.logits = true;
      const torch::Output o = model->run({in}, ro).front();
      correct += *o.prediction == *e.label ? 1 : 0;
      torch::RunOptions gi;
      gi.attention = false;
      gi.attention_gradients = false;
      gi.input_gradients = true;
      gi.target.kind = torch::TargetKind::ProbabilityDifference;
      const torch::Output g = model->run({in}, gi).front();
      // Scores over the sentence tokens: [CLS] (position 0) and [SEP] (n-1) left out.
      std::vector<int> skip = {0, n - 1};
      const std::vector<double> blank =
          torch::blank_out_scores(*model, in, *e.label, *unk, skip, 64);
      const auto d =
          static_cast<std::size_t>(g.input_gradient.size() / static_cast<std::size_t>(n));
      std::vector<double> grad(static_cast<std::size_t>(n)), gxe(static_cast<std::size_t>(n));
      for (std::size_t k = 0; k < static_cast<std::size_t>(n); ++k) {
        double s = 0, t = 0;
        for (std::size_t j = 0; j < d; ++j) {
          s += g.input_gradient[k * d + j];
          t += static_cast<double>(g.input_gradient[k * d + j]) * g.input_embedding[k * d + j];
        }
        grad[k] = std::fabs(s);
        gxe[k] = std::fabs(t);
      }
      if (i == 0) {  // invariant: blanking a token that is already [UNK] changes nothing
        torch::Input with_unk = in;
        with_unk.ids[1] = *unk;
        const auto b0 = torch::blank_out_scores(*model, with_unk, *e.label, *unk, skip, 64);
        blank_zero_max = b0[1];
      }
      const AttentionStack attention(o.attention, info.layers, info.heads, n);
      const AttentionStack gradient(o.attention_gradient, info.layers, info.heads, n);
      AnalysisResult r = analyze(attention, &gradient, ao);
      const auto sentence = [&](const std::vector<double>& v) {
        return std::vector<double>(v.begin() + 1, v.end() - 1);
      };
      const std::map<std::string, std::vector<double>> base = {{"blank-out", sentence(blank)},
                                                               {"input-gradient", sentence(grad)},
                                                               {"input-x-gradient", sentence(gxe)}};
      for (const std::string& m : kMethods) {
        const LayerMaps& maps = r.maps.at(parse_method(m));
        for (std::size_t l = 0; l < maps.maps.size(); ++l) {
          std::vector<double> row(static_cast<std::size_t>(n));
          for (int c = 0; c < n; ++c) row[static_cast<std::size_t>(c)] = maps.maps[l](0, c);
          const std::vector<double> scores = sentence(row);
          for (const auto& [b, v] : base) table[b][m][l].add(spearman(scores, v));
        }
      }
      // Candidates for the figures: the first 60 examples, and the first misclassified one.
      const bool first_miss = *o.prediction != *e.label &&
                              std::none_of(kept.begin(), kept.end(), [](const Evaluated& k) {
                                return k.prediction != k.label;
                              });
      if (kept.size() < 60 || first_miss) {
        kept.push_back({e.text, enc.tokens, *e.label, *o.prediction,
                        attractors.size() > static_cast<std::size_t>(e.line - 1)
                            ? attractors[static_cast<std::size_t>(e.line - 1)]
                            : 0,
                        std::move(r), attention});
      }
      bar.update(i + 1, count);
    }
    bar.finish();
    const double accuracy = static_cast<double>(correct) / count;

    // Tables: text (with the paper's numbers beside ours) and CSV.
    std::ostringstream txt;
    std::ofstream csv(partial / "tables.csv");
    csv << "table,baseline,method,layer,mean,std,paper,examples\n";
    txt << "Abnar & Zuidema (2020), SVA, reproduced by attnflow " << ATTNFLOW_VERSION_STRING
        << (a.ci ? "  [CI-sized run: " : "  [") << count << " held-out examples]\n"
        << "model: " << model_dir << " (" << info.layers << " layers x " << info.heads
        << " heads, d=" << info.hidden_size
        << "); accuracy on these examples: " << fixed(accuracy, 3) << " (paper: 0.96)\n";
    {
      std::ifstream t(fs::path(model_dir) / "training.json");
      std::string line;
      while (std::getline(t, line)) {
        if (line.find("train_seconds") != std::string::npos ||
            line.find("test_accuracy") != std::string::npos) {
          txt << "training record:" << line << "\n";
        }
      }
    }
    const std::map<std::string, std::string> titles = {
        {"blank-out", "Table 1: Spearman correlation with blank-out (CLS row, mean ± std)"},
        {"input-gradient",
         "Table 2: Spearman correlation with input gradients |sum_d g| (CLS row)"},
        {"input-x-gradient", "Table 2b: Spearman correlation with input x gradient |sum_d g.e|"}};
    for (const std::string& b : kBaselines) {
      txt << "\n" << titles.at(b) << "\n" << std::setw(18) << "";
      for (int l = 1; l <= info.layers; ++l) txt << std::setw(14) << ("L" + std::to_string(l));
      txt << "\n";
      std::vector<plot::CorrelationSeries> series;
      for (const std::string& m : kMethods) {
        const auto& stats = table[b][m];
        const auto paper = kPaper.count(b) && kPaper.at(b).count(m) ? &kPaper.at(b).at(m) : nullptr;
        txt << std::setw(18) << std::left << ("ours " + m) << std::right;
        plot::CorrelationSeries s;
        s.name = m;
        for (std::size_t l = 0; l < stats.size(); ++l) {
          txt << std::setw(14) << (fixed(stats[l].mean()) + "±" + fixed(stats[l].std()));
          s.layers.push_back(static_cast<int>(l) + 1);
          s.values.push_back(stats[l].mean());
          s.spread.push_back(stats[l].std());
          csv << (b == "blank-out"        ? "1"
                  : b == "input-gradient" ? "2"
                                          : "2b")
              << "," << b << "," << m << "," << l + 1 << "," << stats[l].mean() << ","
              << stats[l].std() << "," << (paper && l < paper->size() ? fixed((*paper)[l]) : "")
              << "," << stats[l].count << "\n";
        }
        txt << "\n";
        if (paper) {
          txt << std::setw(18) << std::left << ("paper " + m) << std::right;
          for (double v : *paper) txt << std::setw(14) << fixed(v);
          txt << "\n";
        }
        series.push_back(std::move(s));
      }
      plot::CorrelationChartOptions co;
      co.figure.title = titles.at(b);
      plot::plot_layer_correlations(series, (partial / ("table_" + b + ".png")).string(), co);
    }
    // Invariant: a token that already is [UNK] cannot change the prediction when blanked;
    // only float rounding between rows of one batch (~1e-8 with OpenBLAS) may show.
    const bool invariant_ok = blank_zero_max < 1e-6;
    txt << "\ninvariant: blank-out of a token that is already [UNK]: " << blank_zero_max
        << " (must be < 1e-6: " << (invariant_ok ? "ok" : "FAILED") << ")\n";
    if (!invariant_ok) {
      throw Error("reproduce: blank-out of an [UNK] token by [UNK] changed p_correct by " +
                  std::to_string(blank_zero_max) + ": the batched model runs disagree");
    }

    // Figures 1-3 on three sentences: two correct ones with attractors, one misclassified.
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
    for (std::size_t k = 0; k < chosen.size(); ++k) {
      const Evaluated& e = *chosen[k];
      const std::string tag = std::to_string(k + 1);
      const std::string what = "\"" + e.text + "\" (" + (e.label ? "plural" : "singular") +
                               (e.prediction == e.label ? ", correct)" : ", misclassified)");
      const auto all = plot::named_maps(e.result);
      std::vector<plot::NamedMaps> raw, three;
      for (const auto& m : all) {
        if (m.name == "raw") raw.push_back(m);
        if (m.name == "raw" || m.name == "rollout" || m.name == "flow") three.push_back(m);
      }
      plot::TargetMapsOptions fo;
      fo.figure.title = "Figure 2: raw attention of [CLS] per layer, " + what;
      plot::plot_target_maps(raw, 0, e.tokens, (partial / ("figure2_" + tag + ".png")).string(),
                             fo);
      fo.figure.title = "Figure 3: raw / rollout / flow of [CLS], " + what;
      fo.shared_scale = false;
      plot::plot_target_maps(three, 0, e.tokens, (partial / ("figure3_" + tag + ".png")).string(),
                             fo);
      txt << "figure " << tag << ": " << what
          << (e.attractors ? ", " + std::to_string(e.attractors) + " attractor(s)" : "") << "\n";
    }
    if (!chosen.empty()) {
      plot::AttentionGraphOptions go;
      go.figure.title =
          "Figure 1: attention graph (heads fused, residual added), \"" + chosen[0]->text + "\"";
      plot::plot_attention_graph(prepare_layers(chosen[0]->attention), chosen[0]->tokens,
                                 (partial / "figure1_graph.png").string(), go);
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    txt << "\nrun time " << fixed(seconds, 1) << " s on " << std::thread::hardware_concurrency()
        << " hardware threads (CPU)\n";
    {
      std::ofstream f(partial / "tables.txt");
      f << txt.str();
    }
    csv.close();
    if (!csv) throw Error((partial / "tables.csv").string() + ": cannot write");
    folder.commit();
    std::cout << txt.str() << "\nwrote " << a.output << "/: tables.txt, tables.csv, table_*.png, "
              << "figure1_graph.png, figure2_*.png, figure3_*.png\n";
  }
}

#endif  // ATTNFLOW_HAVE_TORCH

}  // namespace

void add_reproduce_command(CLI::App& app) {
  auto args = std::make_shared<ReproduceArgs>();
  CLI::App* cmd = app.add_subcommand(
      "reproduce", "Reproduce a paper's tables and figures (abnar2020: Abnar & Zuidema 2020)");
  cmd->add_option("paper", args->paper, "Which paper: abnar2020")->required();
  cmd->add_option("-o,--output", args->output, "Output folder")->capture_default_str();
  cmd->add_option("--model", args->model,
                  "Trained SVA model directory (default: datasets/models/sva; `attnflow train` "
                  "makes one)");
  cmd->add_option("--test", args->test, "Held-out JSONL (default: datasets/sva/test.jsonl)");
  cmd->add_option("-n,--examples", args->examples, "Held-out examples")->capture_default_str();
  cmd->add_flag("--ci", args->ci, "CI-sized run (at most 200 examples; flagged in the output)");
  cmd->add_option("-j,--threads", args->threads, "Threads (0 = all cores)")->capture_default_str();
  cmd->add_flag("--overwrite", args->overwrite, "Replace an existing output folder");
  cmd->add_flag("-q,--quiet", args->quiet, "No progress bar");
  cmd->callback([args] {
#ifdef ATTNFLOW_HAVE_TORCH
    run_reproduce(*args);
#else
    throw Error("attnflow was built without libtorch: reproduce is not available");
#endif
  });
}

}  // namespace attnflow::app
