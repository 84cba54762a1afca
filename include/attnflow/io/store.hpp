// attnflow::io::Store — an open HDF5 attention store (docs/hdf5-schema.md):
// create, open, random access to example i, append with crash-safe commits.
// Every method may be called from several threads (HDF5 calls are serialised
// by one process-wide lock; decompression and float16 decoding run outside it).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "attnflow/io/example_writer.hpp"
#include "attnflow/io/store_types.hpp"

namespace attnflow::io {

namespace detail {
struct StoreAccess;
}  // namespace detail

enum class Access {
  ReadOnly,   ///< read examples and derived runs
  ReadWrite,  ///< also append examples and write derived runs
};

class Store {
 public:
  /// Creates a new store at `path` (the file must not exist). The file is
  /// built under a temporary name and renamed, so `path` never holds a
  /// half-created file. Validates `info` (layers, heads >= 1; precisions).
  static Store create(const std::string& path, const StoreInfo& info,
                      const WriteOptions& options = {});
  /// Opens an existing store and validates its root metadata (schema
  /// version, attributes, /examples). With ReadWrite, a leftover of an
  /// interrupted append (an example beyond the committed count) is removed.
  /// Appends use the codec the file records (root attribute `compression`);
  /// `options` gives it only for files that record none (older files).
  /// Creating or appending with a codec whose HDF5 filter plugin is missing
  /// throws Error naming the file, the filter and HDF5_PLUGIN_PATH.
  static Store open(const std::string& path, Access access = Access::ReadOnly,
                    const WriteOptions& options = {});

  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();

  const std::string& path() const;
  const StoreInfo& info() const;
  bool writable() const;
  /// Number of committed examples: examples 0..size()-1 are complete.
  std::int64_t size() const;

  /// Example `index` (0-based). Validates names, types and shapes against
  /// the metadata and throws Error naming the file, example and dataset.
  Example read(std::int64_t index, const ReadOptions& options = {},
               ReadTiming* timing = nullptr) const;

  /// Validates and appends `example`; returns its index. Commit protocol:
  /// the example is written as an unlinked group and flushed, then linked
  /// and flushed, then the count is raised and flushed. A process killed at
  /// any point leaves every earlier example readable.
  std::int64_t append(const Example& example);

  /// An example of `tokens` tokens whose attention (and, with `gradient`, gradient) is written
  /// a layer at a time through the writer, then committed by append(example, writer). Several
  /// may be open at once (a batch); each is committed by the append it is given to, in the order
  /// of those calls. Not for a derived-mode store (it holds no attention); a gradient only for a
  /// per-head store. Commit or destroy every writer before the store closes.
  ExampleWriter begin_example(int tokens, bool gradient);
  /// append() of an example whose attention and gradient `layers` holds; `example` holds the
  /// rest (tokens, ids, label, target, prediction, contributions, decoder maps) and no attention
  /// or gradient. Throws Error naming the first missing layer when not every layer was written,
  /// and for a writer of another store; the writer is used up either way.
  std::int64_t append(const Example& example, ExampleWriter&& layers);

  /// Flushes and closes (also done by the destructor, which never throws).
  void close();

 private:
  struct Impl;                        // lib/io/store_impl.hpp
  friend struct detail::StoreAccess;  // the io library's own sources (derived runs)
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Whether this process can write `codec` (its HDF5 filter plugin loads; always true for
/// none and gzip). Reading needs the same plugin.
bool codec_available(Codec codec);
/// Throws Error("<context>: cannot write with compression lz4: HDF5 filter 32004 (lz4) is not
/// available ...", naming HDF5_PLUGIN_PATH) unless codec_available(codec).
void require_codec(Codec codec, const std::string& context);

/// Zero-padded name of example `index` ("000000123"), as in /examples/<name>.
std::string example_name(std::int64_t index);

/// Turns HDF5's own error printing off (for the calling thread in
/// thread-safe HDF5 builds). attnflow turns every HDF5 failure into an
/// attnflow::Error carrying HDF5's message, so programs that only use HDF5
/// through attnflow (the CLI) call this to keep stderr to that one message.
void silence_hdf5_errors();

}  // namespace attnflow::io
