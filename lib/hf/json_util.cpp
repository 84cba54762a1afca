// File and JSON helpers with error messages that name the file.
#include "json_util.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unordered_set>
#include <vector>

#include "attnflow/core/error.hpp"

namespace attnflow::hf::detail {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Error(path + ": read failed");
  return ss.str();
}

namespace {

using nlohmann::json;

// nlohmann's DOM builder behind a SAX layer that knows where in the document it is. Every
// callback is O(1) (amortised), so parsing stays linear in the text.
class PathSax {
 public:
  PathSax(json& result, const std::string& where, const JsonParseOptions& options)
      : dom_(result, true), where_(where), options_(options) {}

  bool null() { return value() && dom_.null(); }
  bool boolean(bool v) { return value() && dom_.boolean(v); }
  bool number_integer(json::number_integer_t v) { return value() && dom_.number_integer(v); }
  bool number_unsigned(json::number_unsigned_t v) { return value() && dom_.number_unsigned(v); }
  bool number_float(json::number_float_t v, const json::string_t& s) {
    return value() && dom_.number_float(v, s);
  }
  bool string(json::string_t& v) { return value() && dom_.string(v); }
  bool binary(json::binary_t& v) { return value() && dom_.binary(v); }
  bool start_object(std::size_t n) { return open(false) && dom_.start_object(n); }
  bool start_array(std::size_t n) { return open(true) && dom_.start_array(n); }
  bool end_object() { return close() && dom_.end_object(); }
  bool end_array() { return close() && dom_.end_array(); }
  bool key(json::string_t& k) {
    Frame& f = frames_.back();
    f.key = k;
    f.in_value = true;
    if (frames_.size() == 1) top_level_key(k);
    return dom_.key(k);
  }
  [[noreturn]] bool parse_error(std::size_t, const std::string&,
                                const nlohmann::detail::exception& e) {
    const bool syntax = dynamic_cast<const json::parse_error*>(&e) != nullptr;
    const std::string at = syntax ? std::string() : pointer(true);
    throw Error(where_ + ": invalid JSON" + (at.empty() ? "" : " at " + at) + " (" +
                json_message(e) + ")");
  }

 private:
  struct Frame {
    bool array = false;
    std::string key;          ///< objects: the last key read
    std::int64_t index = -1;  ///< arrays: the element being read
    bool in_value = false;    ///< a key (or element) whose value is being read
  };

  // A value starts in the innermost container.
  bool value() {
    if (!frames_.empty()) {
      Frame& f = frames_.back();
      if (f.array) ++f.index;
      f.in_value = false;  // a scalar is complete at once
    }
    return true;
  }
  bool open(bool array) {
    if (!frames_.empty()) {
      Frame& f = frames_.back();
      if (f.array) ++f.index;
      f.in_value = true;
    }
    if (frames_.size() >= kMaxJsonDepth) {
      throw Error(where_ + ": invalid JSON at " + pointer(false) + " (nested deeper than " +
                  std::to_string(kMaxJsonDepth) + " levels)");
    }
    frames_.push_back(Frame{array, {}, -1, false});
    return true;
  }
  bool close() {
    frames_.pop_back();
    if (!frames_.empty()) frames_.back().in_value = false;
    return true;
  }
  void top_level_key(const std::string& k) {
    if (options_.unique_top_level_keys && !top_keys_.insert(k).second) {
      throw Error(where_ + ": duplicate entry '" + k + "'");
    }
    if (k != options_.uncounted_key) ++top_count_;
    if (options_.max_top_level_keys != 0 && top_count_ > options_.max_top_level_keys) {
      throw Error(where_ + ": more than " + std::to_string(options_.max_top_level_keys) + " " +
                  options_.counted_words + " (the limit)");
    }
  }
  // The JSON Pointer (RFC 6901) of the value being read; `pending` adds the element an array
  // is about to read (the one whose token failed).
  std::string pointer(bool pending) const {
    std::string p;
    for (std::size_t i = 0; i < frames_.size(); ++i) {
      const Frame& f = frames_[i];
      const bool top = i + 1 == frames_.size();
      if (f.array) {
        const std::int64_t index = top && pending && !f.in_value ? f.index + 1 : f.index;
        if (index >= 0) p += "/" + std::to_string(index);
      } else if (!top || f.in_value) {
        p += "/";
        for (char c : f.key)
          p += c == '~' ? std::string("~0") : c == '/' ? "~1" : std::string(1, c);
      }
    }
    constexpr std::size_t kShown = 100;  // deep or long paths are cut for the message
    if (p.size() > kShown) p = p.substr(0, kShown) + "...";
    return p;
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_;
  const std::string& where_;
  const JsonParseOptions& options_;
  std::vector<Frame> frames_;
  std::unordered_set<std::string> top_keys_;
  std::size_t top_count_ = 0;
};

}  // namespace

nlohmann::json parse_json(std::string_view text, const std::string& where,
                          const JsonParseOptions& options) {
  json result;
  PathSax sax(result, where, options);
  try {
    json::sax_parse(text.begin(), text.end(), &sax);
  } catch (const json::exception& e) {  // not raised through parse_error (none known)
    throw Error(where + ": invalid JSON (" + json_message(e) + ")");
  }
  return result;
}

std::string json_message(const std::exception& e) {
  std::string what = e.what();
  const auto bracket = what.find("] ");
  if (what.rfind("[json.exception", 0) == 0 && bracket != std::string::npos) {
    what = what.substr(bracket + 2);
  }
  return what;
}

nlohmann::json read_json_file(const std::string& path) {
  return parse_json(read_file(path), path);
}

std::string brief(const nlohmann::json& value) {
  std::string s = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

std::string type_words(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::object: return "an object";
    case nlohmann::json::value_t::array: return "an array";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: return "an integer";
    case nlohmann::json::value_t::number_float: return "a number";
    default: return "an unexpected value";
  }
}

}  // namespace attnflow::hf::detail
