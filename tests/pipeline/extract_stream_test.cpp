// Bounded-memory extraction (docs/extract.md, "Bounded memory"): the maps streamed layer by
// layer give what the whole stack gives; --store fused equals core's fusion of the per-head
// store, --store derived equals core's analysis of it (1e-6; grad-rollout, from the gradient-
// weighted head means computed on the device, equals attnflow analyze of a per-head store for
// every rule), a --layers/--heads selection is exactly the subset of the full store and is
// recorded (schema 3), and bad selections name the option. The model is a tiny random LLaMA
// (3 layers, 4 query heads on 2 KV heads) written here.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "attnflow/core/analysis.hpp"
#include "attnflow/core/error.hpp"
#include "attnflow/core/fusion.hpp"
#include "attnflow/hf/safetensors_writer.hpp"
#include "attnflow/io/derived_run.hpp"
#include "attnflow/io/store.hpp"
#include "attnflow/pipeline/analyze_corpus.hpp"
#include "attnflow/pipeline/extract_corpus.hpp"
#include "attnflow/pipeline/merge.hpp"
#include "attnflow/pipeline/shard.hpp"
#include "attnflow/torch/model.hpp"
#include "support/test_support.hpp"

namespace {

namespace fs = std::filesystem;
namespace pl = attnflow::pipeline;
namespace io = attnflow::io;
namespace at = attnflow::torch;
using attnflow::AttentionStack;
using attnflow::Error;
using attnflow::Method;

const std::string kTokenizer = std::string(ATTNFLOW_TEST_DATA) + "/tokenizers/bpe_fallback";
constexpr int kLayers = 3, kHeads = 4;

/// A folder of this test run (the pid keeps concurrent runs of other checkouts apart).
std::string temp_dir(const std::string& name) {
  return attnflow::test::temp_dir(name + "_" + std::to_string(::getpid()));
}

/// A LlamaForCausalLM with random weights (normal, sd 0.3) over the bpe_fallback vocabulary.
std::string tiny_llama(const std::string& dir) {
  const std::int64_t d = 16, H = kHeads, KV = 2, dh = 4, inner = 24, V = 931;
  std::ofstream(dir + "/config.json")
      << R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 16,
 "intermediate_size": 24, "num_hidden_layers": 3, "num_attention_heads": 4,
 "num_key_value_heads": 2, "head_dim": 4, "hidden_act": "silu", "max_position_embeddings": 128,
 "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "tie_word_embeddings": true, "vocab_size": 931})";
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 0.3f);
  std::vector<attnflow::hf::TensorData> t;
  const auto add = [&](const std::string& name, std::vector<std::int64_t> shape, bool ones) {
    std::int64_t count = 1;
    for (std::int64_t s : shape) count *= s;
    std::vector<float> v(static_cast<std::size_t>(count), 1.0f);
    if (!ones) {
      for (float& x : v) x = normal(rng);
    }
    t.push_back(attnflow::hf::float_tensor(name, shape, v));
  };
  add("model.embed_tokens.weight", {V, d}, false);
  for (int l = 0; l < kLayers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    add(p + "input_layernorm.weight", {d}, true);
    add(p + "post_attention_layernorm.weight", {d}, true);
    add(p + "self_attn.q_proj.weight", {H * dh, d}, false);
    add(p + "self_attn.k_proj.weight", {KV * dh, d}, false);
    add(p + "self_attn.v_proj.weight", {KV * dh, d}, false);
    add(p + "self_attn.o_proj.weight", {d, H * dh}, false);
    add(p + "mlp.gate_proj.weight", {inner, d}, false);
    add(p + "mlp.up_proj.weight", {inner, d}, false);
    add(p + "mlp.down_proj.weight", {d, inner}, false);
  }
  add("model.norm.weight", {d}, true);
  attnflow::hf::write_safetensors(dir + "/model.safetensors", t);
  fs::copy_file(kTokenizer + "/tokenizer.json", dir + "/tokenizer.json");
  return dir;
}

struct Fixture {
  std::string dir, model, corpus;
};

const Fixture& fixture() {
  static const Fixture f = [] {
    Fixture x;
    x.dir = temp_dir("data");
    x.model = tiny_llama(temp_dir("model"));
    x.corpus = x.dir + "/corpus.txt";
    std::ofstream(x.corpus) << "the cat sat on the mat\nhello world, again and again\nab\n";
    return x;
  }();
  return f;
}

pl::ExtractOptions options(const std::string& out) {
  pl::ExtractOptions o;
  o.model = fixture().model;
  o.corpus = fixture().corpus;
  o.output = fixture().dir + "/" + out;
  o.batch_size = 2;  // padding inside a batch too
  o.overwrite = true;
  return o;
}

template <class F>
std::string message_of(F&& f) {
  return attnflow::test::error_message(f);
}

/// The layers `layers` and heads `heads` (1-based) of a per-head stack.
AttentionStack subset(const AttentionStack& s, const std::vector<int>& layers,
                      const std::vector<int>& heads) {
  AttentionStack out(static_cast<int>(layers.size()), static_cast<int>(heads.size()), s.tokens());
  for (std::size_t l = 0; l < layers.size(); ++l)
    for (std::size_t h = 0; h < heads.size(); ++h)
      out.head(static_cast<int>(l), static_cast<int>(h)) = s.head(layers[l] - 1, heads[h] - 1);
  return out;
}

double max_difference(const attnflow::Matrix& a, const attnflow::Matrix& b) {
  EXPECT_EQ(a.rows(), b.rows());
  EXPECT_EQ(a.cols(), b.cols());
  if (a.rows() != b.rows() || a.cols() != b.cols()) return 1e9;
  return (a - b).cwiseAbs().maxCoeff();
}

const std::string& per_head_store() {
  static const std::string path = [] {
    pl::ExtractOptions o = options("per_head.h5");
    o.target = at::parse_target("next");
    pl::extract_corpus(o);
    return o.output;
  }();
  return path;
}

TEST(ExtractStream, StreamedMapsEqualTheWholeStack) {
  auto model = at::Model::load(fixture().model);
  std::vector<at::Input> batch(2);
  batch[0].ids = {1, 5, 300, 17, 2};
  batch[1].ids = {1, 40, 2};
  at::RunOptions whole;
  whole.target = at::parse_target("next");
  const std::vector<at::Output> a = model->run(batch, whole);
  at::RunOptions streamed = whole;
  std::vector<std::vector<float>> attention(2), gradient(2);
  int calls = 0;
  streamed.stream.sink = [&](const at::StreamedLayer& s) {
    ++calls;
    auto& dst = (s.gradient ? gradient : attention)[s.example];
    dst.insert(dst.end(), s.values, s.values + s.heads * s.n * s.n);
  };
  const std::vector<at::Output> b = model->run(batch, streamed);
  EXPECT_EQ(calls, 2 * 2 * kLayers);
  for (std::size_t k = 0; k < 2; ++k) {
    EXPECT_TRUE(b[k].attention.empty());
    EXPECT_TRUE(b[k].attention_gradient.empty());
    EXPECT_EQ(attention[k], a[k].attention) << "example " << k;
    EXPECT_EQ(gradient[k], a[k].attention_gradient) << "example " << k;
  }
}

TEST(ExtractStream, SelectionIsTheSubsetAndIsRecorded) {
  const io::Store full = io::Store::open(per_head_store());
  EXPECT_EQ(full.info().schema_version, 2);  // no schema-3 feature
  pl::ExtractOptions o = options("selected.h5");
  o.target = at::parse_target("next");
  o.layers = pl::parse_selection("1,3", "--layers");
  o.heads = pl::parse_selection("2-3", "--heads");
  pl::extract_corpus(o);
  const io::Store sel = io::Store::open(o.output);
  EXPECT_EQ(sel.info().schema_version, 3);
  EXPECT_EQ(sel.info().layers, 2);
  EXPECT_EQ(sel.info().heads, 2);
  EXPECT_EQ(sel.info().layer_selection, (std::vector<int>{1, 3}));
  EXPECT_EQ(sel.info().head_selection, (std::vector<int>{2, 3}));
  EXPECT_EQ(sel.info().model_layers, kLayers);
  EXPECT_EQ(sel.info().model_heads, kHeads);
  ASSERT_EQ(sel.size(), full.size());
  const AttentionStack first = full.read(0).attention;  // the heads differ (the fusions do)
  EXPECT_GT((first.head(1, 0) - first.head(1, 2)).cwiseAbs().maxCoeff(), 1e-2f);
  for (std::int64_t i = 0; i < full.size(); ++i) {
    const io::Example a = full.read(i), b = sel.read(i);
    EXPECT_EQ(b.attention.data(), subset(a.attention, {1, 3}, {2, 3}).data()) << i;
    EXPECT_EQ(b.gradient.data(), subset(a.gradient, {1, 3}, {2, 3}).data()) << i;
  }
}

TEST(ExtractStream, FusedIsTheFusionOfThePerHeadStore) {
  const io::Store full = io::Store::open(per_head_store());
  struct Case {
    attnflow::HeadFusion fusion;
    std::vector<double> weights;
    std::vector<int> layers, heads;
  };
  const Case cases[] = {
      {attnflow::HeadFusion::Mean, {}, {}, {}},
      {attnflow::HeadFusion::Max, {}, {2, 3}, {1, 2, 4}},
      {attnflow::HeadFusion::Min, {}, {1}, {}},
      {attnflow::HeadFusion::WeightedMean, {0.5, 1.0, 2.0, 0.0}, {}, {}},
  };
  for (const Case& c : cases) {
    pl::ExtractOptions o = options("fused.h5");
    o.store = io::StoreMode::Fused;
    o.analysis.prepare.fusion.method = c.fusion;
    o.analysis.prepare.fusion.head_weights = c.weights;
    o.layers = c.layers;
    o.heads = c.heads;
    pl::extract_corpus(o);
    const io::Store fused = io::Store::open(o.output);
    const std::vector<int> layers = c.layers.empty() ? std::vector<int>{1, 2, 3} : c.layers;
    const std::vector<int> heads = c.heads.empty() ? std::vector<int>{1, 2, 3, 4} : c.heads;
    EXPECT_EQ(fused.info().layers, static_cast<int>(layers.size()));
    EXPECT_EQ(fused.info().fusion.substr(0, 3), std::string(to_string(c.fusion)).substr(0, 3));
    for (std::int64_t i = 0; i < full.size(); ++i) {
      const AttentionStack want = subset(full.read(i).attention, layers, heads);
      const io::Example got = fused.read(i);
      ASSERT_EQ(got.attention.heads(), 1);
      for (std::size_t l = 0; l < layers.size(); ++l) {
        attnflow::FusionOptions f;
        f.method = c.fusion;
        f.head_weights = c.weights;
        const attnflow::Matrix reference = attnflow::fuse_heads(want, static_cast<int>(l) + 1, f);
        const attnflow::Matrix stored = got.attention.head(static_cast<int>(l), 0).cast<double>();
        EXPECT_LT(max_difference(stored, reference), 1e-6)
            << to_string(c.fusion) << " example " << i << " layer " << l + 1;
      }
    }
  }
}

TEST(ExtractStream, DerivedIsTheAnalysisOfThePerHeadStore) {
  const io::Store full = io::Store::open(per_head_store());
  for (const std::vector<int>& layers : {std::vector<int>{}, std::vector<int>{2, 3}}) {
    pl::ExtractOptions o = options("derived.h5");
    o.store = io::StoreMode::Derived;
    o.layers = layers;
    o.analysis.methods = {Method::Raw, Method::Residual, Method::Rollout, Method::Flow};
    o.analysis.target_rows = {0, -1};
    pl::extract_corpus(o);
    const io::Store derived = io::Store::open(o.output);
    EXPECT_EQ(derived.info().mode, io::StoreMode::Derived);
    EXPECT_EQ(derived.info().derived_run, "extract");
    EXPECT_EQ(derived.info().schema_version, 3);
    const io::RunInfo run = io::run_info(derived, "extract");
    EXPECT_EQ(run.status, io::RunStatus::Complete);
    ASSERT_EQ(run.size, full.size());
    const std::vector<int> kept = layers.empty() ? std::vector<int>{1, 2, 3} : layers;
    for (std::int64_t i = 0; i < full.size(); ++i) {
      const AttentionStack stack = subset(full.read(i).attention, kept, {1, 2, 3, 4});
      const attnflow::AnalysisResult want = attnflow::analyze(stack, nullptr, o.analysis);
      const attnflow::AnalysisResult got = io::read_derived(derived, "extract", i);
      ASSERT_EQ(got.maps.size(), 4u);
      for (const auto& [method, maps] : want.maps) {
        const attnflow::LayerMaps& g = got.maps.at(method);
        EXPECT_EQ(g.layers, maps.layers);
        EXPECT_EQ(g.rows, maps.rows);
        ASSERT_EQ(g.maps.size(), maps.maps.size());
        for (std::size_t k = 0; k < maps.maps.size(); ++k) {
          EXPECT_LT(max_difference(g.maps[k], maps.maps[k]), 1e-6)
              << to_string(method) << " example " << i << " map " << k;
        }
      }
    }
  }
}

TEST(ExtractStream, DerivedStoresResume) {
  const std::string longer = fixture().dir + "/longer.txt";
  std::ofstream(longer) << "the cat sat on the mat\nhello world, again and again\nab\nmore "
                           "text here\nend\n";
  pl::ExtractOptions o = options("derived_resume.h5");
  o.store = io::StoreMode::Derived;
  o.analysis.methods = {Method::Rollout};
  pl::extract_corpus(o);
  o.overwrite = false;
  o.resume = true;
  o.corpus = longer;
  const pl::ExtractReport r = pl::extract_corpus(o);
  EXPECT_EQ(r.resumed, 3);
  EXPECT_EQ(r.extracted, 2);  // the batch of examples 2-3 ran again, storing example 3
  const io::Store resumed = io::Store::open(o.output);
  const io::RunInfo run = io::run_info(resumed, "extract");
  EXPECT_EQ(run.status, io::RunStatus::Complete);
  EXPECT_EQ(run.size, 5);
  pl::ExtractOptions whole = options("derived_whole.h5");
  whole.store = io::StoreMode::Derived;
  whole.analysis.methods = {Method::Rollout};
  whole.corpus = longer;
  pl::extract_corpus(whole);
  const io::Store uninterrupted = io::Store::open(whole.output);
  for (std::int64_t i = 0; i < 5; ++i) {
    const attnflow::LayerMaps a = io::read_derived(resumed, "extract", i).maps.at(Method::Rollout);
    const attnflow::LayerMaps b =
        io::read_derived(uninterrupted, "extract", i).maps.at(Method::Rollout);
    for (std::size_t k = 0; k < a.maps.size(); ++k) {
      EXPECT_EQ(max_difference(a.maps[k], b.maps[k]), 0.0) << i;
    }
  }
  o.analysis.methods = {Method::Raw};  // another analysis: the run's options differ
  EXPECT_NE(message_of([&] { pl::extract_corpus(o); }), "(no error)");
}

/// What `attnflow analyze` computes for every example of `store` (no output written).
std::vector<attnflow::AnalysisResult> analyze_store(const std::string& store,
                                                    const attnflow::AnalysisOptions& analysis) {
  pl::CorpusAnalysisOptions a;
  a.output = pl::CorpusOutput::None;
  a.analysis = analysis;
  a.threads = 1;
  std::vector<attnflow::AnalysisResult> out;
  a.on_result = [&](const pl::CorpusItem& item) { out.push_back(*item.result); };
  pl::analyze_corpus(store, a);
  return out;
}

/// Every map of `got` (a derived run) against `want` (float32 results: 1e-6).
void expect_same_results(const attnflow::AnalysisResult& got, const attnflow::AnalysisResult& want,
                         const std::string& what) {
  ASSERT_EQ(got.maps.size(), want.maps.size()) << what;
  for (const auto& [method, maps] : want.maps) {
    const attnflow::LayerMaps& g = got.maps.at(method);
    EXPECT_EQ(g.layers, maps.layers) << what;
    EXPECT_EQ(g.rows, maps.rows) << what;
    ASSERT_EQ(g.maps.size(), maps.maps.size()) << what;
    for (std::size_t k = 0; k < maps.maps.size(); ++k) {
      EXPECT_LT(max_difference(g.maps[k], maps.maps[k]), 1e-6)
          << what << " " << to_string(method) << " map " << k;
    }
  }
}

// --store derived -m grad-rollout: the gradient-weighted head means computed on the device give
// what attnflow analyze gives from a per-head store of the same selection, for every rule.
TEST(ExtractStream, DerivedGradRolloutIsTheAnalysisOfThePerHeadStore) {
  struct Case {
    const char* name;
    attnflow::GradRolloutRule rule;
    bool signed_relevance, renormalize;
    double discard;
    std::vector<int> layers, heads;
  };
  const Case cases[] = {
      {"chefer", attnflow::GradRolloutRule::Chefer, false, false, 0.0, {}, {}},
      {"signed", attnflow::GradRolloutRule::Chefer, true, false, 0.0, {1, 3}, {2, 3}},
      {"renormalized", attnflow::GradRolloutRule::Chefer, false, true, 0.0, {}, {1, 2, 4}},
      {"vit-explain", attnflow::GradRolloutRule::VitExplain, false, false, 0.2, {2, 3}, {}},
  };
  for (const Case& c : cases) {
    pl::ExtractOptions o = options("derived_grad.h5");
    o.store = io::StoreMode::Derived;
    o.target = at::parse_target("next");
    o.layers = c.layers;
    o.heads = c.heads;
    o.analysis.methods = {Method::Rollout, Method::GradRollout};
    o.analysis.target_rows = {0, -1};
    o.analysis.grad.rule = c.rule;
    o.analysis.grad.signed_relevance = c.signed_relevance;
    o.analysis.grad.renormalize = c.renormalize;
    o.analysis.grad.discard.ratio = c.discard;
    pl::extract_corpus(o);
    pl::ExtractOptions p = o;
    p.store = io::StoreMode::PerHead;
    p.output = fixture().dir + "/per_head_grad.h5";
    pl::extract_corpus(p);
    const std::vector<attnflow::AnalysisResult> want = analyze_store(p.output, o.analysis);
    const io::Store derived = io::Store::open(o.output);
    const io::RunInfo run = io::run_info(derived, "extract");
    EXPECT_EQ(run.status, io::RunStatus::Complete);
    EXPECT_EQ(run.options.grad.rule, c.rule);
    EXPECT_EQ(run.options.grad.signed_relevance, c.signed_relevance);
    ASSERT_EQ(run.size, static_cast<std::int64_t>(want.size()));
    ASSERT_EQ(want.size(), 3u);
    for (std::int64_t i = 0; i < run.size; ++i) {
      EXPECT_TRUE(derived.read(i).gradient.empty());  // no per-head gradients were stored
      expect_same_results(io::read_derived(derived, "extract", i),
                          want[static_cast<std::size_t>(i)],
                          std::string(c.name) + " example " + std::to_string(i));
    }
    // the maps are not trivial: the rules differ from the identity (a zero gradient)
    const attnflow::Matrix last = want[0].maps.at(Method::GradRollout).maps.back();
    EXPECT_GT((last - attnflow::Matrix::Identity(last.rows(), last.cols())).cwiseAbs().maxCoeff(),
              1e-3)
        << c.name;
  }
}

// A run stopped after example 3 of 5 (inside the batch of examples 2-3) and resumed gives the
// bytes of an uninterrupted run: the batch it stopped in runs again, padded alike.
TEST(ExtractStream, DerivedGradRolloutResumes) {
  const std::string longer = fixture().dir + "/longer_grad.txt";
  std::ofstream(longer) << "the cat sat on the mat\nhello world, again and again\nab\nmore "
                           "text here\nend\n";
  const auto derived = [&](const std::string& out) {
    pl::ExtractOptions o = options(out);
    o.store = io::StoreMode::Derived;
    o.target = at::parse_target("next");
    o.corpus = longer;
    o.heads = {1, 3, 4};
    o.analysis.methods = {Method::GradRollout, Method::Raw};
    o.analysis.target_rows = {-1};
    return o;
  };
  pl::ExtractOptions o = derived("derived_grad_resume.h5");
  struct Stop {};
  try {
    pl::extract_corpus(o, [](std::int64_t done, std::int64_t) {
      if (done == 3) throw Stop{};
    });
    ADD_FAILURE() << "the run was not stopped";
  } catch (const Stop&) {
  }
  EXPECT_EQ(io::run_info(io::Store::open(o.output), "extract").size, 3);
  o.overwrite = false;
  o.resume = true;
  const pl::ExtractReport r = pl::extract_corpus(o);
  EXPECT_EQ(r.resumed, 3);
  EXPECT_EQ(r.extracted, 2);
  pl::ExtractOptions whole = derived("derived_grad_whole.h5");
  pl::extract_corpus(whole);
  {
    const io::Store resumed = io::Store::open(o.output);
    const io::Store uninterrupted = io::Store::open(whole.output);
    const io::RunInfo run = io::run_info(resumed, "extract");
    EXPECT_EQ(run.status, io::RunStatus::Complete);
    EXPECT_EQ(run.size, 5);
    for (std::int64_t i = 0; i < 5; ++i) {
      const attnflow::AnalysisResult a = io::read_derived(resumed, "extract", i);
      const attnflow::AnalysisResult b = io::read_derived(uninterrupted, "extract", i);
      for (const Method m : {Method::GradRollout, Method::Raw}) {
        ASSERT_EQ(a.maps.at(m).maps.size(), b.maps.at(m).maps.size());
        for (std::size_t k = 0; k < a.maps.at(m).maps.size(); ++k) {
          EXPECT_EQ(max_difference(a.maps.at(m).maps[k], b.maps.at(m).maps[k]), 0.0)
              << to_string(m) << " example " << i;
        }
      }
    }
  }
  o.target = at::parse_target("none");  // a resume without the target
  EXPECT_EQ(message_of([&] { pl::extract_corpus(o); }),
            "--store derived: -m grad-rollout needs the gradients of a target: give --target "
            "(e.g. --target next for a causal LM)");
  o.target = at::parse_target("next");
  o.analysis.grad.signed_relevance = true;  // another rule: the run's options differ
  EXPECT_NE(message_of([&] { pl::extract_corpus(o); }).find("grad_signed=false"),
            std::string::npos);
}

TEST(ExtractStream, AnalyzeReadsFusedStoresAndNamesWhatTheyLack) {
  pl::ExtractOptions o = options("fused_for_analyze.h5");
  o.store = io::StoreMode::Fused;
  pl::extract_corpus(o);
  pl::CorpusAnalysisOptions a;
  a.output = pl::CorpusOutput::None;
  a.analysis.methods = {Method::Rollout};
  EXPECT_EQ(message_of([&] { pl::analyze_corpus(o.output, a); }), "(no error)");
  a.analysis.prepare.fusion.method = attnflow::HeadFusion::Max;
  EXPECT_EQ(message_of([&] { pl::analyze_corpus(o.output, a); }),
            o.output +
                ": a fused-mode store (its heads were fused with 'mean' when extracted) has no "
                "per-head maps for --fusion max: extract with --store per-head, or analyze with "
                "the default fusion");
  a.analysis.prepare.fusion.method = attnflow::HeadFusion::Mean;
  a.analysis.methods = {Method::GradRollout};
  EXPECT_EQ(
      message_of([&] { pl::analyze_corpus(o.output, a); }),
      o.output + ": grad-rollout needs per-head attention and gradients; this store is fused");

  pl::ExtractOptions d = options("derived_for_analyze.h5");
  d.store = io::StoreMode::Derived;
  d.analysis.methods = {Method::Rollout};
  pl::extract_corpus(d);
  a.analysis.methods = {Method::Rollout};
  EXPECT_EQ(message_of([&] { pl::analyze_corpus(d.output, a); }),
            d.output +
                ": a derived-mode store holds no attention to analyze; its results are the run "
                "/derived/extract that attnflow extract --store derived computed");
}

TEST(ExtractStream, BadSelectionsNameTheOptionAndValue) {
  EXPECT_EQ(pl::parse_selection("1,6-8", "--layers"), (std::vector<int>{1, 6, 7, 8}));
  EXPECT_EQ(pl::parse_selection("3,1", "--heads"), (std::vector<int>{1, 3}));
  const std::string hint = " (expected 1-based numbers and ranges, e.g. 1,6-8)";
  EXPECT_EQ(message_of([] { pl::parse_selection("", "--layers"); }),
            "--layers '': empty selection" + hint);
  EXPECT_EQ(message_of([] { pl::parse_selection("0,2", "--heads"); }),
            "--heads '0,2': '0' is below 1 (layers and heads count from 1)" + hint);
  EXPECT_EQ(message_of([] { pl::parse_selection("2-x", "--layers"); }),
            "--layers '2-x': 'x' is not a number" + hint);
  EXPECT_EQ(message_of([] { pl::parse_selection("5-3", "--layers"); }),
            "--layers '5-3': range 5-3 is empty" + hint);
  EXPECT_EQ(message_of([] { pl::parse_selection("1-3,2", "--layers"); }),
            "--layers '1-3,2': 2 is given twice" + hint);
  io::StoreInfo info;  // the store checks a selection it is given too
  info.layers = 2;
  info.heads = 1;
  info.layer_selection = {3, 1};
  info.model_layers = 4;
  const std::string bad_store = fixture().dir + "/bad_selection.h5";
  EXPECT_EQ(message_of([&] { io::Store::create(bad_store, info); }),
            bad_store +
                ": layer selection does not fit (2 stored, expected as many ascending numbers in "
                "1..4)");
  pl::ExtractOptions o = options("bad.h5");
  o.layers = {2, 4};
  EXPECT_EQ(message_of([&] { pl::extract_corpus(o); }),
            "--layers 4: out of range (" + fixture().model + " has 3 layers, 1..3)");
  o.layers = {};
  o.heads = {5};
  EXPECT_EQ(message_of([&] { pl::extract_corpus(o); }),
            "--heads 5: out of range (" + fixture().model + " has 4 heads, 1..4)");
  EXPECT_FALSE(fs::exists(o.output));
  o.heads = {};
  o.store = io::StoreMode::Derived;
  o.target = at::parse_target("next");
  o.analysis.methods = {Method::Rollout};
  EXPECT_EQ(message_of([&] { pl::extract_corpus(o); }),
            "--store derived keeps no gradients, only grad-rollout uses them, but --target next "
            "asks for them without -m grad-rollout: add grad-rollout to -m, use --store "
            "per-head, or --target none");
  o.analysis.methods = {Method::GradRollout};
  o.analysis.grad.rule = attnflow::GradRolloutRule::VitExplain;
  o.analysis.grad.signed_relevance = true;
  EXPECT_EQ(message_of([&] { pl::extract_corpus(o); }),
            "--store derived -m grad-rollout: gradient rollout: signed relevance is defined for "
            "the chefer rule only");
  o.store = io::StoreMode::Fused;
  EXPECT_EQ(message_of([&] { pl::extract_corpus(o); }),
            "--store fused keeps no gradients, but --target next asks for them: use --store "
            "per-head, or --target none");
  EXPECT_FALSE(fs::exists(o.output));
}

// --dtype (docs/extract.md, "Compute dtype"): a bfloat16 run is close to the float32 one
// (attention max |diff| < 0.08, as for the golden fixtures in tests/torch/model_golden_test.cpp)
// but not equal to it, records compute_dtype (schema 3), and --resume / merge refuse another
// dtype naming both.
TEST(ExtractDtype, Bfloat16IsRecordedCloseToFloat32AndNotMixed) {
  pl::ExtractOptions o = options("dtype_bf16.h5");
  o.target = at::parse_target("next");
  o.dtype = at::ComputeDtype::BFloat16;
  pl::extract_corpus(o);
  {
    const io::Store full = io::Store::open(per_head_store());
    const io::Store bf = io::Store::open(o.output);
    EXPECT_EQ(bf.info().compute_dtype, "bfloat16");
    EXPECT_EQ(bf.info().schema_version, 3);
    EXPECT_EQ(full.info().compute_dtype, "float32");
    ASSERT_EQ(bf.size(), full.size());
    float largest = 0;
    for (std::int64_t i = 0; i < full.size(); ++i) {
      const io::Example a = full.read(i), b = bf.read(i);
      ASSERT_EQ(a.attention.data().size(), b.attention.data().size());
      float worst = 0;
      for (std::size_t k = 0; k < a.attention.data().size(); ++k) {
        worst = std::max(worst, std::fabs(a.attention.data()[k] - b.attention.data()[k]));
      }
      EXPECT_LT(worst, 0.08f) << i;
      largest = std::max(largest, worst);
      EXPECT_EQ(b.gradient.data().size(), a.gradient.data().size());
    }
    EXPECT_GT(largest, 1e-5f);  // computed in bfloat16, not float32
  }
  // --resume with float32 on the bfloat16 store, and the other way round
  pl::ExtractOptions r = o;
  r.overwrite = false;
  r.resume = true;
  r.dtype = at::ComputeDtype::Float32;
  EXPECT_EQ(message_of([&] { pl::extract_corpus(r); }),
            o.output +
                ": --resume needs the options of the first run, but the file has --dtype bfloat16 "
                "and this run float32");
  pl::ExtractOptions r2 = options("per_head.h5");
  r2.target = at::parse_target("next");
  r2.overwrite = false;
  r2.resume = true;
  r2.dtype = at::ComputeDtype::BFloat16;
  EXPECT_EQ(message_of([&] { pl::extract_corpus(r2); }),
            r2.output +
                ": --resume needs the options of the first run, but the file has --dtype float32 "
                "and this run bfloat16");
  r.dtype = at::ComputeDtype::BFloat16;  // the same dtype resumes (nothing left to do)
  EXPECT_TRUE(pl::extract_corpus(r).nothing_to_do);

  // merge: shard 0 in float32, shard 1 in bfloat16
  std::vector<std::string> shards;
  for (int k = 0; k < 2; ++k) {
    pl::ExtractOptions s = options("dtype_shards.h5");
    s.shard = pl::Shard{k, 2};
    s.output = pl::shard_path(s.output, s.shard);
    s.dtype = k == 0 ? at::ComputeDtype::Float32 : at::ComputeDtype::BFloat16;
    pl::extract_corpus(s);
    shards.push_back(s.output);
  }
  pl::MergeOptions m;
  m.shards = shards;
  m.output = fixture().dir + "/dtype_merged.h5";
  m.overwrite = true;
  EXPECT_EQ(message_of([&] { pl::merge_shards(m); }),
            shards[1] + ": not a shard of the same job as " + shards[0] +
                ": compute dtype bfloat16 here, float32 there");
}

TEST(ExtractDtype, UnsupportedDtypesAreRefusedBeforeAnythingIsWritten) {
  pl::ExtractOptions o = options("dtype_refused.h5");
  o.dtype = at::ComputeDtype::Float16;
  EXPECT_NE(message_of([&] {
              pl::extract_corpus(o);
            }).find("dtype 'float16': needs a CUDA device (libtorch's CPU kernels"),
            std::string::npos);
  o.dtype = at::ComputeDtype::BFloat16;
  o.contributions = {attnflow::Contribution::Norm};
  EXPECT_EQ(message_of([&] { pl::extract_corpus(o); }),
            "--contributions with --dtype bfloat16: the value-aware contributions are computed "
            "in float32 only (use --dtype float32)");
  EXPECT_FALSE(fs::exists(o.output));
  io::StoreInfo info;  // the store checks the dtype it is given
  info.layers = 1;
  info.heads = 1;
  info.compute_dtype = "int8";
  const std::string bad_store = fixture().dir + "/bad_dtype.h5";
  EXPECT_EQ(
      message_of([&] { io::Store::create(bad_store, info); }),
      bad_store + ": compute dtype is 'int8' (expected float32, float64, bfloat16 or float16)");
}

}  // namespace
