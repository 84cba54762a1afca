// The store of extract_corpus: metadata, create / replace / resume, and one example appended.
#include "extract_store.hpp"

#include <filesystem>
#include <optional>

#include "attnflow/core/error.hpp"
#include "attnflow/io/derived_run.hpp"

namespace attnflow::pipeline::detail {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void differs(const std::string& out, const std::string& what,
                          const std::string& stored, const std::string& now) {
  throw Error(out + ": --resume needs the options of the first run, but the file has " + what +
              (stored.empty() ? "" : " " + stored) + " and this run " + now);
}

/// The `fusion` root attribute: "mean", "max", "min" or "weighted:w1,w2,...".
std::string fusion_name(const FusionOptions& f) {
  std::string name = to_string(f.method);
  if (f.method != HeadFusion::WeightedMean) return name;
  for (std::size_t k = 0; k < f.head_weights.size(); ++k) {
    name += (k ? "," : ":") + std::to_string(f.head_weights[k]);
  }
  return name;
}

/// The batch size of the first run (when recorded) against this run's.
void check_resume_batch(const io::Store& store, const io::StoreInfo& want) {
  if (store.info().extract_batch_size > 0 &&
      store.info().extract_batch_size != want.extract_batch_size) {
    const std::string b = std::to_string(store.info().extract_batch_size);
    throw Error(store.path() + ": --resume needs the options of the first run, but the file has " +
                "--batch-size " + b + " and this run " + std::to_string(want.extract_batch_size) +
                " (examples are padded to the longest of their batch, so another batch size "
                "gives other float sums): use -b " +
                b + ", or --overwrite to start over");
  }
}

/// The metadata of the existing store against this run's.
void check_resume_info(const io::Store& store, const io::StoreInfo& want) {
  const io::StoreInfo& have = store.info();
  const std::string& out = store.path();
  std::error_code ec1, ec2;
  if (have.model != want.model &&
      fs::weakly_canonical(have.model, ec1) != fs::weakly_canonical(want.model, ec2)) {
    differs(out, "model", "'" + have.model + "'", "'" + want.model + "'");
  }
  if (have.decoder_layers != want.decoder_layers) {
    differs(out, "decoder layers", std::to_string(have.decoder_layers),
            std::to_string(want.decoder_layers));
  }
  if (have.layers != want.layers || have.heads != want.heads) {
    differs(out, "layers x heads", std::to_string(have.layers) + " x " + std::to_string(have.heads),
            std::to_string(want.layers) + " x " + std::to_string(want.heads));
  }
  if (have.causal != want.causal) {
    differs(out, "causal", have.causal ? "true" : "false", want.causal ? "true" : "false");
  }
  if (have.mode != want.mode) differs(out, "--store", to_string(have.mode), to_string(want.mode));
  const auto list = [](const std::vector<int>& v) {
    std::string t;
    for (int k : v) t += (t.empty() ? "" : ",") + std::to_string(k);
    return t.empty() ? std::string("all") : t;
  };
  if (have.layer_selection != want.layer_selection) {
    differs(out, "--layers", list(have.layer_selection), list(want.layer_selection));
  }
  if (have.head_selection != want.head_selection) {
    differs(out, "--heads", list(have.head_selection), list(want.head_selection));
  }
  if (have.mode != io::StoreMode::PerHead && have.fusion != want.fusion) {
    differs(out, "--fusion", have.fusion, want.fusion);
  }
  if (have.derived_run != want.derived_run) {
    differs(out, "--run", "'" + have.derived_run + "'", "'" + want.derived_run + "'");
  }
  if (have.contributions != want.contributions) {
    const auto names = [](const std::vector<Contribution>& cs) {
      return cs.empty() ? std::string("none") : contribution_list(cs);
    };
    differs(out, "--contributions", names(have.contributions), names(want.contributions));
  }
  if (have.compute_dtype != want.compute_dtype) {
    differs(out, "--dtype", have.compute_dtype, want.compute_dtype);
  }
  if (have.attention_precision != want.attention_precision) {
    differs(out, "--precision", to_string(have.attention_precision),
            to_string(want.attention_precision));
  }
  const auto shard = [](const io::ShardRange& r) {
    return r.active() ? std::to_string(r.index) + "/" + std::to_string(r.count) +
                            " (corpus examples " + std::to_string(r.first) + ".." +
                            std::to_string(r.end - 1) + " of " + r.source + ")"
                      : std::string("none");
  };
  if (shard(have.shard) != shard(want.shard)) {
    differs(out, "--shard", shard(have.shard), shard(want.shard));
  }
}

/// --resume: the store must have been made by the same model with the same options, from the
/// same corpus (its first and last stored examples have the tokens the corpus gives now).
void check_resume(const io::Store& store, const io::StoreInfo& want, const torch::Target& target,
                  const io::Corpus& corpus, const std::vector<TokenizedExample>& examples) {
  check_resume_info(store, want);
  const std::string& out = store.path();
  const std::int64_t done = store.size();
  const auto total = static_cast<std::int64_t>(examples.size());
  if (done > total) {
    throw Error(out + " holds " + std::to_string(done) + " examples, but " + corpus.path +
                " has only " + std::to_string(total) +
                ": --resume continues a run over the same corpus (or a longer one)");
  }
  if (done == 0) return check_resume_batch(store, want);
  const bool gradients = target.kind != torch::TargetKind::None;
  for (const std::int64_t i : {std::int64_t{0}, done - 1}) {
    io::ReadOptions what;
    what.attention = false;
    what.gradient = i == 0;
    const io::Example stored = store.read(i, what);
    const TokenizedExample& x = examples[static_cast<std::size_t>(i)];
    if (stored.token_ids != x.encoding.ids) {
      throw Error(out + ": example " + std::to_string(i) + " holds other tokens than " +
                  where(corpus, x) +
                  " gives now: --resume needs the corpus, tokenizer and --max-length/--truncate "
                  "of the first run");
    }
    // derived stores keep no gradients (their run's methods say whether it had a target)
    if (i == 0 && want.mode != io::StoreMode::Derived && stored.gradient.empty() == gradients) {
      differs(out, gradients ? "no gradients (--target none)" : "gradients (a --target)", "",
              "--target " + torch::to_string(target));
    }
  }
  check_resume_batch(store, want);
}

/// The decoder side of an encoder-decoder's output into x.decoder.
void add_decoder(const io::StoreInfo& info, const TokenizedExample& example, const torch::Output& o,
                 io::Example& x) {
  const int m = static_cast<int>(example.decoder_ids.size()), n = static_cast<int>(o.n);
  const std::size_t self = static_cast<std::size_t>(info.decoder_layers) *
                           static_cast<std::size_t>(info.heads) * static_cast<std::size_t>(m) *
                           static_cast<std::size_t>(m);
  const std::size_t cross = self / static_cast<std::size_t>(m) * static_cast<std::size_t>(n);
  if (o.m != m || o.decoder_attention.size() != self || o.cross_attention.size() != cross) {
    throw Error("the model returned " + std::to_string(o.decoder_attention.size()) +
                " decoder and " + std::to_string(o.cross_attention.size()) +
                " cross-attention values for " + std::to_string(o.m) +
                " decoder tokens; expected " + std::to_string(self) + " and " +
                std::to_string(cross) + " for " + std::to_string(m));
  }
  io::DecoderMaps& d = x.decoder;
  d.tokens = example.decoder_tokens;
  d.token_ids = example.decoder_ids;
  d.attention =
      AttentionStack(std::vector<float>(o.decoder_attention), info.decoder_layers, info.heads, m);
  const auto stack = [&](std::vector<float>&& values) {
    return CrossAttentionStack(std::move(values), info.decoder_layers, info.heads, m, n);
  };
  d.cross_attention = stack(std::vector<float>(o.cross_attention));
  if (!o.decoder_attention_gradient.empty()) {
    d.gradient = AttentionStack(std::vector<float>(o.decoder_attention_gradient),
                                info.decoder_layers, info.heads, m);
    d.cross_gradient = stack(std::vector<float>(o.cross_attention_gradient));
  }
}

}  // namespace

io::StoreInfo store_info(const ExtractOptions& o, const torch::ModelInfo& model,
                         const std::string& tokenizer_description) {
  io::StoreInfo info;
  info.model = o.model;
  info.tokenizer = tokenizer_description;
  info.layers = o.layers.empty() ? model.layers : static_cast<int>(o.layers.size());
  info.heads = o.heads.empty() ? model.heads : static_cast<int>(o.heads.size());
  if (!o.layers.empty()) {
    info.layer_selection = o.layers;
    info.model_layers = model.layers;
  }
  if (!o.heads.empty()) {
    info.head_selection = o.heads;
    info.model_heads = model.heads;
  }
  if (o.store != io::StoreMode::PerHead) info.fusion = fusion_name(o.analysis.prepare.fusion);
  if (o.store == io::StoreMode::Derived) info.derived_run = o.run;
  info.causal = model.causal;
  info.mode = o.store;
  info.attention_precision = o.precision;
  info.gradient_precision = o.precision;
  info.extract_batch_size = o.batch_size;
  info.contributions = o.contributions;
  info.decoder_layers = model.decoder_layers;
  info.compute_dtype = model.dtype;
  return info;
}

io::Store open_store(const ExtractOptions& o, const io::StoreInfo& info, bool output_exists,
                     const io::Corpus& corpus, const std::vector<TokenizedExample>& examples) {
  if (o.resume && output_exists) {
    io::Store store = io::Store::open(o.output, io::Access::ReadWrite);
    check_resume(store, info, o.target, corpus, examples);
    return store;
  }
  if (output_exists) {
    std::error_code ec;
    if (!fs::remove(o.output, ec) || ec) {
      throw Error(o.output + ": cannot replace it (" + ec.message() + ")");
    }
  }
  return io::Store::create(o.output, info, o.write);
}

std::int64_t first_batch(const io::Store& store, int batch_size, std::string& note) {
  const std::int64_t done = store.size();
  if (done == 0 || store.info().extract_batch_size > 0) return done / batch_size * batch_size;
  note = store.path() +
         " records no batch size (an older attnflow wrote it): batches continue from example " +
         std::to_string(done) +
         ", so the examples added may differ in their last float digits from an uninterrupted "
         "run";
  return done;
}

torch::LayerStream layer_stream(const ExtractOptions& o) {
  torch::LayerStream s;
  s.layers = o.layers;
  s.heads = o.heads;
  if (o.store != io::StoreMode::PerHead) s.fusion = o.analysis.prepare.fusion;
  if (o.store == io::StoreMode::Derived && o.target.kind != torch::TargetKind::None) {
    s.gradient_mean = gradient_head_mean(o.analysis.grad);
  }
  return s;
}

void begin_example(io::Store& store, const io::StoreInfo& info, const TokenizedExample& x,
                   bool gradients, Collected& maps) {
  if (info.mode == io::StoreMode::Derived) return;
  maps.writer = store.begin_example(static_cast<int>(x.encoding.ids.size()),
                                    gradients && info.mode == io::StoreMode::PerHead);
}

std::function<void(const torch::StreamedLayer&)> collector(const io::StoreInfo& info,
                                                           std::vector<Collected>& collected) {
  return [&info, &collected](const torch::StreamedLayer& s) {
    Collected& c = collected.at(s.example);
    if (s.fused != nullptr && info.mode == io::StoreMode::Derived) {
      LayerMatrices& dst = s.weighted ? c.weighted : c.fused;
      dst.resize(static_cast<std::size_t>(info.layers));
      dst[static_cast<std::size_t>(s.index)] = Eigen::Map<const Matrix>(s.fused, s.n, s.n);
      return;
    }
    if (c.writer.tokens() == 0) return;  // stored already (a resumed batch)
    if (c.writer.tokens() != s.n) {
      throw Error("the model streamed layer " + std::to_string(s.layer) + " of " +
                  std::to_string(s.n) + " tokens for an example of " +
                  std::to_string(c.writer.tokens()));
    }
    if (s.fused != nullptr) {
      c.layer.assign(s.fused, s.fused + s.n * s.n);
      c.writer.write_layer(io::StackPart::Attention, s.index, c.layer.data());
    } else {
      c.writer.write_layer(s.gradient ? io::StackPart::Gradient : io::StackPart::Attention, s.index,
                           s.values);
    }
  };
}

void begin_derived(io::Store& store, const ExtractOptions& o, bool resume) {
  io::RunInfo run;
  run.name = o.run;
  run.options = o.analysis;
  run.options.flow.threads = 1;  // not recorded
  const io::RunInfo have =
      io::begin_run(store, run, resume ? io::RunStart::Resume : io::RunStart::New);
  if (have.size != store.size()) {
    throw Error(store.path() + ": the run /derived/" + o.run + " holds " +
                std::to_string(have.size) + " examples, the store " + std::to_string(store.size()) +
                " (a run killed between the two writes): --overwrite to start over");
  }
}

void write_example(io::Store& store, const io::StoreInfo& info, const TokenizedExample& example,
                   const torch::Output& o, Collected& maps, const AnalysisOptions& analysis) {
  const hf::Encoding& e = example.encoding;
  const int n = static_cast<int>(e.ids.size());
  const bool derived = info.mode == io::StoreMode::Derived;
  const auto layers = static_cast<std::size_t>(info.layers);
  if (o.n != n) {
    throw Error("the model returned " + std::to_string(o.n) + " tokens; expected " +
                std::to_string(n));
  }
  if (derived && maps.fused.size() != layers) {
    throw Error("the model streamed " + std::to_string(maps.fused.size()) + " fused layers; " +
                "expected " + std::to_string(layers));
  }
  io::Example x;
  x.tokens = e.tokens;
  x.token_ids = e.ids;
  x.label = example.source->label;
  x.target = o.target_index;
  x.target_position = o.target_position;
  x.prediction = o.prediction;
  for (Contribution c : info.contributions) {
    x.contributions[c] = AttentionStack(o.contributions.at(c), info.layers, 1, n);
  }
  if (info.decoder_layers > 0) add_decoder(info, example, o, x);
  const std::int64_t index = derived ? store.append(x) : store.append(x, std::move(maps.writer));
  if (derived) {
    io::write_derived(store, info.derived_run, index,
                      analyze_fused(std::move(maps.fused), std::move(maps.weighted), analysis));
  }
}

}  // namespace attnflow::pipeline::detail
