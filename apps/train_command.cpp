#include "train_command.hpp"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "attnflow/core/error.hpp"
#include "attnflow/version.hpp"
#include "output_folder.hpp"

#ifdef ATTNFLOW_HAVE_TORCH
#include "attnflow/hf/tokenizer.hpp"
#include "attnflow/io/corpus_reader.hpp"
#include "attnflow/torch/model.hpp"
#include "attnflow/torch/train.hpp"
#include "progress_bar.hpp"
#endif

namespace attnflow::app {
namespace {

namespace fs = std::filesystem;

struct TrainArgs {
  std::string train, valid, test, vocab, output;
  int layers = 6, heads = 8;
  std::int64_t hidden = 128, inner = 512, max_positions = 64;
  int epochs = 4, batch_size = 64;
  double learning_rate = 1e-3, weight_decay = 0.01;
  std::uint64_t seed = 1;
  int threads = 0;
  std::string save_dtype = "float16";
  std::vector<std::string> labels = {"singular", "plural"};
  bool overwrite = false, quiet = false;
};

#ifdef ATTNFLOW_HAVE_TORCH

std::vector<torch::TrainExample> encode(const std::string& path, const hf::Tokenizer& tok,
                                        const TrainArgs& a) {
  const io::Corpus corpus = io::read_corpus(path);
  std::vector<torch::TrainExample> out;
  out.reserve(corpus.examples.size());
  for (const io::CorpusExample& e : corpus.examples) {
    const std::string where = path + ":" + std::to_string(e.line);
    if (!e.label) throw Error(where + ": no label (training needs one on every line)");
    hf::Encoding enc = e.text_pair ? tok.encode_pair(e.text, *e.text_pair) : tok.encode(e.text);
    if (static_cast<std::int64_t>(enc.ids.size()) > a.max_positions) {
      throw Error(where + ": " + std::to_string(enc.ids.size()) +
                  " tokens, more than --max-positions " + std::to_string(a.max_positions));
    }
    out.push_back({std::move(enc.ids), *e.label});
  }
  return out;
}

double accuracy_of(torch::Model& model, const std::vector<torch::TrainExample>& data) {
  std::int64_t correct = 0;
  torch::RunOptions options;
  options.attention = false;
  for (std::size_t begin = 0; begin < data.size(); begin += 256) {
    std::vector<torch::Input> batch;
    for (std::size_t i = begin; i < std::min(data.size(), begin + 256); ++i) {
      batch.push_back({data[i].ids, {}, data[i].label});
    }
    const auto out = model.run(batch, options);
    for (std::size_t k = 0; k < out.size(); ++k) {
      correct += *out[k].prediction == data[begin + k].label ? 1 : 0;
    }
  }
  return static_cast<double>(correct) / static_cast<double>(data.size());
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::ostringstream s;
  s << std::put_time(std::gmtime(&t), "%Y-%m-%dT%H:%M:%SZ");
  return s.str();
}

void run_train(const TrainArgs& a) {
  if (a.vocab.empty() || !fs::is_regular_file(a.vocab)) {
    throw Error("--vocab " + a.vocab + ": no such file (a WordPiece vocab.txt)");
  }
  OutputFolder folder(a.output, a.overwrite);
  const fs::path partial = folder.path();
  {
    fs::copy_file(a.vocab, partial / "vocab.txt");
    {
      std::ofstream f(partial / "tokenizer_config.json");
      f << "{\n  \"do_lower_case\": true,\n  \"model_max_length\": " << a.max_positions
        << ",\n  \"tokenizer_class\": \"BertTokenizer\"\n}\n";
    }
    const auto tok = hf::load_tokenizer(partial.string());
    const auto train = encode(a.train, *tok, a);
    const auto valid = encode(a.valid, *tok, a);
    const auto test = a.test.empty() ? std::vector<torch::TrainExample>{} : encode(a.test, *tok, a);

    torch::TrainOptions o;
    o.layers = a.layers;
    o.heads = a.heads;
    o.hidden = a.hidden;
    o.inner = a.inner;
    o.max_positions = a.max_positions;
    o.vocab_size = tok->vocab_size();
    o.num_labels = static_cast<std::int64_t>(a.labels.size());
    o.label_names = a.labels;
    o.epochs = a.epochs;
    o.batch_size = a.batch_size;
    o.learning_rate = a.learning_rate;
    o.weight_decay = a.weight_decay;
    o.seed = a.seed;
    o.threads = a.threads;
    o.save_dtype = a.save_dtype;
    ProgressBar bar(!a.quiet && ProgressBar::stderr_is_terminal());
    o.progress = [&](const torch::TrainProgress& p) {
      bar.update(p.step, p.steps);
      if (p.valid_accuracy >= 0 && !a.quiet) {
        bar.finish();
        std::cerr << "epoch " << p.epoch << ": loss " << std::fixed << std::setprecision(4)
                  << p.loss << ", validation accuracy " << p.valid_accuracy << "\n";
      }
    };
    if (!a.quiet) {
      std::cerr << "training on " << train.size() << " examples (" << valid.size()
                << " validation), " << a.layers << " layers x " << a.heads
                << " heads, d=" << a.hidden << ", " << a.epochs << " epochs\n";
    }
    const torch::TrainResult r = torch::train_encoder_classifier(train, valid, o, partial.string());
    bar.finish();

    // Accuracy of the saved model as it is read back (weights in --save-dtype).
    torch::LoadOptions lo;
    lo.threads = a.threads;
    auto model = torch::Model::load(partial.string(), lo);
    const double valid_acc = accuracy_of(*model, valid);
    const double test_acc = test.empty() ? -1.0 : accuracy_of(*model, test);
    std::ofstream f(partial / "training.json");
    f << std::setprecision(6) << "{\n"
      << "  \"attnflow_version\": \"" << ATTNFLOW_VERSION_STRING << "\",\n"
      << "  \"created\": \"" << utc_now() << "\",\n"
      << "  \"train\": \"" << a.train << "\", \"train_examples\": " << train.size() << ",\n"
      << "  \"valid\": \"" << a.valid << "\", \"valid_examples\": " << valid.size() << ",\n"
      << "  \"test\": \"" << a.test << "\", \"test_examples\": " << test.size() << ",\n"
      << "  \"layers\": " << a.layers << ", \"heads\": " << a.heads << ", \"hidden\": " << a.hidden
      << ", \"inner\": " << a.inner << ", \"parameters\": " << r.parameters << ",\n"
      << "  \"epochs\": " << a.epochs << ", \"batch_size\": " << a.batch_size
      << ", \"learning_rate\": " << a.learning_rate << ", \"weight_decay\": " << a.weight_decay
      << ", \"seed\": " << a.seed << ",\n"
      << "  \"steps\": " << r.steps << ", \"final_loss\": " << r.final_loss << ",\n"
      << "  \"valid_accuracy\": " << valid_acc << ", \"test_accuracy\": " << test_acc << ",\n"
      << "  \"train_seconds\": " << r.seconds << ", \"hardware\": \"CPU, "
      << std::thread::hardware_concurrency() << " cores, " << (a.threads > 0 ? a.threads : 0)
      << " threads requested (0 = libtorch default)\",\n"
      << "  \"save_dtype\": \"" << a.save_dtype << "\"\n}\n";
    if (!f) throw Error((partial / "training.json").string() + ": cannot write");
    f.close();
    folder.commit();
    std::cout << "trained " << r.parameters << " parameters in " << std::fixed
              << std::setprecision(1) << r.seconds << " s (" << r.steps << " steps); validation "
              << "accuracy " << std::setprecision(4) << valid_acc;
    if (test_acc >= 0) std::cout << ", test accuracy " << test_acc;
    std::cout << " (" << a.save_dtype << " weights as saved)\nmodel: " << a.output << "\n";
  }
}

#endif  // ATTNFLOW_HAVE_TORCH

}  // namespace

void add_train_command(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* cmd = app.add_subcommand(
      "train", "Train the GPT-2-block encoder classifier (Abnar & Zuidema's SVA model) on JSONL");
  cmd->add_option("--train", args->train, "Training corpus (JSONL with text and label)")
      ->required();
  cmd->add_option("--valid", args->valid, "Validation corpus")->required();
  cmd->add_option("--test", args->test, "Test corpus (accuracy reported)");
  cmd->add_option("--vocab", args->vocab, "WordPiece vocab.txt (word level)")->required();
  cmd->add_option("-o,--output", args->output, "Model directory to write")->required();
  cmd->add_option("--layers", args->layers, "Layers")->capture_default_str();
  cmd->add_option("--heads", args->heads, "Heads")->capture_default_str();
  cmd->add_option("--hidden", args->hidden, "Hidden size")->capture_default_str();
  cmd->add_option("--inner", args->inner, "Feed-forward width")->capture_default_str();
  cmd->add_option("--max-positions", args->max_positions, "Longest input")->capture_default_str();
  cmd->add_option("--epochs", args->epochs, "Epochs")->capture_default_str();
  cmd->add_option("--batch-size", args->batch_size, "Batch size")->capture_default_str();
  cmd->add_option("--lr", args->learning_rate, "Peak learning rate (AdamW)")->capture_default_str();
  cmd->add_option("--weight-decay", args->weight_decay, "AdamW weight decay")
      ->capture_default_str();
  cmd->add_option("--seed", args->seed, "Random seed")->capture_default_str();
  cmd->add_option("-j,--threads", args->threads, "CPU threads (0 = libtorch default)")
      ->capture_default_str();
  cmd->add_option("--save-dtype", args->save_dtype, "float16 or float32 weights")
      ->capture_default_str();
  cmd->add_option("--labels", args->labels, "Class names (id2label)")->delimiter(',');
  cmd->add_flag("--overwrite", args->overwrite, "Replace an existing output directory");
  cmd->add_flag("-q,--quiet", args->quiet, "Print only the result line");
  cmd->callback([args] {
#ifdef ATTNFLOW_HAVE_TORCH
    run_train(*args);
#else
    throw Error("attnflow was built without libtorch: train is not available");
#endif
  });
}

}  // namespace attnflow::app
