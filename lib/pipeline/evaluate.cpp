// evaluate: load and check (model, tokenizer, labelled corpus) -> per example: one shared
// model run, every method's scores, the perturbed inputs in batches -> means -> table (text,
// CSV), curves (CSV, gnuplot), timings.
#include "attnflow/pipeline/evaluate.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <memory>
#include <sstream>

#include "attnflow/core/correlation.hpp"
#include "attnflow/core/error.hpp"
#include "attnflow/hf/tokenizer.hpp"
#include "attnflow/io/corpus_reader.hpp"
#include "attnflow/pipeline/evaluate_methods.hpp"
#include "attnflow/pipeline/output_folder.hpp"
#include "attnflow/plot/curve_chart.hpp"
#include "attnflow/torch/model.hpp"
#include "attnflow/torch/train.hpp"
#include "corpus_tokens.hpp"
#include "evaluate_output.hpp"

namespace attnflow::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Wall and process CPU time from construction to cost().
class CostTimer {
 public:
  CostTimer() : wall_(Clock::now()), cpu_(std::clock()) {}
  StepCost cost() const {
    return {since(wall_), static_cast<double>(std::clock() - cpu_) / CLOCKS_PER_SEC};
  }

 private:
  Clock::time_point wall_;
  std::clock_t cpu_;
};

// The model, tokenizer and corpus, loaded and checked.
struct Setup {
  std::unique_ptr<torch::Model> model;
  std::unique_ptr<hf::Tokenizer> tokenizer;
  io::Corpus corpus;
  std::vector<detail::TokenizedExample> examples;
  std::vector<const EvaluationMethod*> methods;
  torch::RunOptions shared_run;  // what the methods read from the one run per example
  FaithfulnessOptions faithfulness;
};

void check_options(const EvaluateOptions& o) {
  if (o.examples < 0) throw Error("--examples must be >= 0, got " + std::to_string(o.examples));
  if (o.batch_size <= 0) {
    throw Error("--batch-size must be positive, got " + std::to_string(o.batch_size));
  }
  FaithfulnessOptions f = o.faithfulness;
  f.replacement_id = 0;  // resolved from the tokenizer later
  check_faithfulness_options(f);
}

std::unique_ptr<torch::Model> load_classifier(const EvaluateOptions& o, const std::string& path) {
  torch::LoadOptions lo;
  lo.threads = o.threads;
  std::unique_ptr<torch::Model> model = torch::Model::load(path, lo);
  const torch::ModelInfo& info = model->info();
  if (info.head != torch::HeadKind::Classifier) {
    throw Error(path + ": evaluate needs a sequence classifier, found " + info.architecture);
  }
  return model;
}

// Every example must have a label the model knows (accuracy; --target label).
void check_labels(const io::Corpus& corpus, const torch::ModelInfo& info) {
  for (const io::CorpusExample& e : corpus.examples) {
    const std::string where = corpus.path + ":" + std::to_string(e.line);
    if (!e.label) {
      throw Error(where +
                  ": no label (evaluate needs a labelled corpus: a JSONL \"label\" or a TSV "
                  "label column)");
    }
    if (*e.label < 0 || *e.label >= info.num_labels) {
      throw Error(where + ": label " + std::to_string(*e.label) + " is not a class of the model (" +
                  std::to_string(info.num_labels) + " classes)");
    }
  }
}

std::int64_t replacement_id(const hf::Tokenizer& tokenizer, Perturbation p,
                            const std::string& dir) {
  const hf::SpecialTokenIds& ids = tokenizer.special_ids();
  // Blank-out replaces tokens even when the curves remove them: [UNK] then.
  const std::optional<std::int64_t> id = p == Perturbation::Mask ? ids.mask : ids.unk;
  if (!id) {
    throw Error(dir + ": the tokenizer has no " +
                (p == Perturbation::Mask ? "mask token ([MASK]) for --perturbation mask"
                                         : "unknown token ([UNK]) for --perturbation unk and "
                                           "blank-out"));
  }
  return *id;
}

Setup load(const EvaluateOptions& o, const std::string& model, const std::string& corpus) {
  Setup s;
  s.methods = select_methods(o.methods);
  s.model = load_classifier(o, model);
  const torch::ModelInfo& info = s.model->info();
  io::CorpusReadOptions ro;
  ro.label_ids = detail::label_ids(model);
  s.corpus = io::read_corpus(corpus, ro);
  check_labels(s.corpus, info);
  const std::string dir = detail::tokenizer_dir(model, o.tokenizer);
  s.tokenizer = hf::load_tokenizer(dir);
  s.faithfulness = o.faithfulness;
  s.faithfulness.replacement_id = replacement_id(*s.tokenizer, o.faithfulness.perturbation, dir);
  s.examples = detail::tokenize_corpus(s.corpus, *s.tokenizer);
  if (o.examples > 0 && o.examples < static_cast<std::int64_t>(s.examples.size())) {
    s.examples.resize(static_cast<std::size_t>(o.examples));
  }
  detail::check_vocabulary(s.corpus, s.examples, info, dir);
  detail::fit_lengths(s.corpus, s.examples, info.max_positions, "the model's max_positions", false);
  s.shared_run.attention = false;
  s.shared_run.attention_gradients = false;
  s.shared_run.logits = true;
  for (const EvaluationMethod* m : s.methods) m->configure(s.shared_run);
  if (s.shared_run.attention_gradients || s.shared_run.input_gradients) {
    s.shared_run.target.kind = o.target == EvaluateTarget::Label
                                   ? torch::TargetKind::Label
                                   : torch::TargetKind::PredictedClass;
  }
  return s;
}

// p(target class) of every perturbed input, run in batches.
ProbabilityFn batched_probability(torch::Model& model, const torch::Input& input,
                                  std::int64_t target_class, int batch_size) {
  return [&model, &input, target_class,
          batch_size](const std::vector<std::vector<std::int64_t>>& ids) {
    torch::RunOptions ro;
    ro.attention = false;
    ro.logits = true;
    std::vector<double> p;
    for (std::size_t begin = 0; begin < ids.size(); begin += static_cast<std::size_t>(batch_size)) {
      const std::size_t end = std::min(ids.size(), begin + static_cast<std::size_t>(batch_size));
      std::vector<torch::Input> batch;
      for (std::size_t i = begin; i < end; ++i) {
        torch::Input v;
        v.ids = ids[i];
        if (v.ids.size() == input.ids.size()) v.type_ids = input.type_ids;
        batch.push_back(std::move(v));
      }
      for (const torch::Output& out : model.run(batch, ro)) {
        p.push_back(torch::class_probabilities(out)[static_cast<std::size_t>(target_class)]);
      }
    }
    return p;
  };
}

// Spearman of `scores` with `reference` over the non-special tokens (NaN for fewer than 2).
double spearman_eligible(const std::vector<double>& scores, const std::vector<double>& reference,
                         const std::vector<std::uint8_t>& special) {
  std::vector<double> a, b;
  for (std::size_t i = 0; i < special.size(); ++i) {
    if (special[i]) continue;
    a.push_back(scores[i]);
    b.push_back(reference[i]);
  }
  return a.size() < 2 ? std::nan("") : spearman(a, b);
}

// Step 2 for one example: the shared run, every method's scores, the perturbed runs.
void evaluate_example(Setup& s, const EvaluateOptions& o, std::int64_t index,
                      detail::EvaluationRecord& record) {
  const detail::TokenizedExample& x = s.examples[static_cast<std::size_t>(index)];
  torch::Input input = detail::model_input(x, s.model->info());
  input.label = x.source->label;
  const std::vector<std::uint8_t>& special = x.encoding.special;
  const bool pair = std::any_of(input.type_ids.begin(), input.type_ids.end(),
                                [](std::int32_t t) { return t != 0; });
  if (pair && s.faithfulness.perturbation == Perturbation::Remove) {
    throw Error(detail::where(s.corpus, x) +
                ": --perturbation remove does not support text pairs (token types)");
  }
  const CostTimer run_timer;
  const torch::Output out = s.model->run({input}, s.shared_run).front();
  record.run_costs.push_back(run_timer.cost());
  const std::int64_t target = o.target == EvaluateTarget::Label ? *input.label : *out.prediction;
  record.predictions.push_back(*out.prediction);
  record.labels.push_back(*input.label);
  const ExampleContext context{
      *s.model,     input,  special, out,       target,      s.faithfulness.replacement_id,
      o.target_row, o.seed, index,   o.threads, o.batch_size};
  std::vector<std::vector<double>> scores;
  for (std::size_t m = 0; m < s.methods.size(); ++m) {
    const CostTimer timer;
    scores.push_back(s.methods[m]->scores(context));
    record.method_costs[m].push_back(timer.cost());
  }
  const CostTimer perturbed_timer;
  std::int64_t inputs = 0;
  const ProbabilityFn probability = batched_probability(*s.model, input, target, o.batch_size);
  const std::vector<ExampleFaithfulness> f =
      example_faithfulness(input.ids, special, scores, s.faithfulness, [&](const auto& ids) {
        inputs = static_cast<std::int64_t>(ids.size()) - 1;
        return probability(ids);
      });
  record.perturbed_costs.push_back(perturbed_timer.cost());
  record.perturbed_inputs += inputs;
  const auto blank = std::find_if(s.methods.begin(), s.methods.end(),
                                  [](const EvaluationMethod* m) { return m->name == "blank-out"; });
  for (std::size_t m = 0; m < s.methods.size(); ++m) {
    record.faithfulness[m].push_back(f[m]);
    if (blank != s.methods.end()) {
      const auto b = static_cast<std::size_t>(blank - s.methods.begin());
      record.spearman[m].push_back(spearman_eligible(scores[m], scores[b], special));
    }
  }
  if (o.save_scores) {
    std::vector<std::string> names;
    for (const EvaluationMethod* m : s.methods) names.push_back(m->name);
    record.scores_jsonl += detail::scores_line(x.source->line, x.encoding.tokens, input.ids,
                                               special, target, names, scores);
  }
}

}  // namespace

EvaluateReport evaluate(const EvaluateOptions& o) {
  const auto started = Clock::now();
  check_options(o);
  EvaluateReport r;
  r.output = o.output;
  r.model = shipped_path(o.model, "datasets/models/sva");
  r.corpus = shipped_path(o.corpus, "datasets/sva/test.jsonl");
  select_methods(o.methods);  // an unknown name fails before anything is loaded
  if (o.plots) plot::find_gnuplot();
  OutputFolder folder(o.output, o.overwrite);
  Setup s = load(o, r.model, r.corpus);
  detail::EvaluationRecord record(s.methods.size());
  const auto count = static_cast<std::int64_t>(s.examples.size());
  for (std::int64_t i = 0; i < count; ++i) {
    evaluate_example(s, o, i, record);
    if (o.on_progress) o.on_progress(i + 1, count);
  }
  r.examples = count;
  r.accuracy = torch::accuracy(record.predictions, record.labels);
  r.faithfulness = s.faithfulness;
  std::vector<std::string> names;
  for (const EvaluationMethod* m : s.methods) names.push_back(m->name);
  detail::summarize(names, record, r);
  detail::write_outputs(record, o, folder, r);
  folder.commit();
  r.seconds = since(started);
  return r;
}

}  // namespace attnflow::pipeline
