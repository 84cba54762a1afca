// tokenizer.json / tokenizer_config.json fields: typed reads, added tokens, templates.
#include "tokenizer_json.hpp"

#include "attnflow/core/error.hpp"
#include "json_util.hpp"

namespace attnflow::hf::detail {

using nlohmann::json;

namespace {

std::pair<std::string, std::int64_t> token_id_pair(const json& p, const char* key,
                                                   const std::string& where) {
  const auto it = p.find(key);
  if (it == p.end() || !it->is_array() || it->size() != 2 || !(*it)[0].is_string() ||
      !(*it)[1].is_number_integer()) {
    fail(where, "post_processor '" + std::string(key) + "' must be [token, id]");
  }
  return {(*it)[0].get<std::string>(), (*it)[1].get<std::int64_t>()};
}

}  // namespace

[[noreturn]] void fail(const std::string& where, const std::string& problem) {
  throw Error(where + ": " + problem);
}

bool get_bool(const json& obj, const char* key, bool fallback, const std::string& where) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  if (!it->is_boolean())
    fail(where, "'" + std::string(key) + "' must be true or false, got " + detail::brief(*it));
  return it->get<bool>();
}

std::optional<std::string> get_string(const json& obj, const char* key, const std::string& where) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_string())
    fail(where, "'" + std::string(key) + "' must be a string, got " + detail::brief(*it));
  return it->get<std::string>();
}

std::optional<std::string> token_field(const json& config, const char* key,
                                       const std::string& where) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
    return (*it)["content"].get<std::string>();
  }
  fail(where, "'" + std::string(key) + "' must be a string or {\"content\": ...}, got " +
                  detail::brief(*it));
}

void check_token_id(std::int64_t id, const std::string& what, const std::string& where) {
  if (id < 0 || id > kMaxTokenId) {
    fail(where,
         what + " id " + std::to_string(id) + " is outside 0.." + std::to_string(kMaxTokenId));
  }
}

Vocab vocab_object(const json& v, const std::string& where) {
  if (!v.is_object())
    fail(where, "vocab must be an object of token -> id, got " + detail::type_words(v));
  if (v.empty()) fail(where, "vocab is empty");
  Vocab vocab;
  std::unordered_map<std::int64_t, const std::string*> tokens;  // id -> token, for duplicates
  for (auto it = v.begin(); it != v.end(); ++it) {
    const json& id = it.value();
    // (get<int64_t> of an unsigned value past INT64_MAX is negative, so one check covers it.)
    if (!id.is_number_integer() || id.get<std::int64_t>() < 0 ||
        id.get<std::int64_t>() > kMaxTokenId) {
      fail(where, "vocab id of '" + it.key() + "' must be an integer in 0.." +
                      std::to_string(kMaxTokenId) + ", got " + detail::brief(id));
    }
    const auto [slot, fresh] = tokens.emplace(id.get<std::int64_t>(), &it.key());
    if (!fresh) {
      fail(where, "vocab tokens '" + *slot->second + "' and '" + it.key() + "' have the same id " +
                      std::to_string(id.get<std::int64_t>()));
    }
    vocab[it.key()] = id.get<std::int64_t>();
  }
  return vocab;
}

AddedToken added_token(const json& t, std::int64_t id, const std::string& where) {
  if (!t.is_object() || !t.contains("content") || !t["content"].is_string()) {
    fail(where, "added token must be an object with a string 'content', got " + detail::brief(t));
  }
  AddedToken a;
  a.content = t["content"].get<std::string>();
  check_token_id(id, "added token '" + a.content + "':", where);
  if (a.content.empty()) fail(where, "added token " + std::to_string(id) + " has empty content");
  a.id = id;
  a.special = get_bool(t, "special", false, where);
  a.normalized = get_bool(t, "normalized", !a.special, where);
  a.lstrip = get_bool(t, "lstrip", false, where);
  a.rstrip = get_bool(t, "rstrip", false, where);
  a.single_word = get_bool(t, "single_word", false, where);
  return a;
}

std::vector<AddedToken> added_tokens_json(const json& doc, const std::string& where) {
  std::vector<AddedToken> out;
  const auto it = doc.find("added_tokens");
  if (it == doc.end() || it->is_null()) return out;
  if (!it->is_array()) fail(where, "'added_tokens' must be a list, got " + detail::type_words(*it));
  for (const json& t : *it) {
    if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() ||
        t["id"].get<std::int64_t>() < 0 || t["id"].get<std::int64_t>() > kMaxTokenId) {
      fail(where, "added token needs an integer 'id' in 0.." + std::to_string(kMaxTokenId) +
                      ", got " + detail::brief(t));
    }
    out.push_back(added_token(t, t["id"].get<std::int64_t>(), where));
  }
  return out;
}

TemplateItem special_item(const std::string& token, std::int64_t id, std::int32_t type_id) {
  TemplateItem item;
  item.ids = {id};
  item.tokens = {token};
  item.type_id = type_id;
  return item;
}

TemplateItem sequence_item(int sequence, std::int32_t type_id) {
  TemplateItem item;
  item.sequence = sequence;
  item.type_id = type_id;
  return item;
}

void parse_post_processor(const json& p, const std::string& where, PostTemplate& out) {
  if (p.is_null()) return;
  const std::string type = p.is_object() && p.contains("type") && p["type"].is_string()
                               ? p["type"].get<std::string>()
                               : std::string();
  if (type == "ByteLevel") return;  // offsets only
  if (type == "Sequence") {
    if (!p.contains("processors") || !p["processors"].is_array()) {
      fail(where, "post_processor Sequence needs a 'processors' list");
    }
    for (const json& q : p["processors"]) parse_post_processor(q, where, out);
    return;
  }
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    const auto [cls, cls_id] = token_id_pair(p, "cls", where);
    const auto [sep, sep_id] = token_id_pair(p, "sep", where);
    const bool bert = type == "BertProcessing";
    out.single = {special_item(cls, cls_id, 0), sequence_item(0, 0), special_item(sep, sep_id, 0)};
    out.pair = {special_item(cls, cls_id, 0), sequence_item(0, 0), special_item(sep, sep_id, 0)};
    if (!bert) out.pair.push_back(special_item(sep, sep_id, 0));
    out.pair.push_back(sequence_item(1, bert ? 1 : 0));
    out.pair.push_back(special_item(sep, sep_id, bert ? 1 : 0));
    return;
  }
  if (type != "TemplateProcessing") {
    fail(where, "post_processor type '" + type +
                    "' is not supported (supported: TemplateProcessing, BertProcessing, "
                    "RobertaProcessing, ByteLevel, Sequence)");
  }
  const json specials = p.value("special_tokens", json::object());
  const auto items = [&](const char* key) {
    std::vector<TemplateItem> list;
    if (!p.contains(key) || !p[key].is_array())
      fail(where, "TemplateProcessing needs a '" + std::string(key) + "' list");
    for (const json& piece : p[key]) {
      if (piece.contains("Sequence")) {
        const json& s = piece["Sequence"];
        const std::string id = s.value("id", "A");
        if (id != "A" && id != "B")
          fail(where, "template sequence id must be A or B, got '" + id + "'");
        list.push_back(sequence_item(id == "A" ? 0 : 1, s.value("type_id", 0)));
      } else if (piece.contains("SpecialToken")) {
        const json& s = piece["SpecialToken"];
        const std::string id = s.value("id", "");
        if (!specials.contains(id))
          fail(where, "template special token '" + id + "' is not in special_tokens");
        const json& def = specials[id];
        TemplateItem item;
        item.type_id = s.value("type_id", 0);
        item.ids = def.value("ids", std::vector<std::int64_t>{});
        item.tokens = def.value("tokens", std::vector<std::string>{});
        if (item.ids.size() != item.tokens.size()) {
          fail(where, "special token '" + id + "' has " + std::to_string(item.ids.size()) +
                          " ids but " + std::to_string(item.tokens.size()) + " tokens");
        }
        list.push_back(std::move(item));
      } else {
        fail(where, "template item must be Sequence or SpecialToken, got " + detail::brief(piece));
      }
    }
    return list;
  };
  out.single = items("single");
  out.pair = items("pair");
}

}  // namespace attnflow::hf::detail
