// Text corpora (docs/extract.md, "Corpus formats"): split into lines, validate every line,
// and turn each into one example; every problem names file:line.
#include "attnflow/io/corpus_reader.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/enum_names.hpp"
#include "attnflow/core/util/utf8.hpp"

namespace attnflow::io {
namespace {

using nlohmann::json;

constexpr const char* kEmptyLineHint =
    "every line is one example; empty lines are skipped only on request (--skip-empty)";

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

bool blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), is_space);
}

std::string trim(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

/// A value for a message: quoted, cut to about 40 characters.
std::string quoted(const std::string& s) {
  constexpr std::size_t kMax = 40;
  if (s.size() <= kMax) return "'" + s + "'";
  std::size_t cut = kMax;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xc0) == 0x80) --cut;  // whole chars
  return "'" + s.substr(0, cut) + "...'";
}

std::string type_words(const json& v) {
  switch (v.type()) {
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::null: return "null";
    case json::value_t::number_float: return "a number with a fraction or exponent";
    default: return "a number";
  }
}

/// Reads the file named in messages as `path`.
std::string read_file(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
  }
  if (S_ISDIR(st.st_mode)) throw Error(path + ": is a directory, not a corpus file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) throw Error(path + ": read failed");
  return out.str();
}

class Reader {
 public:
  Reader(const std::string& path, const CorpusReadOptions& options, CorpusFormat format)
      : options_(options) {
    corpus_.path = path;
    corpus_.format = format;
  }

  Corpus read(const std::string& content) {
    if (content.empty() || content == "\xef\xbb\xbf") {
      throw Error(corpus_.path + ": no examples (the file is empty)");
    }
    std::size_t pos = 0;
    std::int64_t number = 0;
    while (pos < content.size()) {
      std::size_t end = content.find('\n', pos);
      if (end == std::string::npos) end = content.size();
      std::string line = content.substr(pos, end - pos);
      pos = end + 1;
      ++number;
      add_line(std::move(line), number);
    }
    corpus_.lines = number;
    if (corpus_.examples.empty()) {
      const std::string& path = corpus_.path;
      if (corpus_.header) {
        throw Error(path + ": no examples (only the header row" +
                    (corpus_.skipped > 0 ? std::string(" and empty lines") : "") + ")");
      }
      throw Error(path + ": no examples (all " + std::to_string(number) +
                  (number == 1 ? " line is" : " lines are") + " empty)");
    }
    return std::move(corpus_);
  }

 private:
  [[noreturn]] void fail(std::int64_t line, const std::string& what) const {
    throw Error(corpus_.path + ":" + std::to_string(line) + ": " + what);
  }

  void add_line(std::string line, std::int64_t number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    // Offsets in messages count from the start of the line as it is in the file.
    const std::string problem = utf8_problem(line, NulBytes::Rejected);
    if (!problem.empty()) fail(number, "line " + problem);
    if (number == 1 && line.compare(0, 3, "\xef\xbb\xbf") == 0) line.erase(0, 3);
    const std::size_t cr = line.find('\r');
    if (cr != std::string::npos) {
      fail(number, "carriage return (\\r) at offset " + std::to_string(cr) +
                       " inside the line (lines end with \\n or \\r\\n)");
    }
    if (blank(line)) {
      if (options_.skip_empty) {
        ++corpus_.skipped;
        return;
      }
      fail(number, std::string(line.empty() ? "empty line" : "line holds only whitespace") + " (" +
                       kEmptyLineHint + ")");
    }
    CorpusExample example;
    example.line = number;
    switch (corpus_.format) {
      case CorpusFormat::Jsonl: jsonl_line(line, example); break;
      case CorpusFormat::Tsv:
        if (!tsv_line(line, example)) return;  // the header row
        break;
      default: example.text = std::move(line); break;
    }
    corpus_.examples.push_back(std::move(example));
  }

  // ---- labels (JSONL strings, TSV fields) ------------------------------------------------

  std::string known_names() const {
    std::string s;
    std::size_t count = 0;
    for (const auto& [name, id] : options_.label_ids) {
      if (++count > 10) {
        s += ", ...";
        break;
      }
      s += (s.empty() ? "" : ", ") + name;
    }
    return s;
  }

  std::int64_t label_from_text(const std::string& text, std::int64_t line,
                               const std::string& hint = "") const {
    const auto named = options_.label_ids.find(text);
    if (named != options_.label_ids.end()) return named->second;
    const std::size_t digits = text.size() - (text[0] == '-' || text[0] == '+' ? 1 : 0);
    if (digits > 0 && std::all_of(text.end() - static_cast<std::ptrdiff_t>(digits), text.end(),
                                  [](char c) { return c >= '0' && c <= '9'; })) {
      errno = 0;
      char* end = nullptr;
      const long long value = std::strtoll(text.c_str(), &end, 10);
      if (errno == ERANGE) fail(line, "label " + text + " is out of range");
      return static_cast<std::int64_t>(value);
    }
    if (options_.label_ids.empty()) {
      fail(line, "label " + quoted(text) +
                     " is not an integer class id (no label names are known: the model's "
                     "config.json has no id2label)" +
                     hint);
    }
    fail(line, "label " + quoted(text) + " is neither an integer class id nor a label name (" +
                   known_names() + ")" + hint);
  }

  // ---- JSON Lines ------------------------------------------------------------------------

  static std::string json_error(const std::exception& e) {
    std::string m = e.what();
    if (!m.empty() && m[0] == '[') {
      const auto close = m.find("] ");
      if (close != std::string::npos) m.erase(0, close + 2);
    }
    const std::string one_line = "parse error at line 1, column ";
    if (m.compare(0, one_line.size(), one_line) == 0) {
      m = "parse error at column " + m.substr(one_line.size());
    }
    return m;
  }

  std::optional<std::string> json_text(const json& doc, const char* key, std::int64_t line,
                                       bool required) const {
    const auto it = doc.find(key);
    if (it == doc.end() || (!required && it->is_null())) {
      if (!required) return std::nullopt;
      std::string keys;
      for (const auto& [k, v] : doc.items()) keys += (keys.empty() ? "" : ", ") + quoted(k);
      fail(line, std::string("no \"") + key + "\" in the object" +
                     (keys.empty() ? std::string(" (it is empty)") : " (its keys: " + keys + ")"));
    }
    if (!it->is_string()) {
      fail(line, std::string("\"") + key + "\" must be a string, not " + type_words(*it));
    }
    std::string text = it->get<std::string>();
    if (text.empty()) fail(line, std::string("\"") + key + "\" is empty");
    if (blank(text)) fail(line, std::string("\"") + key + "\" holds only whitespace");
    const std::string problem =
        utf8_problem(text, NulBytes::Rejected);  // a \u0000 escape gives a NUL byte
    if (!problem.empty()) fail(line, std::string("\"") + key + "\" " + problem);
    return text;
  }

  void jsonl_line(const std::string& line, CorpusExample& example) const {
    json doc;
    try {
      doc = json::parse(line);
    } catch (const json::exception& e) {
      fail(example.line, "invalid JSON (" + json_error(e) + ")");
    }
    if (!doc.is_object()) fail(example.line, "expected a JSON object, got " + type_words(doc));
    example.text = *json_text(doc, "text", example.line, true);
    example.text_pair = json_text(doc, "text_pair", example.line, false);
    example.decoder_text = json_text(doc, "decoder_text", example.line, false);
    const auto label = doc.find("label");
    if (label == doc.end() || label->is_null()) return;
    if (label->is_number_integer()) {
      if (label->is_number_unsigned() &&
          label->get<std::uint64_t>() >
              static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        fail(example.line, "\"label\" " + label->dump() + " is out of range");
      }
      example.label = label->get<std::int64_t>();
    } else if (label->is_string()) {
      const std::string text = label->get<std::string>();
      if (text.empty()) fail(example.line, "\"label\" is an empty string");
      example.label = label_from_text(text, example.line);
    } else {
      fail(example.line, "\"label\" must be an integer class id or a label name, not " +
                             type_words(*label) + " (" + label->dump() + ")");
    }
  }

  // ---- TSV -------------------------------------------------------------------------------

  enum class Column { Text, TextPair, Label };

  static const char* column_name(Column c) {
    switch (c) {
      case Column::Text: return "text";
      case Column::TextPair: return "text_pair";
      default: return "label";
    }
  }

  std::string layout() const {
    std::string s;
    for (Column c : columns_) s += (s.empty() ? "" : "<TAB>") + std::string(column_name(c));
    return s;
  }

  static std::vector<std::string> split_tabs(const std::string& line) {
    std::vector<std::string> fields;
    std::size_t pos = 0;
    while (true) {
      const std::size_t tab = line.find('\t', pos);
      fields.push_back(line.substr(pos, tab == std::string::npos ? std::string::npos : tab - pos));
      if (tab == std::string::npos) return fields;
      pos = tab + 1;
    }
  }

  /// The first line: a header when one of its fields is "text"; else the column count
  /// gives the layout. Returns true for a header.
  bool tsv_columns(const std::vector<std::string>& fields, std::int64_t line) {
    if (std::find(fields.begin(), fields.end(), "text") != fields.end()) {
      for (const auto& f : fields) {
        Column c;
        if (f == "text") {
          c = Column::Text;
        } else if (f == "text_pair") {
          c = Column::TextPair;
        } else if (f == "label") {
          c = Column::Label;
        } else {
          fail(line, "header column " + quoted(f) +
                         " is not one of text, text_pair, label (the first line names the "
                         "columns because one of them is 'text')");
        }
        if (std::find(columns_.begin(), columns_.end(), c) != columns_.end()) {
          fail(line, "header names column '" + f + "' twice");
        }
        columns_.push_back(c);
      }
      layout_source_ = "the header row";
      return true;
    }
    switch (fields.size()) {
      case 1: columns_ = {Column::Text}; break;
      case 2: columns_ = {Column::Text, Column::Label}; break;
      case 3: columns_ = {Column::Text, Column::TextPair, Column::Label}; break;
      default:
        fail(line, std::to_string(fields.size()) +
                       " tab-separated columns; without a header row a line is text, "
                       "text<TAB>label or text<TAB>text_pair<TAB>label");
    }
    layout_source_ = "line " + std::to_string(line);
    return false;
  }

  /// Returns false for the header row.
  bool tsv_line(const std::string& line, CorpusExample& example) {
    const std::vector<std::string> fields = split_tabs(line);
    const bool first = columns_.empty();
    if (first && tsv_columns(fields, example.line)) {
      corpus_.header = true;
      return false;
    }
    if (fields.size() != columns_.size()) {
      fail(example.line, std::to_string(fields.size()) +
                             (fields.size() == 1 ? " column" : " tab-separated columns") +
                             ", but the corpus has " + std::to_string(columns_.size()) + " (" +
                             layout() + ", from " + layout_source_ + ")");
    }
    for (std::size_t k = 0; k < fields.size(); ++k) {
      const Column c = columns_[k];
      const std::string where = " (column " + std::to_string(k + 1) + ")";
      const std::string& f = fields[k];
      if (blank(f)) {
        fail(example.line,
             std::string(f.empty() ? "empty " : "whitespace-only ") + column_name(c) + where);
      }
      if (c == Column::Text) {
        example.text = f;
      } else if (c == Column::TextPair) {
        example.text_pair = f;
      } else {
        const std::string hint =
            first ? " (a header row must name its columns: text, text_pair, label)" : "";
        example.label = label_from_text(trim(f), example.line, hint);
      }
    }
    return true;
  }

  const CorpusReadOptions& options_;
  Corpus corpus_;
  std::vector<Column> columns_;  ///< TSV layout, set by the first line
  std::string layout_source_;
};

}  // namespace

CorpusFormat parse_corpus_format(const std::string& name) {
  return parse_enum(kCorpusFormatNames, name, "corpus format");
}

const char* to_string(CorpusFormat format) {
  return enum_name(kCorpusFormatNames, format);
}

CorpusFormat corpus_format_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  const auto dot = path.find_last_of('.');
  const std::string ext = dot == std::string::npos || (slash != std::string::npos && dot < slash)
                              ? std::string()
                              : lower(path.substr(dot));
  if (ext == ".txt" || ext == ".text") return CorpusFormat::Text;
  if (ext == ".jsonl" || ext == ".ndjson") return CorpusFormat::Jsonl;
  if (ext == ".tsv") return CorpusFormat::Tsv;
  throw Error(
      path + ": cannot tell the corpus format from " +
      (ext.empty() ? std::string("a name without extension") : "the extension '" + ext + "'") +
      " (.txt = text, .jsonl = JSON Lines, .tsv = TSV; or give it: --format "
      "text|jsonl|tsv)");
}

Corpus parse_corpus(const std::string& content, const std::string& path,
                    const CorpusReadOptions& options) {
  const CorpusFormat format =
      options.format == CorpusFormat::Auto ? corpus_format_of(path) : options.format;
  return Reader(path, options, format).read(content);
}

Corpus read_corpus(const std::string& path, const CorpusReadOptions& options) {
  if (options.format == CorpusFormat::Auto) corpus_format_of(path);  // before reading it
  return parse_corpus(read_file(path), path, options);
}

}  // namespace attnflow::io
