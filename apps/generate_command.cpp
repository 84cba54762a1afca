// `attnflow generate sva`: a seeded subject–verb agreement corpus, split into JSON Lines files
// plus a WordPiece vocab.txt (attnflow::datasets, include/attnflow/datasets/sva.hpp).
#include "generate_command.hpp"

#include <array>
#include <iostream>
#include <memory>
#include <string>

#include "attnflow/core/error.hpp"
#include "attnflow/datasets/sva.hpp"

namespace attnflow::app {
namespace {

struct SvaArgs {
  std::string output;
  long long count = 24000;
  std::uint64_t seed = 2020;
  std::string split = "train:0.8,valid:0.1,test:0.1";
  int max_attractors = 2;
  int min_words = 4;
  int max_words = 20;
  int neutral_determiners = 0;
  int fronted = 0;
  std::string grammar = "simple";
  int min_distance = 0;
  bool quiet = false;
};

void run_sva(const SvaArgs& a) {
  // Everything is checked before a file is made.
  if (a.count < 1) throw Error("--count must be at least 1, got " + std::to_string(a.count));
  const datasets::SvaGrammar grammar = datasets::parse_sva_grammar(a.grammar);
  const bool hard = grammar == datasets::SvaGrammar::Hard;
  if (hard ? (a.max_attractors < 3 || a.max_attractors > 6)
           : (a.max_attractors < 0 || a.max_attractors > 4)) {
    throw Error(std::string("--max-attractors must be in ") +
                (hard ? "3..6 with --grammar hard" : "0..4") + ", got " +
                std::to_string(a.max_attractors));
  }
  if (a.min_distance < 0) {
    throw Error("--min-distance must be at least 0, got " + std::to_string(a.min_distance));
  }
  if (a.min_words < 1 || a.max_words < a.min_words) {
    throw Error("--min-words and --max-words must satisfy 1 <= min <= max, got " +
                std::to_string(a.min_words) + " and " + std::to_string(a.max_words));
  }
  if (a.output.empty()) throw Error("-o/--output: empty directory name");
  const auto splits = datasets::parse_sva_splits(a.split);

  datasets::SvaOptions o;
  o.seed = a.seed;
  o.count = a.count;
  o.max_attractors = a.max_attractors;
  o.min_words = a.min_words;
  o.max_words = a.max_words;
  o.neutral_determiner_percent = a.neutral_determiners;
  o.fronted_percent = a.fronted;
  o.grammar = grammar;
  o.min_distance = a.min_distance;
  const auto examples = datasets::generate_sva(o);
  const auto files = datasets::write_sva_dataset(a.output, examples, splits);
  if (a.quiet) return;

  std::array<long long, 7> by_attractors{};
  long long plural = 0;
  for (const auto& e : examples) {
    plural += e.label;
    ++by_attractors[static_cast<std::size_t>(e.attractors)];
  }
  std::cout << "sva: " << examples.size() << " sentences (seed " << a.seed << "), " << plural
            << " plural; attractors:";
  for (int k = 0; k <= a.max_attractors; ++k) {
    std::cout << " " << k << "=" << by_attractors[static_cast<std::size_t>(k)];
  }
  std::cout << "\n";
  for (std::size_t i = 0; i < files.size(); ++i) {
    std::cout << "wrote " << files[i].path << " (" << files[i].lines
              << (i + 1 < files.size() ? " examples" : " tokens") << ")\n";
  }
}

}  // namespace

void add_generate_command(CLI::App& app) {
  CLI::App* generate =
      app.add_subcommand("generate", "Make a corpus with attnflow's own generators");
  generate->require_subcommand(1);

  auto args = std::make_shared<SvaArgs>();
  CLI::App* sva = generate->add_subcommand(
      "sva",
      "Subject-verb agreement: sentences up to the verb, labelled singular (0) or plural (1) "
      "by the subject head noun, with attractor counts (datasets/README.md)");
  sva->add_option("-o,--output", args->output,
                  "Directory for <split>.jsonl and vocab.txt (made when missing)")
      ->required();
  sva->add_option("-n,--count", args->count, "Number of distinct sentences")->capture_default_str();
  sva->add_option("-s,--seed", args->seed, "Seed: the same seed gives the same files everywhere")
      ->capture_default_str();
  sva->add_option("--split", args->split,
                  "Splits NAME:FRACTION,... (fractions add up to 1), written in this order")
      ->capture_default_str();
  sva->add_option("--max-attractors", args->max_attractors,
                  "Most intervening nouns in a sentence (0..4; 3..6 with --grammar hard)")
      ->capture_default_str();
  sva->add_option("--min-words", args->min_words, "Fewest words before the verb")
      ->capture_default_str();
  sva->add_option("--max-words", args->max_words, "Most words before the verb")
      ->capture_default_str();
  sva->add_option("--neutral-determiners", args->neutral_determiners,
                  "Percent of noun phrases that take \"the\" whatever their number (100: only "
                  "the noun forms tell the number)")
      ->capture_default_str();
  sva->add_option("--fronted", args->fronted,
                  "Percent of sentences that start with a prepositional phrase whose noun comes "
                  "before the subject")
      ->capture_default_str();
  sva->add_option("--grammar", args->grammar,
                  "simple, or hard: 3..max-attractors intervening nouns in nested relative "
                  "clauses and prepositional phrases (datasets/README.md, sva_hard/)")
      ->capture_default_str();
  sva->add_option("--min-distance", args->min_distance,
                  "Fewest words from the subject head noun to the verb (0 = any)")
      ->capture_default_str();
  sva->add_flag("-q,--quiet", args->quiet, "Print nothing but errors");
  sva->callback([args] { run_sva(*args); });
}

}  // namespace attnflow::app
