// attnflow::io::Store: root metadata, example read/append, commit protocol.
#include "attnflow/io/store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/utf8.hpp"
#include "chunk_codec.hpp"
#include "example_writer_impl.hpp"
#include "store_impl.hpp"

namespace attnflow::io {

using detail::Handle;
using detail::kMaxElements;
using detail::kMaxTokens;

Handle detail::file_access_properties() {
  Handle fapl = detail::checked(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "file access properties");
  // Format of HDF5 1.8 or later (new-style groups, h5py reads it); nothing
  // newer than 1.10 so that every HDF5 from 1.10 on opens the files.
  detail::check(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_V110),
                "file access properties");
  // A merged store's external links (store_merge.hpp): keep the shard files open once reached
  // instead of opening and closing one for every example read (measured 70 ms per example).
  detail::check(H5Pset_elink_file_cache_size(fapl.get(), 128), "file access properties");
  return fapl;
}

void Store::Impl::require_writable(const std::string& what) const {
  if (!writable) {
    throw Error(path + ": opened read-only; open it with Access::ReadWrite to " + what);
  }
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&& other) noexcept {
  if (this != &other) {
    try {
      if (impl_) close();
    } catch (...) {
    }
    impl_ = std::move(other.impl_);
  }
  return *this;
}

Store::~Store() {
  try {
    if (impl_) close();
  } catch (...) {
  }
}

Store Store::create(const std::string& path, const StoreInfo& info, const WriteOptions& options) {
  detail::validate_info(info, path);
  detail::validate_write_options(options, path);
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    throw Error(path + ": already exists (open it with Access::ReadWrite to append)");
  }
  const std::string temporary = path + ".creating";
  const int fd = ::open(temporary.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
  if (fd < 0) throw Error(path + ": cannot create (" + std::strerror(errno) + ")");
  ::close(fd);
  try {
    detail::Hdf5Lock lock;
    Handle fapl = detail::file_access_properties();
    Handle fcpl = detail::group_properties(H5P_FILE_CREATE);
    // Chunk index nodes sized for ~16 chunks (one per layer) instead of 64:
    // 1 KB instead of 3.6 KB of index per attention dataset.
    detail::check(H5Pset_istore_k(fcpl.get(), 8), path + ": file creation properties");
    Handle file =
        detail::checked(H5Fcreate(temporary.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get()),
                        H5Fclose, path + ": cannot create");
    detail::require_codec(detail::effective_codec(options), path);
    detail::write_root(file.get(), info, options);
    Handle gcpl = detail::numbered_group_properties();
    Handle examples = detail::checked(
        H5Gcreate2(file.get(), "examples", detail::utf8_link_properties(), gcpl.get(), H5P_DEFAULT),
        H5Gclose, path + ": cannot create group 'examples'");
    detail::CommitIndex::create(examples.get(), path + ": group '/examples'");
    examples.reset();
    detail::flush(file.get(), path);
    if (H5Fclose(file.release()) < 0) detail::throw_hdf5(path + ": cannot close");
  } catch (...) {
    std::remove(temporary.c_str());
    throw;
  }
  // link() never replaces an existing file (unlike rename()).
  if (::link(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    std::remove(temporary.c_str());
    throw Error(path + ": cannot create (" + std::strerror(error) + ")");
  }
  std::remove(temporary.c_str());
  return open(path, Access::ReadWrite, options);
}

Store Store::open(const std::string& path, Access access, const WriteOptions& options) {
  detail::validate_write_options(options, path);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
  }
  if (S_ISDIR(st.st_mode)) throw Error(path + ": is a directory, not an HDF5 file");
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->write_options = options;
  impl->writable = access == Access::ReadWrite;
  detail::Hdf5Lock lock;
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    throw Error(path + ": not an HDF5 file");
  }
  Handle fapl = detail::file_access_properties();
  impl->file = detail::checked(
      H5Fopen(path.c_str(), impl->writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl.get()), H5Fclose,
      path + ": cannot open as HDF5");
  impl->heap_check.open(path, impl->file.get());
  impl->heap_check.check_root_attributes(path);
  impl->info = detail::read_root(impl->file.get(), path, impl->recorded);
  if (impl->writable) {
    // Appends keep the codec the file was created with.
    impl->write_options = detail::recorded_write_options(impl->info, path);
    detail::require_codec(detail::effective_codec(impl->write_options), path);
  }
  impl->examples = detail::open_group(impl->file.get(), "examples", path);
  const std::string group = path + ": group '/examples'";
  impl->commits.open(impl->examples.get(), group);
  impl->size = impl->commits.present() ? impl->commits.count() : impl->recorded;
  if (impl->writable && impl->commits.present()) {
    // Writing into a link index damaged by a killed writer corrupts HDF5's state (seen in
    // StoreErrors.DestroyedLinkIndexLosesNothing): look every name up first.
    if (detail::names_damaged(impl->examples.get(), impl->commits)) {
      throw Error(group +
                  ": HDF5 cannot read the example names (a writer was killed while "
                  "HDF5 was writing them); all " +
                  std::to_string(impl->size) +
                  " committed examples are intact and readable, but appending to this file "
                  "is refused: write further examples to a new file");
    }
    // A writer killed between naming and committing example `size` left its name.
    detail::drop_stray_name(impl->file.get(), impl->examples.get(), impl->size, group);
    if (impl->size != impl->recorded) {  // not closed cleanly: the index has the count
      detail::set_int(impl->file.get(), detail::kCountAttribute, impl->size, H5T_STD_I64LE);
      detail::flush(impl->file.get(), path);
      impl->recorded = impl->size;
    }
  } else if (impl->writable && !impl->commits.present()) {
    // An interrupted append can leave its example linked but not counted.
    const std::string leftover = example_name(impl->size);
    if (detail::has_link(impl->examples.get(), leftover)) {
      detail::check(H5Ldelete(impl->examples.get(), leftover.c_str(), H5P_DEFAULT),
                    path + ": cannot remove the uncommitted example " + leftover);
      detail::flush(impl->file.get(), path);
    }
  }
  return Store(std::move(impl));
}

bool codec_available(Codec codec) {
  try {
    require_codec(codec, "");
    return true;
  } catch (const Error&) {
    return false;
  }
}

void require_codec(Codec codec, const std::string& context) {
  detail::Hdf5Lock lock;
  detail::require_codec(codec, context);
}

void silence_hdf5_errors() {
  // No HDF5 shutdown at exit: every Store closes its file itself, and a file whose writes
  // failed (a full disk) makes HDF5 1.10's atexit shutdown crash (SIGSEGV in H5F__close_cb)
  // after the error was reported. Only takes effect before HDF5's first call (the CLI's case).
  H5dont_atexit();
  detail::Hdf5Lock lock;
  lock.keep_silent();
}

const std::string& Store::path() const {
  return impl_->path;
}
const StoreInfo& Store::info() const {
  return impl_->info;
}
bool Store::writable() const {
  return impl_->writable;
}

std::int64_t Store::size() const {
  detail::Hdf5Lock lock;
  return impl_->size;
}

Example Store::read(std::int64_t index, const ReadOptions& options, ReadTiming* timing) const {
  using Clock = std::chrono::steady_clock;
  const auto seconds = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
  };
  const Clock::time_point asked = Clock::now();
  Clock::time_point locked, unlocked;
  const Impl& s = *impl_;
  const StoreInfo& info = s.info;
  const std::string where = s.where(index);
  Example example;
  detail::FetchedFloats attention, gradient;
  // encoder-decoder stores: decoder self-attention, cross-attention and their gradients
  detail::FetchedFloats decoder_attention, decoder_gradient, cross_attention, cross_gradient;
  bool has_decoder_gradient = false;
  int m = 0;
  std::vector<std::pair<Contribution, detail::FetchedFloats>> contributions;
  bool has_attention = false, has_gradient = false;
  int n = 0;
  {
    detail::Hdf5Lock lock;
    locked = Clock::now();
    if (!s.file.valid()) throw Error(s.path + ": store is closed");
    if (index < 0 || index >= s.size) {
      throw Error(s.path + ": example " + std::to_string(index) +
                  " out of range (the store holds " + std::to_string(s.size) + " examples)");
    }
    Handle group = detail::open_member(s.file.get(), s.examples.get(), "/examples", s.commits,
                                       s.heap_check, index, where);
    std::vector<std::string> datasets = {"tokens", "token_ids", "attention", "gradient"};
    for (Contribution c : info.contributions) datasets.push_back(detail::contribution_dataset(c));
    if (info.decoder_layers > 0) {
      for (const char* name : {"decoder_tokens", "decoder_token_ids", "decoder_attention",
                               "decoder_gradient", "cross_attention", "cross_gradient"}) {
        datasets.emplace_back(name);
      }
    }
    for (const std::string& dataset : datasets) {
      s.heap_check.check_attributes(group.get(), dataset.c_str(),
                                    where + ": dataset '" + dataset + "'");
    }
    // `tokens` / `token_ids` (and the decoder's `decoder_tokens` / `decoder_token_ids`)
    const auto read_tokens = [&](const std::string& name, const std::string& ids_name,
                                 const std::string& word, std::vector<std::string>& tokens,
                                 std::vector<std::int64_t>& ids) {
      {
        Handle dataset = detail::open_dataset(group.get(), name.c_str(), where);
        const std::string what = where + ": dataset '" + name + "'";
        const std::vector<hsize_t> shape = detail::dataset_shape(dataset.get());
        Handle type = detail::checked(H5Dget_type(dataset.get()), H5Tclose, what);
        if (shape.size() == 1 && H5Tget_class(type.get()) == H5T_STRING &&
            H5Tis_variable_str(type.get()) > 0 && shape[0] <= static_cast<hsize_t>(kMaxTokens)) {
          s.heap_check.check(dataset.get(), static_cast<std::size_t>(shape[0]), what);
        }
        tokens = detail::read_string_dataset(dataset.get(), what);
      }
      const int count = static_cast<int>(tokens.size());
      if (count == 0) throw Error(where + ": dataset '" + name + "' is empty");
      if (count > kMaxTokens) {
        throw Error(where + ": dataset '" + name + "' has " + std::to_string(count) +
                    " entries (at most " + std::to_string(kMaxTokens) + ")");
      }
      for (int k = 0; k < count; ++k) {
        require_utf8(tokens[static_cast<std::size_t>(k)], where + ": " + word + std::to_string(k),
                     NulBytes::Rejected);
      }
      if (detail::has_link(group.get(), ids_name)) {
        Handle dataset = detail::open_dataset(group.get(), ids_name.c_str(), where);
        ids = detail::read_int64_dataset(dataset.get(), where + ": dataset '" + ids_name + "'");
        if (static_cast<int>(ids.size()) != count) {
          throw Error(where + ": dataset '" + ids_name + "' has " + std::to_string(ids.size()) +
                      " entries for " + std::to_string(count) + " tokens");
        }
      }
    };
    read_tokens("tokens", "token_ids", "token ", example.tokens, example.token_ids);
    n = example.tokens_count();
    example.label = detail::find_int(group.get(), "label", where);
    example.target = detail::find_int(group.get(), "target", where);
    example.target_position = detail::find_int(group.get(), "target_position", where);
    example.prediction = detail::find_int(group.get(), "prediction", where);

    const std::vector<hsize_t> expected = detail::stack_dims(info, static_cast<hsize_t>(n));
    const std::vector<hsize_t> per_layer = {static_cast<hsize_t>(info.layers),
                                            static_cast<hsize_t>(n), static_cast<hsize_t>(n)};
    const auto fetch = [&](const std::string& dataset_name, const std::vector<hsize_t>& dims,
                           const char* axes = nullptr) {
      Handle dataset = detail::open_dataset(group.get(), dataset_name.c_str(), where);
      const std::string what = where + ": dataset '" + dataset_name + "'";
      const std::vector<hsize_t> shape = detail::dataset_shape(dataset.get());
      if (shape != dims) {
        throw Error(what + " has shape " + detail::shape_string(shape) + ", expected " +
                    detail::shape_string(dims) +
                    (axes               ? axes
                     : dims.size() == 4 ? " (layers, heads, tokens, tokens)"
                                        : " (layers, tokens, tokens)"));
      }
      double elements = 1.0;
      for (hsize_t d : dims) elements *= static_cast<double>(d);
      if (elements > kMaxElements) throw Error(what + " is implausibly large");
      return detail::fetch_floats(dataset.get(), what);
    };
    if (info.mode != StoreMode::Derived && options.attention) {
      attention = fetch("attention", expected);
      has_attention = true;
    }
    if (info.mode == StoreMode::PerHead && options.gradient &&
        detail::has_link(group.get(), "gradient")) {
      gradient = fetch("gradient", expected);
      has_gradient = true;
    }
    if (options.contributions) {
      for (Contribution c : info.contributions) {
        contributions.emplace_back(c, fetch(detail::contribution_dataset(c), per_layer));
      }
    }
    if (info.decoder_layers > 0) {
      DecoderMaps& d = example.decoder;
      read_tokens("decoder_tokens", "decoder_token_ids", "decoder token ", d.tokens, d.token_ids);
      m = d.tokens_count();
      const auto Ld = static_cast<hsize_t>(info.decoder_layers);
      const auto H = static_cast<hsize_t>(info.heads);
      const auto hm = static_cast<hsize_t>(m), hn = static_cast<hsize_t>(n);
      const char* self_axes = " (decoder layers, heads, decoder tokens, decoder tokens)";
      const char* cross_axes = " (decoder layers, heads, decoder tokens, tokens)";
      if (options.attention) {
        decoder_attention = fetch("decoder_attention", {Ld, H, hm, hm}, self_axes);
        cross_attention = fetch("cross_attention", {Ld, H, hm, hn}, cross_axes);
      }
      if (options.gradient && detail::has_link(group.get(), "decoder_gradient")) {
        decoder_gradient = fetch("decoder_gradient", {Ld, H, hm, hm}, self_axes);
        cross_gradient = fetch("cross_gradient", {Ld, H, hm, hn}, cross_axes);
        has_decoder_gradient = true;
      }
    }
    unlocked = Clock::now();
  }
  const int heads = info.mode == StoreMode::PerHead ? info.heads : 1;
  if (has_attention) {
    example.attention =
        AttentionStack(detail::decode_floats(std::move(attention)), info.layers, heads, n);
  }
  if (has_gradient) {
    example.gradient =
        AttentionStack(detail::decode_floats(std::move(gradient)), info.layers, heads, n);
  }
  for (auto& [c, floats] : contributions) {
    example.contributions[c] =
        AttentionStack(detail::decode_floats(std::move(floats)), info.layers, 1, n);
  }
  if (info.decoder_layers > 0) {
    DecoderMaps& d = example.decoder;
    const auto cross = [&](detail::FetchedFloats&& floats) {
      return CrossAttentionStack(detail::decode_floats(std::move(floats)), info.decoder_layers,
                                 info.heads, m, n);
    };
    if (options.attention) {
      d.attention = AttentionStack(detail::decode_floats(std::move(decoder_attention)),
                                   info.decoder_layers, info.heads, m);
      d.cross_attention = cross(std::move(cross_attention));
    }
    if (has_decoder_gradient) {
      d.gradient = AttentionStack(detail::decode_floats(std::move(decoder_gradient)),
                                  info.decoder_layers, info.heads, m);
      d.cross_gradient = cross(std::move(cross_gradient));
    }
  }
  if (timing != nullptr) {
    timing->waiting = seconds(asked, locked);
    timing->hdf5 = seconds(locked, unlocked);
    timing->decode = seconds(unlocked, Clock::now());
  }
  return example;
}

namespace {

/// Everything of `example` but what `streamed` (an ExampleWriter) holds, into `group`.
void write_members(const detail::StoreImpl& s, hid_t group, const Example& example, bool streamed,
                   const std::string& where) {
  const hsize_t n = static_cast<hsize_t>(example.tokens_count());
  detail::write_string_dataset(group, "tokens", example.tokens, where);
  if (!example.token_ids.empty()) {
    detail::write_int64_dataset(group, "token_ids", example.token_ids, where);
  }
  if (s.info.mode != StoreMode::Derived && !streamed) {
    const std::vector<hsize_t> dims = detail::stack_dims(s.info, n);
    detail::write_floats(group, "attention", dims, example.attention.data().data(),
                         s.info.attention_precision, s.write_options, where);
    if (!example.gradient.empty()) {
      detail::write_floats(group, "gradient", dims, example.gradient.data().data(),
                           s.info.gradient_precision, s.write_options, where);
    }
  }
  for (const auto& [c, stack] : example.contributions) {
    detail::write_floats(group, detail::contribution_dataset(c),
                         {static_cast<hsize_t>(s.info.layers), n, n}, stack.data().data(),
                         s.info.attention_precision, s.write_options, where);
  }
  if (s.info.decoder_layers > 0) {
    const DecoderMaps& d = example.decoder;
    const auto m = static_cast<hsize_t>(d.tokens_count());
    const auto Ld = static_cast<hsize_t>(s.info.decoder_layers);
    const auto H = static_cast<hsize_t>(s.info.heads);
    detail::write_string_dataset(group, "decoder_tokens", d.tokens, where);
    if (!d.token_ids.empty()) {
      detail::write_int64_dataset(group, "decoder_token_ids", d.token_ids, where);
    }
    detail::write_floats(group, "decoder_attention", {Ld, H, m, m}, d.attention.data().data(),
                         s.info.attention_precision, s.write_options, where);
    detail::write_floats(group, "cross_attention", {Ld, H, m, n}, d.cross_attention.data().data(),
                         s.info.attention_precision, s.write_options, where);
    if (!d.gradient.empty()) {
      detail::write_floats(group, "decoder_gradient", {Ld, H, m, m}, d.gradient.data().data(),
                           s.info.gradient_precision, s.write_options, where);
      detail::write_floats(group, "cross_gradient", {Ld, H, m, n}, d.cross_gradient.data().data(),
                           s.info.gradient_precision, s.write_options, where);
    }
  }
  if (example.label) detail::set_int(group, "label", *example.label, H5T_STD_I64LE);
  if (example.target) detail::set_int(group, "target", *example.target, H5T_STD_I64LE);
  if (example.target_position) {
    detail::set_int(group, "target_position", *example.target_position, H5T_STD_I64LE);
  }
  if (example.prediction) {
    detail::set_int(group, "prediction", *example.prediction, H5T_STD_I64LE);
  }
}

/// Links `group` as example `index` and raises the count (the commit protocol of append).
std::int64_t commit(detail::StoreImpl& s, hid_t group, std::int64_t index,
                    const std::string& where) {
  try {
    detail::commit_member(s.file.get(), group, s.examples.get(), s.commits, index, s.file.get(),
                          where);
  } catch (...) {
    if (s.commits.present()) s.size = s.commits.count();  // the entry may have been written
    throw;
  }
  if (!s.commits.present()) s.recorded = index + 1;
  s.size = index + 1;
  return index;
}

}  // namespace

std::int64_t Store::append(const Example& example) {
  Impl& s = *impl_;
  s.require_writable("append examples");
  std::int64_t index;
  {
    detail::Hdf5Lock lock;
    index = s.size;
  }
  const std::string where = s.where(index);
  detail::validate_example(example, s.info, where);
  detail::Hdf5Lock lock;
  if (!s.file.valid()) throw Error(s.path + ": store is closed");
  Handle group = detail::checked(H5Gcreate_anon(s.file.get(), H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
                                 where + ": cannot create group");
  write_members(s, group.get(), example, false, where);
  return commit(s, group.get(), index, where);
}

ExampleWriter Store::begin_example(int tokens, bool gradient) {
  Impl& s = *impl_;
  s.require_writable("append examples");
  const std::string where = s.path + ": example of " + std::to_string(tokens) + " tokens";
  if (s.info.mode == StoreMode::Derived) {
    throw Error(where + ": a derived-mode store holds no attention to write a layer at a time");
  }
  if (gradient && s.info.mode != StoreMode::PerHead) {
    throw Error(where + ": a " + to_string(s.info.mode) + "-mode store holds no gradient");
  }
  if (tokens < 1 || tokens > kMaxTokens) {
    throw Error(where + ": the number of tokens must be 1.." + std::to_string(kMaxTokens));
  }
  auto w = std::make_unique<ExampleWriter::Impl>();
  w->store = &s;
  w->tokens = tokens;
  w->heads = s.info.mode == StoreMode::PerHead ? s.info.heads : 1;
  w->dims = detail::stack_dims(s.info, static_cast<hsize_t>(tokens));
  w->attention_done.assign(static_cast<std::size_t>(s.info.layers), false);
  detail::Hdf5Lock lock;
  if (!s.file.valid()) throw Error(s.path + ": store is closed");
  w->where = where + " (being written)";
  w->group = detail::checked(H5Gcreate_anon(s.file.get(), H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
                             where + ": cannot create group");
  w->attention = detail::create_floats(w->group.get(), "attention", w->dims,
                                       s.info.attention_precision, s.write_options, where);
  if (gradient) {
    w->gradient_done.assign(static_cast<std::size_t>(s.info.layers), false);
    w->gradient = detail::create_floats(w->group.get(), "gradient", w->dims,
                                        s.info.gradient_precision, s.write_options, where);
  }
  return ExampleWriter(std::move(w));
}

std::int64_t Store::append(const Example& example, ExampleWriter&& layers) {
  Impl& s = *impl_;
  s.require_writable("append examples");
  if (!layers.impl_ || layers.impl_->store != &s) {
    throw Error(s.path +
                ": append of an ExampleWriter that this store did not begin (or that "
                "was committed already)");
  }
  const std::unique_ptr<ExampleWriter::Impl> w = std::move(layers.impl_);
  std::int64_t index;
  {
    detail::Hdf5Lock lock;
    index = s.size;
  }
  const std::string where = s.where(index);
  if (example.tokens_count() != w->tokens) {
    throw Error(where + ": " + std::to_string(example.tokens_count()) +
                " tokens, but its attention was written for " + std::to_string(w->tokens));
  }
  detail::validate_example(example, s.info, where, w->gradient.valid());
  detail::Hdf5Lock lock;
  if (!s.file.valid()) throw Error(s.path + ": store is closed");
  w->finish(where);
  write_members(s, w->group.get(), example, true, where);
  return commit(s, w->group.get(), index, where);
}

void Store::close() {
  if (!impl_) return;
  detail::Hdf5Lock lock;
  if (!impl_->file.valid()) return;
  herr_t flushed = 0;
  if (impl_->writable) {
    flushed = H5Fflush(impl_->file.get(), H5F_SCOPE_LOCAL);  // the last names first
    if (flushed >= 0 && impl_->recorded != impl_->size) {
      try {
        detail::set_int(impl_->file.get(), detail::kCountAttribute, impl_->size, H5T_STD_I64LE);
        impl_->recorded = impl_->size;
      } catch (const Error&) {
        flushed = -1;
      }
      if (flushed >= 0) flushed = H5Fflush(impl_->file.get(), H5F_SCOPE_LOCAL);
    }
  }
  impl_->commits.close();
  impl_->examples.reset();
  impl_->heap_check.close();
  const std::string message = flushed < 0 ? detail::hdf5_message() : std::string();
  impl_->file.reset();
  if (flushed < 0) throw Error(impl_->path + ": cannot flush on close (HDF5: " + message + ")");
}

}  // namespace attnflow::io
