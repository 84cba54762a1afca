// pipeline::run_demo as a library call on the shipped SVA classifier and three of its demo
// sentences: the report (sentences, accuracy, correlations, files), the folder it leaves, the
// step callback, and clear errors that leave no folder.
#include "attnflow/pipeline/demo.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "attnflow/io/store.hpp"
#include "support/test_support.hpp"

namespace {

namespace fs = std::filesystem;
namespace pl = attnflow::pipeline;
namespace test = attnflow::test;

const std::string kSvaModel = std::string(ATTNFLOW_SOURCE_DIR) + "/datasets/models/sva";

std::string three_sentences() {
  const std::string p = test::temp_path("sentences.jsonl");
  std::ofstream(p) << "{\"text\": \"the key to the cabinets\", \"label\": 0}\n"
                      "{\"text\": \"the keys to the cabinet\", \"label\": 1}\n"
                      "{\"text\": \"the author that the guards like\", \"label\": 0}\n";
  return p;
}

TEST(Demo, WritesStoreFiguresAndSummary) {
  pl::DemoOptions o;
  o.output = test::temp_path("out");
  o.model_dir = kSvaModel;
  o.sentences_path = three_sentences();
  o.figures = 1;
  o.threads = 2;
  std::vector<std::string> steps;
  o.on_step = [&](const std::string& line) { steps.push_back(line); };
  const pl::DemoReport r = pl::run_demo(o);

  ASSERT_EQ(r.sentences.size(), 3u);
  EXPECT_EQ(r.sentences[0].text, "the key to the cabinets");
  EXPECT_EQ(r.sentences[1].label, 1);
  EXPECT_EQ(r.sentences[0].tokens.front(), "[CLS]");
  int correct = 0;
  for (const pl::DemoSentence& s : r.sentences) {
    EXPECT_GT(s.probability, 0.5);
    correct += s.prediction == s.label ? 1 : 0;
  }
  EXPECT_DOUBLE_EQ(r.accuracy, correct / 3.0);
  EXPECT_EQ(r.architecture, "AttnflowEncoderClassifier");
  EXPECT_EQ(r.layers, 6);
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0].rfind("extract: 3 sentences with AttnflowEncoderClassifier", 0), 0u);
  EXPECT_EQ(steps[2].rfind("figures: 5 in ", 0), 0u);

  const std::vector<std::string> files = {"demo.h5",     "maps_0.png", "heads_0.png",
                                          "graph_0.png", "bars_0.png", "correlations.png",
                                          "summary.txt"};
  EXPECT_EQ(r.files, files);
  for (const std::string& f : files) EXPECT_TRUE(fs::is_regular_file(o.output + "/" + f)) << f;
  EXPECT_FALSE(fs::exists(o.output + ".partial"));
  EXPECT_NE(r.summary.find("accuracy on these sentences: " + std::to_string(correct) + "/3"),
            std::string::npos)
      << r.summary;
  EXPECT_NE(r.summary.find("rollout vs flow"), std::string::npos);

  ASSERT_FALSE(r.correlations.empty());
  for (const auto& series : r.correlations) {
    EXPECT_EQ(series.values.size(), 6u) << series.name;
    for (double v : series.values) {
      EXPECT_GE(v, -1.0);
      EXPECT_LE(v, 1.0);
    }
  }
  const attnflow::io::Store store = attnflow::io::Store::open(o.output + "/demo.h5");
  EXPECT_EQ(store.size(), 3);
}

TEST(Demo, ErrorsLeaveNoFolder) {
  pl::DemoOptions o;
  o.output = test::temp_path("bad");
  o.sentences_path = three_sentences();
  o.model_dir = test::temp_path("nomodel");
  test::expect_error_contains([&] { pl::run_demo(o); }, "nomodel: no such model file or directory");
  EXPECT_FALSE(fs::exists(o.output));
  EXPECT_FALSE(fs::exists(o.output + ".partial"));

  o.model_dir = std::string(ATTNFLOW_TEST_DATA) + "/models/bert_base";
  test::expect_error([&] { pl::run_demo(o); },
                     o.model_dir + ": the demo needs a classifier (this is a BertModel)");
  EXPECT_FALSE(fs::exists(o.output));

  fs::create_directories(o.output);
  o.model_dir = kSvaModel;
  test::expect_error([&] { pl::run_demo(o); },
                     o.output + ": exists (use --overwrite to replace it)");
  fs::remove_all(o.output);
}

}  // namespace
