// io::ExampleWriter: an example written a layer at a time reads back as the same example
// appended whole; missing, repeated or bad layers are errors naming the layer; a writer dropped
// uncommitted leaves no trace; several writers of a batch commit in the order of their appends.
#include "attnflow/io/example_writer.hpp"

#include <cmath>
#include <limits>

#include "../core/test_util.hpp"
#include "attnflow/io/store.hpp"
#include "store_test_util.hpp"

namespace attnflow::io {
namespace {

/// The example without its stacks (what append(example, writer) takes).
Example rest_of(const Example& e) {
  Example r = e;
  r.attention = AttentionStack();
  r.gradient = AttentionStack();
  return r;
}

/// Layer `l` of `stack` ([heads, n, n] floats).
const float* layer_of(const AttentionStack& stack, int l) {
  return stack.data().data() +
         static_cast<std::size_t>(l) * stack.heads() * stack.tokens() * stack.tokens();
}

/// Writes every layer of `e` through a writer, in the order `order` (attention, then gradient).
std::int64_t append_by_layers(Store& store, const Example& e, const std::vector<int>& order) {
  ExampleWriter w = store.begin_example(e.tokens_count(), !e.gradient.empty());
  for (int l : order) w.write_layer(StackPart::Attention, l, layer_of(e.attention, l));
  if (!e.gradient.empty()) {
    for (int l : order) w.write_layer(StackPart::Gradient, l, layer_of(e.gradient, l));
  }
  return store.append(rest_of(e), std::move(w));
}

void expect_same(const Example& got, const Example& want) {
  EXPECT_EQ(got.tokens, want.tokens);
  EXPECT_EQ(got.token_ids, want.token_ids);
  EXPECT_EQ(got.label, want.label);
  EXPECT_EQ(got.target, want.target);
  EXPECT_EQ(got.prediction, want.prediction);
  EXPECT_EQ(got.attention.layers(), want.attention.layers());
  EXPECT_EQ(got.attention.heads(), want.attention.heads());
  EXPECT_EQ(got.attention.data(), want.attention.data());
  EXPECT_EQ(got.gradient.data(), want.gradient.data());
}

struct Case {
  StoreMode mode;
  Precision precision;
  Codec codec;
};

class ExampleWriterRoundTrip : public testing::TestWithParam<Case> {};

TEST_P(ExampleWriterRoundTrip, LayerByLayerReadsBackAsAppendedWhole) {
  const Case c = GetParam();
  const StoreInfo info = test::store_info(c.mode, c.precision);
  WriteOptions options;
  options.codec = c.codec;
  if (c.codec == Codec::Gzip) options.compression = 4;
  options.chunk_bytes = 1024;  // several chunks per layer (n up to 22)
  const std::string whole = test::temp_path("writer_whole.h5");
  const std::string layered = test::temp_path("writer_layered.h5");
  std::vector<Example> examples;
  {
    Store a = Store::create(whole, info, options);
    Store b = Store::create(layered, info, options);
    for (int i = 0; i < 5; ++i) {
      examples.push_back(test::make_example(i, info, 11, i % 2 == 0, 20));
      EXPECT_EQ(a.append(examples.back()), i);
      // layers in another order than the model's: each is a block of its own
      EXPECT_EQ(append_by_layers(b, examples.back(), {2, 0, 1}), i);
    }
  }
  const Store a = Store::open(whole);
  const Store b = Store::open(layered);
  ASSERT_EQ(b.size(), 5);
  for (int i = 0; i < 5; ++i) expect_same(b.read(i), a.read(i));
}

INSTANTIATE_TEST_SUITE_P(Modes, ExampleWriterRoundTrip,
                         testing::Values(Case{StoreMode::PerHead, Precision::Float16, Codec::None},
                                         Case{StoreMode::PerHead, Precision::Float32, Codec::Gzip},
                                         Case{StoreMode::PerHead, Precision::Float16, Codec::Gzip},
                                         Case{StoreMode::Fused, Precision::Float32, Codec::None},
                                         Case{StoreMode::Fused, Precision::Float16, Codec::Gzip}));

TEST(ExampleWriter, WritersOfABatchCommitInTheOrderOfTheirAppends) {
  const StoreInfo info = test::store_info(StoreMode::PerHead, Precision::Float32);
  const std::string path = test::temp_path("writer_batch.h5");
  std::vector<Example> examples;
  {
    Store store = Store::create(path, info);
    std::vector<ExampleWriter> writers;
    for (int i = 0; i < 3; ++i) {
      examples.push_back(test::make_example(i, info, 3, true));
      writers.push_back(store.begin_example(examples[i].tokens_count(), true));
    }
    // layer by layer across the batch, as a model streams them; gradients last, backwards
    for (int l = 0; l < info.layers; ++l) {
      for (int i = 0; i < 3; ++i) {
        writers[i].write_layer(StackPart::Attention, l, layer_of(examples[i].attention, l));
      }
    }
    for (int l = info.layers - 1; l >= 0; --l) {
      for (int i = 0; i < 3; ++i) {
        writers[i].write_layer(StackPart::Gradient, l, layer_of(examples[i].gradient, l));
      }
    }
    EXPECT_EQ(writers[1].layers_written(StackPart::Gradient), info.layers);
    for (int i = 0; i < 3; ++i)
      EXPECT_EQ(store.append(rest_of(examples[i]), std::move(writers[i])), i);
  }
  const Store store = Store::open(path);
  ASSERT_EQ(store.size(), 3);
  for (int i = 0; i < 3; ++i) {
    const Example got = store.read(i);
    EXPECT_EQ(got.tokens, examples[i].tokens);
    EXPECT_EQ(got.attention.data(), examples[i].attention.data());
    EXPECT_EQ(got.gradient.data(), examples[i].gradient.data());
  }
}

TEST(ExampleWriter, AMissingLayerIsNamedAndNothingIsCommitted) {
  const StoreInfo info = test::store_info(StoreMode::PerHead, Precision::Float32);
  const std::string path = test::temp_path("writer_missing.h5");
  const Example e = test::make_example(0, info, 2, true);
  {
    Store store = Store::create(path, info);
    ExampleWriter w = store.begin_example(e.tokens_count(), true);
    w.write_layer(StackPart::Attention, 0, layer_of(e.attention, 0));
    w.write_layer(StackPart::Attention, 2, layer_of(e.attention, 2));
    test::expect_error(
        [&] { store.append(rest_of(e), std::move(w)); },
        path + ": example 0: 2 of 3 attention layers were written (layer 2 is missing)");
    EXPECT_EQ(store.size(), 0);
    // the gradient is checked too
    ExampleWriter g = store.begin_example(e.tokens_count(), true);
    for (int l = 0; l < 3; ++l) g.write_layer(StackPart::Attention, l, layer_of(e.attention, l));
    test::expect_error_contains([&] { store.append(rest_of(e), std::move(g)); },
                                "0 of 3 gradient layers were written (layer 1 is missing)");
    EXPECT_EQ(store.size(), 0);
    // and the store goes on: a complete example is example 0
    EXPECT_EQ(append_by_layers(store, e, {0, 1, 2}), 0);
  }
  const Store store = Store::open(path);
  ASSERT_EQ(store.size(), 1);
  EXPECT_EQ(store.read(0).attention.data(), e.attention.data());
}

TEST(ExampleWriter, ADroppedWriterLeavesNoTrace) {
  const StoreInfo info = test::store_info(StoreMode::PerHead, Precision::Float16);
  const std::string path = test::temp_path("writer_dropped.h5");
  const Example e0 = test::make_example(0, info, 4, false);
  const Example e1 = test::make_example(1, info, 4, false);
  {
    Store store = Store::create(path, info);
    EXPECT_EQ(store.append(e0), 0);
    {
      ExampleWriter w = store.begin_example(e1.tokens_count(), false);
      w.write_layer(StackPart::Attention, 0, layer_of(e1.attention, 0));
    }  // dropped: a failed batch
    EXPECT_EQ(store.size(), 1);
    EXPECT_EQ(append_by_layers(store, e1, {0, 1, 2}), 1);
  }
  Store store = Store::open(path, Access::ReadWrite);
  ASSERT_EQ(store.size(), 2);
  EXPECT_EQ(store.read(1).tokens, e1.tokens);
}

TEST(ExampleWriter, BadLayersAreNamed) {
  const StoreInfo info = test::store_info(StoreMode::PerHead, Precision::Float16);
  const std::string path = test::temp_path("writer_bad.h5");
  Store store = Store::create(path, info);
  const Example e = test::make_example(0, info, 6, true);
  const int n = e.tokens_count();
  const std::string where = path + ": example of " + std::to_string(n) + " tokens";
  ExampleWriter w = store.begin_example(n, true);
  std::vector<float> layer(layer_of(e.attention, 1), layer_of(e.attention, 2));
  layer[static_cast<std::size_t>(2 * n * n + 1 * n + 2)] = std::numeric_limits<float>::quiet_NaN();
  test::expect_error([&] { w.write_layer(StackPart::Attention, 1, layer.data()); },
                     where + " (being written): attention: layer 2 head 3 row 1 column 2 is NaN");
  layer[static_cast<std::size_t>(2 * n * n + 1 * n + 2)] = -0.5f;
  test::expect_error_contains([&] { w.write_layer(StackPart::Attention, 1, layer.data()); },
                              "attention: layer 2 head 3 row 1 column 2 is negative");
  std::vector<float> big(layer_of(e.gradient, 2), layer_of(e.gradient, 2) + 4 * n * n);
  big[static_cast<std::size_t>(n * n + n)] = 1e6f;
  test::expect_error(
      [&] { w.write_layer(StackPart::Gradient, 2, big.data()); },
      where +
          " (being written): gradient: value 1e+06 at layer 3 head 2 row 1 column 0 does "
          "not fit float16 (largest 65504); store float32");
  test::expect_error([&] { w.write_layer(StackPart::Attention, 3, layer.data()); },
                     where +
                         " (being written): attention: layer 4 out of range (the store has "
                         "3 layers)");
  w.write_layer(StackPart::Attention, 0, layer_of(e.attention, 0));
  test::expect_error([&] { w.write_layer(StackPart::Attention, 0, layer_of(e.attention, 0)); },
                     where + " (being written): attention: layer 1 written twice");
  ExampleWriter none = store.begin_example(n, false);
  test::expect_error([&] { none.write_layer(StackPart::Gradient, 0, layer_of(e.gradient, 0)); },
                     where + " (being written): begun without a gradient (Store::begin_example)");
  // the example must not bring its stacks again, and must have the writer's tokens
  test::expect_error_contains([&] { store.append(e, std::move(none)); },
                              "were written a layer at a time; the example must not hold them");
  ExampleWriter other = store.begin_example(n + 1, false);
  test::expect_error([&] { store.append(rest_of(e), std::move(other)); },
                     path + ": example 0: " + std::to_string(n) +
                         " tokens, but its attention was written for " + std::to_string(n + 1));
  EXPECT_EQ(store.size(), 0);
}

TEST(ExampleWriter, ModesThatHoldNoSuchStackRefuseIt) {
  StoreInfo derived = test::store_info(StoreMode::Derived, Precision::Float32);
  const std::string d = test::temp_path("writer_derived.h5");
  Store a = Store::create(d, derived);
  test::expect_error([&] { a.begin_example(4, false); },
                     d + ": example of 4 tokens: a derived-mode store holds no attention to write "
                         "a layer at a time");
  const std::string f = test::temp_path("writer_fused.h5");
  Store b = Store::create(f, test::store_info(StoreMode::Fused, Precision::Float32));
  test::expect_error([&] { b.begin_example(4, true); },
                     f + ": example of 4 tokens: a fused-mode store holds no gradient");
  test::expect_error_contains([&] { b.begin_example(0, false); }, "the number of tokens must be");
  ExampleWriter foreign = b.begin_example(3, false);
  const std::string g = test::temp_path("writer_other.h5");
  Store c = Store::create(g, test::store_info(StoreMode::Fused, Precision::Float32));
  test::expect_error_contains([&] { c.append(Example(), std::move(foreign)); },
                              "an ExampleWriter that this store did not begin");
}

}  // namespace
}  // namespace attnflow::io
