// Internal to attnflow::io: HDF5 1.10 keeps variable-length strings in
// "global heap collections" that carry no checksum, and it trusts the object
// sizes found there (a damaged size makes it overrun its buffers). Before
// HDF5 reads the token strings of an example, this check reads the raw heap
// IDs and the collections they point to (File Format Spec, "Global Heap")
// and validates them with the same walk HDF5 does.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace attnflow::io::detail {

class StringHeapCheck {
 public:
  StringHeapCheck() = default;
  ~StringHeapCheck() { close(); }
  StringHeapCheck(const StringHeapCheck&) = delete;
  StringHeapCheck& operator=(const StringHeapCheck&) = delete;

  /// Opens `path` read-only for checking; `file` gives the address sizes.
  void open(const std::string& path, hid_t file);
  void close();

  /// Validates the heap objects behind the `count` variable-length strings
  /// of `dataset` (contiguous layout; other layouts are left to HDF5).
  /// Throws Error("<context>: ...") naming the damaged collection or object.
  void check(hid_t dataset, std::size_t count, const std::string& context) const;

  /// Validates the heap objects behind the variable-length attributes of
  /// the root group, or of the object linked as `parent`/`name`, found by
  /// parsing its (checksummed, version 2) object header before HDF5 loads
  /// it; attributes in dense storage or older headers are left to HDF5.
  void check_root_attributes(const std::string& context) const;
  void check_attributes(hid_t parent, const std::string& name, const std::string& context) const;
  /// The same for the object header at `address` (also verifies its checksum).
  void check_header(std::uint64_t address, const std::string& context) const;

 private:
  struct HeapId {
    std::uint64_t length = 0, address = 0;
    unsigned index = 0;
  };
  void check_ids(const std::vector<HeapId>& ids, const std::string& context) const;
  /// Heap IDs of the variable-length attributes in the object header at
  /// `header`; throws Error naming `context` when a chunk of it fails its
  /// checksum (HDF5 1.10 mishandles such headers: it never finishes closing).
  std::vector<HeapId> attribute_ids(std::uint64_t header, const std::string& context) const;
  bool read(std::uint64_t address, unsigned char* out, std::size_t size) const;
  /// The check of the file that holds `object`: this one, or, for an object reached through an
  /// external link (a merged store, store_merge.hpp), one opened on that file when first met.
  const StringHeapCheck& of(hid_t object) const;

  int fd_ = -1;
  unsigned long fileno_ = 0;  ///< HDF5's number of the checked file while it is open
  mutable std::map<std::string, std::unique_ptr<StringHeapCheck>> linked_;  ///< by file name
  std::uint64_t base_ = 0;     ///< userblock size (addresses are relative to it)
  unsigned address_size_ = 8;  ///< "size of offsets" of the superblock
  unsigned length_size_ = 8;   ///< "size of lengths"
};

}  // namespace attnflow::io::detail
