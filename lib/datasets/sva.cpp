// The subject–verb agreement corpus generator (include/attnflow/datasets/sva.hpp).
#include "attnflow/datasets/sva.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <unordered_set>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/atomic_file.hpp"

namespace attnflow::datasets {
namespace {

using Pair = std::pair<std::string, std::string>;  // (singular, plural)

// ---- the lexicon ------------------------------------------------------------------------
// No word is in two lists, and no noun form is also another word of the grammar, so a word
// tells its category (count_sva_attractors relies on it).

// Nouns that can be the subject of a transitive verb (subject relative clauses, the subject of
// an object relative clause, verbs like "writes").
const std::vector<Pair> kAnimate = {
    {"author", "authors"},   {"teacher", "teachers"}, {"student", "students"},
    {"doctor", "doctors"},   {"lawyer", "lawyers"},   {"farmer", "farmers"},
    {"pilot", "pilots"},     {"guard", "guards"},     {"senator", "senators"},
    {"manager", "managers"}, {"painter", "painters"}, {"dancer", "dancers"},
    {"singer", "singers"},   {"officer", "officers"}, {"boy", "boys"},
    {"girl", "girls"},       {"child", "children"},   {"man", "men"},
    {"woman", "women"},      {"person", "people"},    {"dog", "dogs"},
    {"horse", "horses"},     {"wolf", "wolves"},      {"goose", "geese"}};

const std::vector<Pair> kInanimate = {
    {"key", "keys"},      {"book", "books"},   {"letter", "letters"},  {"picture", "pictures"},
    {"car", "cars"},      {"house", "houses"}, {"table", "tables"},    {"cabinet", "cabinets"},
    {"box", "boxes"},     {"bus", "buses"},    {"church", "churches"}, {"city", "cities"},
    {"story", "stories"}, {"knife", "knives"}, {"door", "doors"},      {"window", "windows"}};

struct Weighted {
  std::string word;
  int weight;
};

// Determiners by number; "a" becomes "an" before a vowel letter (no noun or adjective of the
// grammar starts with a silent consonant or a consonant-sounding vowel).
const std::vector<Weighted> kSingularDeterminers = {
    {"the", 10}, {"a", 5}, {"every", 2}, {"this", 3}};
const std::vector<Weighted> kPluralDeterminers = {{"the", 10},  {"some", 3}, {"many", 2},
                                                  {"these", 2}, {"all", 2},  {"several", 1}};

const std::vector<std::string> kAdjectives = {"old",    "new",   "small",   "large",
                                              "famous", "quiet", "strange", "little",
                                              "big",    "local", "unusual", "ancient"};

const std::vector<std::string> kAdverbs = {"certainly", "probably",  "clearly", "really",
                                           "still",     "also",      "usually", "often",
                                           "never",     "apparently"};

const std::vector<std::string> kPrepositions = {"of",    "near",  "behind",  "beside",
                                                "with",  "from",  "for",     "to",
                                                "above", "under", "without", "around"};

// Verbs of relative clauses (transitive): (3rd person singular, plural).
const std::vector<Pair> kClauseVerbs = {
    {"likes", "like"},         {"sees", "see"},       {"knows", "know"}, {"admires", "admire"},
    {"remembers", "remember"}, {"follows", "follow"}, {"hates", "hate"}};

// The verb to predict: any subject, and animate subjects only.
const std::vector<Pair> kMainVerbs = {
    {"is", "are"},         {"was", "were"},       {"has", "have"},  {"seems", "seem"},
    {"remains", "remain"}, {"appears", "appear"}, {"looks", "look"}};
const std::vector<Pair> kAnimateMainVerbs = {{"writes", "write"}, {"knows", "know"},
                                             {"likes", "like"},   {"sees", "see"},
                                             {"wants", "want"},   {"thinks", "think"}};

// Openings before the subject (their words are never intervening nouns).
const std::vector<std::string> kPrefixes = {
    "we think that",       "i know that",   "she says that",  "they believe that",
    "everyone knows that", "it seems that", "he said that",   "we heard that",
    "yesterday",           "today",         "in the morning", "at night",
    "of course",           "in fact"};

// Chances (percent) of the optional parts.
constexpr int kPrefixPercent = 30;
constexpr int kHeadAdjectivePercent = 35;
constexpr int kOtherAdjectivePercent = 20;
constexpr int kAdverbPercent = 25;

const std::vector<std::string> kSpecialTokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};

// ---- deterministic draws ----------------------------------------------------------------

class Draw {
 public:
  explicit Draw(std::uint64_t seed) : rng_(seed) {}

  /// Uniform in [0, n) by rejection: the first 2^64 mod n values are redrawn, so the rest is a
  /// whole number of copies of [0, n). Only the engine's output is used, which the standard
  /// fixes, so this gives the same numbers everywhere.
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t threshold = (std::uint64_t{0} - n) % n;
    for (;;) {
      const std::uint64_t x = rng_();
      if (x >= threshold) return x % n;
    }
  }
  std::size_t index(std::size_t n) { return static_cast<std::size_t>(below(n)); }
  bool percent(int p) { return below(100) < static_cast<std::uint64_t>(p); }

  const std::string& weighted(const std::vector<Weighted>& items) {
    int total = 0;
    for (const auto& w : items) total += w.weight;
    auto x = static_cast<int>(below(static_cast<std::uint64_t>(total)));
    for (const auto& w : items) {
      if (x < w.weight) return w.word;
      x -= w.weight;
    }
    return items.back().word;
  }

 private:
  std::mt19937_64 rng_;
};

bool starts_with_vowel(const std::string& w) {
  return !w.empty() && std::strchr("aeiou", w[0]) != nullptr;
}

const std::string& form(const Pair& p, int number) {
  return number == 0 ? p.first : p.second;
}

// A sentence under construction.
class Builder {
 public:
  void add(const std::string& words) {
    std::size_t start = 0;
    while (start <= words.size()) {
      const std::size_t end = std::min(words.find(' ', start), words.size());
      words_.push_back(words.substr(start, end - start));
      start = end + 1;
    }
  }
  int size() const { return static_cast<int>(words_.size()); }
  std::string text() const {
    std::string t;
    for (const auto& w : words_) {
      if (!t.empty()) t += ' ';
      t += w;
    }
    return t;
  }

 private:
  std::vector<std::string> words_;
};

// DET [ADJ] NOUN with the given number; the noun is drawn from `pool`. Returns the noun's
// word index.
int noun_phrase(Draw& d, Builder& b, int number, const std::vector<const Pair*>& pool,
                int adjective_percent, int neutral_percent) {
  // No draw at 0%, so that corpora made without the option stay byte-identical.
  std::string det = neutral_percent > 0 && d.percent(neutral_percent)
                        ? "the"
                        : d.weighted(number == 0 ? kSingularDeterminers : kPluralDeterminers);
  const bool adjective = d.percent(adjective_percent);
  const std::string adj = adjective ? kAdjectives[d.index(kAdjectives.size())] : "";
  const std::string& noun = form(*pool[d.index(pool.size())], number);
  if (det == "a" && starts_with_vowel(adjective ? adj : noun)) det = "an";
  b.add(det);
  if (adjective) b.add(adj);
  const int at = b.size();
  b.add(noun);
  return at;
}

std::vector<const Pair*> pool_of(std::initializer_list<const std::vector<Pair>*> lists) {
  std::vector<const Pair*> pool;
  for (const auto* l : lists)
    for (const auto& p : *l) pool.push_back(&p);
  return pool;
}

const std::vector<const Pair*>& animate_nouns() {
  static const std::vector<const Pair*> pool = pool_of({&kAnimate});
  return pool;
}
const std::vector<const Pair*>& inanimate_nouns() {
  static const std::vector<const Pair*> pool = pool_of({&kInanimate});
  return pool;
}

// The optional opening before the subject: a prefix ("we think that"), then a fronted
// prepositional phrase ("near the houses the key ..."): a noun of either number before the
// subject, so the subject is not simply the first noun. Not an attractor (it does not
// intervene). No draw at 0%, so corpora made without the option stay byte-identical.
void opening(Draw& d, const SvaOptions& o, Builder& b) {
  static const std::vector<const Pair*> all_nouns = pool_of({&kAnimate, &kInanimate});
  if (d.percent(kPrefixPercent)) b.add(kPrefixes[d.index(kPrefixes.size())]);
  if (o.fronted_percent > 0 && d.percent(o.fronted_percent)) {
    b.add(kPrepositions[d.index(kPrepositions.size())]);
    noun_phrase(d, b, static_cast<int>(d.below(2)), all_nouns, kOtherAdjectivePercent,
                o.neutral_determiner_percent);
  }
}

// The optional adverb before the verb, the verb that agrees with the subject, the text.
void ending(Draw& d, Builder& b, bool head_animate, SvaExample& ex) {
  static const std::vector<const Pair*> main_verbs = pool_of({&kMainVerbs});
  static const std::vector<const Pair*> animate_main_verbs =
      pool_of({&kMainVerbs, &kAnimateMainVerbs});
  if (d.percent(kAdverbPercent)) b.add(kAdverbs[d.index(kAdverbs.size())]);
  const auto& verbs = head_animate ? animate_main_verbs : main_verbs;
  ex.verb = form(*verbs[d.index(verbs.size())], ex.label);
  ex.text = b.text();
}

enum class Structure { Prepositions, SubjectClause, ObjectClause };

// The number of intervening nouns of the next sentence.
int draw_intervening(Draw& d, const SvaOptions& o) {
  if (o.grammar == SvaGrammar::Hard) {
    return 3 + static_cast<int>(d.below(static_cast<std::uint64_t>(o.max_attractors - 2)));
  }
  if (o.max_attractors == 0 || d.percent(o.no_intervening_percent)) return 0;
  return 1 + static_cast<int>(d.below(static_cast<std::uint64_t>(o.max_attractors)));
}

// One sentence with `intervening` intervening nouns.
SvaExample one_example(Draw& d, const SvaOptions& o, int intervening) {
  static const std::vector<const Pair*> all_nouns = pool_of({&kAnimate, &kInanimate});
  static const std::vector<const Pair*> animate = pool_of({&kAnimate});
  static const std::vector<const Pair*> inanimate = pool_of({&kInanimate});
  static const std::vector<const Pair*> main_verbs = pool_of({&kMainVerbs});
  static const std::vector<const Pair*> animate_main_verbs =
      pool_of({&kMainVerbs, &kAnimateMainVerbs});

  SvaExample ex;
  ex.label = static_cast<int>(d.below(2));
  const int number = ex.label;
  const int other = 1 - number;

  Structure structure = Structure::Prepositions;
  if (intervening > 0) structure = static_cast<Structure>(d.below(3));

  Builder b;
  opening(d, o, b);

  // An animate head for a subject clause; otherwise animate and inanimate heads equally often.
  const bool head_animate = structure == Structure::SubjectClause || d.below(2) == 0;
  ex.subject_index = noun_phrase(d, b, number, head_animate ? animate : inanimate,
                                 kHeadAdjectivePercent, o.neutral_determiner_percent);

  auto intervening_number = [&] {
    const int n = d.percent(o.opposite_percent) ? other : number;
    if (n != number) ++ex.attractors;
    return n;
  };

  int prepositions = intervening;
  if (structure == Structure::SubjectClause) {
    // "who write the book": the clause verb agrees with the head noun.
    b.add(d.below(2) == 0 ? "who" : "that");
    b.add(form(kClauseVerbs[d.index(kClauseVerbs.size())], number));
    noun_phrase(d, b, intervening_number(), all_nouns, kOtherAdjectivePercent,
                o.neutral_determiner_percent);
    --prepositions;
  } else if (structure == Structure::ObjectClause) {
    --prepositions;
  }
  for (int i = 0; i < prepositions; ++i) {
    b.add(kPrepositions[d.index(kPrepositions.size())]);
    noun_phrase(d, b, intervening_number(), all_nouns, kOtherAdjectivePercent,
                o.neutral_determiner_percent);
  }
  if (structure == Structure::ObjectClause) {
    // "that the guards like": the clause verb agrees with the clause's own subject.
    if (prepositions == 0 && d.below(2) == 0) {
      b.add(head_animate ? "who" : "which");
    } else {
      b.add("that");
    }
    const int n = intervening_number();
    noun_phrase(d, b, n, animate, kOtherAdjectivePercent, o.neutral_determiner_percent);
    b.add(form(kClauseVerbs[d.index(kClauseVerbs.size())], n));
  }

  ending(d, b, head_animate, ex);
  return ex;
}

// ---- the hard grammar ----------------------------------------------------------------------

// What the hard grammar's recursive modifiers share while one sentence is built.
struct HardSentence {
  Draw& d;
  const SvaOptions& o;
  Builder& b;
  SvaExample& ex;

  // The number of the next intervening noun; counts it when it is an attractor.
  int intervening_number() {
    const int n = d.percent(o.opposite_percent) ? 1 - ex.label : ex.label;
    if (n != ex.label) ++ex.attractors;
    return n;
  }
  // DET [ADJ] NOUN of the given number and animacy.
  void noun(int number, bool animate) {
    noun_phrase(d, b, number, animate ? animate_nouns() : inanimate_nouns(), kOtherAdjectivePercent,
                o.neutral_determiner_percent);
  }
};

// Modifiers of a head noun (number, animacy) bringing exactly `nouns` intervening nouns: a
// prepositional phrase "near the houses", a subject relative clause "who like the dogs" (its verb
// agrees with the head; animate heads only) or an object relative clause "that the guards admire"
// (its verb agrees with its own subject, after that subject's own modifiers: center embedding).
// Each modifier's noun may take some of the remaining nouns as its own modifiers, two levels
// deep at most.
void hard_modifiers(HardSentence& s, int head_number, bool head_animate, int nouns, int depth) {
  enum Kind { Preposition, SubjectClause, ObjectClause };
  while (nouns > 0) {
    const int nested = depth < 2 && nouns > 1 && s.d.percent(50)
                           ? static_cast<int>(s.d.below(static_cast<std::uint64_t>(nouns)))
                           : 0;
    auto kind = static_cast<Kind>(s.d.below(3));
    if (kind == SubjectClause && !head_animate) kind = Preposition;
    const int n = s.intervening_number();
    if (kind == ObjectClause) {
      s.b.add(s.d.below(2) == 0 ? "that" : (head_animate ? "who" : "which"));
      s.noun(n, true);
      hard_modifiers(s, n, true, nested, depth + 1);
      s.b.add(form(kClauseVerbs[s.d.index(kClauseVerbs.size())], n));
    } else {
      if (kind == SubjectClause) {
        s.b.add(s.d.below(2) == 0 ? "who" : "that");
        s.b.add(form(kClauseVerbs[s.d.index(kClauseVerbs.size())], head_number));
      } else {
        s.b.add(kPrepositions[s.d.index(kPrepositions.size())]);
      }
      const bool animate = s.d.below(2) == 0;
      s.noun(n, animate);
      hard_modifiers(s, n, animate, nested, depth + 1);
    }
    nouns -= 1 + nested;
  }
}

// One sentence of the hard grammar with `intervening` intervening nouns.
SvaExample hard_example(Draw& d, const SvaOptions& o, int intervening) {
  SvaExample ex;
  ex.label = static_cast<int>(d.below(2));
  Builder b;
  HardSentence s{d, o, b, ex};
  opening(d, o, b);
  const bool head_animate = d.below(2) == 0;
  ex.subject_index = noun_phrase(d, b, ex.label, head_animate ? animate_nouns() : inanimate_nouns(),
                                 kHeadAdjectivePercent, o.neutral_determiner_percent);
  hard_modifiers(s, ex.label, head_animate, intervening, 0);
  ending(d, b, head_animate, ex);
  return ex;
}

void check_percent(const char* name, int value) {
  if (value < 0 || value > 100) {
    throw Error(std::string("sva: ") + name + " must be in 0..100, got " + std::to_string(value));
  }
}

std::string errno_text(int err) {
  return err != 0 ? std::strerror(err) : "unknown error";
}

bool valid_split_name(const std::string& name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  const auto last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

}  // namespace

// ---- generation ---------------------------------------------------------------------------

std::vector<SvaExample> generate_sva(const SvaOptions& o) {
  if (o.count < 1) throw Error("sva: count must be at least 1, got " + std::to_string(o.count));
  const bool hard = o.grammar == SvaGrammar::Hard;
  if (hard ? (o.max_attractors < 3 || o.max_attractors > 6)
           : (o.max_attractors < 0 || o.max_attractors > 4)) {
    throw Error(std::string("sva: max_attractors must be in ") + (hard ? "3..6" : "0..4") +
                (hard ? " for the hard grammar" : "") + ", got " +
                std::to_string(o.max_attractors));
  }
  if (o.min_distance < 0) {
    throw Error("sva: min_distance must be at least 0, got " + std::to_string(o.min_distance));
  }
  check_percent("no_intervening_percent", o.no_intervening_percent);
  check_percent("opposite_percent", o.opposite_percent);
  check_percent("neutral_determiner_percent", o.neutral_determiner_percent);
  check_percent("fronted_percent", o.fronted_percent);
  if (o.min_words < 1 || o.max_words < o.min_words) {
    throw Error("sva: word limits must satisfy 1 <= min_words <= max_words, got min_words " +
                std::to_string(o.min_words) + " and max_words " + std::to_string(o.max_words));
  }

  Draw d(o.seed);
  std::vector<SvaExample> out;
  out.reserve(static_cast<std::size_t>(std::min<std::int64_t>(o.count, 1 << 24)));
  std::unordered_set<std::string> seen;
  // A run of rejected draws this long means the grammar has (nearly) no new sentence left.
  constexpr std::int64_t kMaxRejected = 1000000;
  std::int64_t rejected = 0;
  int intervening = -1;
  while (static_cast<std::int64_t>(out.size()) < o.count) {
    if (rejected == kMaxRejected) {
      throw Error("sva: no new sentence of " + std::to_string(o.min_words) + ".." +
                  std::to_string(o.max_words) + " words in " + std::to_string(kMaxRejected) +
                  " draws after " + std::to_string(out.size()) + " (count " +
                  std::to_string(o.count) + ", max_attractors " + std::to_string(o.max_attractors) +
                  "): ask for fewer, or loosen the limits");
    }
    // A repeated text, or one too short or too long, is drawn again with the same number of
    // intervening nouns, so that dropping them (most are short) keeps the mix of the options.
    if (intervening < 0) intervening = draw_intervening(d, o);
    SvaExample ex = hard ? hard_example(d, o, intervening) : one_example(d, o, intervening);
    const auto words = 1 + std::count(ex.text.begin(), ex.text.end(), ' ');
    if (words < o.min_words || words > o.max_words || words - ex.subject_index < o.min_distance ||
        (o.unique && !seen.insert(ex.text).second)) {
      ++rejected;
      continue;
    }
    rejected = 0;
    out.push_back(std::move(ex));
    intervening = -1;
  }
  return out;
}

SvaGrammar parse_sva_grammar(const std::string& name) {
  if (name == "simple") return SvaGrammar::Simple;
  if (name == "hard") return SvaGrammar::Hard;
  throw Error("sva: unknown grammar '" + name + "' (simple or hard)");
}

// ---- lexicon queries ----------------------------------------------------------------------

const std::vector<std::pair<std::string, std::string>>& sva_nouns() {
  static const std::vector<Pair> nouns = [] {
    std::vector<Pair> all(kAnimate);
    all.insert(all.end(), kInanimate.begin(), kInanimate.end());
    return all;
  }();
  return nouns;
}

std::optional<int> sva_noun_number(const std::string& word) {
  static const std::map<std::string, int> numbers = [] {
    std::map<std::string, int> m;
    for (const auto& p : sva_nouns()) {
      m[p.first] = 0;
      m[p.second] = 1;
    }
    return m;
  }();
  const auto it = numbers.find(word);
  if (it == numbers.end()) return std::nullopt;
  return it->second;
}

int count_sva_attractors(const std::string& text, int subject_index) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string w; in >> w;) words.push_back(w);
  if (subject_index < 0 || subject_index >= static_cast<int>(words.size())) {
    throw Error("sva: subject index " + std::to_string(subject_index) + " is out of range for '" +
                text + "' (" + std::to_string(words.size()) + " words)");
  }
  const auto& subject = words[static_cast<std::size_t>(subject_index)];
  const auto number = sva_noun_number(subject);
  if (!number) {
    throw Error("sva: word " + std::to_string(subject_index) + " of '" + text + "' ('" + subject +
                "') is not a noun of the grammar");
  }
  int attractors = 0;
  for (std::size_t i = static_cast<std::size_t>(subject_index) + 1; i < words.size(); ++i) {
    const auto n = sva_noun_number(words[i]);
    if (n && *n != *number) ++attractors;
  }
  return attractors;
}

std::vector<std::string> sva_vocabulary() {
  std::set<std::string> words;
  auto add_words = [&](const std::string& s) {
    std::istringstream in(s);
    for (std::string w; in >> w;) words.insert(w);
  };
  for (const auto& p : sva_nouns()) words.insert({p.first, p.second});
  for (const auto* l : {&kClauseVerbs, &kMainVerbs, &kAnimateMainVerbs})
    for (const auto& p : *l) words.insert({p.first, p.second});
  for (const auto* l : {&kSingularDeterminers, &kPluralDeterminers})
    for (const auto& w : *l) words.insert(w.word);
  words.insert("an");
  for (const auto* l : {&kAdjectives, &kAdverbs, &kPrepositions, &kPrefixes})
    for (const auto& s : *l) add_words(s);
  words.insert({"who", "that", "which"});
  return {words.begin(), words.end()};
}

const std::vector<std::string>& sva_special_tokens() {
  return kSpecialTokens;
}

void write_sva_vocab(const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(path + ": cannot write (" + errno_text(errno) + ")");
  for (const auto& t : kSpecialTokens) out << t << '\n';
  for (const auto& w : sva_vocabulary()) out << w << '\n';
  out.close();
  if (!out) throw Error(path + ": cannot write (" + errno_text(errno) + ")");
}

// ---- JSON Lines and splits ----------------------------------------------------------------

std::string to_json_line(const SvaExample& e) {
  auto quoted = [](const std::string& s) {
    std::string q = "\"";
    for (const char c : s) {
      switch (c) {
        case '"': q += "\\\""; break;
        case '\\': q += "\\\\"; break;
        case '\n': q += "\\n"; break;
        case '\r': q += "\\r"; break;
        case '\t': q += "\\t"; break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
            q += buf;
          } else {
            q += c;
          }
      }
    }
    return q + "\"";
  };
  return "{\"text\": " + quoted(e.text) + ", \"label\": " + std::to_string(e.label) +
         ", \"verb\": " + quoted(e.verb) + ", \"attractors\": " + std::to_string(e.attractors) +
         ", \"subject_index\": " + std::to_string(e.subject_index) + "}";
}

std::vector<SvaSplit> parse_sva_splits(const std::string& spec) {
  const std::string where = "split spec '" + spec + "': ";
  if (trim(spec).empty()) throw Error("split spec is empty (expected e.g. train:0.8,valid:0.2)");
  std::vector<SvaSplit> splits;
  std::size_t start = 0;
  double total = 0.0;
  while (start <= spec.size()) {
    const std::size_t end = std::min(spec.find(',', start), spec.size());
    const std::string item = trim(spec.substr(start, end - start));
    start = end + 1;
    const auto colon = item.find(':');
    if (colon == std::string::npos) {
      throw Error(where + "'" + item + "' is not NAME:FRACTION");
    }
    SvaSplit s;
    s.name = trim(item.substr(0, colon));
    const std::string fraction = trim(item.substr(colon + 1));
    if (!valid_split_name(s.name)) {
      throw Error(where + "split name '" + s.name +
                  "' must be non-empty and use only letters, digits, '_' and '-'");
    }
    for (const auto& prev : splits) {
      if (prev.name == s.name) throw Error(where + "split '" + s.name + "' is named twice");
    }
    char* stop = nullptr;
    errno = 0;
    s.fraction = fraction.empty() ? 0.0 : std::strtod(fraction.c_str(), &stop);
    if (fraction.empty() || stop != fraction.c_str() + fraction.size() || errno != 0 ||
        !std::isfinite(s.fraction)) {
      throw Error(where + "fraction '" + fraction + "' of split '" + s.name + "' is not a number");
    }
    if (!(s.fraction > 0.0 && s.fraction <= 1.0)) {
      throw Error(where + "fraction " + fraction + " of split '" + s.name + "' is not in (0, 1]");
    }
    total += s.fraction;
    splits.push_back(s);
  }
  if (std::fabs(total - 1.0) > 1e-6) {
    std::ostringstream t;
    t << total;
    throw Error(where + "fractions add up to " + t.str() + ", not 1");
  }
  return splits;
}

std::vector<std::vector<SvaExample>> split_sva(const std::vector<SvaExample>& examples,
                                               const std::vector<SvaSplit>& splits) {
  if (splits.empty()) throw Error("split_sva: no splits");
  std::vector<const SvaExample*> distinct;
  std::unordered_set<std::string> seen;
  for (const auto& e : examples) {
    if (seen.insert(e.text).second) distinct.push_back(&e);
  }
  const auto n = static_cast<std::int64_t>(distinct.size());
  std::vector<std::vector<SvaExample>> parts(splits.size());
  std::int64_t begin = 0;
  double cumulative = 0.0;
  for (std::size_t i = 0; i < splits.size(); ++i) {
    cumulative += splits[i].fraction;
    std::int64_t end =
        i + 1 == splits.size()
            ? n
            : static_cast<std::int64_t>(std::llround(static_cast<double>(n) * cumulative));
    end = std::clamp(end, begin, n);
    for (std::int64_t k = begin; k < end; ++k) {
      parts[i].push_back(*distinct[static_cast<std::size_t>(k)]);
    }
    begin = end;
  }
  return parts;
}

std::vector<SvaWrittenFile> write_sva_dataset(const std::string& dir,
                                              const std::vector<SvaExample>& examples,
                                              const std::vector<SvaSplit>& splits) {
  namespace fs = std::filesystem;
  const fs::path d(dir);
  std::error_code ec;
  if (fs::exists(d, ec)) {
    if (!fs::is_directory(d, ec)) throw Error(dir + ": not a directory");
  } else {
    fs::create_directories(d, ec);
    if (ec) throw Error(dir + ": cannot create the directory (" + ec.message() + ")");
  }

  const auto parts = split_sva(examples, splits);
  // Every file is written as <path>.partial first and all are renamed at the end, so an
  // error leaves none of them (the AtomicFiles not committed remove their partial files).
  std::vector<SvaWrittenFile> files;
  std::vector<AtomicFile> outputs;
  const auto write = [&](const std::string& path, const std::vector<std::string>& lines) {
    outputs.emplace_back(path);
    for (const auto& l : lines) outputs.back().stream() << l << '\n';
    files.push_back({path, static_cast<std::int64_t>(lines.size())});
  };
  for (std::size_t i = 0; i < splits.size(); ++i) {
    std::vector<std::string> lines;
    lines.reserve(parts[i].size());
    for (const auto& e : parts[i]) lines.push_back(to_json_line(e));
    write((d / (splits[i].name + ".jsonl")).string(), lines);
  }
  std::vector<std::string> vocab(kSpecialTokens);
  for (auto& w : sva_vocabulary()) vocab.push_back(std::move(w));
  write((d / "vocab.txt").string(), vocab);
  for (AtomicFile& out : outputs) out.commit();
  return files;
}

}  // namespace attnflow::datasets
