// attnflow::io::ExampleWriter — one example of a store written a layer at a time, so that an
// extraction never holds a whole [layers, heads, n, n] stack in memory (docs/extract.md,
// "Memory"). Store::begin_example creates the example's attention (and gradient) datasets in a
// group that no name reaches yet; write_layer fills them a layer at a time; Store::append(
// example, std::move(writer)) checks that every layer came and commits the example as append
// does (the same commit protocol: a process killed before the commit leaves no trace of it among
// the examples). A writer destroyed uncommitted drops its group.
#pragma once

#include <memory>

namespace attnflow::io {

class Store;

enum class StackPart {
  Attention,  ///< the dataset `attention`
  Gradient,   ///< the dataset `gradient` (per-head stores only)
};

class ExampleWriter {
 public:
  ExampleWriter();
  ExampleWriter(ExampleWriter&&) noexcept;
  ExampleWriter& operator=(ExampleWriter&&) noexcept;
  ~ExampleWriter();

  /// The example's tokens (n).
  int tokens() const;
  /// Writes layer `index` (0-based, the store's own layers: the position in a --layers
  /// selection) of `part`: heads x n x n floats for a per-head store, n x n for a fused one,
  /// row-major. Checked as Store::append checks whole stacks (finite; attention >= 0; within
  /// float16's range for a float16 store), errors naming the store, the example and the layer.
  /// Each layer once.
  void write_layer(StackPart part, int index, const float* values);
  /// Layers of `part` written so far.
  int layers_written(StackPart part) const;

 private:
  friend class Store;
  struct Impl;  // lib/io/example_writer.cpp
  explicit ExampleWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace attnflow::io
