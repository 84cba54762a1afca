// Tokenizer throughput: tokens per CPU second of Tokenizer::encode on a generated multilingual
// text (English, Russian, French, CJK, emoji words, and one word in four made of random letters
// so that pieces do not all repeat), for each tokenizer directory given. Prints the median
// of the repetitions. The same source builds against an older attnflow::hf (the API is the same),
// which is how the engine was compared with the hand-built WordPiece / BPE tokenizers.
// Usage: attnflow_tokenizer_bench [--reps N] DIR...
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "attnflow/hf/tokenizer.hpp"

namespace {

std::vector<std::string> make_lines() {
  const char* words[] = {
      "the",         "cat",       "sat",      "on",           "mat",
      "transformer", "attention", "flow",     "Unbelievable", "running,",
      "кот",         "сидел",     "на",       "ковре",        "собаку.",
      "café",        "naïve",     "Ångström", "我爱",         "自然语言",
      "🐱",           "2024",      "3.14",     "don't",        "e-mail",
      "(yes)",       "Straße",    "Καλημέρα", "!!!",          "supercalifragilistic"};
  const std::size_t n = sizeof words / sizeof *words;
  std::vector<std::string> lines;
  std::uint32_t state = 7;
  for (int i = 0; i < 4000; ++i) {
    std::string line;
    const int len = 8 + static_cast<int>(state % 24);
    for (int k = 0; k < len; ++k) {
      state = state * 1664525u + 1013904223u;
      if (k) line += ' ';
      if ((state >> 4) % 4 == 0) {  // a random word in one word of four: not all pieces repeat
        const char* letters[] = {"a", "e", "o", "n", "s", "t", "r", "к", "о", "т", "é", "ü"};
        for (int c = 0; c < 3 + static_cast<int>((state >> 12) % 8); ++c) {
          state = state * 1664525u + 1013904223u;
          line += letters[(state >> 8) % 12];
        }
      } else {
        line += words[(state >> 8) % n];
      }
    }
    lines.push_back(line);
  }
  return lines;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 7;
  std::vector<std::string> dirs;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--reps" && i + 1 < argc) {
      reps = std::atoi(argv[++i]);
    } else {
      dirs.push_back(a);
    }
  }
  const std::vector<std::string> lines = make_lines();
  std::size_t bytes = 0;
  for (const std::string& l : lines) bytes += l.size();
  for (const std::string& dir : dirs) {
    const auto t = attnflow::hf::load_tokenizer(dir);
    std::vector<double> rates;
    std::size_t tokens = 0;
    for (int r = 0; r < reps; ++r) {
      tokens = 0;
      const std::clock_t start = std::clock();  // CPU time: steadier on a shared machine
      for (const std::string& l : lines) tokens += t->encode(l).ids.size();
      const double s = static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
      rates.push_back(static_cast<double>(tokens) / s);
    }
    std::sort(rates.begin(), rates.end());
    std::printf(
        "%-50s %9zu tokens  %8.0f tokens per CPU second (median of %d; %zu lines, %zu bytes)\n",
        dir.c_str(), tokens, rates[rates.size() / 2], reps, lines.size(), bytes);
  }
  return 0;
}
