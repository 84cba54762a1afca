// Store metadata: root attributes (write/read/validate), the checks an
// example passes before it is written, and names of the schema.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/enum_names.hpp"
#include "attnflow/core/util/float16.hpp"
#include "attnflow/core/util/utc_time.hpp"
#include "attnflow/core/util/utf8.hpp"
#include "attnflow/version.hpp"
#include "store_impl.hpp"

namespace attnflow::io {
namespace detail {
namespace {

// Precisions of attention and gradient stacks (float64 is for derived results only).
constexpr EnumName<Precision> kStackPrecisionNames[] = {
    {Precision::Float32, "float32"},
    {Precision::Float16, "float16"},
};

/// StoreInfo::compute_dtype: float32, float64, bfloat16 or float16.
void check_compute_dtype(const std::string& dtype, const std::string& what) {
  if (dtype != "float32" && dtype != "float64" && dtype != "bfloat16" && dtype != "float16") {
    throw Error(what + " is '" + dtype + "' (expected float32, float64, bfloat16 or float16)");
  }
}

std::string stack_shape(const AttentionStack& s) {
  return std::to_string(s.layers()) + " layers x " + std::to_string(s.heads()) + " heads x " +
         std::to_string(s.tokens()) + " x " + std::to_string(s.tokens());
}

void check_float16_range(const AttentionStack& stack, const std::string& what) {
  detail::check_float16_range(stack.data().data(), stack.data().size(), 0, stack.heads(),
                              stack.tokens(), what);
}

}  // namespace

void check_float16_range(const float* v, std::size_t count, int first_layer, int heads, int tokens,
                         const std::string& what) {
  // One branch-free (vectorised) pass over the bits: |x| above 65504 (or not finite, which
  // validate() has ruled out before); the loop below names the value.
  std::uint32_t out_of_range = 0;
  for (std::size_t k = 0; k < count; ++k) {
    std::uint32_t u;
    std::memcpy(&u, v + k, sizeof u);
    out_of_range |= static_cast<std::uint32_t>((u & 0x7fffffffu) > 0x477fe000u);
  }
  if (out_of_range == 0) return;
  for (std::size_t k = 0; k < count; ++k) {
    if (std::fabs(v[k]) > kFloat16Max) {
      const std::size_t n = static_cast<std::size_t>(tokens);
      const std::size_t map = n * n, h = static_cast<std::size_t>(heads);
      char value[32];
      std::snprintf(value, sizeof value, "%g", static_cast<double>(v[k]));
      throw Error(what + ": value " + value + " at layer " +
                  std::to_string(static_cast<std::size_t>(first_layer) + k / map / h + 1) +
                  " head " + std::to_string(k / map % h + 1) + " row " +
                  std::to_string(k % map / n) + " column " + std::to_string(k % n) +
                  " does not fit float16 (largest 65504); store float32");
    }
  }
}

void validate_info(const StoreInfo& info, const std::string& path) {
  if (info.layers < 1 || info.layers > kMaxLayersOrHeads) {
    throw Error(path + ": layers is " + std::to_string(info.layers) + " (expected 1 to " +
                std::to_string(kMaxLayersOrHeads) + ")");
  }
  if (info.heads < 1 || info.heads > kMaxLayersOrHeads) {
    throw Error(path + ": heads is " + std::to_string(info.heads) + " (expected 1 to " +
                std::to_string(kMaxLayersOrHeads) + ")");
  }
  if (info.attention_precision == Precision::Float64 ||
      info.gradient_precision == Precision::Float64) {
    throw Error(path + ": attention and gradient precision must be float32 or float16");
  }
  parse_contribution_list(contribution_list(info.contributions), path + ": contributions");
  const auto selection = [&](const std::vector<int>& chosen, int stored, int model,
                             const char* what) {
    if (chosen.empty()) return;
    bool ok = static_cast<int>(chosen.size()) == stored && model >= stored;
    for (std::size_t k = 0; ok && k < chosen.size(); ++k) {
      ok = chosen[k] >= 1 && chosen[k] <= model && (k == 0 || chosen[k] > chosen[k - 1]);
    }
    if (!ok) {
      throw Error(path + ": " + what + " selection does not fit (" + std::to_string(stored) +
                  " stored, expected as many ascending numbers in 1.." + std::to_string(model) +
                  ")");
    }
  };
  selection(info.layer_selection, info.layers, info.model_layers, "layer");
  selection(info.head_selection, info.heads, info.model_heads, "head");
  require_utf8(info.derived_run, path + ": derived run", NulBytes::Rejected);
  check_compute_dtype(info.compute_dtype, path + ": compute dtype");
  if (info.decoder_layers < 0 || info.decoder_layers > kMaxLayersOrHeads) {
    throw Error(path + ": decoder_layers is " + std::to_string(info.decoder_layers) +
                " (expected 0 to " + std::to_string(kMaxLayersOrHeads) + ")");
  }
  if (info.decoder_layers > 0 && info.mode != StoreMode::PerHead) {
    throw Error(path + ": an encoder-decoder store (decoder_layers " +
                std::to_string(info.decoder_layers) + ") must be per-head, not " +
                to_string(info.mode));
  }
  require_utf8(info.model, path + ": model name", NulBytes::Rejected);
  require_utf8(info.tokenizer, path + ": tokenizer", NulBytes::Rejected);
  require_utf8(info.fusion, path + ": fusion", NulBytes::Rejected);
}

void validate_write_options(const WriteOptions& options, const std::string& path) {
  if (enum_name(kCodecNames, options.codec)[0] == '?') {
    throw Error(path + ": unknown codec " + std::to_string(static_cast<int>(options.codec)));
  }
  if (options.compression < 0 || options.compression > 9) {
    throw Error(path + ": compression level " + std::to_string(options.compression) +
                " (expected 0 to 9)");
  }
  if (options.chunk_bytes < 1024) {
    throw Error(path + ": chunk_bytes " + std::to_string(options.chunk_bytes) +
                " is too small (at least 1024)");
  }
}

void write_root(hid_t file, const StoreInfo& info, const WriteOptions& options) {
  using namespace detail;
  set_int(file, kSchemaAttribute, info.uses_schema3() ? kNewestSchemaVersion : kSchemaVersion,
          H5T_STD_I32LE);
  set_string(file, "attnflow_version", ATTNFLOW_VERSION_STRING);
  set_string(file, "created", utc_now_iso8601());
  set_string(file, "model", info.model);
  set_string(file, "tokenizer", info.tokenizer);
  set_int(file, "layers", info.layers, H5T_STD_I32LE);
  set_int(file, "heads", info.heads, H5T_STD_I32LE);
  set_bool(file, "causal", info.causal);
  set_string(file, "store_mode", to_string(info.mode));
  set_string(file, "attention_dtype", to_string(info.attention_precision));
  set_string(file, "gradient_dtype", to_string(info.gradient_precision));
  set_string(file, "fusion", info.fusion);
  set_string(file, "compression", compression_name(options));
  if (info.extract_batch_size > 0) {
    set_int(file, "extract_batch_size", info.extract_batch_size, H5T_STD_I64LE);
  }
  if (info.shard.active()) {
    set_int(file, "shard_index", info.shard.index, H5T_STD_I32LE);
    set_int(file, "shard_count", info.shard.count, H5T_STD_I32LE);
    set_int(file, "shard_first", info.shard.first, H5T_STD_I64LE);
    set_int(file, "shard_end", info.shard.end, H5T_STD_I64LE);
    set_int(file, "shard_total", info.shard.total, H5T_STD_I64LE);
    set_string(file, "shard_source", info.shard.source);
  }
  set_string(file, "contributions", contribution_list(info.contributions));
  if (!info.layer_selection.empty()) {  // schema 3
    set_ints(file, "layer_selection", info.layer_selection);
    set_int(file, "model_layers", info.model_layers, H5T_STD_I32LE);
  }
  if (!info.head_selection.empty()) {
    set_ints(file, "head_selection", info.head_selection);
    set_int(file, "model_heads", info.model_heads, H5T_STD_I32LE);
  }
  if (!info.derived_run.empty()) set_string(file, "derived_run", info.derived_run);
  if (info.compute_dtype != "float32") set_string(file, "compute_dtype", info.compute_dtype);
  if (info.decoder_layers > 0) set_int(file, "decoder_layers", info.decoder_layers, H5T_STD_I32LE);
  set_int(file, kCountAttribute, 0, H5T_STD_I64LE);
}

namespace {

/// The shard_* root attributes (all or none), checked.
ShardRange read_shard(hid_t file, const std::string& path) {
  ShardRange r;
  if (!has_attribute(file, "shard_count")) return r;
  r.index = static_cast<int>(get_int(file, "shard_index", path));
  r.count = static_cast<int>(get_int(file, "shard_count", path));
  r.first = get_int(file, "shard_first", path);
  r.end = get_int(file, "shard_end", path);
  r.total = get_int(file, "shard_total", path);
  r.source = get_string(file, "shard_source", path);
  if (r.count < 1 || r.index < 0 || r.index >= r.count || r.first < 0 || r.end < r.first ||
      r.end > r.total) {
    throw Error(path + ": shard attributes are inconsistent (shard " + std::to_string(r.index) +
                " of " + std::to_string(r.count) + ", examples " + std::to_string(r.first) +
                " to " + std::to_string(r.end) + " of " + std::to_string(r.total) + ")");
  }
  return r;
}

/// The schema-3 selection attributes (each pair all or none), checked against layers / heads.
void read_selection(hid_t file, const std::string& path, StoreInfo& info) {
  const auto one = [&](const char* list, const char* model, int stored, std::vector<int>& out,
                       int& model_count) {
    if (!has_attribute(file, list)) return;
    out = get_ints(file, list, path);
    model_count = static_cast<int>(get_int(file, model, path));
    bool ok = static_cast<int>(out.size()) == stored;
    for (std::size_t k = 0; ok && k < out.size(); ++k) {
      ok = out[k] >= 1 && out[k] <= model_count && (k == 0 || out[k] > out[k - 1]);
    }
    if (!ok) {
      throw Error(path + ": attribute '" + list + "' does not fit (expected " +
                  std::to_string(stored) + " ascending numbers in 1.." +
                  std::to_string(model_count) + ", the '" + model + "' attribute)");
    }
  };
  one("layer_selection", "model_layers", info.layers, info.layer_selection, info.model_layers);
  one("head_selection", "model_heads", info.heads, info.head_selection, info.model_heads);
  if (has_attribute(file, "derived_run")) info.derived_run = get_string(file, "derived_run", path);
  if (has_attribute(file, "compute_dtype")) {
    info.compute_dtype = get_string(file, "compute_dtype", path);
    check_compute_dtype(info.compute_dtype, path + ": attribute 'compute_dtype'");
  }
}

}  // namespace

StoreInfo read_root(hid_t file, const std::string& path, std::int64_t& size) {
  using namespace detail;
  if (!has_attribute(file, kSchemaAttribute)) {
    throw Error(path + ": not an attnflow store (no root attribute '" +
                std::string(kSchemaAttribute) + "')");
  }
  StoreInfo info;
  const std::int64_t version = get_int(file, kSchemaAttribute, path);
  if (version < kOldestSchemaVersion || version > kNewestSchemaVersion) {
    throw Error(path + ": schema version " + std::to_string(version) +
                " is not supported (attnflow " ATTNFLOW_VERSION_STRING " reads schema versions " +
                std::to_string(kOldestSchemaVersion) + " to " +
                std::to_string(kNewestSchemaVersion) + ")");
  }
  info.schema_version = static_cast<int>(version);
  info.tool_version = get_string(file, "attnflow_version", path);
  info.created = get_string(file, "created", path);
  info.model = get_string(file, "model", path);
  info.tokenizer = get_string(file, "tokenizer", path);
  for (const char* name : {"layers", "heads"}) {
    const std::int64_t v = get_int(file, name, path);
    if (v < 1 || v > kMaxLayersOrHeads) {
      throw Error(path + ": attribute '" + name + "' is " + std::to_string(v) + " (expected 1 to " +
                  std::to_string(kMaxLayersOrHeads) + ")");
    }
    (std::string(name) == "layers" ? info.layers : info.heads) = static_cast<int>(v);
  }
  info.causal = get_bool(file, "causal", path);
  info.mode = parse_enum(kStoreModeNames, get_string(file, "store_mode", path),
                         path + ": attribute 'store_mode'");
  info.attention_precision =
      parse_enum(kStackPrecisionNames, get_string(file, "attention_dtype", path),
                 path + ": attribute 'attention_dtype'");
  info.gradient_precision =
      parse_enum(kStackPrecisionNames, get_string(file, "gradient_dtype", path),
                 path + ": attribute 'gradient_dtype'");
  info.fusion = get_string(file, "fusion", path);
  if (has_attribute(file, "compression")) {  // optional: older files have none
    info.compression = get_string(file, "compression", path);
  }
  if (has_attribute(file, "extract_batch_size")) {  // optional: older files have none
    info.extract_batch_size = get_int(file, "extract_batch_size", path);
    if (info.extract_batch_size < 1) {
      throw Error(path + ": attribute 'extract_batch_size' is " +
                  std::to_string(info.extract_batch_size) + " (expected >= 1)");
    }
  }
  info.shard = read_shard(file, path);
  if (version >= 2) {
    info.contributions = parse_contribution_list(get_string(file, "contributions", path),
                                                 path + ": attribute 'contributions'");
  }
  if (version >= 3) read_selection(file, path, info);
  if (version >= kEncoderDecoderSchemaVersion && has_attribute(file, "decoder_layers")) {
    const std::int64_t v = get_int(file, "decoder_layers", path);
    if (v < 1 || v > kMaxLayersOrHeads) {
      throw Error(path + ": attribute 'decoder_layers' is " + std::to_string(v) +
                  " (expected 1 to " + std::to_string(kMaxLayersOrHeads) + ")");
    }
    info.decoder_layers = static_cast<int>(v);
    if (info.mode != StoreMode::PerHead) {
      throw Error(path + ": attribute 'decoder_layers' in a " + to_string(info.mode) +
                  " store (encoder-decoder stores are per-head)");
    }
  }
  size = get_int(file, kCountAttribute, path);
  if (size < 0) {
    throw Error(path + ": attribute '" + std::string(kCountAttribute) + "' is " +
                std::to_string(size) + " (expected >= 0)");
  }
  return info;
}

namespace {

// The example's contribution stacks against StoreInfo::contributions.
void validate_contributions(const Example& e, const StoreInfo& info, const std::string& where) {
  const int n = e.tokens_count();
  for (const auto& [c, stack] : e.contributions) {
    if (std::find(info.contributions.begin(), info.contributions.end(), c) ==
        info.contributions.end()) {
      throw Error(where + ": " + to_string(c) +
                  " contributions given, but the store holds none (StoreInfo::contributions)");
    }
    const std::string what = where + ": " + to_string(c) + " contributions";
    if (stack.layers() != info.layers || stack.heads() != 1 || stack.tokens() != n) {
      throw Error(what + " are " + stack_shape(stack) + ", the store expects " +
                  std::to_string(info.layers) + " layers x 1 heads x " + std::to_string(n) + " x " +
                  std::to_string(n));
    }
    validate(stack, AttentionCheck::weights(what));
    if (info.attention_precision == Precision::Float16) check_float16_range(stack, what);
  }
  for (Contribution c : info.contributions) {
    if (e.contributions.count(c) == 0) {
      throw Error(where + ": no " + std::string(to_string(c)) +
                  " contributions (the store holds them for every example)");
    }
  }
}

std::string map_shape(int layers, int heads, int rows, int cols) {
  return std::to_string(layers) + " layers x " + std::to_string(heads) + " heads x " +
         std::to_string(rows) + " x " + std::to_string(cols);
}

void validate_cross(const CrossAttentionStack& c, const StoreInfo& info, int m, int n, bool weights,
                    const std::string& what) {
  if (c.layers() != info.decoder_layers || c.heads() != info.heads || c.queries() != m ||
      c.keys() != n ||
      c.data().size() != static_cast<std::size_t>(c.layers()) *
                             static_cast<std::size_t>(c.heads()) * static_cast<std::size_t>(m) *
                             static_cast<std::size_t>(n)) {
    throw Error(what + " is " + map_shape(c.layers(), c.heads(), c.queries(), c.keys()) + " (" +
                std::to_string(c.data().size()) + " values), the store expects " +
                map_shape(info.decoder_layers, info.heads, m, n) + " (" + std::to_string(m) +
                " decoder tokens, " + std::to_string(n) + " tokens)");
  }
  for (std::size_t k = 0; k < c.data().size(); ++k) {
    const float x = c.data()[k];
    if (!std::isfinite(x) || (weights && x < 0)) {
      char value[32];
      std::snprintf(value, sizeof value, "%g", static_cast<double>(x));
      throw Error(what + ": value " + value + " at entry " + std::to_string(k) +
                  (weights ? " is not a finite non-negative weight" : " is not finite"));
    }
    if ((weights ? info.attention_precision : info.gradient_precision) == Precision::Float16 &&
        std::fabs(x) > kFloat16Max) {
      throw Error(what + ": value at entry " + std::to_string(k) +
                  " does not fit float16 (largest 65504); store float32");
    }
  }
}

// The decoder side of an example against StoreInfo::decoder_layers.
void validate_decoder(const Example& e, const StoreInfo& info, const std::string& where,
                      bool gradients) {
  const DecoderMaps& d = e.decoder;
  const bool given = !d.tokens.empty() || !d.token_ids.empty() || !d.attention.empty() ||
                     !d.gradient.empty() || !d.cross_attention.empty() || !d.cross_gradient.empty();
  if (info.decoder_layers == 0) {
    if (given) {
      throw Error(where +
                  ": decoder tokens or maps given, but the store has no decoder "
                  "(StoreInfo::decoder_layers 0)");
    }
    return;
  }
  const int m = d.tokens_count(), n = e.tokens_count();
  if (m == 0) throw Error(where + ": no decoder tokens (an encoder-decoder store)");
  if (m > kMaxTokens) {
    throw Error(where + ": " + std::to_string(m) + " decoder tokens (at most " +
                std::to_string(kMaxTokens) + ")");
  }
  for (int k = 0; k < m; ++k) {
    require_utf8(d.tokens[static_cast<std::size_t>(k)],
                 where + ": decoder token " + std::to_string(k), NulBytes::Rejected);
  }
  if (!d.token_ids.empty() && static_cast<int>(d.token_ids.size()) != m) {
    throw Error(where + ": " + std::to_string(d.token_ids.size()) + " decoder token ids for " +
                std::to_string(m) + " decoder tokens");
  }
  const std::string self = where + ": decoder attention";
  if (d.attention.layers() != info.decoder_layers || d.attention.heads() != info.heads ||
      d.attention.tokens() != m) {
    throw Error(self + " is " + stack_shape(d.attention) + ", the store expects " +
                map_shape(info.decoder_layers, info.heads, m, m) + " (" + std::to_string(m) +
                " decoder tokens)");
  }
  validate(d.attention, AttentionCheck::weights(self));
  if (info.attention_precision == Precision::Float16) check_float16_range(d.attention, self);
  validate_cross(d.cross_attention, info, m, n, true, where + ": cross-attention");
  if (gradients != !d.gradient.empty() || gradients != !d.cross_gradient.empty()) {
    throw Error(where +
                ": the encoder, decoder and cross-attention gradients come together (all "
                "three or none)");
  }
  if (gradients) {
    require_same_shape(d.attention, d.gradient, self, where + ": decoder gradient");
    validate(d.gradient, AttentionCheck::any_sign(where + ": decoder gradient"));
    if (info.gradient_precision == Precision::Float16) {
      check_float16_range(d.gradient, where + ": decoder gradient");
    }
    validate_cross(d.cross_gradient, info, m, n, false, where + ": cross-attention gradient");
  }
}

}  // namespace

void validate_example(const Example& e, const StoreInfo& info, const std::string& where,
                      std::optional<bool> streamed_gradient) {
  const int n = e.tokens_count();
  if (n == 0) throw Error(where + ": no tokens");
  if (n > kMaxTokens) {
    throw Error(where + ": " + std::to_string(n) + " tokens (at most " +
                std::to_string(kMaxTokens) + ")");
  }
  for (int k = 0; k < n; ++k) {
    require_utf8(e.tokens[static_cast<std::size_t>(k)], where + ": token " + std::to_string(k),
                 NulBytes::Rejected);
  }
  if (!e.token_ids.empty() && static_cast<int>(e.token_ids.size()) != n) {
    throw Error(where + ": " + std::to_string(e.token_ids.size()) + " token ids for " +
                std::to_string(n) + " tokens");
  }
  validate_contributions(e, info, where);
  validate_decoder(e, info, where, streamed_gradient.value_or(!e.gradient.empty()));
  if (info.mode == StoreMode::Derived) {
    if (!e.attention.empty() || !e.gradient.empty()) {
      throw Error(where +
                  ": a derived-mode store holds no attention or gradient (leave them "
                  "empty and write derived results)");
    }
    return;
  }
  if (streamed_gradient) {
    if (!e.attention.empty() || !e.gradient.empty()) {
      throw Error(where +
                  ": its attention and gradient were written a layer at a time; the example "
                  "must not hold them again");
    }
    return;
  }
  const int heads = info.mode == StoreMode::PerHead ? info.heads : 1;
  if (e.attention.empty()) throw Error(where + ": no attention stack");
  if (e.attention.layers() != info.layers || e.attention.heads() != heads ||
      e.attention.tokens() != n) {
    throw Error(where + ": attention is " + stack_shape(e.attention) + ", the store expects " +
                std::to_string(info.layers) + " layers x " + std::to_string(heads) + " heads x " +
                std::to_string(n) + " x " + std::to_string(n) + " (" + std::to_string(n) +
                " tokens)");
  }
  validate(e.attention, AttentionCheck::any_sign(where + ": attention"));
  if (info.attention_precision == Precision::Float16) {
    check_float16_range(e.attention, where + ": attention");
  }
  if (!e.gradient.empty()) {
    if (info.mode == StoreMode::Fused) {
      throw Error(where +
                  ": a fused-mode store holds no gradient (gradient rollout needs "
                  "per-head attention)");
    }
    require_same_shape(e.attention, e.gradient, where + ": attention", where + ": gradient");
    validate(e.gradient, AttentionCheck::any_sign(where + ": gradient"));
    if (info.gradient_precision == Precision::Float16) {
      check_float16_range(e.gradient, where + ": gradient");
    }
  }
}

std::vector<hsize_t> stack_dims(const StoreInfo& info, hsize_t n) {
  if (info.mode == StoreMode::PerHead) {
    return {static_cast<hsize_t>(info.layers), static_cast<hsize_t>(info.heads), n, n};
  }
  return {static_cast<hsize_t>(info.layers), n, n};
}

std::string contribution_dataset(Contribution c) {
  std::string name = std::string("contribution_") + to_string(c);
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

}  // namespace detail

Precision parse_precision(const std::string& name) {
  return parse_enum(kPrecisionNames, name, "precision");
}

const char* to_string(Precision precision) {
  return enum_name(kPrecisionNames, precision);
}

StoreMode parse_store_mode(const std::string& name) {
  return parse_enum(kStoreModeNames, name, "store mode");
}

const char* to_string(StoreMode mode) {
  return enum_name(kStoreModeNames, mode);
}

namespace detail {

WriteOptions recorded_write_options(const StoreInfo& info, const std::string& path) {
  WriteOptions options;
  if (info.compression.empty()) return options;
  try {
    set_compression(options, info.compression);
  } catch (const Error& e) {
    throw Error(path + ": root attribute 'compression': " + e.what() +
                "; this attnflow cannot append to the file");
  }
  return options;
}

}  // namespace detail

void set_compression(WriteOptions& options, const std::string& name, const std::string& what) {
  const std::string gzip = "gzip-";
  if (name.size() == gzip.size() + 1 && name.compare(0, gzip.size(), gzip) == 0 &&
      name.back() >= '1' && name.back() <= '9') {
    options.codec = Codec::Gzip;
    options.compression = name.back() - '0';
    return;
  }
  const std::optional<Codec> codec = find_enum(kCodecNames, name);
  if (!codec) {
    throw Error(what + ": unknown '" + name + "' (expected " + kCompressionChoices + ")");
  }
  options.codec = *codec;
  if (*codec == Codec::Gzip) options.compression = 4;
}

std::string compression_name(const WriteOptions& options) {
  if (options.codec == Codec::Gzip) {
    return options.compression == 0 ? "none" : "gzip-" + std::to_string(options.compression);
  }
  return enum_name(kCodecNames, options.codec);
}

std::string example_name(std::int64_t index) {
  char name[32];
  std::snprintf(name, sizeof name, "%09lld", static_cast<long long>(index));
  return name;
}

}  // namespace attnflow::io
