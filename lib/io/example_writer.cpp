// attnflow::io::ExampleWriter: one example's attention and gradient datasets, filled a layer at
// a time in a group that Store::append links only once every layer is there.
#include "attnflow/io/example_writer.hpp"

#include <algorithm>

#include "attnflow/core/error.hpp"
#include "attnflow/core/stack.hpp"
#include "chunk_codec.hpp"
#include "example_writer_impl.hpp"

namespace attnflow::io {

namespace {

int count_done(const std::vector<bool>& done) {
  return static_cast<int>(std::count(done.begin(), done.end(), true));
}

const char* part_name(StackPart part) {
  return part == StackPart::Attention ? "attention" : "gradient";
}

}  // namespace

ExampleWriter::Impl::~Impl() {
  detail::Hdf5Lock lock;  // an uncommitted example: its group goes with its last handle
  gradient.reset();
  attention.reset();
  group.reset();
}

void ExampleWriter::Impl::finish(const std::string& example) {
  const auto missing = [&](const std::vector<bool>& done, const char* what) {
    const auto first = std::find(done.begin(), done.end(), false);
    if (first == done.end()) return;
    throw Error(example + ": " + std::to_string(count_done(done)) + " of " +
                std::to_string(done.size()) + " " + what + " layers were written (layer " +
                std::to_string(first - done.begin() + 1) + " is missing)");
  };
  missing(attention_done, "attention");
  if (gradient.valid()) missing(gradient_done, "gradient");
  detail::close_written(attention, example + ": cannot write dataset 'attention'");
  detail::close_written(gradient, example + ": cannot write dataset 'gradient'");
}

ExampleWriter::ExampleWriter() = default;
ExampleWriter::ExampleWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ExampleWriter::ExampleWriter(ExampleWriter&&) noexcept = default;
ExampleWriter& ExampleWriter::operator=(ExampleWriter&&) noexcept = default;
ExampleWriter::~ExampleWriter() = default;

int ExampleWriter::tokens() const {
  return impl_ ? impl_->tokens : 0;
}

int ExampleWriter::layers_written(StackPart part) const {
  if (!impl_) return 0;
  return count_done(part == StackPart::Attention ? impl_->attention_done : impl_->gradient_done);
}

void ExampleWriter::write_layer(StackPart part, int index, const float* values) {
  if (!impl_) throw Error("ExampleWriter: not begun (Store::begin_example) or already committed");
  Impl& w = *impl_;
  const bool gradient = part == StackPart::Gradient;
  const std::string what = w.where + ": " + part_name(part);
  std::vector<bool>& done = gradient ? w.gradient_done : w.attention_done;
  if (gradient && !w.gradient.valid()) {
    throw Error(w.where + ": begun without a gradient (Store::begin_example)");
  }
  if (index < 0 || index >= static_cast<int>(done.size())) {
    throw Error(what + ": layer " + std::to_string(index + 1) + " out of range (the store has " +
                std::to_string(done.size()) + " layers)");
  }
  if (done[static_cast<std::size_t>(index)]) {
    throw Error(what + ": layer " + std::to_string(index + 1) + " written twice");
  }
  // The checks append() makes of a whole stack, outside the lock.
  validate_layer(values, index, w.heads, w.tokens,
                 gradient ? AttentionCheck::any_sign(what) : AttentionCheck::weights(what));
  const StoreInfo& info = w.store->info;
  const Precision precision = gradient ? info.gradient_precision : info.attention_precision;
  const std::size_t count = static_cast<std::size_t>(w.heads) * static_cast<std::size_t>(w.tokens) *
                            static_cast<std::size_t>(w.tokens);
  if (precision == Precision::Float16) {
    detail::check_float16_range(values, count, index, w.heads, w.tokens, what);
  }
  detail::Hdf5Lock lock;
  if (!w.store->file.valid()) throw Error(w.store->path + ": store is closed");
  detail::write_float_block(gradient ? w.gradient.get() : w.attention.get(), w.dims,
                            static_cast<hsize_t>(index), values, precision, w.halves,
                            what + ": cannot write layer " + std::to_string(index + 1));
  done[static_cast<std::size_t>(index)] = true;
}

}  // namespace attnflow::io
