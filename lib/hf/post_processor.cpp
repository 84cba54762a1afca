// tokenizer.json's post-processors as templates: TemplateProcessing, BertProcessing
// ([CLS] A [SEP] / [CLS] A [SEP] B [SEP], type ids 0/1), RobertaProcessing (<s> A </s></s> B
// </s>, type ids 0), ByteLevel (offsets only) and Sequence.
#include "json_util.hpp"
#include "tokenizer_json.hpp"
#include "tokenizer_pipeline.hpp"

namespace attnflow::hf::detail {

using nlohmann::json;

namespace {

std::pair<std::string, std::int64_t> token_id_pair(const json& p, const char* key,
                                                   const JsonAt& at) {
  const auto it = p.find(key);
  if (it == p.end() || !it->is_array() || it->size() != 2 || !(*it)[0].is_string() ||
      !(*it)[1].is_number_integer()) {
    (at / key).fail("must be [token, id]");
  }
  const std::int64_t id = (*it)[1].get<std::int64_t>();
  check_token_id(id, "'" + std::string(key) + "'", at.where());
  return {(*it)[0].get<std::string>(), id};
}

std::vector<TemplateItem> template_items(const json& p, const char* key, const json& specials,
                                         const JsonAt& at) {
  std::vector<TemplateItem> list;
  const JsonAt list_at = at / key;
  if (!p.contains(key) || !p[key].is_array()) list_at.fail("must be a list of template items");
  for (std::size_t i = 0; i < p[key].size(); ++i) {
    const json& piece = p[key][i];
    const JsonAt item_at = list_at / i;
    const auto type_id = [&](const json& s, const JsonAt& s_at) {
      return static_cast<std::int32_t>(s_at.get_int(s, "type_id", 0, 0, 1 << 30));
    };
    if (piece.is_object() && piece.contains("Sequence") && piece["Sequence"].is_object()) {
      const json& s = piece["Sequence"];
      const std::string id = item_at.get_string(s, "id").value_or("A");
      if (id != "A" && id != "B")
        (item_at / "Sequence" / "id").fail("must be A or B, got '" + id + "'");
      list.push_back(sequence_item(id == "A" ? 0 : 1, type_id(s, item_at / "Sequence")));
    } else if (piece.is_object() && piece.contains("SpecialToken") &&
               piece["SpecialToken"].is_object()) {
      const json& s = piece["SpecialToken"];
      const JsonAt s_at = item_at / "SpecialToken";
      const std::string id = s_at.get_string(s, "id").value_or("");
      if (!specials.is_object() || !specials.contains(id) || !specials[id].is_object())
        (s_at / "id").fail("special token '" + id + "' is not in special_tokens");
      const json& def = specials[id];
      const JsonAt def_at = at / "special_tokens" / id;
      TemplateItem item;
      item.type_id = type_id(s, s_at);
      const json ids = def.value("ids", json::array()), tokens = def.value("tokens", json::array());
      if (!ids.is_array() || !tokens.is_array() || ids.size() != tokens.size())
        def_at.fail("needs lists 'ids' and 'tokens' of the same length");
      for (std::size_t k = 0; k < ids.size(); ++k) {
        if (!ids[k].is_number_integer() || !tokens[k].is_string())
          def_at.fail("ids must be integers and tokens strings");
        check_token_id(ids[k].get<std::int64_t>(), "special token '" + id + "'", def_at.where());
        item.ids.push_back(ids[k].get<std::int64_t>());
        item.tokens.push_back(tokens[k].get<std::string>());
      }
      list.push_back(std::move(item));
    } else {
      item_at.fail("template item must be {\"Sequence\": ...} or {\"SpecialToken\": ...}, got " +
                   brief(piece));
    }
  }
  return list;
}

void parse_into(const json& p, const JsonAt& at, PostTemplate& out) {
  if (p.is_null()) return;
  const std::string type = at.type_of(p, "post-processor");
  if (type == "ByteLevel") return;  // offsets only
  if (type == "Sequence") {
    const JsonAt list = at / "processors";
    if (!p.contains("processors") || !p["processors"].is_array())
      list.fail("must be a list of post-processors");
    for (std::size_t i = 0; i < p["processors"].size(); ++i)
      parse_into(p["processors"][i], list / i, out);
    return;
  }
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    const auto [cls, cls_id] = token_id_pair(p, "cls", at);
    const auto [sep, sep_id] = token_id_pair(p, "sep", at);
    const bool bert = type == "BertProcessing";
    out.single = {special_item(cls, cls_id, 0), sequence_item(0, 0), special_item(sep, sep_id, 0)};
    out.pair = {special_item(cls, cls_id, 0), sequence_item(0, 0), special_item(sep, sep_id, 0)};
    if (!bert) out.pair.push_back(special_item(sep, sep_id, 0));
    out.pair.push_back(sequence_item(1, bert ? 1 : 0));
    out.pair.push_back(special_item(sep, sep_id, bert ? 1 : 0));
    return;
  }
  if (type == "TemplateProcessing") {
    const json specials = p.value("special_tokens", json::object());
    out.single = template_items(p, "single", specials, at);
    out.pair = template_items(p, "pair", specials, at);
    return;
  }
  (at / "type")
      .fail("unknown post-processor '" + type +
            "' (supported: TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, "
            "Sequence)");
}

}  // namespace

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

PostTemplate parse_post_processor(const json& j, const JsonAt& at) {
  PostTemplate out;
  parse_into(j, at, out);
  return out;
}

}  // namespace attnflow::hf::detail
