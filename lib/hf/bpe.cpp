// Byte-level BPE (GPT-2): ICU regex pre-tokenisation, bytes_to_unicode, rank-ordered merges
// as in Hugging Face's tokenizers (a heap of (rank, position) over a linked list of symbols).
#include "attnflow/hf/bpe.hpp"

#include <unicode/regex.h>
#include <unicode/unistr.h>

#include <queue>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/utf8.hpp"
#include "unicode.hpp"

namespace attnflow::hf {
namespace {

// GPT-2's pattern. \s is spelled \p{White_Space}: ICU's \s lacks U+000B and U+0085, which
// Oniguruma (the engine Hugging Face's tokenizers use) counts as space.
constexpr const char* kPattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\p{White_Space}\\p{L}\\p{N}]+"
    "|\\p{White_Space}+(?!\\P{White_Space})|\\p{White_Space}+";

struct ByteTable {
  std::array<char32_t, 256> to_char{};
  std::unordered_map<char32_t, std::uint8_t> to_byte;
  ByteTable() {
    std::array<bool, 256> printable{};
    for (int b = 0; b < 256; ++b) {
      printable[static_cast<std::size_t>(b)] =
          (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    }
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const auto i = static_cast<std::size_t>(b);
      to_char[i] = printable[i] ? static_cast<char32_t>(b) : next++;
      to_byte[to_char[i]] = static_cast<std::uint8_t>(b);
    }
  }
};

const ByteTable& bytes_table() {
  static const ByteTable table;
  return table;
}

std::uint64_t pair_key(std::int64_t a, std::int64_t b) {
  return (static_cast<std::uint64_t>(a) << 32) | static_cast<std::uint64_t>(b);
}

}  // namespace

struct ByteLevelBpeTokenizer::Regex {
  std::unique_ptr<icu::RegexPattern> pattern;
};

char32_t ByteLevelBpeTokenizer::byte_to_char(std::uint8_t byte) {
  return bytes_table().to_char[byte];
}

ByteLevelBpeTokenizer::~ByteLevelBpeTokenizer() = default;

ByteLevelBpeTokenizer::ByteLevelBpeTokenizer(
    std::unordered_map<std::string, std::int64_t> vocab,
    const std::vector<std::pair<std::string, std::string>>& merges, std::vector<AddedToken> added,
    PostTemplate post_template, BpeOptions options, const std::string& source)
    : Tokenizer(std::move(vocab), std::move(added), std::move(post_template)),
      options_(std::move(options)),
      regex_(std::make_unique<Regex>()) {
  for (std::size_t b = 0; b < 256; ++b) {
    std::string c;
    append_utf8(c, bytes_table().to_char[b]);
    byte_ids_[b] = token_to_id(c).value_or(-1);
  }
  if (options_.unk_token) {
    unk_id_ = token_to_id(*options_.unk_token);
    if (!unk_id_) {
      throw Error(source + ": unk_token '" + *options_.unk_token + "' is not in the vocabulary");
    }
  }
  for (std::size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    const std::string where =
        source + ": merge " + std::to_string(rank + 1) + " '" + left + " " + right + "'";
    const auto a = token_to_id(left), b = token_to_id(right), m = token_to_id(left + right);
    if (!a) throw Error(where + ": '" + left + "' is not in the vocabulary");
    if (!b) throw Error(where + ": '" + right + "' is not in the vocabulary");
    if (!m)
      throw Error(where + ": the merged token '" + left + right + "' is not in the vocabulary");
    if (*a > 0xffffffff || *b > 0xffffffff) throw Error(where + ": token id beyond 2^32");
    // The first (lowest-rank) occurrence of a pair wins, as in Hugging Face's loader.
    merges_.emplace(pair_key(*a, *b), Merge{static_cast<std::int32_t>(rank), *m});
  }
  UErrorCode status = U_ZERO_ERROR;
  UParseError parse_error{};
  regex_->pattern.reset(
      icu::RegexPattern::compile(icu::UnicodeString::fromUTF8(kPattern), 0, parse_error, status));
  if (U_FAILURE(status)) {
    throw Error(std::string("GPT-2 pattern does not compile with ICU: ") + u_errorName(status));
  }
  prepare_added_tokens();
}

void ByteLevelBpeTokenizer::tokenize(std::string_view normalized, Encoding& out) const {
  std::string text(normalized);
  if (options_.add_prefix_space && (text.empty() || text.front() != ' ')) text.insert(0, " ");
  if (!options_.use_regex) {
    bpe(text, out);
    return;
  }
  const icu::UnicodeString u = icu::UnicodeString::fromUTF8(text);
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::RegexMatcher> matcher(regex_->pattern->matcher(u, status));
  if (U_FAILURE(status)) throw Error(std::string("ICU regex matcher: ") + u_errorName(status));
  std::int32_t at = 0;
  std::string piece;
  const auto emit = [&](std::int32_t begin, std::int32_t end) {
    piece.clear();
    u.tempSubString(begin, end - begin).toUTF8String(piece);
    bpe(piece, out);
  };
  while (matcher->find(status) && U_SUCCESS(status)) {
    const std::int32_t begin = matcher->start(status), end = matcher->end(status);
    if (begin > at) emit(at, begin);  // text no alternative matched stays a piece of its own
    if (end > begin) emit(begin, end);
    at = end;
  }
  if (U_FAILURE(status)) throw Error(std::string("ICU regex search: ") + u_errorName(status));
  if (at < u.length()) emit(at, u.length());
}

void ByteLevelBpeTokenizer::bpe(std::string_view piece, Encoding& out) const {
  if (piece.empty()) return;
  if (options_.ignore_merges) {
    std::string mapped;
    for (char b : piece) append_utf8(mapped, bytes_table().to_char[static_cast<std::uint8_t>(b)]);
    if (const auto id = token_to_id(mapped)) {
      out.ids.push_back(*id);
      out.tokens.push_back(mapped);
      return;
    }
  }
  struct Symbol {
    std::int64_t id;
    int prev = 0, next = 0;  ///< neighbours, linked below
    bool alive = true;       ///< false once merged into its left neighbour
  };
  std::vector<Symbol> symbols;
  symbols.reserve(piece.size());
  for (char ch : piece) {
    const std::int64_t id = byte_ids_[static_cast<std::uint8_t>(ch)];
    if (id >= 0) {
      symbols.push_back({id});
    } else if (unk_id_) {
      symbols.push_back({*unk_id_});
    }  // else: dropped, as Hugging Face does without an unk token
  }
  const int n = static_cast<int>(symbols.size());
  for (int i = 0; i < n; ++i) {
    symbols[static_cast<std::size_t>(i)].prev = i - 1;
    symbols[static_cast<std::size_t>(i)].next = i + 1 < n ? i + 1 : -1;
  }
  struct Candidate {
    std::int32_t rank;
    int pos;
    std::int64_t id;
    bool operator>(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  const auto consider = [&](int pos) {
    if (pos < 0) return;
    const Symbol& s = symbols[static_cast<std::size_t>(pos)];
    if (s.next < 0) return;
    const auto it = merges_.find(pair_key(s.id, symbols[static_cast<std::size_t>(s.next)].id));
    if (it != merges_.end()) queue.push({it->second.rank, pos, it->second.id});
  };
  for (int i = 0; i + 1 < n; ++i) consider(i);
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[static_cast<std::size_t>(top.pos)];
    if (!left.alive || left.next < 0) continue;
    Symbol& right = symbols[static_cast<std::size_t>(left.next)];
    const auto it = merges_.find(pair_key(left.id, right.id));
    if (it == merges_.end() || it->second.id != top.id) continue;  // stale entry
    left.id = top.id;
    right.alive = false;
    left.next = right.next;
    if (right.next >= 0) symbols[static_cast<std::size_t>(right.next)].prev = top.pos;
    consider(left.prev);
    consider(top.pos);
  }
  for (int i = n > 0 ? 0 : -1; i >= 0; i = symbols[static_cast<std::size_t>(i)].next) {
    out.ids.push_back(symbols[static_cast<std::size_t>(i)].id);
    out.tokens.push_back(id_to_token(symbols[static_cast<std::size_t>(i)].id));
  }
}

std::string ByteLevelBpeTokenizer::decode_tokens(const std::vector<std::string>& tokens) const {
  const ByteTable& table = bytes_table();
  std::string bytes;
  for (const std::string& token : tokens) {
    std::string mapped;
    bool ok = true;
    for (char32_t c : decode_utf8(token, "token")) {
      const auto it = table.to_byte.find(c);
      if (it == table.to_byte.end()) {
        ok = false;
        break;
      }
      mapped += static_cast<char>(it->second);
    }
    bytes += ok ? mapped : token;  // tokens outside the byte alphabet stay as written
  }
  return sanitize_utf8(bytes);
}

}  // namespace attnflow::hf
