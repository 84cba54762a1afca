// The pieces the training jobs share.
#include "train_common.hpp"

#include <cmath>
#include <fstream>
#include <limits>
#include <thread>

#include "attnflow/core/error.hpp"
#include "attnflow/io/corpus_reader.hpp"
#include "attnflow/plot/curve_chart.hpp"

namespace attnflow::pipeline {

namespace fs = std::filesystem;

namespace {

hf::Encoding encode_line(const io::CorpusExample& e, const hf::Tokenizer& tok,
                         std::int64_t max_positions, const std::string& where) {
  hf::Encoding enc = e.text_pair ? tok.encode_pair(e.text, *e.text_pair) : tok.encode(e.text);
  if (static_cast<std::int64_t>(enc.ids.size()) > max_positions) {
    throw Error(where + ": " + std::to_string(enc.ids.size()) +
                " tokens, more than --max-positions " + std::to_string(max_positions));
  }
  return enc;
}

}  // namespace

std::vector<torch::TrainExample> encode_labelled(const std::string& path, const hf::Tokenizer& tok,
                                                 std::int64_t max_positions) {
  const io::Corpus corpus = io::read_corpus(path);
  std::vector<torch::TrainExample> out;
  out.reserve(corpus.examples.size());
  for (const io::CorpusExample& e : corpus.examples) {
    const std::string where = path + ":" + std::to_string(e.line);
    if (!e.label) throw Error(where + ": no label (training needs one on every line)");
    out.push_back({encode_line(e, tok, max_positions, where).ids, *e.label});
  }
  return out;
}

std::vector<std::vector<std::int64_t>> encode_texts(const std::string& path,
                                                    const hf::Tokenizer& tok,
                                                    std::int64_t max_positions) {
  const io::Corpus corpus = io::read_corpus(path);
  std::vector<std::vector<std::int64_t>> out;
  out.reserve(corpus.examples.size());
  for (const io::CorpusExample& e : corpus.examples) {
    out.push_back(encode_line(e, tok, max_positions, path + ":" + std::to_string(e.line)).ids);
  }
  return out;
}

void write_word_tokenizer(const std::string& vocab_path, std::int64_t max_positions,
                          const fs::path& dir) {
  if (vocab_path.empty() || !fs::is_regular_file(vocab_path)) {
    throw Error("--vocab " + vocab_path + ": no such file (a WordPiece vocab.txt)");
  }
  fs::copy_file(vocab_path, dir / "vocab.txt");
  std::ofstream f(dir / "tokenizer_config.json");
  f << "{\n  \"do_lower_case\": true,\n  \"model_max_length\": " << max_positions
    << ",\n  \"tokenizer_class\": \"BertTokenizer\"\n}\n";
  if (!f) throw Error((dir / "tokenizer_config.json").string() + ": cannot write");
}

void copy_tokenizer_files(const std::string& from, const fs::path& dir) {
  for (const char* name :
       {"vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
        "merges.txt", "vocab.json", "spiece.model", "sentencepiece.bpe.model"}) {
    const fs::path source = fs::path(from) / name;
    if (fs::is_regular_file(source)) fs::copy_file(source, dir / name);
  }
}

nlohmann::json history_json(const std::vector<torch::EpochStats>& history) {
  nlohmann::json out = nlohmann::json::array();
  const auto value = [](double x) { return x < 0 ? nlohmann::json() : nlohmann::json(x); };
  for (const torch::EpochStats& e : history) {
    out.push_back({{"epoch", e.epoch},
                   {"train_loss", e.train_loss},
                   {"valid_loss", value(e.valid_loss)},
                   {"valid_accuracy", value(e.valid_accuracy)}});
  }
  return out;
}

void plot_history(const std::vector<torch::EpochStats>& history, const std::string& path,
                  const std::string& title) {
  if (path.empty()) return;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  plot::CurveSeries train{"training loss", {}, {}}, loss{"validation loss", {}, {}},
      accuracy{"validation accuracy", {}, {}};
  for (const torch::EpochStats& e : history) {
    for (plot::CurveSeries* s : {&train, &loss, &accuracy}) s->x.push_back(e.epoch);
    train.y.push_back(e.train_loss);
    loss.y.push_back(e.valid_loss < 0 ? nan : e.valid_loss);
    accuracy.y.push_back(e.valid_accuracy < 0 ? nan : e.valid_accuracy);
  }
  plot::CurveChartOptions o;
  o.figure.title = title;
  o.x_label = "epoch";
  o.y_label = "loss (nats) / accuracy";
  plot::plot_curves({train, loss, accuracy}, path, o);
}

std::string hardware_text(int threads) {
  return "CPU, " + std::to_string(std::thread::hardware_concurrency()) + " cores, " +
         std::to_string(threads > 0 ? threads : 0) + " threads requested (0 = libtorch default)";
}

}  // namespace attnflow::pipeline
