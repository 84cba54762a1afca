// Text corpora for `attnflow extract`: the three formats, line ends, and one exact message
// naming file:line for every kind of bad input.
#include "attnflow/io/corpus_reader.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <limits>

#include "../core/test_util.hpp"

namespace attnflow::io {
namespace {

Corpus parse(const std::string& content, const std::string& path,
             const CorpusReadOptions& options = {}) {
  return parse_corpus(content, path, options);
}

void expect_parse_error(const std::string& content, const std::string& path,
                        const std::string& message, const CorpusReadOptions& options = {}) {
  test::expect_error([&] { parse_corpus(content, path, options); }, message);
}

std::vector<std::string> texts(const Corpus& c) {
  std::vector<std::string> out;
  for (const auto& e : c.examples) out.push_back(e.text);
  return out;
}

std::vector<std::int64_t> lines(const Corpus& c) {
  std::vector<std::int64_t> out;
  for (const auto& e : c.examples) out.push_back(e.line);
  return out;
}

// ---- formats and file names ------------------------------------------------------------------

TEST(CorpusReader, FormatNames) {
  EXPECT_EQ(parse_corpus_format("auto"), CorpusFormat::Auto);
  EXPECT_EQ(parse_corpus_format("text"), CorpusFormat::Text);
  EXPECT_EQ(parse_corpus_format("jsonl"), CorpusFormat::Jsonl);
  EXPECT_EQ(parse_corpus_format("tsv"), CorpusFormat::Tsv);
  for (auto f : {CorpusFormat::Auto, CorpusFormat::Text, CorpusFormat::Jsonl, CorpusFormat::Tsv})
    EXPECT_EQ(parse_corpus_format(to_string(f)), f);
  test::expect_error([] { parse_corpus_format("csv"); },
                     "corpus format: unknown 'csv' (expected auto, text, jsonl or tsv)");
}

TEST(CorpusReader, FormatFromExtension) {
  EXPECT_EQ(corpus_format_of("a/b.txt"), CorpusFormat::Text);
  EXPECT_EQ(corpus_format_of("B.TEXT"), CorpusFormat::Text);
  EXPECT_EQ(corpus_format_of("x.jsonl"), CorpusFormat::Jsonl);
  EXPECT_EQ(corpus_format_of("x.NDJSON"), CorpusFormat::Jsonl);
  EXPECT_EQ(corpus_format_of("dev.tsv"), CorpusFormat::Tsv);
  test::expect_error([] { corpus_format_of("data/dev.csv"); },
                     "data/dev.csv: cannot tell the corpus format from the extension '.csv' "
                     "(.txt = text, .jsonl = JSON Lines, .tsv = TSV; or give it: --format "
                     "text|jsonl|tsv)");
  test::expect_error([] { corpus_format_of("data.d/corpus"); },
                     "data.d/corpus: cannot tell the corpus format from a name without "
                     "extension (.txt = text, .jsonl = JSON Lines, .tsv = TSV; or give it: "
                     "--format text|jsonl|tsv)");
  // An explicit format ignores the name.
  CorpusReadOptions o;
  o.format = CorpusFormat::Text;
  EXPECT_EQ(parse("one\n", "corpus.csv", o).examples.size(), 1u);
}

// ---- plain text ------------------------------------------------------------------------------

TEST(CorpusReader, TextOneExamplePerLine) {
  const Corpus c = parse("the cat sat\nПривет, мир!\n  leading space kept\n", "c.txt");
  EXPECT_EQ(c.format, CorpusFormat::Text);
  EXPECT_EQ(c.lines, 3);
  EXPECT_EQ(c.skipped, 0);
  EXPECT_FALSE(c.header);
  EXPECT_EQ(texts(c),
            (std::vector<std::string>{"the cat sat", "Привет, мир!", "  leading space kept"}));
  EXPECT_EQ(lines(c), (std::vector<std::int64_t>{1, 2, 3}));
  for (const auto& e : c.examples) {
    EXPECT_FALSE(e.label);
    EXPECT_FALSE(e.text_pair);
  }
}

TEST(CorpusReader, LineEnds) {
  // CRLF, a last line without a line end, a UTF-8 byte order mark.
  EXPECT_EQ(texts(parse("a b\r\nc d\r\n", "c.txt")), (std::vector<std::string>{"a b", "c d"}));
  EXPECT_EQ(texts(parse("a\nb", "c.txt")), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(texts(parse("a\r\nb\r", "c.txt")), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(texts(parse("\xef\xbb\xbfhello\n", "c.txt")), (std::vector<std::string>{"hello"}));
  EXPECT_EQ(texts(parse("tab\tinside\n", "c.txt")), (std::vector<std::string>{"tab\tinside"}));
  expect_parse_error("old\rmac\rline ends\n", "c.txt",
                     "c.txt:1: carriage return (\\r) at offset 3 inside the line (lines end "
                     "with \\n or \\r\\n)");
}

TEST(CorpusReader, InvalidUtf8NamesLineAndOffset) {
  expect_parse_error("fine\nbad \xff byte\n", "c.txt",
                     "c.txt:2: line is not valid UTF-8 (byte 0xff at offset 4)");
  expect_parse_error("ok\nok\ncut \xd0\n", "c.txt",
                     "c.txt:3: line is not valid UTF-8 (sequence truncated at offset 4)");
  expect_parse_error("latin-1 caf\xe9\n", "c.txt",
                     "c.txt:1: line is not valid UTF-8 (sequence truncated at offset 11)");
  expect_parse_error("caf\xe9 au lait\n", "c.txt",
                     "c.txt:1: line is not valid UTF-8 (byte 0x20 at offset 4)");
  // Also in JSON Lines and TSV, before any parsing.
  expect_parse_error("{\"text\": \"a\xc3\x28\"}\n", "c.jsonl",
                     "c.jsonl:1: line is not valid UTF-8 (byte 0x28 at offset 12)");
  expect_parse_error("x\t1\n\xfe\t0\n", "c.tsv",
                     "c.tsv:2: line is not valid UTF-8 (byte 0xfe at offset 0)");
}

TEST(CorpusReader, NulBytes) {
  expect_parse_error(std::string("a\nb\0c\n", 6), "c.txt",
                     "c.txt:2: line contains a NUL byte at offset 1");
  // A \u0000 escape in JSON decodes to a NUL byte.
  expect_parse_error("{\"text\": \"a\\u0000b\"}\n", "c.jsonl",
                     "c.jsonl:1: \"text\" contains a NUL byte at offset 1");
}

TEST(CorpusReader, EmptyLinesAreErrorsUnlessSkipped) {
  expect_parse_error("a\n\nb\n", "c.txt",
                     "c.txt:2: empty line (every line is one example; empty lines are skipped "
                     "only on request (--skip-empty))");
  expect_parse_error("a\r\n\r\nb\r\n", "c.txt",
                     "c.txt:2: empty line (every line is one example; empty lines are skipped "
                     "only on request (--skip-empty))");
  expect_parse_error("a\n \t \n", "c.txt",
                     "c.txt:2: line holds only whitespace (every line is one example; empty "
                     "lines are skipped only on request (--skip-empty))");
  expect_parse_error("a\n\n", "c.txt",
                     "c.txt:2: empty line (every line is one example; empty lines are skipped "
                     "only on request (--skip-empty))");
  expect_parse_error("{\"text\": \"a\"}\n\n", "c.jsonl",
                     "c.jsonl:2: empty line (every line is one example; empty lines are "
                     "skipped only on request (--skip-empty))");
  CorpusReadOptions skip;
  skip.skip_empty = true;
  const Corpus c = parse("\na\n  \nb\n\n", "c.txt", skip);
  EXPECT_EQ(texts(c), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(lines(c), (std::vector<std::int64_t>{2, 4}));
  EXPECT_EQ(c.lines, 5);
  EXPECT_EQ(c.skipped, 3);
}

TEST(CorpusReader, EmptyCorpus) {
  expect_parse_error("", "c.txt", "c.txt: no examples (the file is empty)");
  expect_parse_error("\xef\xbb\xbf", "c.txt", "c.txt: no examples (the file is empty)");
  expect_parse_error("", "c.jsonl", "c.jsonl: no examples (the file is empty)");
  CorpusReadOptions skip;
  skip.skip_empty = true;
  expect_parse_error("\n\n \n", "c.txt", "c.txt: no examples (all 3 lines are empty)", skip);
  expect_parse_error("\n", "c.txt", "c.txt: no examples (all 1 line is empty)", skip);
  expect_parse_error("text\tlabel\n", "c.tsv", "c.tsv: no examples (only the header row)");
  expect_parse_error("text\tlabel\n\n", "c.tsv",
                     "c.tsv: no examples (only the header row and empty lines)", skip);
}

// ---- JSON Lines ------------------------------------------------------------------------------

TEST(CorpusReader, JsonlExamples) {
  const std::string content =
      "{\"text\": \"a good film\", \"label\": 1}\n"
      "{\"label\": 0, \"text\": \"Плохой фильм\", \"idx\": 7}\n"
      "{\"text\": \"A man sleeps.\", \"text_pair\": \"A person rests.\", \"label\": 2}\n"
      "{\"text\": \"no label\"}\n"
      "{\"text\": \"null label\", \"label\": null, \"text_pair\": null}\n"
      "  {\"text\": \"escapes \\\"q\\\" \\u00e9 \\ud83d\\ude00\\nnext\"}  \r\n"
      "{\"text\": \"big\", \"label\": -9223372036854775808}\n";
  const Corpus c = parse(content, "c.jsonl");
  EXPECT_EQ(c.format, CorpusFormat::Jsonl);
  ASSERT_EQ(c.examples.size(), 7u);
  EXPECT_EQ(c.examples[0].text, "a good film");
  EXPECT_EQ(c.examples[0].label, 1);
  EXPECT_EQ(c.examples[1].text, "Плохой фильм");
  EXPECT_EQ(c.examples[1].label, 0);
  EXPECT_EQ(c.examples[2].text_pair, std::string("A person rests."));
  EXPECT_EQ(c.examples[2].label, 2);
  EXPECT_FALSE(c.examples[3].label);
  EXPECT_FALSE(c.examples[4].label);
  EXPECT_FALSE(c.examples[4].text_pair);
  EXPECT_EQ(c.examples[5].text, "escapes \"q\" é 😀\nnext");
  EXPECT_EQ(c.examples[6].label, std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(lines(c), (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6, 7}));
}

TEST(CorpusReader, JsonlDecoderText) {
  const Corpus c = parse(
      "{\"text\": \"translate: the house\", \"decoder_text\": \"das Haus\"}\n"
      "{\"text\": \"no decoder\", \"decoder_text\": null}\n",
      "c.jsonl");
  EXPECT_EQ(c.examples[0].decoder_text, std::string("das Haus"));
  EXPECT_FALSE(c.examples[0].text_pair);
  EXPECT_FALSE(c.examples[1].decoder_text);
  expect_parse_error("{\"text\": \"a\", \"decoder_text\": 3}\n", "c.jsonl",
                     "c.jsonl:1: \"decoder_text\" must be a string, not a number");
}

TEST(CorpusReader, JsonlStringLabels) {
  // Integer strings always; names only with a name -> id map (a model's id2label).
  const std::string content =
      "{\"text\": \"a\", \"label\": \"1\"}\n"
      "{\"text\": \"b\", \"label\": \"positive\"}\n";
  expect_parse_error(content, "c.jsonl",
                     "c.jsonl:2: label 'positive' is not an integer class id (no label names "
                     "are known: the model's config.json has no id2label)");
  CorpusReadOptions o;
  o.label_ids = {{"negative", 0}, {"positive", 1}};
  const Corpus c = parse(content, "c.jsonl", o);
  EXPECT_EQ(c.examples[0].label, 1);
  EXPECT_EQ(c.examples[1].label, 1);
  expect_parse_error("{\"text\": \"a\", \"label\": \"Positive\"}\n", "c.jsonl",
                     "c.jsonl:1: label 'Positive' is neither an integer class id nor a label "
                     "name (negative, positive)",
                     o);
  expect_parse_error("{\"text\": \"a\", \"label\": \"\"}\n", "c.jsonl",
                     "c.jsonl:1: \"label\" is an empty string", o);
}

TEST(CorpusReader, JsonlErrors) {
  const auto err = [](const std::string& line, const std::string& message) {
    expect_parse_error("{\"text\": \"fine\"}\n" + line + "\n", "data/c.jsonl",
                       "data/c.jsonl:2: " + message);
  };
  err("{\"text\": \"a\"",
      "invalid JSON (parse error at column 13: syntax error while parsing object - unexpected "
      "end of input; expected '}')");
  err("{'text': 'a'}",
      "invalid JSON (parse error at column 2: syntax error while parsing object key - invalid "
      "literal; last read: '{''; expected string literal)");
  err("{\"text\": \"a\"} {\"text\": \"b\"}",
      "invalid JSON (parse error at column 15: syntax error while parsing value - unexpected "
      "'{'; expected end of input)");
  err("just text",
      "invalid JSON (parse error at column 1: syntax error while parsing value - "
      "invalid literal; last read: 'j')");
  err("[\"text\", \"a\"]", "expected a JSON object, got an array");
  err("\"a\"", "expected a JSON object, got a string");
  err("{\"sentence\": \"a\", \"label\": 1}",
      "no \"text\" in the object (its keys: 'label', 'sentence')");
  err("{}", "no \"text\" in the object (it is empty)");
  err("{\"text\": 5}", "\"text\" must be a string, not a number");
  err("{\"text\": null}", "\"text\" must be a string, not null");
  err("{\"text\": [\"a\", \"b\"]}", "\"text\" must be a string, not an array");
  err("{\"text\": \"\"}", "\"text\" is empty");
  err("{\"text\": \"  \\t\"}", "\"text\" holds only whitespace");
  err("{\"text\": \"a\", \"text_pair\": 3}", "\"text_pair\" must be a string, not a number");
  err("{\"text\": \"a\", \"text_pair\": \"\"}", "\"text_pair\" is empty");
  err("{\"text\": \"a\", \"label\": 1.5}",
      "\"label\" must be an integer class id or a label name, not a number with a fraction or "
      "exponent (1.5)");
  err("{\"text\": \"a\", \"label\": 1.0}",
      "\"label\" must be an integer class id or a label name, not a number with a fraction or "
      "exponent (1.0)");
  err("{\"text\": \"a\", \"label\": true}",
      "\"label\" must be an integer class id or a label name, not a boolean (true)");
  err("{\"text\": \"a\", \"label\": [1]}",
      "\"label\" must be an integer class id or a label name, not an array ([1])");
  err("{\"text\": \"a\", \"label\": 9223372036854775808}",
      "\"label\" 9223372036854775808 is out of range");
  err("{\"text\": \"a\", \"label\": \"99999999999999999999\"}",
      "label 99999999999999999999 is out of range");
  err("{\"text\": \"\\ud800\"}",
      "invalid JSON (parse error at column 17: syntax error while parsing value - invalid "
      "string: surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF; last read: "
      "'\"\\ud800\"')");
}

// ---- TSV -------------------------------------------------------------------------------------

TEST(CorpusReader, TsvWithoutHeader) {
  Corpus c = parse("just text\nПривет мир\n", "c.tsv");
  EXPECT_EQ(c.format, CorpusFormat::Tsv);
  EXPECT_FALSE(c.header);
  EXPECT_EQ(texts(c), (std::vector<std::string>{"just text", "Привет мир"}));
  EXPECT_FALSE(c.examples[0].label);

  c = parse("a good film\t1\nbad \"quoted\" film\t 0 \n", "c.tsv");
  EXPECT_EQ(texts(c), (std::vector<std::string>{"a good film", "bad \"quoted\" film"}));
  EXPECT_EQ(c.examples[0].label, 1);
  EXPECT_EQ(c.examples[1].label, 0);  // spaces around a label are ignored

  c = parse("A man sleeps.\tA person rests.\t0\n", "c.tsv");
  EXPECT_EQ(c.examples[0].text, "A man sleeps.");
  EXPECT_EQ(c.examples[0].text_pair, std::string("A person rests."));
  EXPECT_EQ(c.examples[0].label, 0);
}

TEST(CorpusReader, TsvWithHeader) {
  Corpus c = parse("text\tlabel\r\nfilm\t1\r\n", "c.tsv");
  EXPECT_TRUE(c.header);
  EXPECT_EQ(c.lines, 2);
  ASSERT_EQ(c.examples.size(), 1u);
  EXPECT_EQ(c.examples[0].text, "film");
  EXPECT_EQ(c.examples[0].line, 2);
  EXPECT_EQ(c.examples[0].label, 1);

  // Any order; text_pair and label optional.
  c = parse("label\ttext_pair\ttext\n2\tB\tA\n", "c.tsv");
  EXPECT_EQ(c.examples[0].text, "A");
  EXPECT_EQ(c.examples[0].text_pair, std::string("B"));
  EXPECT_EQ(c.examples[0].label, 2);
  c = parse("text\none\ntwo\n", "c.tsv");
  EXPECT_EQ(texts(c), (std::vector<std::string>{"one", "two"}));

  // Label names with a name -> id map.
  CorpusReadOptions o;
  o.label_ids = {{"entailment", 0}, {"neutral", 1}, {"contradiction", 2}};
  c = parse("text\ttext_pair\tlabel\nA\tB\tcontradiction\nC\tD\t1\n", "c.tsv", o);
  EXPECT_EQ(c.examples[0].label, 2);
  EXPECT_EQ(c.examples[1].label, 1);
}

TEST(CorpusReader, TsvErrors) {
  expect_parse_error("a\t1\nb\t0\tc\n", "c.tsv",
                     "c.tsv:2: 3 tab-separated columns, but the corpus has 2 (text<TAB>label, "
                     "from line 1)");
  expect_parse_error("text\ttext_pair\tlabel\na\tb\t1\nno tabs\n", "c.tsv",
                     "c.tsv:3: 1 column, but the corpus has 3 (text<TAB>text_pair<TAB>label, "
                     "from the header row)");
  expect_parse_error("a\tb\tc\td\n", "c.tsv",
                     "c.tsv:1: 4 tab-separated columns; without a header row a line is text, "
                     "text<TAB>label or text<TAB>text_pair<TAB>label");
  expect_parse_error("id\ttext\tlabel\n", "c.tsv",
                     "c.tsv:1: header column 'id' is not one of text, text_pair, label (the "
                     "first line names the columns because one of them is 'text')");
  expect_parse_error("text\ttext\n", "c.tsv", "c.tsv:1: header names column 'text' twice");
  expect_parse_error("sentence\tlabel\nfilm\t1\n", "c.tsv",
                     "c.tsv:1: label 'label' is not an integer class id (no label names are "
                     "known: the model's config.json has no id2label) (a header row must name "
                     "its columns: text, text_pair, label)");
  expect_parse_error("film\t1\nfilm\tgood\n", "c.tsv",
                     "c.tsv:2: label 'good' is not an integer class id (no label names are "
                     "known: the model's config.json has no id2label)");
  expect_parse_error("film\t1\nfilm\t1.0\n", "c.tsv",
                     "c.tsv:2: label '1.0' is not an integer class id (no label names are "
                     "known: the model's config.json has no id2label)");
  expect_parse_error("film\t1\n\t1\n", "c.tsv", "c.tsv:2: empty text (column 1)");
  expect_parse_error("film\t1\n  \t1\n", "c.tsv", "c.tsv:2: whitespace-only text (column 1)");
  expect_parse_error("film\t1\nfilm\t\n", "c.tsv", "c.tsv:2: empty label (column 2)");
  expect_parse_error("a\tb\t1\na\t\t1\n", "c.tsv", "c.tsv:2: empty text_pair (column 2)");
  expect_parse_error("film\t1\nfilm\t99999999999999999999\n", "c.tsv",
                     "c.tsv:2: label 99999999999999999999 is out of range");
  expect_parse_error("film\t1\n\t\n", "c.tsv",
                     "c.tsv:2: line holds only whitespace (every line is one example; empty "
                     "lines are skipped only on request (--skip-empty))");
}

// ---- files -----------------------------------------------------------------------------------

class CorpusFile : public ::testing::Test {
 protected:
  std::string path(const std::string& name) {
    const std::string p =
        ::testing::TempDir() + "attnflow_corpus_" + std::to_string(::getpid()) + "_" + name;
    made_.push_back(p);
    return p;
  }
  std::string write(const std::string& name, const std::string& content) {
    const std::string p = path(name);
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  void TearDown() override {
    for (const auto& p : made_) std::remove(p.c_str());
  }
  std::vector<std::string> made_;
};

TEST_F(CorpusFile, ReadsFiles) {
  const std::string p = write("c.jsonl", "{\"text\": \"Съешь же ещё этих мягких булок\"}");
  const Corpus c = read_corpus(p);
  EXPECT_EQ(c.path, p);
  ASSERT_EQ(c.examples.size(), 1u);
  EXPECT_EQ(c.examples[0].text, "Съешь же ещё этих мягких булок");
}

TEST_F(CorpusFile, FileErrors) {
  const std::string missing = path("missing.txt");
  test::expect_error([&] { read_corpus(missing); },
                     missing + ": cannot open (No such file or directory)");
  const std::string dir =
      ::testing::TempDir() + "attnflow_corpus_" + std::to_string(::getpid()) + "_dir.txt";
  ::mkdir(dir.c_str(), 0755);
  test::expect_error([&] { read_corpus(dir); }, dir + ": is a directory, not a corpus file");
  ::rmdir(dir.c_str());
  // The extension is checked before the file is read.
  test::expect_error([&] { read_corpus(path("missing.csv")); },
                     path("missing.csv") +
                         ": cannot tell the corpus format from the extension '.csv' (.txt = "
                         "text, .jsonl = JSON Lines, .tsv = TSV; or give it: --format "
                         "text|jsonl|tsv)");
  const std::string bad = write("bad.txt", "ok\nok\n\xc3\n");
  test::expect_error([&] { read_corpus(bad); },
                     bad + ":3: line is not valid UTF-8 (sequence truncated at offset 0)");
}

}  // namespace
}  // namespace attnflow::io
