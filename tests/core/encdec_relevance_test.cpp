// Encoder-decoder relevance (Chefer et al. ICCV 2021): a hand-computed 1-layer case with
// n = 3 encoder and m = 2 decoder tokens (and its two ablations), zero gradients, the reduction
// to gradient rollout of each stream, the float64 numpy reference on random stacks, raw
// cross-attention readouts, and the errors.
#include "attnflow/core/encdec_relevance.hpp"

#include <cstdlib>
#include <fstream>

#include "attnflow/core/grad_rollout.hpp"
#include "attnflow/core/readout.hpp"
#include "attnflow/io/npy.hpp"
#include "test_util.hpp"

namespace attnflow {
namespace {

using test::mat;

void set_cross(CrossAttentionStack& s, int layer_index, int head, const Matrix& m) {
  s.head(layer_index, head) = m.cast<float>();
}

// Two heads per stack: head 1 carries grad ⊙ A = 2 * target, head 2 the negative of it, so
// clamp-then-mean gives A_bar = target (mean-then-clamp would give 0).
//   encoder A_bar = [[0, .5, 0], [0, 0, 0], [.25, 0, .25]]
//   decoder A_bar = [[.5, 0], [.2, .3]]
//   cross   A_bar = [[.1, .2, 0], [0, 0, .4]]
EncoderDecoderAttention hand_case() {
  EncoderDecoderAttention in;
  in.encoder = AttentionStack(1, 2, 3);
  in.encoder_gradient = AttentionStack(1, 2, 3);
  const Matrix enc_a = mat({{.25, .25, .5}, {.25, .25, .5}, {.25, .25, .5}});
  const Matrix enc_g = mat({{0, 4, 0}, {0, 0, 0}, {2, 0, 1}});
  in.decoder = AttentionStack(1, 2, 2);
  in.decoder_gradient = AttentionStack(1, 2, 2);
  const Matrix dec_a = mat({{1, 0}, {.5, .5}});
  const Matrix dec_g = mat({{1, 0}, {.8, 1.2}});
  in.cross = CrossAttentionStack(1, 2, 2, 3);
  in.cross_gradient = CrossAttentionStack(1, 2, 2, 3);
  const Matrix cross_a = mat({{.25, .25, .5}, {.25, .25, .5}});
  const Matrix cross_g = mat({{.8, 1.6, 0}, {0, 0, 1.6}});
  for (int h = 0; h < 2; ++h) {
    const double sign = h == 0 ? 1.0 : -1.0;
    test::set_head(in.encoder, 0, h, enc_a);
    test::set_head(in.encoder_gradient, 0, h, sign * enc_g);
    test::set_head(in.decoder, 0, h, dec_a);
    test::set_head(in.decoder_gradient, 0, h, sign * dec_g);
    set_cross(in.cross, 0, h, cross_a);
    set_cross(in.cross_gradient, 0, h, sign * cross_g);
  }
  return in;
}

TEST(EncDecRelevance, HandComputedOneLayer) {
  const EncDecRelevance r = encdec_relevance(hand_case());
  // R^ee = I + A_bar; R^dd = I + A_bar (R^de stays 0 through the self-attention).
  test::expect_near(r.encoder, mat({{1, .5, 0}, {0, 1, 0}, {.25, 0, 1.25}}), 1e-7);
  test::expect_near(r.decoder, mat({{1.5, 0}, {.2, 1.3}}), 1e-7);
  // R-bar^ee = [[1, 1, 0], [0, 1, 0], [.5, 0, 1.5]] (row 1 of R - I is 0 and stays 0);
  // R-bar^dd = [[2, 0], [.4, 1.6]]; R^de = R-bar^dd^T A_bar R-bar^ee.
  test::expect_near(normalize_self_relevance(r.encoder, "e"),
                    mat({{1, 1, 0}, {0, 1, 0}, {.5, 0, 1.5}}), 1e-7);
  test::expect_near(r.cross, mat({{.28, .6, .24}, {.32, 0, .96}}), 1e-7);
  ASSERT_EQ(r.cross_by_layer.size(), 1u);
  test::expect_near(r.cross_by_layer[0], r.cross, 0.0);
}

TEST(EncDecRelevance, AblationsOfTheCrossUpdate) {
  EncDecRelevanceOptions o;
  o.normalize_self_relevance = false;  // R^dd^T A_bar R^ee
  test::expect_near(encdec_relevance(hand_case(), o).cross, mat({{.17, .375, .1}, {.13, 0, .65}}),
                    1e-7);
  o.self_in_cross = false;  // A_bar alone
  test::expect_near(encdec_relevance(hand_case(), o).cross, mat({{.1, .2, 0}, {0, 0, .4}}), 1e-7);
}

EncoderDecoderAttention random_case(unsigned seed, int le, int ld, int heads, int n, int m) {
  EncoderDecoderAttention in;
  in.encoder = test::random_stack(le, heads, n, seed, false);
  in.encoder_gradient = test::random_gradient(le, heads, n, seed + 1);
  in.decoder = test::random_stack(ld, heads, m, seed + 2, true);
  in.decoder_gradient = test::random_gradient(ld, heads, m, seed + 3);
  // Cross-attention: the first n columns of a random (n + m)-token softmax, renormalised.
  const AttentionStack wide = test::random_stack(ld, heads, std::max(n, m), seed + 4, false);
  const AttentionStack wide_g = test::random_gradient(ld, heads, std::max(n, m), seed + 5);
  in.cross = CrossAttentionStack(ld, heads, m, n);
  in.cross_gradient = CrossAttentionStack(ld, heads, m, n);
  for (int l = 0; l < ld; ++l) {
    for (int h = 0; h < heads; ++h) {
      Matrix a = wide.head(l, h).topLeftCorner(m, n).cast<double>();
      normalize_rows(a);
      set_cross(in.cross, l, h, a);
      set_cross(in.cross_gradient, l, h, wide_g.head(l, h).topLeftCorner(m, n).cast<double>());
    }
  }
  return in;
}

TEST(EncDecRelevance, ZeroGradientsGiveIdentityAndZero) {
  EncoderDecoderAttention in = random_case(3, 2, 3, 2, 5, 4);
  for (auto* s : {&in.encoder_gradient, &in.decoder_gradient}) {
    std::fill(s->data().begin(), s->data().end(), 0.0f);
  }
  std::fill(in.cross_gradient.data().begin(), in.cross_gradient.data().end(), 0.0f);
  const EncDecRelevance r = encdec_relevance(in);
  test::expect_near(r.encoder, Matrix::Identity(5, 5), 0.0);
  test::expect_near(r.decoder, Matrix::Identity(4, 4), 0.0);
  for (const Matrix& c : r.cross_by_layer) test::expect_near(c, Matrix::Zero(4, 5), 0.0);
}

// With no cross-attention gradient each stream is the single-stream Chefer rule of
// grad_rollout (R = I; R += A_bar R), and no relevance crosses to the encoder.
TEST(EncDecRelevance, EachStreamIsGradRolloutWithoutCrossGradient) {
  EncoderDecoderAttention in = random_case(11, 3, 2, 3, 6, 4);
  std::fill(in.cross_gradient.data().begin(), in.cross_gradient.data().end(), 0.0f);
  const EncDecRelevance r = encdec_relevance(in);
  GradRolloutOptions last;
  last.rollout.all_prefixes = false;
  test::expect_near(r.encoder, grad_rollout(in.encoder, in.encoder_gradient, last).maps[0]);
  test::expect_near(r.decoder, grad_rollout(in.decoder, in.decoder_gradient, last).maps[0]);
  test::expect_near(r.cross, Matrix::Zero(4, 6), 0.0);
}

// A single cross layer after an encoder and decoder that carry no relevance (zero self
// gradients: R^ee = R-bar^ee = I, R^dd = I) gives R^de = A_bar of the cross layer; with
// several decoder blocks and only self gradients zero, R^de sums the cross terms.
TEST(EncDecRelevance, CrossTermsAloneAddUp) {
  EncoderDecoderAttention in = random_case(5, 2, 3, 2, 5, 3);
  std::fill(in.encoder_gradient.data().begin(), in.encoder_gradient.data().end(), 0.0f);
  std::fill(in.decoder_gradient.data().begin(), in.decoder_gradient.data().end(), 0.0f);
  const EncDecRelevance r = encdec_relevance(in);
  Matrix sum = Matrix::Zero(3, 5);
  for (int l = 0; l < 3; ++l) {
    for (int h = 0; h < 2; ++h) {
      sum += (in.cross_gradient.head(l, h).cast<double>().cwiseProduct(
                  in.cross.head(l, h).cast<double>()))
                 .cwiseMax(0.0) /
             2.0;
    }
    test::expect_near(r.cross_by_layer[static_cast<std::size_t>(l)], sum);
  }
}

// Reads a file of encdec_reference.py: the shape on the first line, then the values.
std::vector<double> read_reference(const std::string& path, std::vector<int>& shape) {
  std::ifstream f(path);
  std::string line;
  EXPECT_TRUE(std::getline(f, line)) << path;
  shape.clear();
  std::istringstream dims(line);
  for (int d; dims >> d;) shape.push_back(d);
  std::vector<double> values;
  for (double v; f >> v;) values.push_back(v);
  return values;
}

void write_stack(const std::string& path, const std::vector<float>& data, int layers, int heads,
                 int rows, int columns) {
  io::write_npy(path,
                {static_cast<std::size_t>(layers), static_cast<std::size_t>(heads),
                 static_cast<std::size_t>(rows), static_cast<std::size_t>(columns)},
                data);
}

// Runs tests/reference/encdec_reference.py on `in`; false when python3 is not there.
bool run_reference(const EncoderDecoderAttention& in, const std::string& dir,
                   const std::string& flags) {
  const std::string python = ATTNFLOW_REFERENCE_PYTHON;
  if (python.empty()) return false;
  write_stack(dir + "/encoder.npy", in.encoder.data(), in.encoder.layers(), in.encoder.heads(),
              in.encoder.tokens(), in.encoder.tokens());
  write_stack(dir + "/encoder_grad.npy", in.encoder_gradient.data(), in.encoder.layers(),
              in.encoder.heads(), in.encoder.tokens(), in.encoder.tokens());
  write_stack(dir + "/decoder.npy", in.decoder.data(), in.decoder.layers(), in.decoder.heads(),
              in.decoder.tokens(), in.decoder.tokens());
  write_stack(dir + "/decoder_grad.npy", in.decoder_gradient.data(), in.decoder.layers(),
              in.decoder.heads(), in.decoder.tokens(), in.decoder.tokens());
  write_stack(dir + "/cross.npy", in.cross.data(), in.cross.layers(), in.cross.heads(),
              in.cross.queries(), in.cross.keys());
  write_stack(dir + "/cross_grad.npy", in.cross_gradient.data(), in.cross.layers(),
              in.cross.heads(), in.cross.queries(), in.cross.keys());
  const std::string command = python + " " + ATTNFLOW_SOURCE_DIR +
                              "/tests/reference/encdec_reference.py " + dir + " " + flags;
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  return true;
}

void expect_matches(const Matrix& got, const std::vector<double>& want, std::size_t offset) {
  for (Eigen::Index i = 0; i < got.rows(); ++i) {
    for (Eigen::Index j = 0; j < got.cols(); ++j) {
      const double w = want[offset + static_cast<std::size_t>(i * got.cols() + j)];
      EXPECT_NEAR(got(i, j), w, 1e-12 * std::max(1.0, std::abs(w)))
          << "at (" << i << ", " << j << ")";
    }
  }
}

struct ReferenceCase {
  unsigned seed;
  int le, ld, heads, n, m;
  bool normalize, self_in_cross;
};

class EncDecReference : public ::testing::TestWithParam<ReferenceCase> {};

TEST_P(EncDecReference, MatchesNumpyFloat64) {
  const ReferenceCase c = GetParam();
  const EncoderDecoderAttention in = random_case(c.seed, c.le, c.ld, c.heads, c.n, c.m);
  const std::string dir = test::temp_dir("ref");
  const std::string flags = std::string(c.normalize ? "" : " --no-normalize") +
                            (c.self_in_cross ? "" : " --no-self-in-cross");
  if (!run_reference(in, dir, flags)) GTEST_SKIP() << "python3 not found";
  EncDecRelevanceOptions o;
  o.normalize_self_relevance = c.normalize;
  o.self_in_cross = c.self_in_cross;
  const EncDecRelevance r = encdec_relevance(in, o);
  std::vector<int> shape;
  expect_matches(r.encoder, read_reference(dir + "/R_ee.txt", shape), 0);
  EXPECT_EQ(shape, (std::vector<int>{c.n, c.n}));
  expect_matches(r.decoder, read_reference(dir + "/R_dd.txt", shape), 0);
  const std::vector<double> de = read_reference(dir + "/R_de.txt", shape);
  EXPECT_EQ(shape, (std::vector<int>{c.ld, c.m, c.n}));
  for (int l = 0; l < c.ld; ++l) {
    expect_matches(r.cross_by_layer[static_cast<std::size_t>(l)], de,
                   static_cast<std::size_t>(l * c.m * c.n));
  }
  const LayerMaps last = cross_relevance_maps(r, {c.m - 1}, false);
  EXPECT_EQ(last.layers, (std::vector<int>{c.ld}));
  expect_matches(last.maps[0], de, static_cast<std::size_t>(((c.ld - 1) * c.m + c.m - 1) * c.n));
  // Raw cross-attention readouts: mean over heads per layer, and their mean over layers.
  const std::vector<double> fused = read_reference(dir + "/cross_fused.txt", shape);
  const LayerMaps raw = cross_attention_readout(in.cross);
  ASSERT_EQ(raw.maps.size(), static_cast<std::size_t>(c.ld));
  for (int l = 0; l < c.ld; ++l) {
    expect_matches(raw.maps[static_cast<std::size_t>(l)], fused,
                   static_cast<std::size_t>(l * c.m * c.n));
  }
  expect_matches(mean_cross_attention(in.cross), read_reference(dir + "/cross_mean.txt", shape), 0);
}

INSTANTIATE_TEST_SUITE_P(RandomStacks, EncDecReference,
                         ::testing::Values(ReferenceCase{1, 2, 3, 2, 5, 4, true, true},
                                           ReferenceCase{2, 3, 2, 4, 7, 3, true, true},
                                           ReferenceCase{3, 1, 1, 1, 2, 3, true, true},
                                           ReferenceCase{4, 2, 2, 3, 4, 6, false, true},
                                           ReferenceCase{5, 2, 2, 3, 6, 5, true, false}),
                         [](const ::testing::TestParamInfo<ReferenceCase>& p) {
                           const ReferenceCase& c = p.param;
                           return "seed" + std::to_string(c.seed) + "_n" + std::to_string(c.n) +
                                  "_m" + std::to_string(c.m) +
                                  (c.normalize ? "" : "_unnormalized") +
                                  (c.self_in_cross ? "" : "_cross_alone");
                         });

TEST(EncDecRelevance, CrossReadouts) {
  const EncoderDecoderAttention in = hand_case();
  CrossReadoutOptions o;
  o.fusion.method = HeadFusion::Max;
  o.readout.target_rows = {1};
  const LayerMaps r = cross_attention_readout(in.cross, o);
  EXPECT_EQ(r.layers, (std::vector<int>{1}));
  EXPECT_EQ(r.rows, (std::vector<int>{1}));
  test::expect_near(r.maps[0], mat({{.25, .25, .5}}));
  o.readout.layers = {2};
  test::expect_error([&] { cross_attention_readout(in.cross, o); },
                     "cross readout layers: layer 2 out of range (model has 1 layers, valid 1..1)");
}

TEST(EncDecRelevance, Errors) {
  EncoderDecoderAttention in = hand_case();
  in.cross_gradient = CrossAttentionStack(1, 2, 2, 4);
  test::expect_error([&] { encdec_relevance(in); },
                     "cross gradient: shape 1 layers x 2 heads x 2 x 4 does not match cross "
                     "attention shape 1 layers x 2 heads x 2 x 3");
  in = hand_case();
  in.cross = CrossAttentionStack(2, 2, 2, 3);
  in.cross_gradient = CrossAttentionStack(2, 2, 2, 3);
  test::expect_error([&] { encdec_relevance(in); },
                     "cross attention: 2 layers, the decoder has 1 (one cross-attention per "
                     "decoder block)");
  in.cross = CrossAttentionStack(1, 2, 3, 3);
  in.cross_gradient = CrossAttentionStack(1, 2, 3, 3);
  test::expect_error([&] { encdec_relevance(in); },
                     "cross attention: 3 query rows, the decoder has 2 tokens");
  in.cross = CrossAttentionStack(1, 2, 2, 2);
  in.cross_gradient = CrossAttentionStack(1, 2, 2, 2);
  test::expect_error([&] { encdec_relevance(in); },
                     "cross attention: 2 key columns, the encoder has 3 tokens");
  in = hand_case();
  in.cross.head(0, 1)(1, 2) = -0.5f;
  test::expect_error([&] { encdec_relevance(in); },
                     "cross attention: layer 1 head 2 row 1 column 2 is negative (-0.500000); "
                     "attention weights must be >= 0");
  in = hand_case();
  in.decoder_gradient = AttentionStack();
  test::expect_error([&] { encdec_relevance(in); },
                     "decoder gradient: shape 0 layers x 0 heads x 0 x 0 does not match decoder "
                     "attention shape 1 layers x 2 heads x 2 x 2");
  test::expect_error([] { CrossAttentionStack(std::vector<float>(5), 1, 1, 2, 3); },
                     "cross-attention stack: 5 values do not fill 1 layers x 1 heads x 2 x 3 (6 "
                     "values)");
  test::expect_error([] { normalize_self_relevance(Matrix::Zero(2, 3), "decoder"); },
                     "decoder: self-relevance is 2 x 3, not square");
}

}  // namespace
}  // namespace attnflow
