// Internal to attnflow::io: crash-safe membership of a numbered group
// (/examples, /derived/<run>). HDF5 1.10 rewrites its link indexes in place
// in no particular order, so a process killed inside a flush can leave a
// parent B-tree node pointing at a child that never reached the disk. The
// dataset `index` next to the members holds their object-header addresses
// instead: committing member i is one 8-byte write into an already
// allocated chunk. The index is authoritative; names are rebuilt from it.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

#include "hdf5_util.hpp"

namespace attnflow::io::detail {

class StringHeapCheck;

/// Name of the index dataset inside a numbered group, and of the group's
/// attribute that refers to it (an object reference: it lives in the
/// group's object header, which link inserts never rewrite).
inline constexpr const char* kIndexDataset = "index";

/// Creation properties of numbered groups: links always in dense storage
/// (never in the object header), up to 64 attributes compact.
Handle numbered_group_properties();

class CommitIndex {
 public:
  /// Creates an empty index dataset in `group` (uint64 addresses, 0 = none)
  /// and the group's `index` reference attribute.
  static void create(hid_t group, const std::string& context);

  /// Opens the index of `group` when it has one (files written by other
  /// tools may not: then names and the `num_examples` attribute are used).
  void open(hid_t group, const std::string& context);
  void close() { dataset_.reset(); }
  bool present() const { return dataset_.valid(); }
  hid_t dataset() const { return dataset_.get(); }

  /// Committed members: the entries before the first 0.
  std::int64_t count() const { return count_; }

  /// Object-header address of member i (< count()).
  haddr_t address(std::int64_t i, const std::string& context) const;

  /// Records member count() at `address`; grows the dataset (one chunk,
  /// flushed on its own) first when it is full. Call with the member's data
  /// flushed; flushes the file afterwards.
  void append(hid_t file, haddr_t address, const std::string& context);
  /// Records members count().. at `addresses` with one write (and one flush): for members
  /// written in bulk whose file is not yet in place (a merged store built as FILE.partial).
  void append(hid_t file, const std::vector<haddr_t>& addresses, const std::string& context);

 private:
  Handle dataset_;
  std::int64_t extent_ = 0;
  std::int64_t count_ = 0;
};

/// Opens member `index` of the numbered group `group` (at `group_path`,
/// e.g. "/examples"): by the address in `commits` (its header checksum
/// checked first) when the group has an index, otherwise by name. `what`
/// names the member in errors.
Handle open_member(hid_t file, hid_t group, const std::string& group_path,
                   const CommitIndex& commits, const StringHeapCheck& heap_check,
                   std::int64_t index, const std::string& what);

/// Commits `object` (an unlinked group, written completely) as the next
/// member of `group`: flush, the name, flush, index entry (flushed). After the commit the
/// member's object header is never written again. Without
/// an index (files of other writers): name, flush, `count_owner`'s
/// num_examples attribute, flush.
void commit_member(hid_t file, hid_t object, hid_t group, CommitIndex& commits, std::int64_t index,
                   hid_t count_owner, const std::string& context);

/// True when HDF5 fails to look up a member name 0..count of `group`: its link index was
/// damaged by a writer killed inside a flush. (Missing names are not damage.)
bool names_damaged(hid_t group, const CommitIndex& commits);

/// On a write-open: removes the name of member `count` (an uncommitted member whose
/// writer was killed between naming and committing it), if there is one. Only for link
/// indexes that are not damaged.
void drop_stray_name(hid_t file, hid_t group, std::int64_t count, const std::string& context);

/// Object-header address of an open object.
haddr_t address_of(hid_t object, const std::string& context);

}  // namespace attnflow::io::detail
