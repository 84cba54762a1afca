// Private helpers of load_tokenizer: typed reads of tokenizer.json / tokenizer_config.json
// fields with messages naming the file, vocabularies, added tokens, template items.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "attnflow/hf/tokenizer.hpp"

namespace attnflow::hf::detail {

using Vocab = std::unordered_map<std::string, std::int64_t>;

[[noreturn]] void fail(const std::string& where, const std::string& problem);

bool get_bool(const nlohmann::json& obj, const char* key, bool fallback, const std::string& where);
std::optional<std::string> get_string(const nlohmann::json& obj, const char* key,
                                      const std::string& where);
/// A special-token field of tokenizer_config.json: "[CLS]" or {"content": "[CLS]", ...}.
std::optional<std::string> token_field(const nlohmann::json& config, const char* key,
                                       const std::string& where);
/// Throws Error "<where>: <what> id <id> is outside 0..<kMaxTokenId>".
void check_token_id(std::int64_t id, const std::string& what, const std::string& where);
/// A non-empty vocab object token -> id in 0..kMaxTokenId, no id given to two tokens.
Vocab vocab_object(const nlohmann::json& v, const std::string& where);
/// One added token ({"content", "special", "normalized", "lstrip", ...}) with id `id`.
AddedToken added_token(const nlohmann::json& t, std::int64_t id, const std::string& where);
/// tokenizer.json's "added_tokens" list.
std::vector<AddedToken> added_tokens_json(const nlohmann::json& doc, const std::string& where);

TemplateItem special_item(const std::string& token, std::int64_t id, std::int32_t type_id);
TemplateItem sequence_item(int sequence, std::int32_t type_id);

}  // namespace attnflow::hf::detail
