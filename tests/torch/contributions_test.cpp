// attnflow::torch value-aware contributions (norm, GlobEnc, ALTI, value zeroing) against the
// independent float64 numpy reference of tests/reference/contributions.py (goldens
// contributions_b3.safetensors next to the tiny models), batched and one example at a time, and
// their properties on models whose weights are edited to make the answer known.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "attnflow/core/error.hpp"
#include "attnflow/hf/safetensors.hpp"
#include "attnflow/hf/safetensors_writer.hpp"
#include "attnflow/torch/model.hpp"
#include "support/test_support.hpp"

namespace {

using attnflow::Contribution;
using attnflow::hf::SafetensorsFile;
namespace at = attnflow::torch;
namespace fs = std::filesystem;

const std::string kModels = std::string(ATTNFLOW_TEST_DATA) + "/models/";
const std::vector<Contribution> kAll = {Contribution::Norm, Contribution::GlobEnc,
                                        Contribution::Alti, Contribution::ValueZeroing};

struct Batch {
  std::vector<at::Input> inputs;
  std::int64_t N = 0;
};

Batch golden_batch(const SafetensorsFile& g) {
  const auto ids = g.to_int64(g.at("input_ids"));
  const auto lengths = g.to_int64(g.at("lengths"));
  const bool typed = g.find("token_type_ids") != nullptr;
  const auto types = typed ? g.to_int64(g.at("token_type_ids")) : std::vector<std::int64_t>{};
  Batch out;
  out.N = g.at("input_ids").shape[1];
  for (std::size_t b = 0; b < lengths.size(); ++b) {
    at::Input in;
    const auto off = static_cast<std::ptrdiff_t>(b) * out.N;
    in.ids.assign(ids.begin() + off, ids.begin() + off + lengths[b]);
    if (typed) {
      for (std::int64_t k = 0; k < lengths[b]; ++k)
        in.type_ids.push_back(static_cast<std::int32_t>(types[static_cast<std::size_t>(off + k)]));
    }
    out.inputs.push_back(std::move(in));
  }
  return out;
}

// Largest |ours - reference| / max(1, |reference|) over example b's [L, n, n] part of the
// reference's [L, B, N, N].
double worst_diff(const std::vector<float>& ref, std::int64_t L, std::int64_t B, std::int64_t N,
                  std::int64_t b, std::int64_t n, const std::vector<float>& ours) {
  EXPECT_EQ(ours.size(), static_cast<std::size_t>(L * n * n));
  double worst = 0;
  for (std::int64_t l = 0; l < L; ++l)
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < n; ++j) {
        const double r = ref[static_cast<std::size_t>(((l * B + b) * N + i) * N + j)];
        const double o = ours[static_cast<std::size_t>((l * n + i) * n + j)];
        worst = std::max(worst, std::fabs(r - o) / std::max(1.0, std::fabs(r)));
      }
  return worst;
}

const char* golden_name(Contribution m) {
  switch (m) {
    case Contribution::Norm: return "norm";
    case Contribution::GlobEnc: return "globenc";
    case Contribution::Alti: return "alti";
    case Contribution::ValueZeroing: return "value_zeroing";
  }
  return "";
}

struct GoldenCase {
  std::string model;
  bool float64 = false;  ///< LoadOptions::float64
  double tolerance = 0;  ///< largest |ours - reference| / max(1, |reference|)
};

void PrintTo(const GoldenCase& c, std::ostream* os) {
  *os << c.model << (c.float64 ? " float64" : " float32") << " tolerance " << c.tolerance;
}

std::string case_name(const testing::TestParamInfo<GoldenCase>& p) {
  return p.param.model + (p.param.float64 ? "_float64" : "_float32");
}

class ContributionGolden : public testing::TestWithParam<GoldenCase> {};

TEST_P(ContributionGolden, MatchesTheNumpyReferenceBatchedAndAlone) {
  const GoldenCase& gc = GetParam();
  const std::string dir = kModels + gc.model;
  const SafetensorsFile g(dir + "/golden_b3.safetensors");
  const SafetensorsFile ref(dir + "/contributions_b3.safetensors");
  const Batch batch = golden_batch(g);
  at::LoadOptions load;
  load.float64 = gc.float64;
  auto model = at::Model::load(dir, load);
  const std::int64_t L = model->info().layers;
  const auto B = static_cast<std::int64_t>(batch.inputs.size());
  at::RunOptions options;
  options.attention = false;
  options.contributions = kAll;
  options.contribution_options.value_zeroing_batch = 4;  // several extra runs per layer
  const std::vector<at::Output> batched = model->run(batch.inputs, options);
  at::RunOptions resln = options;
  resln.contributions = {Contribution::GlobEnc};
  resln.contribution_options.globenc_second_norm = false;
  const std::vector<at::Output> first_norm_only = model->run(batch.inputs, resln);
  const auto resln_ref = ref.to_float32(ref.at("globenc_resln"));
  for (std::int64_t b = 0; b < B; ++b) {
    const auto bi = static_cast<std::size_t>(b);
    const std::int64_t n = batched[bi].n;
    SCOPED_TRACE("example " + std::to_string(b) + " (n=" + std::to_string(n) + ")");
    const std::vector<at::Output> alone = model->run({batch.inputs[bi]}, options);
    for (Contribution m : kAll) {
      SCOPED_TRACE(attnflow::to_string(m));
      const auto expected = ref.to_float32(ref.at(golden_name(m)));
      EXPECT_LT(worst_diff(expected, L, B, batch.N, b, n, batched[bi].contributions.at(m)),
                gc.tolerance);
      EXPECT_LT(worst_diff(expected, L, B, batch.N, b, n, alone[0].contributions.at(m)),
                gc.tolerance);
    }
    EXPECT_LT(worst_diff(resln_ref, L, B, batch.N, b, n,
                         first_norm_only[bi].contributions.at(Contribution::GlobEnc)),
              gc.tolerance);
  }
}

// In float64 the only differences are the float32 rounding of the stored goldens and of our
// outputs. In float32, the forward pass's own rounding (relative ~1e-7 in the hidden states)
// is amplified by ALTI's difference of two L1 norms of near-equal vectors; seen: 1.3e-5.
std::vector<GoldenCase> golden_cases() {
  std::vector<GoldenCase> out;
  for (const char* m : {"bert_base", "bert_cls", "gpt2_base", "gpt2_lm", "sva_encoder",
                        "llama_base", "llama_lm", "llama_lm_bf16", "mistral_lm", "qwen2_lm"}) {
    const bool llama = std::string(m).find("llama") == 0 || std::string(m) == "mistral_lm" ||
                       std::string(m) == "qwen2_lm";
    out.push_back({m, true, llama ? 1e-7 : 1e-6});
    out.push_back({m, false, llama ? 1e-5 : 1e-4});
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Models, ContributionGolden, testing::ValuesIn(golden_cases()), case_name);

// mistral_lm: sliding_window 3, so query i sees keys i-2..i only.
TEST(Contributions, NonNegativeRowsSumToOneOrZeroAndCausalUpperTriangleIsZero) {
  for (const char* name :
       {"bert_cls", "gpt2_lm", "sva_encoder", "llama_lm", "mistral_lm", "qwen2_lm"}) {
    SCOPED_TRACE(name);
    auto model = at::Model::load(kModels + name);
    const Batch batch = golden_batch(SafetensorsFile(kModels + name + "/golden_b3.safetensors"));
    at::RunOptions options;
    options.contributions = kAll;
    for (const at::Output& o : model->run(batch.inputs, options)) {
      for (Contribution m : kAll) {
        SCOPED_TRACE(attnflow::to_string(m));
        const attnflow::AttentionStack s = at::contribution_stack(o, m);
        ASSERT_EQ(s.layers(), model->info().layers);
        ASSERT_EQ(s.heads(), 1);
        ASSERT_EQ(s.tokens(), o.n);
        for (int l = 0; l < s.layers(); ++l) {
          const auto c = s.head(l, 0);
          EXPECT_GE(c.minCoeff(), 0.f);
          if (attnflow::rows_sum_to_one(m)) {
            for (int i = 0; i < s.tokens(); ++i) {
              const float sum = c.row(i).sum();
              if (sum != 0.f) {  // 0: every c_ij clipped
                EXPECT_NEAR(sum, 1.0, 1e-5);
              }
            }
          }
          if (model->info().causal) {
            for (int i = 0; i < s.tokens(); ++i)
              for (int j = i + 1; j < s.tokens(); ++j) EXPECT_LT(c(i, j), 1e-6f);
          }
          if (std::string(name) == "mistral_lm") {
            // Outside the window the keys get no attention: exactly 0 in the decompositions;
            // value zeroing compares two float32 runs of the layer (batched differently).
            ASSERT_GT(s.tokens(), 3);
            const float most = m == Contribution::ValueZeroing ? 1e-6f : 0.f;
            for (int i = 0; i < s.tokens(); ++i)
              for (int j = 0; j + 3 <= i; ++j) EXPECT_LE(c(i, j), most) << i << ", " << j;
          }
        }
      }
    }
  }
}

// A tiny model (gpt2_base unless said) with some of its tensors replaced, in a temporary
// directory.
class EditedModel {
 public:
  explicit EditedModel(const std::string& tag, const std::string& model = "gpt2_base") {
    dir_ = attnflow::test::temp_dir(tag);
    fs::copy_file(kModels + model + "/config.json", dir_ + "/config.json",
                  fs::copy_options::overwrite_existing);
    const SafetensorsFile f(kModels + model + "/model.safetensors");
    for (const auto& t : f.tensors()) {
      tensors_[t.name] = f.to_float32(t);
      shapes_[t.name] = t.shape;
    }
  }
  ~EditedModel() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::vector<float>& operator[](const std::string& name) { return tensors_.at(name); }
  std::unique_ptr<at::Model> load() {
    std::vector<attnflow::hf::TensorData> out;
    for (const auto& [name, values] : tensors_) {
      out.push_back(attnflow::hf::float_tensor(name, shapes_.at(name), values));
    }
    attnflow::hf::write_safetensors(dir_ + "/model.safetensors", out);
    return at::Model::load(dir_);
  }

 private:
  std::string dir_;
  std::map<std::string, std::vector<float>> tensors_;
  std::map<std::string, std::vector<std::int64_t>> shapes_;
};

constexpr int kD = 16;  // gpt2_base: n_embd 16, 4 heads of 4; the Llama fixtures: hidden_size 16

// Layer 1's matrix of every method for one example.
std::map<Contribution, attnflow::MatrixF> layer1_maps(at::Model& model,
                                                      const std::vector<std::int64_t>& ids) {
  at::RunOptions options;
  options.contributions = kAll;
  const at::Output o = model.run({at::Input{ids, {}, {}}}, options).front();
  std::map<Contribution, attnflow::MatrixF> out;
  for (Contribution c : kAll) out[c] = at::contribution_stack(o, c).head(0, 0);
  return out;
}

// Token 10 at position 0 has a constant embedding and there are no position embeddings, so
// LN1(x_0) = beta1 = 0; with b_V = 0 its value vectors in layer 1 are 0 in every head.
TEST(Contributions, ATokenWithZeroValueVectorsContributesNothing) {
  EditedModel m("zero_value");
  std::fill(m["wpe.weight"].begin(), m["wpe.weight"].end(), 0.f);
  std::fill_n(m["wte.weight"].begin() + 10 * kD, kD, 0.5f);
  std::fill(m["h.0.ln_1.bias"].begin(), m["h.0.ln_1.bias"].end(), 0.f);
  std::fill_n(m["h.0.attn.c_attn.bias"].begin() + 2 * kD, kD, 0.f);
  auto model = m.load();
  for (const auto& [c, layer1] : layer1_maps(*model, {10, 40, 77, 123, 200})) {
    SCOPED_TRACE(attnflow::to_string(c));
    // Through the residual, x_0 still reaches its own output (i = 0) in norm-res, GlobEnc and
    // ALTI; value zeroing changes nothing at all, so even (0, 0) is 0 there.
    const bool own_residual = c == Contribution::GlobEnc || c == Contribution::Alti;
    for (int i = own_residual ? 1 : 0; i < 5; ++i) EXPECT_LT(layer1(i, 0), 1e-6f) << "row " << i;
    if (own_residual) {
      EXPECT_GT(layer1(0, 0), 0.1f);
    }
  }
}

// The Llama family has no LayerNorm beta: a token whose embedding is 0 has RMSNorm(x) = 0, so
// without biases (llama_base) its values, its residual and so every method's column are 0 in
// layer 1; Qwen2's v_proj bias gives it the value b_V, which reaches every later row
// (norm: ||sum_h alpha^h_i0 b_V W_O^h||) and whose zeroing changes the outputs.
TEST(Contributions, LlamaFamilyTokenWithZeroEmbeddingContributesOnlyThroughTheValueBias) {
  for (const char* name : {"llama_base", "qwen2_lm"}) {
    SCOPED_TRACE(name);
    const bool value_bias = std::string(name) == "qwen2_lm";
    const std::string prefix = value_bias ? "model." : "";
    EditedModel m(std::string("zero_embedding_") + name, name);
    std::fill_n(m[prefix + "embed_tokens.weight"].begin() + 5 * kD, kD, 0.f);
    auto model = m.load();
    for (const auto& [c, layer1] : layer1_maps(*model, {5, 40, 17, 23, 8})) {
      SCOPED_TRACE(attnflow::to_string(c));
      for (int i = 0; i < 5; ++i) {
        if (!value_bias) {
          // Value zeroing: row 0 (causal: key 0 alone) has only rounding-level distances
          // here, which its normalisation to 1 scales up; rows i > 0 have real ones.
          if (i > 0 || c != Contribution::ValueZeroing) {
            EXPECT_LT(layer1(i, 0), 1e-6f) << "row " << i;
          }
        } else if (c != Contribution::Alti) {  // ALTI may clip a small part to 0
          EXPECT_GT(layer1(i, 0), 1e-4f) << "row " << i;
        }
      }
    }
  }
}

// Layer 1 with W_Q = 100 I, W_K = I and tokens whose LN1 outputs are orthogonal-ish per head
// (one-hot per head slice): every token attends only to itself (exactly, in float32).
TEST(Contributions, ValueZeroingOfIdentityAttentionLeavesOnlySelfContributions) {
  EditedModel m("identity");
  std::fill(m["wpe.weight"].begin(), m["wpe.weight"].end(), 0.f);
  std::vector<float>& wte = m["wte.weight"];
  const std::vector<std::int64_t> ids = {20, 21, 22, 23};
  for (int k = 0; k < 4; ++k) {
    float* row = wte.data() + ids[static_cast<std::size_t>(k)] * kD;
    std::fill_n(row, kD, 0.f);
    for (int h = 0; h < 4; ++h) row[h * 4 + k] = 1.f;
  }
  std::vector<float>& w = m["h.0.attn.c_attn.weight"];  // [16, 48] Conv1D [in, out]
  std::vector<float>& bias = m["h.0.attn.c_attn.bias"];
  for (int r = 0; r < kD; ++r)
    for (int c = 0; c < 2 * kD; ++c) w[static_cast<std::size_t>(r * 3 * kD + c)] = 0.f;
  for (int r = 0; r < kD; ++r) {
    w[static_cast<std::size_t>(r * 3 * kD + r)] = 100.f;     // W_Q
    w[static_cast<std::size_t>(r * 3 * kD + kD + r)] = 1.f;  // W_K
  }
  std::fill_n(bias.begin(), 2 * kD, 0.f);
  std::fill(m["h.0.ln_1.weight"].begin(), m["h.0.ln_1.weight"].end(), 1.f);
  std::fill(m["h.0.ln_1.bias"].begin(), m["h.0.ln_1.bias"].end(), 0.f);
  auto model = m.load();
  at::RunOptions options;
  options.contributions = {Contribution::ValueZeroing};
  const at::Output o = model->run({at::Input{ids, {}, {}}}, options).front();
  const attnflow::AttentionStack a(o.attention, model->info().layers, model->info().heads, 4);
  for (int h = 0; h < a.heads(); ++h) {
    EXPECT_EQ(a.head(0, h), attnflow::MatrixF::Identity(4, 4)) << "head " << h;
  }
  const attnflow::AttentionStack stack = at::contribution_stack(o, Contribution::ValueZeroing);
  const auto vz = stack.head(0, 0);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) {
      if (i == j) {
        EXPECT_NEAR(vz(i, j), 1.0, 1e-6);
      } else {
        EXPECT_LT(vz(i, j), 1e-6f) << i << ", " << j;
      }
    }
}

TEST(Contributions, TorchScriptModelsAndMissingMethodsAreErrors) {
  auto script = at::Model::load(kModels + "torchscript_bert");
  at::RunOptions options;
  options.contributions = {Contribution::Alti};
  attnflow::test::expect_error(
      [&] {
        script->run({at::Input{{2, 30, 3}, {}, {}}}, options);
      },
      kModels +
          "torchscript_bert/model.pt: contributions (alti) need a native BERT-family, GPT-2 or "
          "Llama-family model; a TorchScript module gives only its attention maps");
  auto model = at::Model::load(kModels + "bert_cls");
  const at::Output o = model->run({at::Input{{2, 30, 3}, {}, {}}}, options).front();
  attnflow::test::expect_error(
      [&] { at::contribution_stack(o, Contribution::Norm); },
      "contribution 'norm': not in this output (ask for it in RunOptions::contributions)");
}

}  // namespace
