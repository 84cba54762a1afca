// train_classifier: corpora -> tokenizer -> training -> model directory with training.json.
#include "attnflow/pipeline/train_classifier.hpp"

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <thread>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/utc_time.hpp"
#include "attnflow/hf/tokenizer.hpp"
#include "attnflow/io/corpus_reader.hpp"
#include "attnflow/pipeline/output_folder.hpp"
#include "attnflow/torch/model.hpp"
#include "attnflow/version.hpp"

namespace attnflow::pipeline {
namespace {

namespace fs = std::filesystem;

// Reads a labelled corpus and tokenizes every line.
std::vector<torch::TrainExample> encode(const std::string& path, const hf::Tokenizer& tok,
                                        std::int64_t max_positions) {
  const io::Corpus corpus = io::read_corpus(path);
  std::vector<torch::TrainExample> out;
  out.reserve(corpus.examples.size());
  for (const io::CorpusExample& e : corpus.examples) {
    const std::string where = path + ":" + std::to_string(e.line);
    if (!e.label) throw Error(where + ": no label (training needs one on every line)");
    hf::Encoding enc = e.text_pair ? tok.encode_pair(e.text, *e.text_pair) : tok.encode(e.text);
    if (static_cast<std::int64_t>(enc.ids.size()) > max_positions) {
      throw Error(where + ": " + std::to_string(enc.ids.size()) +
                  " tokens, more than --max-positions " + std::to_string(max_positions));
    }
    out.push_back({std::move(enc.ids), *e.label});
  }
  return out;
}

// The tokenizer files of the model directory: the vocabulary and a BERT tokenizer config.
void write_tokenizer(const TrainClassifierOptions& o, const fs::path& dir) {
  fs::copy_file(o.vocab_path, dir / "vocab.txt");
  std::ofstream f(dir / "tokenizer_config.json");
  f << "{\n  \"do_lower_case\": true,\n  \"model_max_length\": " << o.training.max_positions
    << ",\n  \"tokenizer_class\": \"BertTokenizer\"\n}\n";
  if (!f) throw Error((dir / "tokenizer_config.json").string() + ": cannot write");
}

void write_training_json(const TrainClassifierOptions& o, const TrainClassifierReport& r,
                         const fs::path& dir) {
  const torch::TrainOptions& t = o.training;
  std::ofstream f(dir / "training.json");
  f << std::setprecision(6) << "{\n"
    << "  \"attnflow_version\": \"" << ATTNFLOW_VERSION_STRING << "\",\n"
    << "  \"created\": \"" << r.created << "\",\n"
    << "  \"train\": \"" << o.train_path << "\", \"train_examples\": " << r.train_examples << ",\n"
    << "  \"valid\": \"" << o.valid_path << "\", \"valid_examples\": " << r.valid_examples << ",\n"
    << "  \"test\": \"" << o.test_path << "\", \"test_examples\": " << r.test_examples << ",\n"
    << "  \"layers\": " << t.layers << ", \"heads\": " << t.heads << ", \"hidden\": " << t.hidden
    << ", \"inner\": " << t.inner << ", \"parameters\": " << r.result.parameters << ",\n"
    << "  \"epochs\": " << t.epochs << ", \"batch_size\": " << t.batch_size
    << ", \"learning_rate\": " << t.learning_rate << ", \"weight_decay\": " << t.weight_decay
    << ", \"seed\": " << t.seed << ",\n"
    << "  \"steps\": " << r.result.steps << ", \"final_loss\": " << r.result.final_loss << ",\n"
    << "  \"valid_accuracy\": " << r.valid_accuracy << ", \"test_accuracy\": " << r.test_accuracy
    << ",\n"
    << "  \"train_seconds\": " << r.result.seconds << ", \"hardware\": \"CPU, "
    << std::thread::hardware_concurrency() << " cores, " << (t.threads > 0 ? t.threads : 0)
    << " threads requested (0 = libtorch default)\",\n"
    << "  \"save_dtype\": \"" << torch::to_string(t.save_dtype) << "\"\n}\n";
  if (!f) throw Error((dir / "training.json").string() + ": cannot write");
}

}  // namespace

TrainClassifierReport train_classifier(const TrainClassifierOptions& o) {
  if (o.vocab_path.empty() || !fs::is_regular_file(o.vocab_path)) {
    throw Error("--vocab " + o.vocab_path + ": no such file (a WordPiece vocab.txt)");
  }
  OutputFolder folder(o.output, o.overwrite);
  const fs::path dir = folder.path();
  write_tokenizer(o, dir);
  const auto tok = hf::load_tokenizer(dir.string());
  const std::int64_t max_positions = o.training.max_positions;
  const auto train = encode(o.train_path, *tok, max_positions);
  const auto valid = encode(o.valid_path, *tok, max_positions);
  const auto test = o.test_path.empty() ? std::vector<torch::TrainExample>{}
                                        : encode(o.test_path, *tok, max_positions);

  torch::TrainOptions t = o.training;
  t.vocab_size = tok->vocab_size();
  t.num_labels = static_cast<std::int64_t>(o.labels.size());
  t.label_names = o.labels;
  TrainClassifierReport r;
  r.output = o.output;
  r.train_examples = static_cast<std::int64_t>(train.size());
  r.valid_examples = static_cast<std::int64_t>(valid.size());
  r.test_examples = static_cast<std::int64_t>(test.size());
  if (o.on_start) o.on_start(r);
  r.result = torch::train_encoder_classifier(train, valid, t, dir.string());

  // Accuracy of the saved model as it is read back (weights in save_dtype).
  torch::LoadOptions lo;
  lo.threads = t.threads;
  auto model = torch::Model::load(dir.string(), lo);
  r.valid_accuracy = torch::accuracy(*model, valid);
  r.test_accuracy = test.empty() ? -1.0 : torch::accuracy(*model, test);
  r.created = utc_now_iso8601();
  write_training_json(o, r, dir);
  folder.commit();
  return r;
}

}  // namespace attnflow::pipeline
