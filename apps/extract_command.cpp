// `attnflow extract MODEL CORPUS -o OUT.h5`: options -> validate everything (corpus, tokens,
// lengths, targets, the output file) -> one io::Store::append per example, in corpus order,
// batch after batch. The store commits each example on its own, so a failed or killed run
// keeps what it wrote and --resume continues after it.
#include "extract_command.hpp"

#include <iostream>
#include <memory>
#include <string>

#include "attnflow/core/error.hpp"

#ifdef ATTNFLOW_HAVE_TORCH
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <vector>

#include "attnflow/hf/config.hpp"
#include "attnflow/hf/tokenizer.hpp"
#include "attnflow/io/corpus_reader.hpp"
#include "attnflow/io/store.hpp"
#include "attnflow/torch/model.hpp"
#include "progress_bar.hpp"
#endif

namespace attnflow::app {
namespace {

constexpr const char* kPrefix = "attnflow: error: ";

#ifdef ATTNFLOW_HAVE_TORCH

namespace fs = std::filesystem;

struct ExtractArgs {
  std::string model;
  std::string corpus;
  std::string output;
  std::string format = "auto";
  bool skip_empty = false;
  std::string tokenizer;
  std::string device = "cpu";
  int batch_size = 8;
  std::int64_t max_length = 0;
  bool truncate = false;
  std::string store = "per-head";
  std::string precision = "float32";
  std::string target = "none";
  bool resume = false;
  bool overwrite = false;
  int threads = 0;
  bool quiet = false;
};

/// One corpus example, tokenized (and truncated) as it goes to the model.
struct Item {
  const io::CorpusExample* source = nullptr;
  hf::Encoding encoding;
  std::size_t full_length = 0;  ///< tokens before --truncate
};

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool is_dir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string parent_dir(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

/// cpu, cuda or cuda:N; CUDA must be there.
void check_device(const std::string& device) {
  if (device == "cpu") return;
  const bool cuda =
      device == "cuda" || (device.rfind("cuda:", 0) == 0 && device.size() > 5 &&
                           device.find_first_not_of("0123456789", 5) == std::string::npos);
  if (!cuda) throw Error("--device: unknown '" + device + "' (expected cpu, cuda or cuda:N)");
  if (!torch::cuda_available()) {
    throw Error("--device " + device +
                ": CUDA is not available (this libtorch was built without CUDA, or no GPU is "
                "visible); use --device cpu");
  }
}

/// The tokenizer directory: --tokenizer, else the model directory, else the directory of the
/// model file (a TorchScript .pt or a config.json).
std::string tokenizer_dir(const ExtractArgs& a) {
  if (!a.tokenizer.empty()) return a.tokenizer;
  if (is_dir(a.model)) return a.model;
  return parent_dir(a.model);
}

/// "WordPiece (DIR/tokenizer.json)": the model type and the file it came from.
std::string tokenizer_description(const hf::Tokenizer& t, const std::string& dir) {
  const std::string type(t.model_type());
  const fs::path d(dir);
  std::string file;
  if (exists((d / "tokenizer.json").string())) {
    file = (d / "tokenizer.json").string();
  } else if (type == "WordPiece") {
    file = (d / "vocab.txt").string();
  } else {
    file = (d / "vocab.json").string() + " + merges.txt";
  }
  return type + " (" + file + ")";
}

/// The model's label names (config.json id2label) inverted, for string labels in the corpus.
std::map<std::string, std::int64_t> label_ids(const std::string& model) {
  std::map<std::string, std::int64_t> ids;
  std::string config = model;
  if (is_dir(model)) config = (fs::path(model) / "config.json").string();
  if (fs::path(config).filename() != "config.json" || !exists(config)) return ids;
  try {
    hf::ConfigOptions o;
    o.extra_architectures = {"AttnflowEncoderClassifier"};
    for (const auto& [id, name] : hf::read_model_config(config, o).id2label) ids[name] = id;
  } catch (const Error&) {
    // Reported with its reason when the model is loaded.
  }
  return ids;
}

std::string where(const io::Corpus& corpus, const Item& item) {
  return corpus.path + ":" + std::to_string(item.source->line);
}

/// Line numbers for a message: "line 7", "lines 7, 19, 42" or "lines 7, 19, 42, 50, 61 and
/// 12 more".
std::string line_list(const std::vector<std::int64_t>& lines) {
  constexpr std::size_t kShown = 5;
  std::string s = lines.size() == 1 ? "line " : "lines ";
  for (std::size_t k = 0; k < lines.size() && k < kShown; ++k) {
    s += (k ? ", " : "") + std::to_string(lines[k]);
  }
  if (lines.size() > kShown) s += " and " + std::to_string(lines.size() - kShown) + " more";
  return s;
}

/// Cuts an encoding to `limit` tokens; a final special token ([SEP]) stays the last token.
void truncate(hf::Encoding& e, std::size_t limit) {
  const bool keep_last = limit >= 2 && !e.special.empty() && e.special.back() != 0;
  auto cut = [&](auto& v) {
    if (v.empty()) return;
    const auto last = v.back();
    v.resize(limit);
    if (keep_last) v.back() = last;
  };
  cut(e.ids);
  cut(e.tokens);
  cut(e.type_ids);
  cut(e.special);
}

/// Target checks that torch::Model::run would make mid-run, made before anything is written:
/// first what the model and tokenizer must offer (sets the mask token id)...
void check_target(const torch::Target& target, const torch::ModelInfo& info,
                  const hf::Tokenizer& tokenizer, std::int64_t& mask_token_id) {
  using torch::TargetKind;
  const TargetKind k = target.kind;
  if (k == TargetKind::None) return;
  const std::string what = "--target " + torch::to_string(target);
  const std::string model = info.path + " is a " + info.architecture;
  const bool classifier =
      k == TargetKind::Class || k == TargetKind::Label || k == TargetKind::PredictedClass;
  if (classifier && info.head != torch::HeadKind::Classifier) {
    throw Error(what + " needs a sequence classifier; " + model);
  }
  if (!classifier && info.head != torch::HeadKind::LanguageModel) {
    throw Error(what + " needs a language-model head; " + model);
  }
  if (k == TargetKind::Class && target.index >= info.num_labels) {
    throw Error(what + ": the model has " + std::to_string(info.num_labels) + " classes (0.." +
                std::to_string(info.num_labels - 1) + ")");
  }
  if ((k == TargetKind::MaskedToken || k == TargetKind::NextToken) && info.vocab_size > 0 &&
      target.index >= info.vocab_size) {
    throw Error(what + ": token id " + std::to_string(target.index) +
                " is outside the vocabulary (" + std::to_string(info.vocab_size) + " ids)");
  }
  if ((k == TargetKind::NextToken || k == TargetKind::LastToken) && !info.causal) {
    throw Error(what + " needs a causal language model (GPT-2); " + model +
                " (for a masked language model use --target mask)");
  }
  if (k == TargetKind::MaskedToken && info.causal) {
    throw Error(what + " needs a masked language model (BERT); " + model +
                " (for a causal language model use --target next or last)");
  }
  if (k == TargetKind::MaskedToken) {
    const auto mask = tokenizer.special_ids().mask;
    if (!mask) throw Error(what + ": the tokenizer has no mask token");
    mask_token_id = *mask;
  }
}

/// The per-example part: labels, mask tokens, lengths.
void check_target_examples(const torch::Target& target, const torch::ModelInfo& info,
                           const hf::Tokenizer& tokenizer, const io::Corpus& corpus,
                           const std::vector<Item>& items, std::int64_t mask_token_id) {
  using torch::TargetKind;
  const TargetKind k = target.kind;
  const std::string what = "--target " + torch::to_string(target);
  for (const Item& item : items) {
    const auto& ids = item.encoding.ids;
    if (k == TargetKind::Label) {
      const auto& label = item.source->label;
      if (!label) throw Error(where(corpus, item) + ": no label, but " + what + " needs one");
      if (*label < 0 || *label >= info.num_labels) {
        throw Error(where(corpus, item) + ": label " + std::to_string(*label) +
                    " is not a class of the model (0.." + std::to_string(info.num_labels - 1) +
                    ")");
      }
    } else if (k == TargetKind::MaskedToken &&
               std::find(ids.begin(), ids.end(), mask_token_id) == ids.end()) {
      throw Error(where(corpus, item) + ": no mask token (" + tokenizer.id_to_token(mask_token_id) +
                  ", id " + std::to_string(mask_token_id) + "), but " + what + " needs one" +
                  (ids.size() < item.full_length ? " (--truncate cut it off)" : ""));
    } else if (k == TargetKind::LastToken && ids.size() < 2) {
      throw Error(where(corpus, item) + ": " + std::to_string(ids.size()) + " token, but " + what +
                  " needs at least 2");
    }
  }
}

/// --resume: the store must have been made by the same model with the same options, from the
/// same corpus (its first and last stored examples have the tokens the corpus gives now).
void check_resume(const io::Store& store, const io::StoreInfo& want, const ExtractArgs& a,
                  bool gradients, const io::Corpus& corpus, const std::vector<Item>& items) {
  const io::StoreInfo& have = store.info();
  const std::string& out = store.path();
  auto differs = [&](const std::string& what, const std::string& stored, const std::string& now) {
    throw Error(out + ": --resume needs the options of the first run, but the file has " + what +
                (stored.empty() ? "" : " " + stored) + " and this run " + now);
  };
  std::error_code ec1, ec2;
  if (have.model != want.model &&
      fs::weakly_canonical(have.model, ec1) != fs::weakly_canonical(want.model, ec2)) {
    differs("model", "'" + have.model + "'", "'" + want.model + "'");
  }
  if (have.layers != want.layers || have.heads != want.heads) {
    differs("layers x heads", std::to_string(have.layers) + " x " + std::to_string(have.heads),
            std::to_string(want.layers) + " x " + std::to_string(want.heads));
  }
  if (have.causal != want.causal) {
    differs("causal", have.causal ? "true" : "false", want.causal ? "true" : "false");
  }
  if (have.mode != want.mode) differs("--store", to_string(have.mode), to_string(want.mode));
  if (have.attention_precision != want.attention_precision) {
    differs("--precision", to_string(have.attention_precision),
            to_string(want.attention_precision));
  }
  const std::int64_t done = store.size();
  const auto total = static_cast<std::int64_t>(items.size());
  if (done > total) {
    throw Error(out + " holds " + std::to_string(done) + " examples, but " + corpus.path +
                " has only " + std::to_string(total) +
                ": --resume continues a run over the same corpus (or a longer one)");
  }
  if (done == 0) return;
  for (const std::int64_t i : {std::int64_t{0}, done - 1}) {
    io::ReadOptions what;
    what.attention = false;
    what.gradient = i == 0;
    const io::Example stored = store.read(i, what);
    const Item& item = items[static_cast<std::size_t>(i)];
    if (stored.token_ids != item.encoding.ids) {
      throw Error(out + ": example " + std::to_string(i) + " holds other tokens than " +
                  where(corpus, item) +
                  " gives now: --resume needs the corpus, tokenizer and --max-length/--truncate "
                  "of the first run");
    }
    if (i == 0 && stored.gradient.empty() == gradients) {
      differs(gradients ? "no gradients (--target none)" : "gradients (a --target)", "",
              "--target " + a.target);
    }
  }
}

void write_example(io::Store& store, const io::StoreInfo& info, const Item& item,
                   torch::Output& o) {
  const hf::Encoding& e = item.encoding;
  const int n = static_cast<int>(e.ids.size());
  const std::size_t size = static_cast<std::size_t>(info.layers) * info.heads * n * n;
  if (o.n != n || o.attention.size() != size) {
    throw Error("the model returned " + std::to_string(o.attention.size()) +
                " attention values for " + std::to_string(o.n) + " tokens; expected " +
                std::to_string(size) + " for " + std::to_string(n));
  }
  io::Example x;
  x.tokens = e.tokens;
  x.token_ids = e.ids;
  x.label = item.source->label;
  x.target = o.target_index;
  x.prediction = o.prediction;
  if (info.mode == io::StoreMode::Fused) {
    std::vector<float> fused(static_cast<std::size_t>(info.layers) * n * n, 0.0f);
    const std::size_t map = static_cast<std::size_t>(n) * n;
    for (int l = 0; l < info.layers; ++l) {
      float* dst = fused.data() + static_cast<std::size_t>(l) * map;
      for (int h = 0; h < info.heads; ++h) {
        const float* src =
            o.attention.data() + (static_cast<std::size_t>(l) * info.heads + h) * map;
        for (std::size_t k = 0; k < map; ++k) dst[k] += src[k];
      }
      for (std::size_t k = 0; k < map; ++k) dst[k] /= static_cast<float>(info.heads);
    }
    x.attention = AttentionStack(std::move(fused), info.layers, 1, n);
  } else {
    x.attention = AttentionStack(std::move(o.attention), info.layers, info.heads, n);
    if (!o.attention_gradient.empty()) {
      if (o.attention_gradient.size() != size) {
        throw Error("the model returned " + std::to_string(o.attention_gradient.size()) +
                    " gradient values; expected " + std::to_string(size));
      }
      x.gradient = AttentionStack(std::move(o.attention_gradient), info.layers, info.heads, n);
    }
  }
  store.append(x);
}

torch::Input input_of(const Item& item, const torch::ModelInfo& info) {
  torch::Input in;
  in.ids = item.encoding.ids;
  if (info.uses_type_ids) in.type_ids = item.encoding.type_ids;
  in.label = item.source->label;
  return in;
}

void run(const ExtractArgs& a) {
  using Clock = std::chrono::steady_clock;
  // ---- options (nothing read yet) ----
  const io::CorpusFormat format = [&] {
    try {
      return io::parse_corpus_format(a.format);
    } catch (const Error&) {
      throw Error("--format: unknown '" + a.format + "' (expected auto, text, jsonl or tsv)");
    }
  }();
  if (a.store != "per-head" && a.store != "fused") {
    throw Error("--store: unknown '" + a.store + "' (expected per-head or fused)");
  }
  if (a.precision != "float32" && a.precision != "float16") {
    throw Error("--precision: unknown '" + a.precision + "' (expected float32 or float16)");
  }
  const torch::Target target = torch::parse_target(a.target);
  const bool gradients = target.kind != torch::TargetKind::None;
  if (gradients && a.store == "fused") {
    throw Error("--store fused keeps no gradients, but --target " + a.target +
                " asks for them: use --store per-head, or --target none");
  }
  if (a.batch_size < 1) {
    throw Error("--batch-size: must be at least 1 (got " + std::to_string(a.batch_size) + ")");
  }
  if (a.max_length < 0) {
    throw Error("--max-length: must be positive (got " + std::to_string(a.max_length) + ")");
  }
  if (a.threads < 0) {
    throw Error("--threads: must be 0 (libtorch's default) or more (got " +
                std::to_string(a.threads) + ")");
  }
  if (a.resume && a.overwrite) throw Error("--resume and --overwrite exclude each other");
  check_device(a.device);

  // ---- files that must (not) be there ----
  if (!exists(a.model)) throw Error(a.model + ": no such model directory or file");
  if (is_dir(a.output)) throw Error(a.output + ": is a directory (-o names the HDF5 file)");
  const bool output_exists = exists(a.output);
  if (output_exists && !a.resume && !a.overwrite) {
    throw Error(a.output + ": already exists (--resume continues it, --overwrite replaces it)");
  }
  if (!output_exists && a.resume) throw Error(a.output + ": nothing to resume (no such file)");
  if (!is_dir(parent_dir(a.output))) {
    throw Error(a.output + ": cannot create it: directory '" + parent_dir(a.output) +
                "' does not exist");
  }

  // ---- corpus and tokens ----
  io::CorpusReadOptions read_options;
  read_options.format = format;
  read_options.skip_empty = a.skip_empty;
  read_options.label_ids = label_ids(a.model);
  const io::Corpus corpus = io::read_corpus(a.corpus, read_options);
  const std::string tok_dir = tokenizer_dir(a);
  const std::unique_ptr<hf::Tokenizer> tokenizer = hf::load_tokenizer(tok_dir);
  std::vector<Item> items(corpus.examples.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    Item& item = items[i];
    item.source = &corpus.examples[i];
    try {
      item.encoding = item.source->text_pair
                          ? tokenizer->encode_pair(item.source->text, *item.source->text_pair)
                          : tokenizer->encode(item.source->text);
    } catch (const Error& e) {
      throw Error(where(corpus, item) + ": " + e.what());
    }
    if (item.encoding.ids.empty()) {
      throw Error(where(corpus, item) + ": the tokenizer gives no tokens for this text");
    }
    item.full_length = item.encoding.ids.size();
  }

  // ---- model, lengths, ids, targets ----
  torch::LoadOptions load;
  load.device = a.device;
  load.threads = a.threads;
  const std::unique_ptr<torch::Model> model = torch::Model::load(a.model, load);
  const torch::ModelInfo& info = model->info();
  if (a.max_length > 0 && info.max_positions > 0 && a.max_length > info.max_positions) {
    throw Error("--max-length " + std::to_string(a.max_length) + " is more than the " +
                std::to_string(info.max_positions) + " positions of " + info.path);
  }
  torch::RunOptions run_options;
  run_options.target = target;
  run_options.attention_gradients = gradients;
  check_target(target, info, *tokenizer, run_options.mask_token_id);
  for (const Item& item : items) {
    const auto& ids = item.encoding.ids;
    for (std::size_t k = 0; k < ids.size(); ++k) {
      if (ids[k] < 0 || (info.vocab_size > 0 && ids[k] >= info.vocab_size)) {
        throw Error(where(corpus, item) + ": token " + std::to_string(k) + " '" +
                    item.encoding.tokens[k] + "' has id " + std::to_string(ids[k]) +
                    ", outside the vocabulary of " + info.path + " (" +
                    std::to_string(info.vocab_size) + " ids): is " + tok_dir +
                    " the model's tokenizer?");
      }
    }
  }
  const std::int64_t limit = a.max_length > 0 ? a.max_length : info.max_positions;
  const std::string limit_source = a.max_length > 0 ? "--max-length" : "the model's max_positions";
  std::vector<std::int64_t> too_long;
  for (Item& item : items) {
    if (limit <= 0 || static_cast<std::int64_t>(item.encoding.ids.size()) <= limit) continue;
    too_long.push_back(item.source->line);
    if (a.truncate) truncate(item.encoding, static_cast<std::size_t>(limit));
  }
  if (!too_long.empty() && !a.truncate) {
    const Item& first = *std::find_if(items.begin(), items.end(), [&](const Item& it) {
      return it.source->line == too_long.front();
    });
    throw Error(where(corpus, first) + ": " + std::to_string(first.encoding.ids.size()) +
                " tokens, more than " + std::to_string(limit) + " (" + limit_source + "); " +
                std::to_string(too_long.size()) +
                (too_long.size() == 1 ? " example is" : " examples are") + " too long (" +
                line_list(too_long) + "): --truncate cuts them");
  }
  check_target_examples(target, info, *tokenizer, corpus, items, run_options.mask_token_id);

  // ---- the output file ----
  io::silence_hdf5_errors();
  io::StoreInfo store_info;
  store_info.model = a.model;
  store_info.tokenizer = tokenizer_description(*tokenizer, tok_dir);
  store_info.layers = info.layers;
  store_info.heads = info.heads;
  store_info.causal = info.causal;
  store_info.mode = io::parse_store_mode(a.store);
  store_info.attention_precision = io::parse_precision(a.precision);
  store_info.gradient_precision = store_info.attention_precision;
  std::optional<io::Store> store;
  if (a.resume) {
    store.emplace(io::Store::open(a.output, io::Access::ReadWrite));
    check_resume(*store, store_info, a, gradients, corpus, items);
  } else {
    if (output_exists) {
      std::error_code ec;
      if (!fs::remove(a.output, ec) || ec) {
        throw Error(a.output + ": cannot replace it (" + ec.message() + ")");
      }
    }
    store.emplace(io::Store::create(a.output, store_info));
  }
  const std::int64_t resumed = store->size();
  const auto total = static_cast<std::int64_t>(items.size());
  if (resumed == total) {
    if (!a.quiet) {
      std::cout << "nothing to do: " << a.output << " already holds all " << total
                << " examples of " << corpus.path << "\n";
    }
    return;
  }

  // ---- extraction, in corpus order ----
  ProgressBar bar(!a.quiet && ProgressBar::stderr_is_terminal());
  const Clock::time_point start = Clock::now();
  std::int64_t tokens = 0;
  std::int64_t written = resumed;
  std::string batch_note;
  auto failed = [&](const Item& item, const std::string& message) {
    bar.finish();
    const std::string kept =
        written == 0
            ? a.output + " holds no examples yet"
            : a.output + " keeps the " + std::to_string(written) +
                  " examples written so far (up to " + corpus.path + ":" +
                  std::to_string(items[static_cast<std::size_t>(written - 1)].source->line) + ")";
    return Error(where(corpus, item) + ": " + message + "\n  " + kept +
                 "; fix the problem and rerun with --resume to continue");
  };
  auto store_one = [&](const Item& item, torch::Output& o) {
    try {
      write_example(*store, store_info, item, o);
    } catch (const Error& e) {
      throw failed(item, e.what());
    }
    tokens += static_cast<std::int64_t>(item.encoding.ids.size());
    ++written;
    bar.update(written - resumed, total - resumed);
  };
  for (std::int64_t begin = resumed; begin < total; begin += a.batch_size) {
    const std::int64_t end = std::min<std::int64_t>(begin + a.batch_size, total);
    std::vector<torch::Input> batch;
    for (std::int64_t i = begin; i < end; ++i) {
      batch.push_back(input_of(items[static_cast<std::size_t>(i)], info));
    }
    std::vector<torch::Output> outputs;
    try {
      outputs = model->run(batch, run_options);
    } catch (const std::exception& e) {
      if (batch.size() == 1) throw failed(items[static_cast<std::size_t>(begin)], e.what());
      // Find the example that fails: run the batch one example at a time.
      if (batch_note.empty()) {
        batch_note = "lines " +
                     std::to_string(items[static_cast<std::size_t>(begin)].source->line) + "-" +
                     std::to_string(items[static_cast<std::size_t>(end - 1)].source->line) +
                     " failed as one batch (" + e.what() + ") and were run one by one";
      }
    }
    if (!outputs.empty()) {
      if (outputs.size() != batch.size()) {
        throw failed(items[static_cast<std::size_t>(begin)],
                     "the model returned " + std::to_string(outputs.size()) + " outputs for " +
                         std::to_string(batch.size()) + " examples");
      }
      for (std::int64_t i = begin; i < end; ++i) {
        store_one(items[static_cast<std::size_t>(i)], outputs[static_cast<std::size_t>(i - begin)]);
      }
      continue;
    }
    for (std::int64_t i = begin; i < end; ++i) {
      const Item& item = items[static_cast<std::size_t>(i)];
      std::vector<torch::Output> one;
      try {
        one = model->run({batch[static_cast<std::size_t>(i - begin)]}, run_options);
      } catch (const std::exception& e) {
        throw failed(item, e.what());
      }
      if (one.size() != 1) throw failed(item, "the model returned no output");
      store_one(item, one.front());
    }
  }
  bar.finish();
  store->close();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (a.quiet) return;
  const std::int64_t done = written - resumed;
  char line[512];
  std::snprintf(line, sizeof line,
                "extracted %lld example%s (%lld tokens) in %.2f s (%.1f examples/s) -> %s",
                static_cast<long long>(done), done == 1 ? "" : "s", static_cast<long long>(tokens),
                seconds, seconds > 0 ? static_cast<double>(done) / seconds : 0.0, a.output.c_str());
  std::cout << line;
  if (resumed > 0) std::cout << " (resumed: " << resumed << " examples were already there)";
  std::cout << "\n";
  if (!too_long.empty()) {
    std::cout << "truncated " << too_long.size()
              << (too_long.size() == 1 ? " example" : " examples") << " to " << limit
              << " tokens: " << corpus.path << " " << line_list(too_long) << "\n";
  }
  if (!batch_note.empty()) std::cout << "note: " << batch_note << "\n";
}

#endif  // ATTNFLOW_HAVE_TORCH

/// Runs `f`, turning an error into "attnflow: error: <message>" and exit status 1.
template <typename F>
void reporting_errors(F&& f) {
  try {
    f();
  } catch (const CLI::Error&) {
    throw;
  } catch (const std::exception& e) {
    std::cout.flush();
    std::cerr << kPrefix << e.what() << "\n";
    throw CLI::RuntimeError(1);
  }
}

}  // namespace

#ifdef ATTNFLOW_HAVE_TORCH

void add_extract_command(CLI::App& app) {
  auto args = std::make_shared<ExtractArgs>();
  CLI::App* cmd = app.add_subcommand(
      "extract",
      "Run a transformer over a text corpus and store its attention maps (and gradients) in an "
      "HDF5 store");
  cmd->add_option("model", args->model,
                  "Hugging Face model directory (config.json + model.safetensors), or a "
                  "TorchScript .pt file (docs/extract.md)")
      ->required();
  cmd->add_option("corpus", args->corpus,
                  "Text corpus, one example per line: .txt, .jsonl ({\"text\": ..., "
                  "\"label\": ...}) or .tsv (text<TAB>label)")
      ->required();
  cmd->add_option("-o,--output", args->output, "The HDF5 store to write (docs/hdf5-schema.md)")
      ->required();
  cmd->add_option("--format", args->format,
                  "Corpus format: auto (from the extension), text, "
                  "jsonl or tsv")
      ->capture_default_str();
  cmd->add_flag("--skip-empty", args->skip_empty,
                "Skip empty lines of the corpus (by default they are an error)");
  cmd->add_option("--tokenizer", args->tokenizer,
                  "Tokenizer directory (tokenizer.json or vocab files); default: the model's "
                  "directory");
  cmd->add_option("--device", args->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("-b,--batch-size", args->batch_size, "Examples per model run")
      ->capture_default_str();
  cmd->add_option("--max-length", args->max_length,
                  "Longest example in tokens (default: the model's max_positions)");
  cmd->add_flag("--truncate", args->truncate,
                "Cut longer examples to --max-length, keeping the final special token ([SEP]); "
                "without it a longer example is an error");
  cmd->add_option("--store", args->store,
                  "per-head: every head's map; fused: the mean over heads (no gradients)")
      ->capture_default_str();
  cmd->add_option("--precision", args->precision, "Stored precision: float32 or float16")
      ->capture_default_str();
  cmd->add_option("--target", args->target,
                  "Gradient target: none, class:K, label, predicted, prob-diff "
                  "(classifiers); mask, mask:ID (masked LM); next, next:ID, last (causal LM)")
      ->capture_default_str();
  cmd->add_flag("--resume", args->resume,
                "Continue OUT.h5: skip the examples it holds, append the rest of the corpus");
  cmd->add_flag("--overwrite", args->overwrite, "Replace an existing OUT.h5");
  cmd->add_option("-j,--threads", args->threads, "CPU threads for libtorch (0 = its default)")
      ->capture_default_str();
  cmd->add_flag("-q,--quiet", args->quiet, "Print nothing but errors (no progress bar)");
  cmd->callback([args] { reporting_errors([&] { run(*args); }); });
}

#else

void add_extract_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "extract", "Run a transformer over a text corpus (needs attnflow built with libtorch)");
  cmd->allow_extras();
  cmd->callback([] {
    reporting_errors(
        [] { throw Error("attnflow was built without libtorch: extract is not available"); });
  });
}

#endif

}  // namespace attnflow::app
