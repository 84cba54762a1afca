// Commit index of numbered groups, opening members by address, and the
// repair of their names after an unclean shutdown.
#include "commit_index.hpp"

#include <vector>

#include "attnflow/core/error.hpp"
#include "attnflow/io/store.hpp"
#include "heap_check.hpp"
#include "store_impl.hpp"

namespace attnflow::io::detail {
namespace {

constexpr hsize_t kIndexChunk = 512;  // 4 KiB of addresses per chunk

std::uint64_t read_entry(hid_t dataset, std::int64_t i, const std::string& context) {
  Handle space = checked(H5Dget_space(dataset), H5Sclose, context);
  const hsize_t start[1] = {static_cast<hsize_t>(i)}, one[1] = {1};
  check(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start, nullptr, one, nullptr), context);
  Handle memory = checked(H5Screate_simple(1, one, nullptr), H5Sclose, context);
  std::uint64_t value = 0;
  check(H5Dread(dataset, H5T_NATIVE_UINT64, memory.get(), space.get(), H5P_DEFAULT, &value),
        context + ": cannot read entry " + std::to_string(i));
  return value;
}

}  // namespace

Handle numbered_group_properties() {
  Handle gcpl = group_properties(H5P_GROUP_CREATE);
  check(H5Pset_link_phase_change(gcpl.get(), 0, 0), "group creation properties");
  return gcpl;
}

haddr_t address_of(hid_t object, const std::string& context) {
  H5O_info_t info;
  check(H5Oget_info2(object, &info, H5O_INFO_BASIC), context + ": cannot get its address");
  return info.addr;
}

void CommitIndex::create(hid_t group, const std::string& context) {
  const std::string what = context + ": cannot create the commit index";
  const hsize_t zero[1] = {0}, unlimited[1] = {H5S_UNLIMITED}, chunk[1] = {kIndexChunk};
  Handle space = checked(H5Screate_simple(1, zero, unlimited), H5Sclose, what);
  Handle dcpl = checked(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, what);
  check(H5Pset_chunk(dcpl.get(), 1, chunk), what);
  // Chunks exist, zero-filled, as soon as the extent grows: writing an
  // entry never allocates (which would change the chunk index).
  check(H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_EARLY), what);
  check(H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_ALLOC), what);
  const std::uint64_t fill = 0;
  check(H5Pset_fill_value(dcpl.get(), H5T_NATIVE_UINT64, &fill), what);
  Handle dataset = checked(H5Dcreate2(group, kIndexDataset, H5T_STD_U64LE, space.get(),
                                      utf8_link_properties(), dcpl.get(), H5P_DEFAULT),
                           H5Dclose, what);
  hobj_ref_t reference;
  check(H5Rcreate(&reference, group, kIndexDataset, H5R_OBJECT, -1), what);
  Handle scalar = scalar_space();
  Handle attribute = checked(
      H5Acreate2(group, kIndexDataset, H5T_STD_REF_OBJ, scalar.get(), H5P_DEFAULT, H5P_DEFAULT),
      H5Aclose, what);
  check(H5Awrite(attribute.get(), H5T_STD_REF_OBJ, &reference), what);
}

void CommitIndex::open(hid_t group, const std::string& context) {
  dataset_.reset();
  extent_ = count_ = 0;
  if (!has_attribute(group, kIndexDataset)) return;
  const std::string what = context + ": dataset 'index'";
  hobj_ref_t reference = 0;
  {
    Handle attribute = checked(H5Aopen(group, kIndexDataset, H5P_DEFAULT), H5Aclose, what);
    Handle type = checked(H5Aget_type(attribute.get()), H5Tclose, what);
    if (H5Tget_class(type.get()) != H5T_REFERENCE) {
      throw Error(context + ": attribute 'index' must be an object reference, found " +
                  describe_type(type.get()));
    }
    check(H5Aread(attribute.get(), H5T_STD_REF_OBJ, &reference), what);
  }
  const hid_t id = H5Rdereference2(group, H5P_DEFAULT, H5R_OBJECT, &reference);
  Handle dataset = checked(id, H5Oclose, what + ": cannot open it");
  if (H5Iget_type(id) != H5I_DATASET) throw Error(what + ": the reference is not a dataset");
  Handle type = checked(H5Dget_type(dataset.get()), H5Tclose, what);
  const std::vector<hsize_t> shape = dataset_shape(dataset.get());
  if (H5Tget_class(type.get()) != H5T_INTEGER || H5Tget_size(type.get()) != 8 ||
      shape.size() != 1) {
    throw Error(what + " must be 1-D 64-bit integers, found " + describe_type(type.get()) + " " +
                shape_string(shape));
  }
  extent_ = static_cast<std::int64_t>(shape[0]);
  // Entries are written in order, so the committed ones are a prefix.
  std::int64_t lo = 0, hi = extent_;
  while (lo < hi) {
    const std::int64_t mid = lo + (hi - lo) / 2;
    if (read_entry(dataset.get(), mid, what) != 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  count_ = lo;
  dataset_ = std::move(dataset);
}

haddr_t CommitIndex::address(std::int64_t i, const std::string& context) const {
  if (!present() || i < 0 || i >= count_) {
    throw Error(context + ": not committed (the index holds " + std::to_string(count_) + ")");
  }
  return static_cast<haddr_t>(read_entry(dataset_.get(), i, context + ": dataset 'index'"));
}

void CommitIndex::append(hid_t file, haddr_t address, const std::string& context) {
  append(file, std::vector<haddr_t>{address}, context);
}

void CommitIndex::append(hid_t file, const std::vector<haddr_t>& addresses,
                         const std::string& context) {
  const std::string what = context + ": cannot commit";
  if (addresses.empty()) return;
  const auto count = static_cast<std::int64_t>(addresses.size());
  if (count_ + count > extent_) {
    const auto chunk = static_cast<std::int64_t>(kIndexChunk);
    const std::int64_t extent = (count_ + count + chunk - 1) / chunk * chunk;
    const hsize_t grown[1] = {static_cast<hsize_t>(extent)};
    check(H5Dset_extent(dataset_.get(), grown), what);
    flush(file, context);
    extent_ = extent;
  }
  Handle space = checked(H5Dget_space(dataset_.get()), H5Sclose, what);
  const hsize_t start[1] = {static_cast<hsize_t>(count_)}, size[1] = {addresses.size()};
  check(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start, nullptr, size, nullptr), what);
  Handle memory = checked(H5Screate_simple(1, size, nullptr), H5Sclose, what);
  const std::vector<std::uint64_t> values(addresses.begin(), addresses.end());
  check(H5Dwrite(dataset_.get(), H5T_NATIVE_UINT64, memory.get(), space.get(), H5P_DEFAULT,
                 values.data()),
        what);
  flush(file, context);
  count_ += count;
}

void commit_member(hid_t file, hid_t object, hid_t group, CommitIndex& commits, std::int64_t index,
                   hid_t count_owner, const std::string& context) {
  const std::string name = example_name(index);
  flush(file, context);  // the member is on disk, nothing refers to it yet
  if (commits.present()) {
    // The name first: linking rewrites the member's object header (its reference count), and
    // a committed member's header must never be written again.
    check(H5Olink(object, group, name.c_str(), utf8_link_properties(), H5P_DEFAULT),
          context + ": cannot name '" + name + "'");
    flush(file, context);
    commits.append(file, address_of(object, context), context);  // the commit (flushed)
    return;
  }
  check(H5Olink(object, group, name.c_str(), utf8_link_properties(), H5P_DEFAULT),
        context + ": cannot link '" + name + "'");
  try {
    flush(file, context);
    set_int(count_owner, kCountAttribute, index + 1, H5T_STD_I64LE);
    flush(file, context);
  } catch (...) {
    H5Ldelete(group, name.c_str(), H5P_DEFAULT);  // best effort: keep the count authoritative
    throw;
  }
}

Handle open_member(hid_t file, hid_t group, const std::string& group_path,
                   const CommitIndex& commits, const StringHeapCheck& heap_check,
                   std::int64_t index, const std::string& what) {
  const std::string name = example_name(index);
  if (!commits.present()) {
    if (!has_link(group, name)) {
      throw Error(what + ": missing group '" + group_path + "/" + name + "'");
    }
    heap_check.check_attributes(group, name, what);
    return open_group(group, name, what);
  }
  const haddr_t address = commits.address(index, what);
  heap_check.check_header(address, what);
  Handle object = checked(H5Oopen_by_addr(file, address), H5Oclose,
                          what + ": cannot open the group at address " + std::to_string(address));
  if (H5Iget_type(object.get()) != H5I_GROUP) {
    throw Error(what + ": the index points at address " + std::to_string(address) +
                ", which is not a group");
  }
  return object;
}

bool names_damaged(hid_t group, const CommitIndex& commits) {
  bool damaged = false;
  for (std::int64_t i = 0; !damaged && i <= commits.count(); ++i) {
    const std::string name = example_name(i);
    const htri_t exists = H5Lexists(group, name.c_str(), H5P_DEFAULT);
    H5O_info_t info;
    damaged = exists < 0 || (exists > 0 && H5Oget_info_by_name2(group, name.c_str(), &info,
                                                                H5O_INFO_BASIC, H5P_DEFAULT) < 0);
  }
  H5Eclear2(H5E_DEFAULT);
  return damaged;
}

void drop_stray_name(hid_t file, hid_t group, std::int64_t count, const std::string& context) {
  // A writer killed between naming member `count` and committing it leaves the name of an
  // uncommitted member; removing it frees that member. Call only with intact names.
  const std::string name = example_name(count);
  const htri_t exists = H5Lexists(group, name.c_str(), H5P_DEFAULT);
  if (exists > 0 && H5Ldelete(group, name.c_str(), H5P_DEFAULT) >= 0) {
    flush(file, context);
  }
  H5Eclear2(H5E_DEFAULT);
}

}  // namespace attnflow::io::detail
