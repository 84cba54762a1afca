// pipeline::extract_corpus as a library call: the report, the progress callback, resume, the
// checks before anything is written, and the prob-diff target on the shipped SVA classifier
// (a regression test: the CLI once refused it as "needs a language-model head").
#include "attnflow/pipeline/extract_corpus.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "attnflow/core/error.hpp"
#include "attnflow/io/store.hpp"
#include "attnflow/torch/model.hpp"

namespace {

namespace fs = std::filesystem;
namespace pl = attnflow::pipeline;
namespace io = attnflow::io;
namespace at = attnflow::torch;
using attnflow::Error;

const std::string kModels = std::string(ATTNFLOW_TEST_DATA) + "/models/";
const std::string kSvaModel = std::string(ATTNFLOW_SOURCE_DIR) + "/datasets/models/sva";
const std::string kSvaDemo = std::string(ATTNFLOW_SOURCE_DIR) + "/datasets/sva/demo.jsonl";

std::string temp_path(const std::string& name) {
  const std::string p = testing::TempDir() + "attnflow_extract_" + name;
  fs::remove_all(p);
  return p;
}

std::string write_corpus(const std::string& name, const std::string& text) {
  const std::string p = temp_path(name);
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

pl::ExtractOptions options(const std::string& model, const std::string& corpus,
                           const std::string& output) {
  pl::ExtractOptions o;
  o.model = model;
  o.corpus = corpus;
  o.output = output;
  return o;
}

TEST(ExtractCorpus, ProbDiffOnTheSvaClassifierStoresGradients) {
  const std::string out = temp_path("sva_prob_diff.h5");
  pl::ExtractOptions o = options(kSvaModel, kSvaDemo, out);
  o.target = at::parse_target("prob-diff");
  o.batch_size = 3;
  const pl::ExtractReport r = pl::extract_corpus(o);
  EXPECT_EQ(r.examples, 8);
  EXPECT_EQ(r.extracted, 8);
  EXPECT_EQ(r.resumed, 0);
  EXPECT_FALSE(r.nothing_to_do);

  const io::Store store = io::Store::open(out);
  EXPECT_EQ(store.size(), 8);
  EXPECT_EQ(store.info().layers, 6);
  EXPECT_EQ(store.info().heads, 8);
  for (std::int64_t i = 0; i < store.size(); ++i) {
    const io::Example x = store.read(i);
    ASSERT_FALSE(x.gradient.empty()) << "example " << i;
    EXPECT_EQ(x.gradient.layers(), 6);
    EXPECT_EQ(x.gradient.heads(), 8);
    EXPECT_EQ(x.gradient.tokens(), x.tokens_count());
    double norm = 0;
    for (float g : x.gradient.data()) norm += std::fabs(g);
    EXPECT_GT(norm, 0.0) << "example " << i;
    EXPECT_TRUE(x.label.has_value());
    EXPECT_TRUE(x.prediction.has_value());
    EXPECT_FALSE(x.target.has_value());  // prob-diff is of no single class
  }
}

TEST(ExtractCorpus, EveryClassifierTargetPassesOnAClassifier) {
  for (const char* target : {"class:1", "label", "predicted", "prob-diff"}) {
    const std::string out = temp_path(std::string("sva_target_") + target + ".h5");
    pl::ExtractOptions o = options(kSvaModel, kSvaDemo, out);
    o.target = at::parse_target(target);
    EXPECT_EQ(message_of([&] { pl::extract_corpus(o); }), "(no error)") << target;
  }
}

TEST(ExtractCorpus, ReportProgressAndResume) {
  const std::string c3 = write_corpus("c3.txt", "the cat sat\nthe dog\na bad film\n");
  const std::string c5 = write_corpus("c5.txt", "the cat sat\nthe dog\na bad film\nit\nends\n");
  const std::string out = temp_path("resume.h5");
  std::vector<std::pair<std::int64_t, std::int64_t>> calls;
  const auto progress = [&](std::int64_t done, std::int64_t total) {
    calls.emplace_back(done, total);
  };
  pl::ExtractOptions o = options(kModels + "bert_cls", c3, out);
  o.batch_size = 2;
  const pl::ExtractReport first = pl::extract_corpus(o, progress);
  EXPECT_EQ(first.extracted, 3);
  EXPECT_GT(first.tokens, 6);
  EXPECT_EQ(first.corpus, c3);
  EXPECT_EQ(first.output, out);
  EXPECT_EQ(calls, (std::vector<std::pair<std::int64_t, std::int64_t>>{{1, 3}, {2, 3}, {3, 3}}));

  EXPECT_EQ(message_of([&] { pl::extract_corpus(o); }),
            out + ": already exists (--resume continues it, --overwrite replaces it)");
  o.corpus = c5;
  o.resume = true;
  calls.clear();
  const pl::ExtractReport second = pl::extract_corpus(o, progress);
  EXPECT_EQ(second.resumed, 3);
  EXPECT_EQ(second.extracted, 2);
  EXPECT_EQ(calls, (std::vector<std::pair<std::int64_t, std::int64_t>>{{1, 2}, {2, 2}}));
  const pl::ExtractReport third = pl::extract_corpus(o, progress);
  EXPECT_TRUE(third.nothing_to_do);
  EXPECT_EQ(third.extracted, 0);
  EXPECT_EQ(io::Store::open(out).size(), 5);
}

TEST(ExtractCorpus, TruncationIsReported) {
  std::string long_line;
  for (int i = 0; i < 70; ++i) long_line += "cat ";
  const std::string corpus = write_corpus("long.txt", "short\n" + long_line + "\n");
  pl::ExtractOptions o = options(kModels + "bert_cls", corpus, temp_path("long.h5"));
  EXPECT_EQ(message_of([&] { pl::extract_corpus(o); }),
            corpus +
                ":2: 72 tokens, more than 64 (the model's max_positions); 1 example is too "
                "long (line 2): --truncate cuts them");
  o.truncate = true;
  const pl::ExtractReport r = pl::extract_corpus(o);
  EXPECT_EQ(r.truncated_lines, std::vector<std::int64_t>{2});
  EXPECT_EQ(r.length_limit, 64);
  EXPECT_EQ(io::Store::open(o.output).read(1).tokens_count(), 64);
}

// Options the CLI cannot give still get the CLI's messages; nothing is written.
TEST(ExtractCorpus, BadOptionsBeforeAnythingIsWritten) {
  const std::string corpus = write_corpus("good.txt", "the cat sat on the mat\nthe dog\n");
  const std::string out = temp_path("bad.h5");
  pl::ExtractOptions o = options(kModels + "bert_cls", corpus, out);
  o.store = io::StoreMode::Derived;
  o.analysis.methods = {attnflow::Method::AltiRollout};
  EXPECT_EQ(message_of([&] { pl::extract_corpus(o); }),
            "--store derived: -m alti-rollout needs per-head attention or contributions; "
            "derived stores compute raw, residual, rollout, flow and grad-rollout (use --store "
            "per-head and attnflow analyze)");
  o.analysis.methods = {attnflow::Method::GradRollout};
  EXPECT_EQ(message_of([&] { pl::extract_corpus(o); }),
            "--store derived: -m grad-rollout needs the gradients of a target: give --target "
            "(e.g. --target next for a causal LM)");
  o.analysis.methods = {attnflow::Method::Rollout};
  o.store = io::StoreMode::PerHead;
  o.precision = io::Precision::Float64;
  EXPECT_EQ(message_of([&] { pl::extract_corpus(o); }),
            "--precision: unknown 'float64' (expected float32 or float16)");
  o.precision = io::Precision::Float32;
  o.target = at::parse_target("mask");
  EXPECT_EQ(message_of([&] { pl::extract_corpus(o); }),
            "--target mask needs a language-model head; " + kModels +
                "bert_cls is a BertForSequenceClassification");
  o.target = at::parse_target("label");
  EXPECT_EQ(message_of([&] { pl::extract_corpus(o); }),
            corpus + ":1: no label, but --target label needs one");
  o.model = kModels + "bert_mlm";
  o.target = at::parse_target("mask");
  EXPECT_EQ(message_of([&] { pl::extract_corpus(o); }),
            corpus + ":1: no mask token ([MASK], id 4), but --target mask needs one");
  EXPECT_FALSE(fs::exists(out));
}

// The encoder families beyond BERT extract like BERT: DistilBERT's WordPiece directory with a
// mask target and a label target (RoBERTa / XLM-R would as well, given their tokenizers).
TEST(ExtractCorpus, DistilBertDirectoriesExtract) {
  const std::string masked =
      write_corpus("distil_mask.txt", "the [MASK] sat on the mat\nhello [MASK] !\n");
  pl::ExtractOptions o = options(kModels + "distilbert_mlm", masked, temp_path("distil_mlm.h5"));
  o.target = at::parse_target("mask");
  EXPECT_EQ(pl::extract_corpus(o).extracted, 2);
  const io::Store m = io::Store::open(o.output);
  EXPECT_EQ(m.info().layers, 2);
  EXPECT_EQ(m.read(0).tokens.at(2), "[MASK]");
  EXPECT_FALSE(m.read(1).gradient.empty());

  const std::string labelled = write_corpus("distil_cls.jsonl",
                                            "{\"text\": \"the cat sat on the mat\", \"label\": "
                                            "1}\n{\"text\": \"a bad film\", \"label\": 0}\n");
  o = options(kModels + "distilbert_cls", labelled, temp_path("distil_cls.h5"));
  o.target = at::parse_target("label");
  EXPECT_EQ(pl::extract_corpus(o).extracted, 2);
  const io::Example x = io::Store::open(o.output).read(1);
  EXPECT_EQ(x.label, 0);
  EXPECT_EQ(x.target, 0);
  EXPECT_EQ(x.gradient.tokens(), x.tokens_count());
}

}  // namespace
