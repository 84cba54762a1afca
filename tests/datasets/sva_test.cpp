// attnflow::datasets SVA generator: determinism, labels, attractor counts, vocabulary, splits,
// the mix of sentences, and exact error messages.
#include "attnflow/datasets/sva.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "attnflow/core/error.hpp"
#include "support/test_support.hpp"

namespace attnflow::datasets {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> w;
  std::istringstream in(text);
  for (std::string s; in >> s;) w.push_back(s);
  return w;
}

std::vector<SvaExample> make(std::uint64_t seed, std::int64_t count) {
  SvaOptions o;
  o.seed = seed;
  o.count = count;
  return generate_sva(o);
}

// FNV-1a over the JSON lines: pins the exact corpus, so a change of platform or standard
// library that changed a single draw would show here.
std::uint64_t fingerprint(const std::vector<SvaExample>& examples) {
  std::uint64_t h = 1469598103934665603ULL;
  for (const auto& e : examples) {
    for (const char c : to_json_line(e) + "\n") {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ULL;
    }
  }
  return h;
}

// The verb pairs (singular, plural) the sentences may continue with; written out here again
// so that the test does not take them from the code under test.
const std::map<std::string, int>& verb_numbers() {
  static const std::map<std::string, int> m = [] {
    std::map<std::string, int> v;
    for (const auto& [s, p] :
         std::vector<std::pair<std::string, std::string>>{{"is", "are"},
                                                          {"was", "were"},
                                                          {"has", "have"},
                                                          {"seems", "seem"},
                                                          {"remains", "remain"},
                                                          {"appears", "appear"},
                                                          {"looks", "look"},
                                                          {"writes", "write"},
                                                          {"knows", "know"},
                                                          {"likes", "like"},
                                                          {"sees", "see"},
                                                          {"wants", "want"},
                                                          {"thinks", "think"}}) {
      v[s] = 0;
      v[p] = 1;
    }
    return v;
  }();
  return m;
}

std::vector<std::string> read_lines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

TEST(Sva, SameSeedSameCorpusOtherSeedOtherCorpus) {
  const auto a = make(7, 3000);
  const auto b = make(7, 3000);
  const auto c = make(8, 3000);
  ASSERT_EQ(a.size(), 3000u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  // A shorter run is a prefix of a longer one with the same seed.
  const auto prefix = make(7, 100);
  EXPECT_TRUE(std::equal(prefix.begin(), prefix.end(), a.begin()));
}

TEST(Sva, CorpusIsPinned) {
  // Fixed by std::mt19937_64 and our own bounded draw: the same on every platform. If the
  // grammar is changed on purpose, update the value and regenerate datasets/sva/.
  const auto e = make(2020, 1000);
  EXPECT_EQ(fingerprint(e), 0x8e4f2bcc2001aa36ULL)
      << std::hex << "fingerprint 0x" << fingerprint(e);
}

TEST(Sva, LabelIsTheNumberOfTheSubjectNoun) {
  std::set<std::string> singular, plural;
  for (const auto& [s, p] : sva_nouns()) {
    singular.insert(s);
    plural.insert(p);
  }
  ASSERT_GE(sva_nouns().size(), 40u);
  ASSERT_EQ(singular.size(), sva_nouns().size());
  ASSERT_EQ(plural.size(), sva_nouns().size());
  for (const auto& w : singular) ASSERT_EQ(plural.count(w), 0u) << w;

  for (const auto& e : make(11, 10000)) {
    const auto w = words_of(e.text);
    ASSERT_GE(e.subject_index, 0) << e.text;
    ASSERT_LT(e.subject_index, static_cast<int>(w.size())) << e.text;
    const auto& subject = w[static_cast<std::size_t>(e.subject_index)];
    ASSERT_TRUE(e.label == 0 || e.label == 1) << e.text;
    EXPECT_EQ(e.label == 0 ? singular.count(subject) : plural.count(subject), 1u)
        << e.text << " | label " << e.label << " subject '" << subject << "'";
    // The first noun of the sentence (after a prefix such as "in the morning") is the subject.
    for (int i = 0; i < e.subject_index; ++i) {
      EXPECT_FALSE(sva_noun_number(w[static_cast<std::size_t>(i)])) << e.text;
    }
    ASSERT_EQ(verb_numbers().count(e.verb), 1u) << e.verb;
    EXPECT_EQ(verb_numbers().at(e.verb), e.label) << e.text << " | " << e.verb;
    // Lower-case words, one space apart.
    EXPECT_EQ(e.text.find_first_not_of("abcdefghijklmnopqrstuvwxyz "), std::string::npos);
    EXPECT_EQ(e.text.find("  "), std::string::npos);
    EXPECT_NE(e.text.front(), ' ');
    EXPECT_NE(e.text.back(), ' ');
  }
}

TEST(Sva, NeutralDeterminersLeaveOnlyTheNounToTellTheNumber) {
  SvaOptions o;
  o.count = 3000;
  o.neutral_determiner_percent = 100;
  const std::set<std::string> marked = {"a",    "an",   "every", "this",
                                        "some", "many", "these", "several"};
  std::set<std::string> nouns;
  for (const auto& [singular, plural] : sva_nouns()) {
    nouns.insert(singular);
    nouns.insert(plural);
  }
  int checked = 0;
  for (const SvaExample& e : generate_sva(o)) {
    const std::vector<std::string> w = words_of(e.text);
    for (std::size_t i = 0; i < w.size(); ++i) {
      if (nouns.count(w[i]) == 0) continue;
      // DET [ADJ] NOUN: the determiner is one or two words before the noun.
      const std::string det = i >= 1 && w[i - 1] == "the" ? "the" : i >= 2 ? w[i - 2] : "";
      EXPECT_TRUE(det == "the" || marked.count(det) == 0) << e.text;
      EXPECT_EQ(marked.count(w[i - 1]), 0u) << e.text;
      ++checked;
    }
  }
  EXPECT_GT(checked, 3000);
  o.neutral_determiner_percent = 0;  // the default keeps number-marking determiners
  int with_marked = 0;
  for (const SvaExample& e : generate_sva(o)) {
    for (const std::string& x : words_of(e.text)) with_marked += marked.count(x) ? 1 : 0;
  }
  EXPECT_GT(with_marked, 500);
}

TEST(Sva, FrontedPhrasesPutANounBeforeTheSubject) {
  SvaOptions o;
  o.count = 3000;
  o.fronted_percent = 50;
  int fronted = 0;
  for (const SvaExample& e : generate_sva(o)) {
    const std::vector<std::string> w = words_of(e.text);
    int before = 0;
    for (int i = 0; i < e.subject_index; ++i) {
      before += sva_noun_number(w[static_cast<std::size_t>(i)]) ? 1 : 0;
    }
    EXPECT_LE(before, 1) << e.text;
    fronted += before;
    // The label is still the subject's number, and nouns before it are not attractors.
    EXPECT_EQ(*sva_noun_number(w[static_cast<std::size_t>(e.subject_index)]), e.label) << e.text;
    EXPECT_EQ(count_sva_attractors(e.text, e.subject_index), e.attractors) << e.text;
  }
  // ~50%, a little more: redrawn duplicates are more often short, unfronted sentences.
  EXPECT_GT(fronted, 1350);
  EXPECT_LT(fronted, 2000);
}

TEST(Sva, AttractorCountsOnHandBuiltSentences) {
  EXPECT_EQ(count_sva_attractors("the key to the cabinets", 1), 1);
  EXPECT_EQ(count_sva_attractors("the keys to the cabinets", 1), 0);
  EXPECT_EQ(count_sva_attractors("the author that the guards like", 1), 1);
  EXPECT_EQ(count_sva_attractors("the authors who write the book", 1), 1);
  EXPECT_EQ(count_sva_attractors("the authors who write the books", 1), 0);
  EXPECT_EQ(count_sva_attractors("the key to the cabinets of the men", 1), 2);
  EXPECT_EQ(count_sva_attractors("the key to the cabinets of the man", 1), 1);
  EXPECT_EQ(count_sva_attractors("the children near the old house", 1), 1);
  EXPECT_EQ(count_sva_attractors("the old children", 2), 0);
  // Nouns before the subject do not intervene.
  EXPECT_EQ(count_sva_attractors("the dogs near the child", 4), 0);
  EXPECT_EQ(count_sva_attractors("in the morning every wolf with the geese often", 4), 1);
  test::expect_error([] { count_sva_attractors("the key", 2); },
                     "sva: subject index 2 is out of range for 'the key' (2 words)");
  test::expect_error([] { count_sva_attractors("the key", 0); },
                     "sva: word 0 of 'the key' ('the') is not a noun of the grammar");
}

TEST(Sva, AttractorFieldMatchesTheText) {
  SvaOptions o;
  o.seed = 5;
  o.count = 10000;
  o.max_attractors = 4;
  for (const auto& e : generate_sva(o)) {
    EXPECT_EQ(e.attractors, count_sva_attractors(e.text, e.subject_index)) << e.text;
    EXPECT_LE(e.attractors, 4);
  }
  o.max_attractors = 0;
  o.count = 2000;
  for (const auto& e : generate_sva(o)) {
    const auto w = words_of(e.text);
    for (auto i = static_cast<std::size_t>(e.subject_index) + 1; i < w.size(); ++i) {
      EXPECT_FALSE(sva_noun_number(w[i])) << e.text;
    }
  }
}

TEST(Sva, MixOfSentences) {
  const auto examples = make(2020, 20000);
  std::map<int, int> intervening, attractors;
  int plural = 0;
  std::size_t shortest = 100, longest = 0;
  std::set<std::string> texts;
  for (const auto& e : examples) {
    plural += e.label;
    const auto w = words_of(e.text);
    shortest = std::min(shortest, w.size());
    longest = std::max(longest, w.size());
    int nouns = 0;
    for (auto i = static_cast<std::size_t>(e.subject_index) + 1; i < w.size(); ++i) {
      nouns += sva_noun_number(w[i]).has_value() ? 1 : 0;
    }
    ++intervening[nouns];
    ++attractors[e.attractors];
    texts.insert(e.text);
  }
  const double n = static_cast<double>(examples.size());
  EXPECT_EQ(texts.size(), examples.size());  // distinct texts
  EXPECT_NEAR(plural / n, 0.5, 0.02);
  EXPECT_NEAR(intervening[0] / n, 0.40, 0.02);
  EXPECT_NEAR(intervening[1] / n, 0.30, 0.02);
  EXPECT_NEAR(intervening[2] / n, 0.30, 0.02);
  EXPECT_EQ(intervening.size(), 3u);
  // With 60% opposite-number nouns: 0.18 + 0.144 one attractor, 0.108 two.
  EXPECT_NEAR(attractors[1] / n, 0.324, 0.02);
  EXPECT_NEAR(attractors[2] / n, 0.108, 0.02);
  EXPECT_EQ(shortest, 4u);
  EXPECT_GE(longest, 14u);
  EXPECT_LE(longest, 20u);
}

TEST(Sva, VocabularyCoversEveryWord) {
  const auto vocab = sva_vocabulary();
  ASSERT_TRUE(std::is_sorted(vocab.begin(), vocab.end()));
  ASSERT_EQ(std::set<std::string>(vocab.begin(), vocab.end()).size(), vocab.size());
  const std::set<std::string> known(vocab.begin(), vocab.end());
  std::set<std::string> used;
  for (const auto& e : make(3, 10000)) {
    for (const auto& w : words_of(e.text)) {
      EXPECT_EQ(known.count(w), 1u) << "'" << w << "' of '" << e.text << "'";
      used.insert(w);
    }
    EXPECT_EQ(known.count(e.verb), 1u) << e.verb;
    used.insert(e.verb);
  }
  // ... and has nothing the grammar never says.
  for (const auto& w : vocab) EXPECT_EQ(used.count(w), 1u) << "'" << w << "' never generated";
  for (const auto& w : vocab) {
    EXPECT_EQ(w.find_first_not_of("abcdefghijklmnopqrstuvwxyz"), std::string::npos) << w;
  }
}

TEST(Sva, VocabTxtIsAWordPieceVocabulary) {
  const fs::path dir = test::temp_dir("vocab");
  write_sva_vocab((dir / "vocab.txt").string());
  const auto lines = read_lines(dir / "vocab.txt");
  std::vector<std::string> expected = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  EXPECT_EQ(sva_special_tokens(), expected);
  for (const auto& w : sva_vocabulary()) expected.push_back(w);
  EXPECT_EQ(lines, expected);
  fs::remove_all(dir);
}

TEST(Sva, JsonLinesRoundTrip) {
  for (const auto& e : make(9, 200)) {
    const auto line = to_json_line(e);
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j.size(), 5u);
    EXPECT_EQ(j.at("text").get<std::string>(), e.text);
    EXPECT_EQ(j.at("label").get<int>(), e.label);
    EXPECT_EQ(j.at("verb").get<std::string>(), e.verb);
    EXPECT_EQ(j.at("attractors").get<int>(), e.attractors);
    EXPECT_EQ(j.at("subject_index").get<int>(), e.subject_index);
  }
  SvaExample odd{"a \"quoted\" back\\slash\ttab", 1, "are", 0, 0};
  EXPECT_EQ(to_json_line(odd),
            R"({"text": "a \"quoted\" back\\slash\ttab", "label": 1, "verb": "are", )"
            R"("attractors": 0, "subject_index": 0})");
  EXPECT_EQ(nlohmann::json::parse(to_json_line(odd)).at("text").get<std::string>(), odd.text);
}

TEST(Sva, SplitsAreDisjointAndSized) {
  SvaOptions o;
  o.seed = 1;
  o.count = 5000;
  o.unique = false;  // repeats allowed here: split_sva must drop them
  const auto examples = generate_sva(o);
  std::set<std::string> distinct;
  for (const auto& e : examples) distinct.insert(e.text);
  ASSERT_LT(distinct.size(), examples.size()) << "expected some repeated texts without unique";

  const auto splits = parse_sva_splits("train:0.8,valid:0.1,test:0.1");
  const auto parts = split_sva(examples, splits);
  ASSERT_EQ(parts.size(), 3u);
  std::set<std::string> seen;
  std::size_t total = 0;
  for (const auto& part : parts) {
    for (const auto& e : part) EXPECT_TRUE(seen.insert(e.text).second) << "twice: " << e.text;
    total += part.size();
  }
  EXPECT_EQ(total, distinct.size());
  const auto n = static_cast<double>(distinct.size());
  EXPECT_EQ(parts[0].size(), static_cast<std::size_t>(std::llround(n * 0.8)));
  EXPECT_EQ(parts[1].size(), static_cast<std::size_t>(std::llround(n * 0.9)) - parts[0].size());

  // In order: the parts are consecutive runs of the (deduplicated) input.
  const auto whole = split_sva(make(4, 1000), parse_sva_splits("all:1"));
  ASSERT_EQ(whole.size(), 1u);
  EXPECT_EQ(whole[0], make(4, 1000));
  const auto tiny = split_sva(make(4, 3), parse_sva_splits("a:0.5,b:0.5"));
  EXPECT_EQ(tiny[0].size() + tiny[1].size(), 3u);
}

TEST(Sva, WritesTheDataset) {
  const fs::path dir = test::temp_path("write");
  const auto examples = make(2020, 1000);
  const auto files =
      write_sva_dataset(dir.string(), examples, parse_sva_splits("train:0.8,valid:0.1,test:0.1"));
  ASSERT_EQ(files.size(), 4u);
  EXPECT_EQ(files[0].path, (dir / "train.jsonl").string());
  EXPECT_EQ(files[0].lines, 800);
  EXPECT_EQ(files[1].lines, 100);
  EXPECT_EQ(files[2].lines, 100);
  EXPECT_EQ(files[3].path, (dir / "vocab.txt").string());
  EXPECT_EQ(files[3].lines, static_cast<std::int64_t>(5 + sva_vocabulary().size()));
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.insert(entry.path().filename().string());
  }
  EXPECT_EQ(names,
            (std::set<std::string>{"test.jsonl", "train.jsonl", "valid.jsonl", "vocab.txt"}));
  const auto train = read_lines(dir / "train.jsonl");
  ASSERT_EQ(train.size(), 800u);
  EXPECT_EQ(train[0], to_json_line(examples[0]));
  EXPECT_EQ(read_lines(dir / "test.jsonl").back(), to_json_line(examples.back()));
  fs::remove_all(dir);
}

// The options of datasets/sva_hard/ (datasets/README.md gives the command).
SvaOptions hard_options() {
  SvaOptions o;
  o.grammar = SvaGrammar::Hard;
  o.seed = 2020;
  o.count = 24000;
  o.neutral_determiner_percent = 100;
  o.fronted_percent = 40;
  o.max_attractors = 5;
  o.min_words = 10;
  o.max_words = 32;
  o.min_distance = 10;
  return o;
}

TEST(SvaHard, LabelAttractorsDistanceAndNesting) {
  SvaOptions o = hard_options();
  o.count = 3000;
  o.seed = 5;
  const auto examples = generate_sva(o);
  ASSERT_EQ(examples.size(), 3000u);
  double words_sum = 0;
  int nested = 0;
  for (const auto& e : examples) {
    const auto w = words_of(e.text);
    ASSERT_LT(e.subject_index, static_cast<int>(w.size())) << e.text;
    const auto subject = sva_noun_number(w[static_cast<std::size_t>(e.subject_index)]);
    ASSERT_TRUE(subject) << e.text;
    EXPECT_EQ(*subject, e.label) << e.text;  // the label is the subject's number
    ASSERT_EQ(verb_numbers().count(e.verb), 1u) << e.verb;
    EXPECT_EQ(verb_numbers().at(e.verb), e.label) << e.text << " | " << e.verb;
    EXPECT_EQ(count_sva_attractors(e.text, e.subject_index), e.attractors) << e.text;
    int intervening = 0, pronouns = 0;
    for (std::size_t i = static_cast<std::size_t>(e.subject_index) + 1; i < w.size(); ++i) {
      intervening += sva_noun_number(w[i]) ? 1 : 0;
      pronouns += w[i] == "who" || w[i] == "that" || w[i] == "which" ? 1 : 0;
    }
    EXPECT_GE(intervening, 3) << e.text;
    EXPECT_LE(intervening, 5) << e.text;
    EXPECT_GE(static_cast<int>(w.size()) - e.subject_index, 10) << e.text;  // verb 10+ away
    EXPECT_GE(w.size(), 10u);
    EXPECT_LE(w.size(), 32u);
    words_sum += static_cast<double>(w.size());
    nested += pronouns >= 2 ? 1 : 0;
  }
  const double mean_words = words_sum / 3000.0;
  EXPECT_GT(mean_words, 17.0);  // ~20 tokens with [CLS] and [SEP], like Linzen et al.'s
  EXPECT_LT(mean_words, 22.0);
  EXPECT_GT(nested, 3000 / 4) << "sentences with two or more relative clauses";
}

TEST(SvaHard, ReproducesTheCommittedFiles) {
  const fs::path dir = test::temp_path("sva_hard");
  write_sva_dataset(dir.string(), generate_sva(hard_options()),
                    parse_sva_splits("train:0.8,valid:0.1,test:0.0995,demo:0.0005"));
  const fs::path committed = fs::path(ATTNFLOW_SOURCE_DIR) / "datasets" / "sva_hard";
  for (const char* f : {"train.jsonl", "valid.jsonl", "test.jsonl", "demo.jsonl", "vocab.txt"}) {
    const auto made = read_lines(dir / f);
    ASSERT_FALSE(made.empty()) << f;
    EXPECT_TRUE(made == read_lines(committed / f)) << f << " differs from datasets/sva_hard/";
  }
  fs::remove_all(dir);
}

TEST(Sva, ErrorMessages) {
  test::expect_error([] { make(1, 0); }, "sva: count must be at least 1, got 0");
  test::expect_error(
      [] {
        SvaOptions o;
        o.max_attractors = 5;
        generate_sva(o);
      },
      "sva: max_attractors must be in 0..4, got 5");
  test::expect_error(
      [] {
        SvaOptions o = hard_options();
        o.max_attractors = 2;
        generate_sva(o);
      },
      "sva: max_attractors must be in 3..6 for the hard grammar, got 2");
  test::expect_error(
      [] {
        SvaOptions o;
        o.min_distance = -1;
        generate_sva(o);
      },
      "sva: min_distance must be at least 0, got -1");
  test::expect_error([] { parse_sva_grammar("linzen"); },
                     "sva: unknown grammar 'linzen' (simple or hard)");
  test::expect_error(
      [] {
        SvaOptions o;
        o.opposite_percent = 101;
        generate_sva(o);
      },
      "sva: opposite_percent must be in 0..100, got 101");

  test::expect_error(
      [] {
        SvaOptions o;
        o.min_words = 5;
        o.max_words = 4;
        generate_sva(o);
      },
      "sva: word limits must satisfy 1 <= min_words <= max_words, got min_words 5 and "
      "max_words 4");
  test::expect_error(
      [] {
        SvaOptions o;
        o.count = 10;
        o.max_attractors = 0;  // at most 7 words: prefix (3) + DET ADJ NOUN + ADVERB
        o.min_words = 8;
        generate_sva(o);
      },
      "sva: no new sentence of 8..20 words in 1000000 draws after 0 (count 10, max_attractors "
      "0): ask for fewer, or loosen the limits");

  test::expect_error([] { parse_sva_splits(""); },
                     "split spec is empty (expected e.g. train:0.8,valid:0.2)");
  test::expect_error([] { parse_sva_splits("train:0.8,valid"); },
                     "split spec 'train:0.8,valid': 'valid' is not NAME:FRACTION");
  test::expect_error([] { parse_sva_splits("train:0.8,:0.2"); },
                     "split spec 'train:0.8,:0.2': split name '' must be non-empty and use only "
                     "letters, digits, '_' and '-'");
  test::expect_error([] { parse_sva_splits("tr/ain:1"); },
                     "split spec 'tr/ain:1': split name 'tr/ain' must be non-empty and use only "
                     "letters, digits, '_' and '-'");
  test::expect_error([] { parse_sva_splits("a:0.5,a:0.5"); },
                     "split spec 'a:0.5,a:0.5': split 'a' is named twice");
  test::expect_error(
      [] { parse_sva_splits("train:x,valid:0.2"); },
      "split spec 'train:x,valid:0.2': fraction 'x' of split 'train' is not a number");
  test::expect_error(
      [] { parse_sva_splits("train:1.0,valid:0"); },
      "split spec 'train:1.0,valid:0': fraction 0 of split 'valid' is not in (0, 1]");
  test::expect_error([] { parse_sva_splits("train:0.8,valid:0.1"); },
                     "split spec 'train:0.8,valid:0.1': fractions add up to 0.9, not 1");
  EXPECT_EQ(parse_sva_splits(" train : 0.7 , test:0.3 ").size(), 2u);

  // An output path below a regular file: nothing is made.
  const fs::path dir = test::temp_dir("errors");
  test::write_file((dir / "file.txt").string(), "x");
  const auto below_file = (dir / "file.txt" / "out").string();
  test::expect_error([&] { write_sva_dataset(below_file, make(1, 10), parse_sva_splits("all:1")); },
                     below_file + ": cannot create the directory (Not a directory)");
  test::expect_error(
      [&] {
        write_sva_dataset((dir / "file.txt").string(), make(1, 10), parse_sva_splits("all:1"));
      },
      (dir / "file.txt").string() + ": not a directory");

  // A file that cannot be made half way: the files made before it are removed again, and a
  // directory in the way (not ours) is left alone.
  const auto out = dir / "out";
  fs::create_directories(out / "test.jsonl.partial");
  test::expect_error(
      [&] {
        write_sva_dataset(out.string(), make(1, 100),
                          parse_sva_splits("train:0.8,valid:0.1,test:0.1"));
      },
      (out / "test.jsonl.partial").string() + ": cannot write (Is a directory)");
  std::set<std::string> left;
  for (const auto& entry : fs::directory_iterator(out)) {
    left.insert(entry.path().filename().string());
  }
  EXPECT_EQ(left, std::set<std::string>{"test.jsonl.partial"});
  fs::remove_all(dir);
}

}  // namespace
}  // namespace attnflow::datasets
