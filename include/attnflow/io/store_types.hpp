// The data model of the HDF5 attention store (docs/hdf5-schema.md): file
// metadata, one example (tokens, attention, gradient, labels), and the
// options for writing and reading. The store itself is in store.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "attnflow/core/contribution.hpp"
#include "attnflow/core/cross_stack.hpp"
#include "attnflow/core/stack.hpp"
#include "attnflow/core/util/enum_names.hpp"

namespace attnflow::io {

/// Schema version this build writes (root attribute `attnflow_schema_version`). Version 2
/// added the per-example contribution matrices; version-1 files are still read (and appended
/// to, as version 1: without contributions).
inline constexpr int kSchemaVersion = 2;
/// Schema version of encoder-decoder stores (StoreInfo::decoder_layers > 0): version 3 added the
/// decoder and cross-attention datasets.
inline constexpr int kEncoderDecoderSchemaVersion = 3;
/// The newest schema version this build reads and writes. Version 3 (docs/hdf5-schema.md) is
/// written only by stores that use its features: encoder-decoder datasets (decoder_layers), a
/// layer or head selection, or a derived run computed during extraction (layer_selection,
/// head_selection, derived_run), or maps computed in bfloat16 / float16 (compute_dtype); others
/// stay version 2.
inline constexpr int kNewestSchemaVersion = 3;
/// The oldest schema version this build reads.
inline constexpr int kOldestSchemaVersion = 1;

/// Precision of stored floating-point arrays (memory is always float32 for
/// attention and double for derived maps).
enum class Precision {
  Float32,  ///< IEEE binary32, little-endian
  Float16,  ///< IEEE binary16 (numpy float16): 3 significant digits, max 65504
  Float64,  ///< IEEE binary64 (derived results only)
};

/// What an example stores.
enum class StoreMode {
  PerHead,  ///< attention (L, H, n, n) and optional gradient (L, H, n, n)
  Fused,    ///< head-fused attention (L, n, n) only; no gradient
  Derived,  ///< no attention at all: tokens, labels and derived runs only
};

inline constexpr EnumName<Precision> kPrecisionNames[] = {
    {Precision::Float32, "float32"},
    {Precision::Float16, "float16"},
    {Precision::Float64, "float64"},
};
inline constexpr EnumName<StoreMode> kStoreModeNames[] = {
    {StoreMode::PerHead, "per-head"},
    {StoreMode::Fused, "fused"},
    {StoreMode::Derived, "derived"},
};
/// Throws Error("precision: unknown 'NAME' (expected float32, float16 or float64)").
Precision parse_precision(const std::string& name);
const char* to_string(Precision precision);
/// Throws Error("store mode: unknown 'NAME' (expected per-head, fused or derived)").
StoreMode parse_store_mode(const std::string& name);
const char* to_string(StoreMode mode);

/// The part of a corpus a shard store holds (`--shard K/N`; root attributes shard_*, written
/// only for shards): examples [first, end) of the `total` examples of the whole corpus, stored
/// as its examples 0..end-first-1. `attnflow merge` puts the shards back together.
struct ShardRange {
  int index = 0;           ///< K, 0-based
  int count = 0;           ///< N; 0 = not a shard
  std::int64_t first = 0;  ///< first example of the corpus in this shard
  std::int64_t end = 0;    ///< one past the last
  std::int64_t total = 0;  ///< examples of the whole corpus
  std::string source;      ///< what the corpus was (equal for all shards of one job)

  bool active() const { return count > 0; }
  std::int64_t size() const { return end - first; }
};

/// File metadata (root attributes). Set by the creator; the read-only fields
/// are filled when a store is opened.
struct StoreInfo {
  std::string model;      ///< e.g. "bert-base-uncased" (free text)
  std::string tokenizer;  ///< e.g. "bert-base-uncased WordPiece" (free text)
  int layers = 0;         ///< L (>= 1)
  int heads = 0;          ///< H (>= 1); every example has this many
  bool causal = false;    ///< decoder-style (lower-triangular) attention
  StoreMode mode = StoreMode::PerHead;
  Precision attention_precision = Precision::Float32;  ///< float32 or float16
  Precision gradient_precision = Precision::Float32;   ///< float32 or float16
  /// Fused mode: how the heads were fused before storing (free text,
  /// e.g. "mean"); recorded, not interpreted.
  std::string fusion = "mean";
  /// Examples per model run of the extraction that wrote the file (`attnflow extract -b`;
  /// root attribute `extract_batch_size`, written only when > 0). 0 = not recorded (an
  /// older file, or not written by extract). --resume needs it to batch as the first run did.
  std::int64_t extract_batch_size = 0;
  /// A shard of a corpus (count 0: the whole corpus).
  ShardRange shard;
  /// Value-aware contribution matrices every example holds (root attribute `contributions`,
  /// names comma-separated; schema version 2), stored as datasets `contribution_<name>`
  /// [L, n, n] at attention_precision.
  std::vector<Contribution> contributions;
  /// Encoder-decoder models (T5; schema version 3, root attribute `decoder_layers`): the
  /// decoder's layers L_dec. Then `layers` / `heads` / `causal` / attention describe the
  /// encoder, and every example also holds the decoder's tokens, its causal self-attention
  /// [L_dec, H, m, m] and its cross-attention [L_dec, H, m, n] (with their gradients when the
  /// encoder's gradient is stored). 0 = no decoder (every other store). Per-head mode only.
  int decoder_layers = 0;
  /// Schema 3: the 1-based model layers / heads the stored stacks hold, ascending (root
  /// attributes `layer_selection`, `head_selection`, `model_layers`, `model_heads`; written
  /// only for a selection). Empty = all: `layers` / `heads` are then the model's; with a
  /// selection they are its size and model_layers / model_heads the model's.
  std::vector<int> layer_selection;
  std::vector<int> head_selection;
  int model_layers = 0;  ///< 0 = `layers` (no layer selection)
  int model_heads = 0;   ///< 0 = `heads` (no head selection)
  /// Schema 3: the /derived run `attnflow extract --store derived` computed while extracting
  /// (root attribute `derived_run`); empty otherwise.
  std::string derived_run;
  /// Schema 3: the dtype the model computed the stored maps in (`attnflow extract --dtype`; root
  /// attribute `compute_dtype`, written only when it is not float32): "float32", "bfloat16" or
  /// "float16" ("float64": a TorchScript module saved so). The stored arrays keep
  /// attention_precision whatever it is.
  std::string compute_dtype = "float32";

  /// Whether the store uses a schema-3 feature (and is written as version 3).
  bool uses_schema3() const {
    return decoder_layers > 0 || !layer_selection.empty() || !head_selection.empty() ||
           !derived_run.empty() || compute_dtype != "float32";
  }

  // Filled on open (ignored by Store::create):
  int schema_version = kSchemaVersion;
  std::string tool_version;  ///< attnflow version that created the file
  std::string created;       ///< UTC creation time, ISO 8601
  /// The codec the file was created with (root attribute `compression`, compression_name);
  /// empty in files written before attnflow recorded it (their examples are gzip-4 + shuffle).
  std::string compression;
};

/// The decoder side of one example of an encoder-decoder store (StoreInfo::decoder_layers > 0).
struct DecoderMaps {
  std::vector<std::string> tokens;      ///< m UTF-8 strings: the teacher-forced decoder input
  std::vector<std::int64_t> token_ids;  ///< empty, or one id per token
  AttentionStack attention;             ///< decoder self-attention L_dec x H x m x m (causal)
  AttentionStack gradient;              ///< its dy/dA; empty = none
  CrossAttentionStack cross_attention;  ///< L_dec x H x m x n
  CrossAttentionStack cross_gradient;   ///< its dy/dA; empty = none

  int tokens_count() const { return static_cast<int>(tokens.size()); }
};

/// One example (a sequence of n tokens).
struct Example {
  std::vector<std::string> tokens;      ///< n UTF-8 strings (no NUL bytes)
  std::vector<std::int64_t> token_ids;  ///< empty, or one id per token
  /// PerHead: L x H x n x n. Fused: L x 1 x n x n. Derived: empty.
  AttentionStack attention;
  /// Optional dy/dA (PerHead only), same shape as attention; empty = none.
  AttentionStack gradient;
  std::optional<std::int64_t> label;   ///< e.g. gold class
  std::optional<std::int64_t> target;  ///< e.g. the logit the gradient is of
  /// The position whose logits `target` is of (LM targets: mask, next, last, token:POS:ID),
  /// 0-based and resolved (never negative); nullopt for a classifier's target.
  std::optional<std::int64_t> target_position;
  std::optional<std::int64_t> prediction;  ///< e.g. predicted class
  /// One L x 1 x n x n stack per StoreInfo::contributions (exactly those; any store mode).
  ContributionStacks contributions;
  /// Encoder-decoder stores only: the decoder input and the decoder / cross-attention maps
  /// (`attention` and `gradient` above are the encoder's self-attention).
  DecoderMaps decoder;

  int tokens_count() const { return static_cast<int>(tokens.size()); }
};

/// How attention, gradient and large derived arrays are compressed on disk
/// (docs/hdf5-schema.md, "Codecs"). Measured on attention (bench/analyze_bench.cpp): LZ4 finds
/// nothing to compress, gzip shrinks it ~1.16x at ~10x the read cost of none.
enum class Codec {
  None,        ///< uncompressed: fastest to read and write, h5py needs nothing (the default)
  Lz4,         ///< LZ4 (HDF5 filter 32004, a plugin: Debian's hdf5-filter-plugin)
  Bitshuffle,  ///< bitshuffle + LZ4 (HDF5 filter 32008, a plugin)
  Gzip,        ///< byte shuffle + deflate, built into every HDF5 (files before this option)
};
inline constexpr EnumName<Codec> kCodecNames[] = {
    {Codec::None, "none"},
    {Codec::Lz4, "lz4"},
    {Codec::Bitshuffle, "bitshuffle"},
    {Codec::Gzip, "gzip"},
};

struct WriteOptions {
  Codec codec = Codec::None;
  /// gzip level 1-9 (Codec::Gzip). 0 means no compression (as Codec::None), as before codecs.
  int compression = 4;
  /// Byte-shuffle filter before gzip (groups exponent bytes; helps floats).
  bool shuffle = true;
  /// Upper bound on the uncompressed size of one chunk. Chunks never span
  /// examples; they hold whole heads of one layer when those fit.
  std::size_t chunk_bytes = std::size_t{1} << 20;
};

/// Sets options.codec (and the gzip level) from "none", "lz4", "bitshuffle", "gzip" (level 4)
/// or "gzip-N" (N = 1..9); throws Error("<what>: unknown 'X' (expected ...)").
void set_compression(WriteOptions& options, const std::string& name,
                     const std::string& what = "compression");
/// The name set_compression takes for `options` ("none", "lz4", "bitshuffle", "gzip-4"),
/// recorded in the root attribute `compression`.
std::string compression_name(const WriteOptions& options);
/// The names set_compression accepts, for help texts.
inline constexpr const char* kCompressionChoices = "none, lz4, bitshuffle, gzip or gzip-1..gzip-9";

struct ReadOptions {
  bool attention = true;      ///< load the attention stack (when stored)
  bool gradient = true;       ///< load the gradient stack (when stored)
  bool contributions = true;  ///< load the contribution matrices (when stored)

  /// Tokens, ids and labels only: no attention, no gradient.
  static ReadOptions metadata_only() {
    ReadOptions o;
    o.attention = false;
    o.gradient = false;
    o.contributions = false;
    return o;
  }
  /// The attention stack without the gradient.
  static ReadOptions without_gradient() {
    ReadOptions o;
    o.gradient = false;
    return o;
  }
};

/// Where the time of one Store::read went (seconds), for profiling.
struct ReadTiming {
  double waiting = 0.0;  ///< for the process-wide HDF5 lock (other threads' HDF5 calls)
  double hdf5 = 0.0;     ///< HDF5 calls under the lock: metadata, strings, raw chunk reads
  double decode = 0.0;   ///< outside the lock: inflate, unshuffle, float16 -> float32
};

}  // namespace attnflow::io
