// Private helpers of attnflow::hf: reading files and JSON with errors that name the file,
// and short renderings of JSON values for error messages.
#pragma once

#include <exception>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace attnflow::hf::detail {

/// The whole file as bytes. Throws Error "<path>: cannot open (<reason>)".
std::string read_file(const std::string& path);

/// Parses JSON text. Throws Error "<where>: invalid JSON (parse error at line L, column C: ...)".
nlohmann::json parse_json(std::string_view text, const std::string& where);

/// read_file + parse_json.
nlohmann::json read_json_file(const std::string& path);

/// A JSON value for an error message, cut to about 60 characters.
std::string brief(const nlohmann::json& value);

/// An nlohmann exception's message without its "[json.exception...] " prefix.
std::string json_message(const std::exception& e);

/// The JSON type in words ("a string", "a number", ...).
std::string type_words(const nlohmann::json& value);

}  // namespace attnflow::hf::detail
