// Schema version 3: encoder-decoder stores (StoreInfo::decoder_layers > 0) with the decoder's
// tokens, its self-attention [L_dec, H, m, m] and the cross-attention [L_dec, H, m, n] (and
// their gradients) per example: round trip in float32 and float16, the root attributes, the
// checks of append and read; plain stores stay version 2.
#include <gtest/gtest.h>

#include <string>

#include "attnflow/io/store.hpp"
#include "support/test_support.hpp"

namespace {

using attnflow::AttentionStack;
using attnflow::CrossAttentionStack;
using attnflow::io::Example;
using attnflow::io::Precision;
using attnflow::io::ReadOptions;
using attnflow::io::Store;
using attnflow::io::StoreInfo;
using attnflow::io::StoreMode;
namespace test = attnflow::test;

StoreInfo seq2seq_info(Precision precision = Precision::Float32) {
  StoreInfo info;
  info.model = "t5";
  info.layers = 2;
  info.heads = 3;
  info.decoder_layers = 4;
  info.attention_precision = precision;
  info.gradient_precision = precision;
  return info;
}

// Values exact in float16 (multiples of 1/64), distinct per salt.
std::vector<float> values(std::size_t count, int salt, bool signed_values) {
  std::vector<float> v(count);
  for (std::size_t k = 0; k < count; ++k) {
    const auto x = static_cast<float>((k * 7 + static_cast<std::size_t>(salt)) % 64) / 64.0f;
    v[k] = signed_values && k % 3 == 0 ? -x : x;
  }
  return v;
}

CrossAttentionStack cross(int layers, int heads, int m, int n, int salt, bool signed_values) {
  return CrossAttentionStack(
      values(static_cast<std::size_t>(layers * heads * m * n), salt, signed_values), layers, heads,
      m, n);
}

Example seq2seq_example(int n, int m, bool gradients) {
  Example e;
  for (int k = 0; k < n; ++k) e.tokens.push_back("▁t" + std::to_string(k));
  for (int k = 0; k < n; ++k) e.token_ids.push_back(100 + k);
  e.attention = AttentionStack(values(static_cast<std::size_t>(2 * 3 * n * n), 1, false), 2, 3, n);
  e.decoder.tokens.push_back("<pad>");
  for (int k = 1; k < m; ++k) e.decoder.tokens.push_back("d" + std::to_string(k));
  for (int k = 0; k < m; ++k) e.decoder.token_ids.push_back(k);
  e.decoder.attention =
      AttentionStack(values(static_cast<std::size_t>(4 * 3 * m * m), 2, false), 4, 3, m);
  e.decoder.cross_attention = cross(4, 3, m, n, 3, false);
  if (gradients) {
    e.gradient = AttentionStack(values(static_cast<std::size_t>(2 * 3 * n * n), 4, true), 2, 3, n);
    e.decoder.gradient =
        AttentionStack(values(static_cast<std::size_t>(4 * 3 * m * m), 5, true), 4, 3, m);
    e.decoder.cross_gradient = cross(4, 3, m, n, 6, true);
  }
  e.target = 7;
  return e;
}

TEST(StoreEncoderDecoder, RoundTripIsExact) {
  for (const Precision p : {Precision::Float32, Precision::Float16}) {
    SCOPED_TRACE(to_string(p));
    const std::string path = test::temp_path(std::string("encdec_") + to_string(p) + ".h5");
    {
      Store s = Store::create(path, seq2seq_info(p));
      s.append(seq2seq_example(5, 3, true));
      s.append(seq2seq_example(2, 6, false));
    }
    const Store s = Store::open(path);
    EXPECT_EQ(s.info().schema_version, 3);
    EXPECT_EQ(s.info().decoder_layers, 4);
    const Example a = s.read(0), want = seq2seq_example(5, 3, true);
    EXPECT_EQ(a.tokens, want.tokens);
    EXPECT_EQ(a.attention.data(), want.attention.data());
    EXPECT_EQ(a.gradient.data(), want.gradient.data());
    EXPECT_EQ(a.decoder.tokens, want.decoder.tokens);
    EXPECT_EQ(a.decoder.token_ids, want.decoder.token_ids);
    EXPECT_EQ(a.decoder.attention.data(), want.decoder.attention.data());
    EXPECT_EQ(a.decoder.attention.layers(), 4);
    EXPECT_EQ(a.decoder.gradient.data(), want.decoder.gradient.data());
    EXPECT_EQ(a.decoder.cross_attention.data(), want.decoder.cross_attention.data());
    EXPECT_EQ(a.decoder.cross_attention.queries(), 3);
    EXPECT_EQ(a.decoder.cross_attention.keys(), 5);
    EXPECT_EQ(a.decoder.cross_gradient.data(), want.decoder.cross_gradient.data());
    // head(l, h) is the m x n map of layer l, head h
    EXPECT_EQ(a.decoder.cross_attention.head(1, 2)(2, 4),
              want.decoder.cross_attention
                  .data()[static_cast<std::size_t>(((1 * 3 + 2) * 3 + 2) * 5 + 4)]);
    const Example b = s.read(1);
    EXPECT_TRUE(b.gradient.empty());
    EXPECT_TRUE(b.decoder.gradient.empty());
    EXPECT_TRUE(b.decoder.cross_gradient.empty());
    EXPECT_EQ(b.decoder.cross_attention.data(),
              seq2seq_example(2, 6, false).decoder.cross_attention.data());
    const Example meta = s.read(0, ReadOptions::metadata_only());
    EXPECT_EQ(meta.decoder.tokens, want.decoder.tokens);
    EXPECT_TRUE(meta.decoder.attention.empty());
    EXPECT_TRUE(meta.decoder.cross_attention.empty());
    const Example no_grad = s.read(0, ReadOptions::without_gradient());
    EXPECT_FALSE(no_grad.decoder.cross_attention.empty());
    EXPECT_TRUE(no_grad.decoder.cross_gradient.empty());
  }
}

TEST(StoreEncoderDecoder, PlainStoresStayVersion2) {
  const std::string path = test::temp_path("encdec_plain.h5");
  StoreInfo info = seq2seq_info();
  info.decoder_layers = 0;
  {
    Store s = Store::create(path, info);
    Example e = seq2seq_example(3, 2, false);
    e.decoder = {};
    s.append(e);
  }
  EXPECT_EQ(Store::open(path).info().schema_version, 2);
  EXPECT_EQ(Store::open(path).info().decoder_layers, 0);
  EXPECT_TRUE(Store::open(path).read(0).decoder.tokens.empty());
}

TEST(StoreEncoderDecoder, BadExamplesNameTheProblem) {
  const std::string path = test::temp_path("encdec_bad.h5");
  Store s = Store::create(path, seq2seq_info());
  const std::string where = path + ": example 0";
  Example e = seq2seq_example(5, 3, false);
  e.decoder.cross_attention = cross(4, 3, 3, 4, 1, false);
  test::expect_error([&] { s.append(e); },
                     where +
                         ": cross-attention is 4 layers x 3 heads x 3 x 4 (144 values), the store "
                         "expects 4 layers x 3 heads x 3 x 5 (3 decoder tokens, 5 tokens)");
  e = seq2seq_example(5, 3, false);
  e.decoder.tokens.clear();
  test::expect_error([&] { s.append(e); },
                     where + ": no decoder tokens (an encoder-decoder store)");
  e = seq2seq_example(5, 3, false);
  e.decoder.cross_attention.data()[7] = -0.5f;
  test::expect_error_contains([&] { s.append(e); },
                              where + ": cross-attention: value -0.5 at entry 7");
  e = seq2seq_example(5, 3, true);
  e.decoder.cross_gradient = {};
  test::expect_error_contains([&] { s.append(e); }, "come together (all three or none)");
  e = seq2seq_example(5, 3, false);
  e.decoder.attention = AttentionStack(2, 3, 3);
  test::expect_error_contains([&] { s.append(e); },
                              where + ": decoder attention is 2 layers x 3 heads x 3 x 3");
  EXPECT_EQ(s.size(), 0);

  StoreInfo plain = seq2seq_info();
  plain.decoder_layers = 0;
  Store p = Store::create(test::temp_path("encdec_plain_bad.h5"), plain);
  test::expect_error_contains([&] { p.append(seq2seq_example(5, 3, false)); },
                              "the store has no decoder");
  StoreInfo fused = seq2seq_info();
  fused.mode = StoreMode::Fused;
  test::expect_error_contains(
      [&] { Store::create(test::temp_path("encdec_fused.h5"), fused); },
      "an encoder-decoder store (decoder_layers 4) must be per-head, not fused");
}

}  // namespace
