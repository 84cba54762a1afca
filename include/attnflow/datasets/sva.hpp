// attnflow::datasets — a subject–verb agreement (SVA) corpus written by us.
//
// Abnar & Zuidema (2020) train a small transformer (GPT-2 blocks, a [CLS] token prepended) to
// predict whether the upcoming verb is singular or plural from the sentence up to the verb, on
// the data of Linzen et al. (2016). This generator makes data of that kind from a small
// English grammar, deterministically from a seed:
//
//   [prefix] DET [ADJ] NOUN {modifier} [ADVERB] | VERB
//
// prefix   "we think that", "yesterday", ... (before the subject; never counted)
// modifier a prepositional phrase "to the cabinets", a subject relative clause "who write the
//          book" (right after the head noun), or an object relative clause "that the guards
//          like" (last). Each modifier brings one intervening noun; an intervening noun of the
//          other number than the subject head noun is an attractor (Linzen et al.).
//
// The "hard" grammar (SvaGrammar::Hard) is Linzen-like: 3..max_attractors intervening nouns,
// modifiers nested in the modifiers' own nouns (center-embedded object relative clauses "the key
// that the guards who like the dogs admire", chains of prepositional phrases), at least
// min_distance words from the subject head noun to the verb, about 20 words a sentence.
//
// Every draw goes through std::mt19937_64 (whose output the C++ standard fixes) and our own
// bounded draw, never a standard distribution, so the corpus is byte-identical on every
// platform and standard library.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace attnflow::datasets {

/// One example: the sentence up to (not including) the verb.
struct SvaExample {
  std::string text;       ///< lower-case words separated by one space
  int label = 0;          ///< 0 = singular, 1 = plural: the number of the subject head noun
  std::string verb;       ///< the verb form that agrees ("is" / "are", "writes" / "write", ...)
  int attractors = 0;     ///< intervening nouns (after the head noun) of the other number
  int subject_index = 0;  ///< 0-based word index of the subject head noun in `text`

  bool operator==(const SvaExample& o) const {
    return text == o.text && label == o.label && verb == o.verb && attractors == o.attractors &&
           subject_index == o.subject_index;
  }
  bool operator!=(const SvaExample& o) const { return !(*this == o); }
};

/// Which grammar generate_sva draws from.
enum class SvaGrammar {
  Simple,  ///< one level of modifiers, 0..max_attractors intervening nouns (the default)
  Hard     ///< nested modifiers, 3..max_attractors intervening nouns (max_attractors 3..6)
};

struct SvaOptions {
  std::uint64_t seed = 2020;
  SvaGrammar grammar = SvaGrammar::Simple;
  std::int64_t count = 24000;  ///< examples to make (>= 1)
  /// Most intervening nouns (hence attractors) in one sentence: 0..4 (simple), 3..6 (hard).
  int max_attractors = 2;
  /// Share (percent, 0..100) of sentences without any intervening noun; the others have
  /// 1..max_attractors of them, uniformly. The hard grammar ignores it (3..max_attractors).
  int no_intervening_percent = 40;
  /// Chance (percent, 0..100) that an intervening noun has the other number (an attractor).
  int opposite_percent = 60;
  /// Chance (percent) that a noun phrase takes "the" whatever its number, instead of a
  /// determiner that shows the number ("this", "these", "every", "many" ...): at 100 only the
  /// nouns' own forms (and subject relative clauses) tell the number — a harder task.
  int neutral_determiner_percent = 0;
  /// Chance (percent) that the sentence starts with a fronted prepositional phrase whose noun
  /// (of either number) comes before the subject: the subject is then not the first noun.
  int fronted_percent = 0;
  /// Sentences (the text, up to the verb) of fewer or more words are drawn again, with the
  /// same number of intervening nouns. 1 <= min_words <= max_words.
  int min_words = 4;
  int max_words = 20;
  /// Sentences whose verb is fewer than this many words after the subject head noun
  /// (text words - subject_index) are drawn again; 0 = no limit.
  int min_distance = 0;
  /// Draw until `count` distinct texts are made (a text fixes its label, so duplicates only
  /// weigh some sentences twice and could leak between splits). Throws Error when the grammar
  /// cannot give that many.
  bool unique = true;
};

/// `options.count` examples. Throws Error for options out of range.
std::vector<SvaExample> generate_sva(const SvaOptions& options);

/// The nouns of the grammar: (singular, plural), e.g. ("child", "children").
const std::vector<std::pair<std::string, std::string>>& sva_nouns();

/// 0 for a singular noun form of the grammar, 1 for a plural one, nothing for other words.
std::optional<int> sva_noun_number(const std::string& word);

/// Attractors in `text`: nouns of the grammar after word `subject_index` whose number differs
/// from that of the noun at `subject_index`. Throws Error when `subject_index` is out of range
/// or not a noun of the grammar.
int count_sva_attractors(const std::string& text, int subject_index);

/// "simple" or "hard" -> the grammar; Error naming the value otherwise.
SvaGrammar parse_sva_grammar(const std::string& name);

/// Every word the grammar can produce — texts and verbs — sorted, without duplicates.
std::vector<std::string> sva_vocabulary();

/// The special tokens that start vocab.txt, in order: [PAD] [UNK] [CLS] [SEP] [MASK].
const std::vector<std::string>& sva_special_tokens();

/// Writes a BERT WordPiece vocab.txt (one token per line, id = line number - 1): the special
/// tokens, then sva_vocabulary(). Throws Error when the file cannot be written.
void write_sva_vocab(const std::string& path);

/// One JSON object, no line end:
/// {"text": "...", "label": 0, "verb": "is", "attractors": 1, "subject_index": 1}
std::string to_json_line(const SvaExample& example);

/// A named share of the examples, e.g. {"train", 0.8}.
struct SvaSplit {
  std::string name;
  double fraction = 0.0;
};

/// Parses "train:0.8,valid:0.1,test:0.1": names of letters, digits, '_' and '-', each once;
/// fractions in (0, 1] that add up to 1 (within 1e-6). Throws Error with the reason.
std::vector<SvaSplit> parse_sva_splits(const std::string& spec);

/// Splits the examples in order into consecutive parts, one per split, after dropping repeated
/// texts (the first one is kept), so no sentence is in two parts. Part i ends at
/// round(n * (fraction_0 + ... + fraction_i)); the last part ends at n.
std::vector<std::vector<SvaExample>> split_sva(const std::vector<SvaExample>& examples,
                                               const std::vector<SvaSplit>& splits);

/// One file written by write_sva_dataset.
struct SvaWrittenFile {
  std::string path;
  std::int64_t lines = 0;
};

/// Writes DIR/<split>.jsonl (to_json_line, one example a line, parts of split_sva) for every
/// split, and DIR/vocab.txt (write_sva_vocab). DIR is made when missing. Every file is written
/// as <file>.partial first and renamed only when all of them are complete; on an error the
/// .partial files are removed and Error names the path and the reason.
std::vector<SvaWrittenFile> write_sva_dataset(const std::string& dir,
                                              const std::vector<SvaExample>& examples,
                                              const std::vector<SvaSplit>& splits);

}  // namespace attnflow::datasets
