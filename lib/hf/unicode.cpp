// ICU-backed character properties for the tokenizers (UTF-8 itself: core/util/utf8).
#include "unicode.hpp"

#include <unicode/brkiter.h>
#include <unicode/normalizer2.h>
#include <unicode/regex.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/ustring.h>
#include <unicode/utext.h>

#include <cstdio>

#include "attnflow/core/error.hpp"

namespace attnflow::hf::detail {

bool is_whitespace(char32_t c) {
  return u_hasBinaryProperty(static_cast<UChar32>(c), UCHAR_WHITE_SPACE);
}

bool is_control(char32_t c) {
  if (c == U'\t' || c == U'\n' || c == U'\r') return false;
  switch (u_charType(static_cast<UChar32>(c))) {
    case U_CONTROL_CHAR:
    case U_FORMAT_CHAR:
    case U_UNASSIGNED:
    case U_PRIVATE_USE_CHAR:
    case U_SURROGATE: return true;
    default: return false;
  }
}

bool is_bert_punctuation(char32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
      (c >= 123 && c <= 126)) {
    return true;
  }
  return c >= 128 && u_ispunct(static_cast<UChar32>(c));
}

bool is_chinese_char(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

bool is_nonspacing_mark(char32_t c) {
  return u_charType(static_cast<UChar32>(c)) == U_NON_SPACING_MARK;
}

bool is_alphanumeric(char32_t c) {
  return u_isalnum(static_cast<UChar32>(c));
}

bool is_mark(char32_t c) {
  return (U_GET_GC_MASK(static_cast<UChar32>(c)) & U_GC_M_MASK) != 0;
}

std::vector<std::size_t> grapheme_bounds(std::string_view text) {
  std::vector<std::size_t> out{0};
  if (text.empty()) return out;
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::BreakIterator> it(
      icu::BreakIterator::createCharacterInstance(icu::Locale::getRoot(), status));
  UText* ut = utext_openUTF8(nullptr, text.data(), static_cast<std::int64_t>(text.size()), &status);
  if (U_FAILURE(status)) {
    utext_close(ut);
    throw Error(std::string("ICU character break iterator failed: ") + u_errorName(status));
  }
  it->setText(ut, status);
  for (std::int32_t b = it->next(); b != icu::BreakIterator::DONE; b = it->next()) {
    out.push_back(static_cast<std::size_t>(b));
  }
  utext_close(ut);
  if (out.back() != text.size()) out.push_back(text.size());
  return out;
}

bool is_numeric(char32_t c) {
  return (U_GET_GC_MASK(static_cast<UChar32>(c)) & U_GC_N_MASK) != 0;
}

void append_lowercase(std::u32string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(c >= U'A' && c <= U'Z' ? c + 32 : c);
    return;
  }
  // Full mapping of the lone character: no neighbours, so no context-dependent rules.
  UChar src[2] = {0, 0};
  int32_t src_len = 0;
  UBool error = false;
  U16_APPEND(src, src_len, 2, static_cast<UChar32>(c), error);
  UChar dst[8] = {};
  UErrorCode status = U_ZERO_ERROR;
  const int32_t n = u_strToLower(dst, 8, src, src_len, "", &status);
  if (U_FAILURE(status) || error) {
    out.push_back(static_cast<char32_t>(u_tolower(static_cast<UChar32>(c))));
    return;
  }
  for (int32_t i = 0; i < n;) {
    UChar32 cp;
    U16_NEXT(dst, i, n, cp);
    out.push_back(static_cast<char32_t>(cp));
  }
}

namespace {

std::u32string to_u32(const icu::UnicodeString& u) {
  std::u32string out(static_cast<std::size_t>(u.countChar32()), U'\0');
  UErrorCode status = U_ZERO_ERROR;
  u.toUTF32(reinterpret_cast<UChar32*>(out.data()), static_cast<int32_t>(out.size()), status);
  return out;
}

icu::UnicodeString to_icu(std::u32string_view text) {
  return icu::UnicodeString::fromUTF32(reinterpret_cast<const UChar32*>(text.data()),
                                       static_cast<int32_t>(text.size()));
}

}  // namespace

std::u32string normalize_form(std::u32string_view text, NormalForm form) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* normalizer = nullptr;
  switch (form) {
    case NormalForm::NFC: normalizer = icu::Normalizer2::getNFCInstance(status); break;
    case NormalForm::NFD: normalizer = icu::Normalizer2::getNFDInstance(status); break;
    case NormalForm::NFKC: normalizer = icu::Normalizer2::getNFKCInstance(status); break;
    case NormalForm::NFKD: normalizer = icu::Normalizer2::getNFKDInstance(status); break;
  }
  if (U_FAILURE(status))
    throw Error(std::string("ICU normaliser unavailable: ") + u_errorName(status));
  bool ascii = true;
  for (char32_t c : text) ascii = ascii && c < 0x80;
  if (ascii) return std::u32string(text);  // every normal form leaves ASCII as it is
  const icu::UnicodeString src = to_icu(text);
  if (normalizer->isNormalized(src, status) && U_SUCCESS(status)) return std::u32string(text);
  status = U_ZERO_ERROR;
  const icu::UnicodeString dst = normalizer->normalize(src, status);
  if (U_FAILURE(status))
    throw Error(std::string("ICU normalisation failed: ") + u_errorName(status));
  return to_u32(dst);
}

std::u32string nfd(std::u32string_view text) {
  return normalize_form(text, NormalForm::NFD);
}

struct Regex::Compiled {
  std::unique_ptr<icu::RegexPattern> pattern;
  std::string source;  ///< the pattern as written, for messages
};

Regex::Regex(const std::string& pattern, const std::string& where) {
  // Oniguruma's \s and \S are Unicode White_Space; ICU's \s lacks U+000B and U+0085.
  std::string icu_pattern;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) {
      const char next = pattern[++i];
      if (next == 's') {
        icu_pattern += "\\p{White_Space}";
      } else if (next == 'S') {
        icu_pattern += "\\P{White_Space}";
      } else {
        icu_pattern += '\\';
        icu_pattern += next;
      }
    } else {
      icu_pattern += pattern[i];
    }
  }
  UErrorCode status = U_ZERO_ERROR;
  UParseError parse_error{};
  auto compiled = std::make_shared<Compiled>();
  compiled->pattern.reset(icu::RegexPattern::compile(icu::UnicodeString::fromUTF8(icu_pattern), 0,
                                                     parse_error, status));
  if (U_FAILURE(status)) {
    throw Error(where + ": regex '" + pattern + "' does not compile (" + u_errorName(status) +
                " at offset " + std::to_string(parse_error.offset) + ")");
  }
  compiled->source = pattern;
  compiled_ = std::move(compiled);
}

std::string Regex::escape(std::string_view literal) {
  std::string out;
  for (char c : literal) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::vector<std::pair<std::size_t, std::size_t>> Regex::find_all(std::u32string_view text) const {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  if (text.empty()) return out;
  const icu::UnicodeString u = to_icu(text);
  // UTF-16 index -> code point index.
  std::vector<std::size_t> index(static_cast<std::size_t>(u.length()) + 1, 0);
  for (std::size_t cp = 0, k = 0; cp < text.size(); ++cp) {
    index[k] = cp;
    k += text[cp] >= 0x10000 ? 2 : 1;
    index[k] = cp + 1;
  }
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::RegexMatcher> matcher(compiled_->pattern->matcher(u, status));
  if (U_FAILURE(status)) throw Error(std::string("ICU regex matcher: ") + u_errorName(status));
  // A pattern that backtracks without end (a hostile tokenizer.json) stops with an Error; the
  // limit is in steps of ICU's engine, about a millisecond each.
  matcher->setTimeLimit(20000, status);
  while (matcher->find(status) && U_SUCCESS(status)) {
    const auto begin = static_cast<std::size_t>(matcher->start(status));
    const auto end = static_cast<std::size_t>(matcher->end(status));
    out.emplace_back(index[begin], index[end]);
  }
  if (status == U_REGEX_TIME_OUT || status == U_REGEX_STACK_OVERFLOW) {
    throw Error("regex '" + compiled_->source + "' gave up on a text of " +
                std::to_string(text.size()) + " characters (" + u_errorName(status) + ")");
  }
  if (U_FAILURE(status)) throw Error(std::string("ICU regex search: ") + u_errorName(status));
  return out;
}

}  // namespace attnflow::hf::detail
