// Text corpora for `attnflow extract`: one example per line, as plain text, JSON Lines or
// tab-separated values (docs/extract.md, "Corpus formats"). The whole file is validated when
// it is read; every problem throws Error "<file>:<line>: <what is wrong>".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "attnflow/core/util/enum_names.hpp"

namespace attnflow::io {

enum class CorpusFormat {
  Auto,   ///< from the extension: .txt/.text -> Text, .jsonl/.ndjson -> Jsonl, .tsv -> Tsv
  Text,   ///< one text per line
  Jsonl,  ///< one JSON object per line: {"text": ..., "text_pair": ..., "decoder_text": ...,
          ///< "label": ...}
  Tsv,    ///< text[<TAB>label], text<TAB>text_pair<TAB>label, or named columns (header row)
};

inline constexpr EnumName<CorpusFormat> kCorpusFormatNames[] = {
    {CorpusFormat::Auto, "auto"},
    {CorpusFormat::Text, "text"},
    {CorpusFormat::Jsonl, "jsonl"},
    {CorpusFormat::Tsv, "tsv"},
};
/// Throws Error("corpus format: unknown 'NAME' (expected auto, text, jsonl or tsv)").
CorpusFormat parse_corpus_format(const std::string& name);
const char* to_string(CorpusFormat format);
/// The format of `path` from its extension (any case). Throws Error for other extensions.
CorpusFormat corpus_format_of(const std::string& path);

/// One example: one line of the file.
struct CorpusExample {
  std::string text;                      ///< non-empty, valid UTF-8, no NUL
  std::optional<std::string> text_pair;  ///< second text (premise/hypothesis pairs)
  /// JSONL "decoder_text": an encoder-decoder's teacher-forced decoder input (T5; else the
  /// text_pair is).
  std::optional<std::string> decoder_text;
  std::optional<std::int64_t> label;  ///< class id
  std::int64_t line = 0;              ///< 1-based line number in the file
};

struct CorpusReadOptions {
  CorpusFormat format = CorpusFormat::Auto;
  /// Skip empty and whitespace-only lines instead of rejecting them.
  bool skip_empty = false;
  /// Names that string labels (JSONL) and non-numeric labels (TSV) may use, e.g. a model's
  /// id2label inverted ("positive" -> 1). Empty: only integer labels are accepted.
  std::map<std::string, std::int64_t> label_ids;
};

struct Corpus {
  std::string path;
  CorpusFormat format = CorpusFormat::Text;  ///< the format read (never Auto)
  bool header = false;                       ///< TSV: the first line named the columns
  std::int64_t lines = 0;                    ///< lines in the file
  std::int64_t skipped = 0;                  ///< empty lines skipped (CorpusReadOptions)
  std::vector<CorpusExample> examples;       ///< in file order; never empty
};

/// Reads and validates the whole corpus. Accepts LF and CRLF line ends, a last line without
/// a line end, and a UTF-8 byte order mark at the start. Throws Error naming the file and
/// line for: invalid UTF-8 (with the byte offset in the line), a NUL byte, a carriage return
/// inside a line, an empty line (unless skip_empty), a JSON syntax error, a line that is not a
/// JSON object, a missing or non-string "text", an empty text, a label that is not an integer
/// or a known name, a TSV line with another number of columns than the first; and an
/// unreadable file or a corpus without examples.
Corpus read_corpus(const std::string& path, const CorpusReadOptions& options = {});

/// Same for text already in memory; `path` names it in messages (and, with Auto, gives the
/// format).
Corpus parse_corpus(const std::string& content, const std::string& path,
                    const CorpusReadOptions& options = {});

}  // namespace attnflow::io
