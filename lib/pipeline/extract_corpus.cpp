// extract_corpus: options -> validate everything (corpus, tokens, lengths, targets, the output
// file) -> one io::Store::append per example, in corpus order, batch after batch. The store
// commits each example on its own, so a failed or killed run keeps what it wrote and --resume
// continues after it.
#include "attnflow/pipeline/extract_corpus.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "attnflow/core/error.hpp"
#include "attnflow/core/fusion.hpp"
#include "attnflow/core/util/enum_names.hpp"
#include "attnflow/hf/tokenizer.hpp"
#include "attnflow/io/derived_run.hpp"
#include "attnflow/io/store.hpp"
#include "attnflow/pipeline/merge.hpp"
#include "attnflow/torch/model.hpp"
#include "corpus_tokens.hpp"
#include "extract_store.hpp"

namespace attnflow::pipeline {

namespace fs = std::filesystem;
using detail::TokenizedExample;

namespace {

bool exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

bool is_dir(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
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

/// Error("<option>: unknown '<name>' (expected a or b)") unless `value` is in `names`.
template <class E, std::size_t N>
void require_choice(const EnumName<E> (&names)[N], E value, const char* option) {
  if (find_enum(names, to_string(value))) return;
  throw Error(std::string(option) + ": unknown '" + to_string(value) + "' (expected " +
              enum_choices(names) + ")");
}

/// --store derived: a target exactly when grad-rollout is asked for, with a rule that its
/// gradient-weighted head means (computed on the device) can give.
void check_derived_gradients(const ExtractOptions& o) {
  const bool grad = std::find(o.analysis.methods.begin(), o.analysis.methods.end(),
                              Method::GradRollout) != o.analysis.methods.end();
  const bool target = o.target.kind != torch::TargetKind::None;
  if (grad && !target) {
    throw Error(
        "--store derived: -m grad-rollout needs the gradients of a target: give --target "
        "(e.g. --target next for a causal LM)");
  }
  if (target && !grad) {
    throw Error("--store derived keeps no gradients, only grad-rollout uses them, but --target " +
                torch::to_string(o.target) +
                " asks for them without -m grad-rollout: add grad-rollout to -m, use --store "
                "per-head, or --target none");
  }
  if (!grad) return;
  try {
    gradient_head_mean(o.analysis.grad);
  } catch (const Error& e) {
    throw Error(std::string("--store derived -m grad-rollout: ") + e.what());
  }
}

/// The options on their own (nothing read yet).
void check_options(const ExtractOptions& o) {
  require_choice(kExtractStoreModes, o.store, "--store");
  require_choice(kExtractPrecisions, o.precision, "--precision");
  if (o.target.kind != torch::TargetKind::None && o.store == io::StoreMode::Fused) {
    throw Error("--store fused keeps no gradients, but --target " + torch::to_string(o.target) +
                " asks for them: use --store per-head, or --target none");
  }
  if (!o.contributions.empty() && !o.layers.empty()) {
    throw Error("--contributions " + contribution_list(o.contributions) +
                " are computed for every layer; they cannot be combined with --layers");
  }
  if (o.store == io::StoreMode::Derived) {
    if (o.analysis.methods.empty()) throw Error("--store derived: no method chosen (-m)");
    for (Method m : o.analysis.methods) {
      if (m != Method::Raw && m != Method::Residual && m != Method::Rollout && m != Method::Flow &&
          m != Method::GradRollout) {
        throw Error("--store derived: -m " + std::string(to_string(m)) +
                    " needs per-head attention or contributions; derived stores compute raw, "
                    "residual, rollout, flow and grad-rollout (use --store per-head and "
                    "attnflow analyze)");
      }
    }
    check_derived_gradients(o);
    if (o.run.empty() || o.run.find('/') != std::string::npos) {
      throw Error("--run: '" + o.run + "' is not a run name (non-empty, no '/')");
    }
  }
  if (o.batch_size < 1) {
    throw Error("--batch-size: must be at least 1 (got " + std::to_string(o.batch_size) + ")");
  }
  if (o.max_length < 0) {
    throw Error("--max-length: must be positive (got " + std::to_string(o.max_length) + ")");
  }
  if (o.threads < 0) {
    throw Error("--threads: must be 0 (libtorch's default) or more (got " +
                std::to_string(o.threads) + ")");
  }
  if (o.resume && o.overwrite) throw Error("--resume and --overwrite exclude each other");
  // Rejects a method named twice.
  parse_contribution_list(contribution_list(o.contributions), "--contributions");
  io::require_codec(o.write.codec, "--compression " + io::compression_name(o.write));
  check_device(o.device);
}

/// --layers / --heads against the model; --fusion weighted's weights against the heads kept.
void check_selection(const ExtractOptions& o, const torch::ModelInfo& info) {
  const auto check = [&](const std::vector<int>& chosen, int count, const char* option,
                         const char* what) {
    for (int k : chosen) {
      if (k < 1 || k > count) {
        throw Error(std::string(option) + " " + std::to_string(k) + ": out of range (" + info.path +
                    " has " + std::to_string(count) + " " + what + ", 1.." + std::to_string(count) +
                    ")");
      }
    }
  };
  check(o.layers, info.layers, "--layers", "layers");
  check(o.heads, info.heads, "--heads", "heads");
  const FusionOptions& f = o.analysis.prepare.fusion;
  if (o.store != io::StoreMode::PerHead && f.method == HeadFusion::WeightedMean) {
    // core's own checks of the weights (count, sign, not all zero) on the stack kept
    const int layers = o.layers.empty() ? info.layers : static_cast<int>(o.layers.size());
    const int heads = o.heads.empty() ? info.heads : static_cast<int>(o.heads.size());
    try {
      fuse_heads(AttentionStack(layers, heads, 1), f);
    } catch (const Error& e) {
      throw Error(std::string("--head-weights: ") + e.what() + " (of the " + std::to_string(heads) +
                  " heads kept)");
    }
  }
}

/// The files that must (not) be there; returns whether the output exists. --resume of a run
/// that never created its file starts it.
bool check_files(const ExtractOptions& o) {
  if (!exists(o.model)) throw Error(o.model + ": no such model directory or file");
  if (is_dir(o.output)) throw Error(o.output + ": is a directory (-o names the HDF5 file)");
  const bool output_exists = exists(o.output);
  if (output_exists && !o.resume && !o.overwrite) {
    throw Error(o.output + ": already exists (--resume continues it, --overwrite replaces it)");
  }
  if (!is_dir(parent_dir(o.output))) {
    throw Error(o.output + ": cannot create it: directory '" + parent_dir(o.output) +
                "' does not exist");
  }
  return output_exists;
}

/// The target against the model and tokenizer (torch's check, with the CLI's names). Returns
/// the mask token id for a mask target (else -1).
std::int64_t check_target(const torch::Target& target, const torch::ModelInfo& info,
                          const hf::Tokenizer& tokenizer) {
  std::int64_t mask_id = -1;
  if (target.kind == torch::TargetKind::MaskedToken) {
    mask_id = tokenizer.special_ids().mask.value_or(-1);
  }
  torch::TargetNames names;
  names.target = "--target " + torch::to_string(target);
  torch::check_target(target, info, mask_id, names);
  return mask_id;
}

/// The target against every example as it goes to the model (labels, mask tokens, lengths).
void check_target_examples(const torch::Target& target, const torch::ModelInfo& info,
                           const hf::Tokenizer& tokenizer, const io::Corpus& corpus,
                           const std::vector<TokenizedExample>& examples, std::int64_t mask_id) {
  if (target.kind == torch::TargetKind::None) return;
  torch::TargetNames names;
  names.target = "--target " + torch::to_string(target);
  if (mask_id >= 0) names.mask_token = tokenizer.id_to_token(mask_id);
  for (const TokenizedExample& x : examples) {
    names.example = detail::where(corpus, x);
    try {
      torch::check_target_input(target, info, detail::model_input(x, info), mask_id, names);
    } catch (const Error& e) {
      // a position the example had before --truncate (an encoder-decoder's is a decoder one)
      const bool cut = (target.kind == torch::TargetKind::MaskedToken ||
                        (target.kind == torch::TargetKind::Token && info.decoder_layers == 0)) &&
                       x.encoding.ids.size() < x.full_length;
      if (!cut) throw;
      throw Error(std::string(e.what()) + " (--truncate cut it off)");
    }
  }
}

/// The model's run over the corpus in batches [k*B, (k+1)*B) from the batch of `first` on,
/// each missing example stored as soon as its batch is done. A resumed run thus recomputes the
/// batch it stopped in (the same examples, padded alike) and stores only its missing examples:
/// the bytes an uninterrupted run writes. `first` is not a batch boundary only for a store that
/// records no batch size (then batches start at `first`).
class Extraction {
 public:
  Extraction(const ExtractOptions& o, torch::Model& model, const torch::RunOptions& run,
             io::Store& store, const io::StoreInfo& info, const io::Corpus& corpus,
             const std::vector<TokenizedExample>& examples, const ExtractProgress& progress,
             ExtractReport& report)
      : o_(o),
        model_(model),
        run_(run),
        store_(store),
        info_(info),
        corpus_(corpus),
        examples_(examples),
        progress_(progress),
        report_(report),
        written_(store.size()) {}

  /// Batches from the one that starts at `first` (<= the examples stored).
  void run(std::int64_t first) {
    const auto total = static_cast<std::int64_t>(examples_.size());
    for (std::int64_t begin = first; begin < total; begin += o_.batch_size) {
      run_batch(begin, std::min<std::int64_t>(begin + o_.batch_size, total));
    }
  }

 private:
  const TokenizedExample& example(std::int64_t i) const {
    return examples_[static_cast<std::size_t>(i)];
  }

  /// A batch, storing its examples from written_ on; when it fails as a whole, those examples
  /// one by one (to find the one that fails). A failure that recurs (a bad example) makes an
  /// interrupted and an uninterrupted run take the same way; docs/extract.md "Resume".
  void run_batch(std::int64_t begin, std::int64_t end) {
    std::vector<torch::Input> batch;
    for (std::int64_t i = begin; i < end; ++i) {
      batch.push_back(detail::model_input(example(i), model_.info()));
    }
    std::vector<torch::Output> outputs;
    std::vector<detail::Collected> maps(batch.size());
    try {
      for (std::int64_t i = std::max(begin, written_); i < end; ++i) {
        begin_example(i, maps[static_cast<std::size_t>(i - begin)]);
      }
      outputs = model_.run(batch, streaming(maps));
    } catch (const std::exception& e) {
      if (batch.size() == 1) throw failed(example(begin), e.what());
      if (report_.batch_note.empty()) {
        report_.batch_note = "lines " + std::to_string(example(begin).source->line) + "-" +
                             std::to_string(example(end - 1).source->line) +
                             " failed as one batch (" + e.what() + ") and were run one by one";
      }
      for (std::int64_t i = std::max(begin, written_); i < end; ++i)
        run_one(i, batch[static_cast<std::size_t>(i - begin)]);
      return;
    }
    if (outputs.size() != batch.size()) {
      throw failed(example(begin), "the model returned " + std::to_string(outputs.size()) +
                                       " outputs for " + std::to_string(batch.size()) +
                                       " examples");
    }
    for (std::int64_t i = std::max(begin, written_); i < end; ++i) {
      const auto k = static_cast<std::size_t>(i - begin);
      store_one(example(i), outputs[k], maps[k]);
    }
  }

  void run_one(std::int64_t i, const torch::Input& input) {
    std::vector<torch::Output> one;
    std::vector<detail::Collected> maps(1);
    try {
      begin_example(i, maps.front());
      one = model_.run({input}, streaming(maps));
    } catch (const std::exception& e) {
      throw failed(example(i), e.what());
    }
    if (one.size() != 1) throw failed(example(i), "the model returned no output");
    store_one(example(i), one.front(), maps.front());
  }

  /// Example i begun in the store, its layers to be written as the model streams them.
  void begin_example(std::int64_t i, detail::Collected& maps) {
    detail::begin_example(store_, info_, example(i), o_.target.kind != torch::TargetKind::None,
                          maps);
  }

  /// The run options with the stream that writes the batch's maps through `maps`.
  torch::RunOptions streaming(std::vector<detail::Collected>& maps) const {
    torch::RunOptions r = run_;
    r.stream = detail::layer_stream(o_);
    r.stream.sink = detail::collector(info_, maps);
    return r;
  }

  void store_one(const TokenizedExample& x, const torch::Output& output, detail::Collected& maps) {
    try {
      detail::write_example(store_, info_, x, output, maps, o_.analysis);
    } catch (const Error& e) {
      throw failed(x, e.what());
    }
    report_.tokens += static_cast<std::int64_t>(x.encoding.ids.size());
    ++written_;
    ++report_.extracted;
    if (progress_) progress_(report_.extracted, report_.examples - report_.resumed);
  }

  /// A failure at example `x`, with what the store keeps and how to continue.
  Error failed(const TokenizedExample& x, const std::string& message) const {
    const std::string kept = written_ == 0
                                 ? o_.output + " holds no examples yet"
                                 : o_.output + " keeps the " + std::to_string(written_) +
                                       " examples written so far (up to " + corpus_.path + ":" +
                                       std::to_string(example(written_ - 1).source->line) + ")";
    return Error(detail::where(corpus_, x) + ": " + message + "\n  " + kept +
                 "; fix the problem and rerun with --resume to continue");
  }

  const ExtractOptions& o_;
  torch::Model& model_;
  const torch::RunOptions& run_;
  io::Store& store_;
  const io::StoreInfo& info_;  ///< what the store was made with
  const io::Corpus& corpus_;
  const std::vector<TokenizedExample>& examples_;
  const ExtractProgress& progress_;
  ExtractReport& report_;
  std::int64_t written_ = 0;  ///< examples in the store
};

/// The corpus, read with the model's label names, and tokenized.
struct TokenizedCorpus {
  io::Corpus corpus;
  std::string tokenizer_dir;
  std::unique_ptr<hf::Tokenizer> tokenizer;
  std::vector<TokenizedExample> examples;  ///< point into `corpus`
};

std::unique_ptr<TokenizedCorpus> read_and_tokenize(const ExtractOptions& o) {
  auto c = std::make_unique<TokenizedCorpus>();
  io::CorpusReadOptions read_options;
  read_options.format = o.format;
  read_options.skip_empty = o.skip_empty;
  read_options.label_ids = detail::label_ids(o.model);
  c->corpus = io::read_corpus(o.corpus, read_options);
  c->tokenizer_dir = detail::tokenizer_dir(o.model, o.tokenizer);
  c->tokenizer = hf::load_tokenizer(c->tokenizer_dir);
  c->examples = detail::tokenize_corpus(c->corpus, *c->tokenizer);
  return c;
}

std::unique_ptr<torch::Model> load_model(const ExtractOptions& o) {
  torch::LoadOptions load;
  load.device = o.device;
  load.threads = o.threads;
  load.dtype = o.dtype;
  std::unique_ptr<torch::Model> model = torch::Model::load(o.model, load);
  const torch::ModelInfo& info = model->info();
  if (!o.contributions.empty() && info.dtype != "float32") {
    throw Error("--contributions with --dtype " + info.dtype +
                ": the value-aware contributions are computed in float32 only (use --dtype "
                "float32)");
  }
  if (o.max_length > 0 && info.max_positions > 0 && o.max_length > info.max_positions) {
    throw Error("--max-length " + std::to_string(o.max_length) + " is more than the " +
                std::to_string(info.max_positions) + " positions of " + info.path);
  }
  return model;
}

/// FNV-1a over the token ids of every example: the corpus as the model sees it (tokenizer,
/// --max-length and --truncate included), so that shards of other corpora do not merge.
std::string corpus_digest(const std::vector<TokenizedExample>& examples) {
  std::uint64_t h = 14695981039346656037ull;
  const auto mix = [&](std::uint64_t v) {
    for (int b = 0; b < 8; ++b, v >>= 8) h = (h ^ (v & 0xff)) * 1099511628211ull;
  };
  for (const TokenizedExample& x : examples) {
    mix(x.encoding.ids.size());
    for (const std::int64_t id : x.encoding.ids) mix(static_cast<std::uint64_t>(id));
    mix(x.source->label ? static_cast<std::uint64_t>(*x.source->label) : ~0ull);
  }
  char text[64];
  std::snprintf(text, sizeof text, "%zu examples, token ids fnv1a64 %016llx", examples.size(),
                static_cast<unsigned long long>(h));
  return text;
}

/// --shard: keeps the examples of the shard's range (whole batches, balanced by their padded
/// tokens) and returns the range for the store.
io::ShardRange take_shard(const ExtractOptions& o, std::vector<TokenizedExample>& examples) {
  io::ShardRange r;
  r.total = static_cast<std::int64_t>(examples.size());
  r.end = r.total;
  if (!o.shard.active()) return r;
  const std::int64_t b = o.batch_size;
  std::vector<double> costs;  // per batch: examples x longest (the padded batch the model runs)
  for (std::int64_t first = 0; first < r.total; first += b) {
    const std::int64_t end = std::min(first + b, r.total);
    std::size_t longest = 0;
    for (std::int64_t i = first; i < end; ++i) {
      longest = std::max(longest, examples[static_cast<std::size_t>(i)].encoding.ids.size());
    }
    costs.push_back(static_cast<double>(end - first) * static_cast<double>(longest));
  }
  const ExampleRange batches =
      balanced_ranges(costs, o.shard.count)[static_cast<std::size_t>(o.shard.index)];
  r.index = o.shard.index;
  r.count = o.shard.count;
  r.first = std::min(batches.first * b, r.total);
  r.end = std::min(batches.end * b, r.total);
  r.source = corpus_digest(examples);
  examples.erase(examples.begin() + r.end, examples.end());
  examples.erase(examples.begin(), examples.begin() + r.first);
  return r;
}

/// Under mpirun: rank K extracts shard K/N into the shard file of `output`; rank 0 merges them.
ExtractReport extract_ranks(const ExtractOptions& o, const ExtractProgress& progress) {
  Ranks& ranks = *o.ranks;
  const auto started = std::chrono::steady_clock::now();
  if (o.shard.active()) {
    throw Error("--shard " + to_string(o.shard) +
                ": under mpirun every rank is one shard already (rank K of N = shard K/N)");
  }
  if (exists(o.output) && !o.resume && !o.overwrite) {
    throw Error(o.output + ": already exists (--resume continues it, --overwrite replaces it)");
  }
  const int n = ranks.size();
  std::vector<std::string> stores;
  for (int k = 0; k < n; ++k) stores.push_back(shard_path(o.output, Shard{k, n}));
  ExtractReport mine;
  RankJob job;
  job.work = [&](const Shard& s, const RankProgress& p) {
    ExtractOptions own = o;
    own.ranks = nullptr;
    own.shard = s;
    own.output = stores[static_cast<std::size_t>(s.index)];
    mine = extract_corpus(own, p);
    return std::vector<double>{static_cast<double>(mine.examples),
                               static_cast<double>(mine.extracted),
                               static_cast<double>(mine.resumed), static_cast<double>(mine.tokens)};
  };
  job.finish = [&] {
    MergeOptions m;
    m.shards = stores;
    m.output = o.output;
    m.overwrite = true;
    merge_shards(m);
  };
  job.progress = progress;
  const std::vector<double> sum = run_ranks(ranks, job);
  if (ranks.rank() != 0) {
    mine.silent = true;
    return mine;
  }
  mine.output = o.output;
  mine.examples = static_cast<std::int64_t>(sum[0]);
  mine.extracted = static_cast<std::int64_t>(sum[1]);
  mine.resumed = static_cast<std::int64_t>(sum[2]);
  mine.tokens = static_cast<std::int64_t>(sum[3]);
  mine.range = ExampleRange{0, mine.examples};
  mine.nothing_to_do = mine.extracted == 0 && mine.resumed == mine.examples;
  mine.ranks = n;
  mine.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return mine;
}

}  // namespace

ExtractReport extract_corpus(const ExtractOptions& o, const ExtractProgress& progress) {
  using Clock = std::chrono::steady_clock;
  check_options(o);
  if (o.ranks != nullptr) return extract_ranks(o, progress);
  const bool output_exists = check_files(o);
  const std::unique_ptr<TokenizedCorpus> c = read_and_tokenize(o);
  const std::unique_ptr<torch::Model> model = load_model(o);
  const torch::ModelInfo& info = model->info();
  check_selection(o, info);

  ExtractReport report;
  report.output = o.output;
  report.corpus = c->corpus.path;
  report.examples = static_cast<std::int64_t>(c->examples.size());
  torch::RunOptions run;
  run.target = o.target;
  run.attention_gradients = o.target.kind != torch::TargetKind::None;
  run.contributions = o.contributions;
  if (!o.contributions.empty() && info.family == torch::ModelFamily::TorchScript) {
    throw Error("--contributions " + std::string(to_string(o.contributions.front())) +
                ": needs a native BERT-family, GPT-2 or Llama-family model directory; " +
                info.path + " is a TorchScript module, which gives only its attention maps");
  }
  run.mask_token_id = check_target(o.target, info, *c->tokenizer);
  if (info.decoder_layers > 0 && o.store != io::StoreMode::PerHead) {
    throw Error("--store " + std::string(to_string(o.store)) + ": " + info.path + " is an " +
                "encoder-decoder " + info.architecture +
                ", whose decoder and cross-attention are stored per head only: use --store "
                "per-head");
  }
  if (info.decoder_layers > 0 && (!o.layers.empty() || !o.heads.empty())) {
    throw Error(std::string(o.layers.empty() ? "--heads" : "--layers") + ": " + info.path +
                " is an encoder-decoder " + info.architecture +
                ", whose stores hold every layer and head of both stacks");
  }
  detail::encode_decoder_inputs(
      c->corpus, c->examples, *c->tokenizer, info,
      o.target.kind == torch::TargetKind::None ? "" : "--target " + torch::to_string(o.target));
  detail::check_vocabulary(c->corpus, c->examples, info, c->tokenizer_dir);
  report.length_limit = o.max_length > 0 ? o.max_length : info.max_positions;
  report.truncated_lines = detail::fit_lengths(
      c->corpus, c->examples, report.length_limit,
      o.max_length > 0 ? "--max-length" : "the model's max_positions", o.truncate);
  check_target_examples(o.target, info, *c->tokenizer, c->corpus, c->examples, run.mask_token_id);

  io::StoreInfo store_info =
      detail::store_info(o, info, detail::tokenizer_description(*c->tokenizer, c->tokenizer_dir));
  store_info.shard = take_shard(o, c->examples);
  report.examples = static_cast<std::int64_t>(c->examples.size());
  report.range = ExampleRange{store_info.shard.first, store_info.shard.end};
  io::Store store = detail::open_store(o, store_info, output_exists, c->corpus, c->examples);
  if (o.store == io::StoreMode::Derived) detail::begin_derived(store, o, o.resume && output_exists);
  report.resumed = store.size();
  if (report.resumed == report.examples) {
    report.nothing_to_do = true;
    return report;
  }
  if (o.resume && !output_exists) report.resume_note = "nothing to resume: starting " + o.output;
  const std::int64_t first = detail::first_batch(store, o.batch_size, report.resume_note);
  const Clock::time_point start = Clock::now();
  Extraction(o, *model, run, store, store_info, c->corpus, c->examples, progress, report)
      .run(first);
  if (o.store == io::StoreMode::Derived) io::finish_run(store, o.run);
  store.close();
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return report;
}

std::vector<int> parse_selection(const std::string& text, const std::string& option) {
  const auto bad = [&](const std::string& why) {
    return Error(option + " '" + text + "': " + why +
                 " (expected 1-based numbers and ranges, e.g. 1,6-8)");
  };
  if (text.find_first_not_of(" ,") == std::string::npos) throw bad("empty selection");
  const auto number = [&](const std::string& t) {
    if (t.empty() || t.size() > 6 || t.find_first_not_of("0123456789") != std::string::npos) {
      throw bad("'" + t + "' is not a number");
    }
    const int v = std::stoi(t);
    if (v < 1) throw bad("'" + t + "' is below 1 (layers and heads count from 1)");
    return v;
  };
  std::vector<int> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string part = text.substr(start, comma - start);
    const std::size_t dash = part.find('-');
    const int first = number(dash == std::string::npos ? part : part.substr(0, dash));
    const int last = dash == std::string::npos ? first : number(part.substr(dash + 1));
    if (last < first) throw bad("range " + part + " is empty");
    for (int v = first; v <= last; ++v) out.push_back(v);
    start = comma + 1;
  }
  std::sort(out.begin(), out.end());
  const auto twice = std::adjacent_find(out.begin(), out.end());
  if (twice != out.end()) throw bad(std::to_string(*twice) + " is given twice");
  return out;
}

std::string line_list(const std::vector<std::int64_t>& lines) {
  constexpr std::size_t kShown = 5;
  std::string s = lines.size() == 1 ? "line " : "lines ";
  for (std::size_t k = 0; k < lines.size() && k < kShown; ++k) {
    s += (k ? ", " : "") + std::to_string(lines[k]);
  }
  if (lines.size() > kShown) s += " and " + std::to_string(lines.size() - kShown) + " more";
  return s;
}

}  // namespace attnflow::pipeline
