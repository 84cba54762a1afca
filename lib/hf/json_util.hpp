// Private helpers of attnflow::hf: reading files and JSON with errors that name the file,
// and short renderings of JSON values for error messages.
#pragma once

#include <cstddef>
#include <exception>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace attnflow::hf::detail {

/// The whole file as bytes. Throws Error "<path>: cannot open (<reason>)".
std::string read_file(const std::string& path);

/// Limits of parse_json (beyond the syntax, which nlohmann checks).
struct JsonParseOptions {
  /// Reject a key given twice in the top-level object (nlohmann would keep the last one):
  /// Error "<where>: duplicate entry '<key>'".
  bool unique_top_level_keys = false;
  /// Most keys of the top-level object, not counting `uncounted_key`; 0 = no limit. Error
  /// "<where>: more than <max> <counted_words> (the limit)" as soon as one more is read.
  std::size_t max_top_level_keys = 0;
  std::string uncounted_key;                     ///< e.g. "__metadata__"
  std::string counted_words = "top-level keys";  ///< e.g. "tensors"
};

/// Deepest nesting parse_json accepts (real files nest a few levels; the limit bounds memory).
inline constexpr std::size_t kMaxJsonDepth = 512;

/// Parses JSON text in one linear pass (nlohmann's SAX parser building the document), tracking
/// the JSON Pointer of the value being read. Every nlohmann error becomes an Error:
/// "<where>: invalid JSON (parse error at line L, column C: ...)" for syntax errors, and
/// "<where>: invalid JSON at /a/0 (number overflow parsing '1e400')" when the error has a
/// JSON path (" at <pointer>" is left out at the top level). Also throws Error for nesting
/// deeper than kMaxJsonDepth and for the checks of `options`.
nlohmann::json parse_json(std::string_view text, const std::string& where,
                          const JsonParseOptions& options = {});

/// read_file + parse_json.
nlohmann::json read_json_file(const std::string& path);

/// A JSON value for an error message, cut to about 60 characters.
std::string brief(const nlohmann::json& value);

/// An nlohmann exception's message without its "[json.exception...] " prefix.
std::string json_message(const std::exception& e);

/// The JSON type in words ("a string", "a number", ...).
std::string type_words(const nlohmann::json& value);

}  // namespace attnflow::hf::detail
