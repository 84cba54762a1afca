// view_page: the examples as the page's JSON data (attention quantised per row to 8 or 16
// bits, method maps as float32, both little-endian and base64) inside the embedded template.
#include <boost/archive/iterators/base64_from_binary.hpp>
#include <boost/archive/iterators/transform_width.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <sstream>

#include "attnflow/core/error.hpp"
#include "attnflow/pipeline/view.hpp"
#include "attnflow/version.hpp"
#include "view_assets.hpp"

namespace attnflow::pipeline {
namespace {

using Bytes = std::vector<unsigned char>;

std::string base64(Bytes bytes) {
  using namespace boost::archive::iterators;
  using Encoder = base64_from_binary<transform_width<const unsigned char*, 6, 8>>;
  // Encode whole 3-byte groups only (zero-padded), then mark the padding with '='.
  const std::size_t pad = (3 - bytes.size() % 3) % 3;
  bytes.resize(bytes.size() + pad, 0);
  std::string out(Encoder(bytes.data()), Encoder(bytes.data() + bytes.size()));
  out.replace(out.size() - pad, pad, pad, '=');
  return out;
}

void put_float(Bytes& out, float value) {
  std::uint32_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  for (int b = 0; b < 4; ++b) out.push_back(static_cast<unsigned char>(bits >> (8 * b)));
}

// Per row of every head: scale = row maximum (float32), q = round(a / scale * levels).
nlohmann::json quantised_attention(const AttentionStack& a, int bits) {
  const double levels = bits == 16 ? 65535.0 : 255.0;
  const std::size_t n = static_cast<std::size_t>(a.tokens());
  const std::vector<float>& data = a.data();
  Bytes scales, values;
  values.reserve(data.size() * static_cast<std::size_t>(bits / 8));
  for (std::size_t row = 0; row < data.size() / n; ++row) {
    const float* v = data.data() + row * n;
    float max = 0.0f;
    for (std::size_t j = 0; j < n; ++j) max = std::max(max, v[j]);
    put_float(scales, max);
    for (std::size_t j = 0; j < n; ++j) {
      const double q = max > 0.0f ? std::min(levels, std::round(v[j] / max * levels)) : 0.0;
      const auto level = static_cast<std::uint32_t>(q);
      values.push_back(static_cast<unsigned char>(level & 0xffu));
      if (bits == 16) values.push_back(static_cast<unsigned char>(level >> 8));
    }
  }
  return {{"scale", base64(std::move(scales))}, {"q", base64(std::move(values))}};
}

void check_example(const ViewExample& e) {
  const std::string what = "view: example " + std::to_string(e.index);
  if (e.attention.empty()) throw Error(what + ": no attention");
  const int n = e.attention.tokens();
  if (static_cast<int>(e.tokens.size()) != n) {
    throw Error(what + ": " + std::to_string(e.tokens.size()) + " token labels for " +
                std::to_string(n) + " tokens of attention");
  }
  if (static_cast<int>(e.head_names.size()) != e.attention.heads()) {
    throw Error(what + ": " + std::to_string(e.head_names.size()) + " head names for " +
                std::to_string(e.attention.heads()) + " heads");
  }
  check_token_index(e.target, n, what + ": target row");
  for (const NamedMaps& m : e.maps) {
    if (m.maps.rows != std::vector<int>{e.target}) {
      throw Error(what + ": maps '" + m.name + "' are not of the single target row " +
                  std::to_string(e.target));
    }
    for (const Matrix& map : m.maps.maps) {
      if (map.rows() != 1 || map.cols() != n) {
        throw Error(what + ": maps '" + m.name + "' are not 1 x " + std::to_string(n));
      }
    }
  }
}

nlohmann::json example_json(const ViewExample& e, int bits) {
  check_example(e);
  nlohmann::json methods = nlohmann::json::array();
  for (const NamedMaps& m : e.maps) {
    Bytes values;
    for (const Matrix& map : m.maps.maps) {
      for (Eigen::Index t = 0; t < map.cols(); ++t) {
        put_float(values, static_cast<float>(map(0, t)));
      }
    }
    methods.push_back(
        {{"name", m.name}, {"layers", m.maps.layers}, {"values", base64(std::move(values))}});
  }
  return {{"name", e.name},
          {"index", e.index},
          {"tokens", e.tokens},
          {"layers", e.attention.layers()},
          {"heads", e.attention.heads()},
          {"head_names", e.head_names},
          {"target", e.target},
          {"notes", e.notes},
          {"attention", quantised_attention(e.attention, bits)},
          {"methods", methods}};
}

std::string html_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// JSON inside <script type="application/json">: no '<' at all, so no "</script" or "<!--"
// can end or change the element ('<' only occurs inside JSON strings, where \u003c is '<').
std::string script_safe_json(const nlohmann::json& data) {
  const std::string text = data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  return out;
}

// The template with each @ATTNFLOW_KEY@ replaced (in one pass over the template only).
std::string expand(const std::string& page,
                   const std::vector<std::pair<std::string, std::string>>& values) {
  std::string out;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t at = page.find("@ATTNFLOW_", pos);
    if (at == std::string::npos) break;
    const std::size_t end = page.find('@', at + 1);
    const std::string key = page.substr(at + 1, end - at - 1);
    out.append(page, pos, at - pos);
    bool found = false;
    for (const auto& [name, value] : values) {
      if (name == key) {
        out += value;
        found = true;
      }
    }
    if (!found) throw Error("view: the page template has an unknown field " + key);
    pos = end + 1;
  }
  out.append(page, pos, std::string::npos);
  return out;
}

}  // namespace

bool view_available() {
  return detail::kViewD3[0] != '\0';
}

void check_view_page_options(const ViewPageOptions& options) {
  if (!view_available()) {
    throw Error(
        "attnflow was built without d3: view is not available (install Debian's node-d3, "
        "scripts/install_deps.sh, or pass -DATTNFLOW_D3_JS=/path/to/d3.min.js, and re-run "
        "cmake)");
  }
  if (options.bits != 8 && options.bits != 16) {
    throw Error("--bits: " + std::to_string(options.bits) + " (expected 8 or 16)");
  }
  if (!(options.min_weight >= 0.0 && options.min_weight <= 1.0)) {
    std::ostringstream value;
    value << options.min_weight;
    throw Error("--min-weight: " + value.str() + " (expected 0..1)");
  }
}

std::string view_page(const std::vector<ViewExample>& examples, const ViewPageOptions& options) {
  check_view_page_options(options);
  if (examples.empty()) throw Error("view: no examples to show");
  nlohmann::json data = {{"bits", options.bits},
                         {"min_weight", options.min_weight},
                         {"version", ATTNFLOW_VERSION_STRING},
                         {"examples", nlohmann::json::array()}};
  for (const ViewExample& e : examples) data["examples"].push_back(example_json(e, options.bits));
  const std::string title = options.title.empty() ? examples.front().name : options.title;
  return expand(detail::kViewHtml, {{"ATTNFLOW_TITLE", html_escape(title)},
                                    {"ATTNFLOW_VERSION", ATTNFLOW_VERSION_STRING},
                                    {"ATTNFLOW_CSS", detail::kViewCss},
                                    {"ATTNFLOW_DATA", script_safe_json(data)},
                                    {"ATTNFLOW_D3", detail::kViewD3},
                                    {"ATTNFLOW_JS", detail::kViewJs}});
}

}  // namespace attnflow::pipeline
