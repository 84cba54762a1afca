// Validation of global heap collections behind variable-length strings, and
// extraction of attribute heap IDs from version-2 object headers (HDF5 File
// Format Specification 3.0: IV.A.1.b object header, IV.A.2.m attribute
// message, IV.A.2.d datatype, IV.A.2.b dataspace, III.E global heap).
#include "heap_check.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "attnflow/core/error.hpp"
#include "hdf5_util.hpp"

namespace attnflow::io::detail {
namespace {

std::uint64_t decode(const unsigned char* p, unsigned bytes) {
  std::uint64_t v = 0;
  for (unsigned k = bytes; k-- > 0;) v = (v << 8) | p[k];
  return v;
}

std::uint64_t file_size_of(int fd) {
  struct stat st;
  return ::fstat(fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

// Bob Jenkins' lookup3 "hashlittle", the checksum of HDF5 metadata
// (H5_checksum_lookup3 with initial value 0).
std::uint32_t rot(std::uint32_t x, int k) {
  return (x << k) | (x >> (32 - k));
}

std::uint32_t lookup3(const unsigned char* k, std::size_t length) {
  std::uint32_t a, b, c;
  a = b = c = 0xdeadbeefu + static_cast<std::uint32_t>(length);
  while (length > 12) {
    a += k[0] + (std::uint32_t{k[1]} << 8) + (std::uint32_t{k[2]} << 16) +
         (std::uint32_t{k[3]} << 24);
    b += k[4] + (std::uint32_t{k[5]} << 8) + (std::uint32_t{k[6]} << 16) +
         (std::uint32_t{k[7]} << 24);
    c += k[8] + (std::uint32_t{k[9]} << 8) + (std::uint32_t{k[10]} << 16) +
         (std::uint32_t{k[11]} << 24);
    a -= c;
    a ^= rot(c, 4);
    c += b;
    b -= a;
    b ^= rot(a, 6);
    a += c;
    c -= b;
    c ^= rot(b, 8);
    b += a;
    a -= c;
    a ^= rot(c, 16);
    c += b;
    b -= a;
    b ^= rot(a, 19);
    a += c;
    c -= b;
    c ^= rot(b, 4);
    b += a;
    length -= 12;
    k += 12;
  }
  switch (length) {  // the last block; fall through on purpose
    case 12: c += std::uint32_t{k[11]} << 24; [[fallthrough]];
    case 11: c += std::uint32_t{k[10]} << 16; [[fallthrough]];
    case 10: c += std::uint32_t{k[9]} << 8; [[fallthrough]];
    case 9: c += k[8]; [[fallthrough]];
    case 8: b += std::uint32_t{k[7]} << 24; [[fallthrough]];
    case 7: b += std::uint32_t{k[6]} << 16; [[fallthrough]];
    case 6: b += std::uint32_t{k[5]} << 8; [[fallthrough]];
    case 5: b += k[4]; [[fallthrough]];
    case 4: a += std::uint32_t{k[3]} << 24; [[fallthrough]];
    case 3: a += std::uint32_t{k[2]} << 16; [[fallthrough]];
    case 2: a += std::uint32_t{k[1]} << 8; [[fallthrough]];
    case 1: a += k[0]; break;
    case 0: return c;
  }
  c ^= b;
  c -= rot(b, 14);
  a ^= c;
  a -= rot(c, 11);
  b ^= a;
  b -= rot(a, 25);
  c ^= b;
  c -= rot(b, 16);
  a ^= c;
  a -= rot(c, 4);
  b ^= a;
  b -= rot(a, 14);
  c ^= b;
  c -= rot(b, 24);
  return c;
}

}  // namespace

bool StringHeapCheck::read(std::uint64_t address, unsigned char* out, std::size_t size) const {
  const std::uint64_t offset = base_ + address;
  if (address > (std::uint64_t{1} << 62) || offset + size > file_size_of(fd_)) return false;
  std::size_t done = 0;
  while (done < size) {
    const ssize_t got = ::pread(fd_, out + done, size - done, static_cast<off_t>(offset + done));
    if (got <= 0) return false;
    done += static_cast<std::size_t>(got);
  }
  return true;
}

void StringHeapCheck::open(const std::string& path, hid_t file) {
  close();
  Handle fcpl = checked(H5Fget_create_plist(file), H5Pclose, path + ": file properties");
  std::size_t address_size = 8, length_size = 8;
  hsize_t userblock = 0;
  detail::check(H5Pget_sizes(fcpl.get(), &address_size, &length_size), path + ": file properties");
  detail::check(H5Pget_userblock(fcpl.get(), &userblock), path + ": file properties");
  address_size_ = static_cast<unsigned>(address_size);
  length_size_ = static_cast<unsigned>(length_size);
  base_ = userblock;
  if (address_size_ <= 8 && length_size_ <= 8) fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  H5O_info_t info;
  detail::check(H5Oget_info2(file, &info, H5O_INFO_BASIC), path + ": file properties");
  fileno_ = info.fileno;
}

void StringHeapCheck::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  linked_.clear();
}

const StringHeapCheck& StringHeapCheck::of(hid_t object) const {
  H5O_info_t info;
  if (fd_ < 0 || H5Oget_info2(object, &info, H5O_INFO_BASIC) < 0 || info.fileno == fileno_) {
    H5Eclear2(H5E_DEFAULT);
    return *this;
  }
  Handle file = checked(H5Iget_file_id(object), H5Fclose, "linked file");
  const ssize_t length = H5Fget_name(file.get(), nullptr, 0);
  std::string name(length > 0 ? static_cast<std::size_t>(length) : 0, '\0');
  if (length > 0) H5Fget_name(file.get(), &name[0], name.size() + 1);
  auto& check = linked_[name];
  if (!check) {
    check = std::make_unique<StringHeapCheck>();
    check->open(name, file.get());
  }
  return *check;
}

void StringHeapCheck::check(hid_t dataset, std::size_t count, const std::string& context) const {
  if (fd_ < 0 || count == 0) return;
  const StringHeapCheck& owner = of(dataset);
  if (&owner != this) return owner.check(dataset, count, context);
  Handle dcpl = checked(H5Dget_create_plist(dataset), H5Pclose, context + ": layout");
  if (H5Pget_layout(dcpl.get()) != H5D_CONTIGUOUS) return;
  const haddr_t raw = H5Dget_offset(dataset);
  if (raw == HADDR_UNDEF) return;                     // never written: HDF5 returns empty strings
  const std::size_t id_size = 4 + address_size_ + 4;  // length, collection address, index
  std::vector<unsigned char> bytes(count * id_size);
  if (!read(raw, bytes.data(), bytes.size())) {
    throw Error(context + ": string data at address " + std::to_string(raw) +
                " lies beyond the end of the file");
  }
  std::vector<HeapId> ids(count);
  for (std::size_t k = 0; k < count; ++k) {
    const unsigned char* id = bytes.data() + k * id_size;
    ids[k] = HeapId{decode(id, 4), decode(id + 4, address_size_),
                    static_cast<unsigned>(decode(id + 4 + address_size_, 4))};
  }
  check_ids(ids, context);
}

void StringHeapCheck::check_root_attributes(const std::string& context) const {
  if (fd_ < 0) return;
  // Superblock version 2/3: signature, version, sizes, flags, then the base,
  // extension, end-of-file and root object header addresses, checksum.
  unsigned char block[12 + 4 * 8 + 4];
  const std::size_t size = 12 + 4 * std::size_t{address_size_} + 4;
  if (::pread(fd_, block, size, static_cast<off_t>(base_)) != static_cast<ssize_t>(size) ||
      std::memcmp(block, "\x89HDF\r\n\x1a\n", 8) != 0 || (block[8] != 2 && block[8] != 3) ||
      lookup3(block, size - 4) != decode(block + size - 4, 4)) {
    return;  // other superblock versions: left to HDF5
  }
  const std::uint64_t root = decode(block + 12 + 3 * std::size_t{address_size_}, address_size_);
  check_ids(attribute_ids(root, context), context + ": string attributes");
}

void StringHeapCheck::check_attributes(hid_t parent, const std::string& name,
                                       const std::string& context) const {
  if (fd_ < 0) return;
  const StringHeapCheck& owner = of(parent);
  if (&owner != this) return owner.check_attributes(parent, name, context);
  H5L_info_t link;  // the address comes from the parent: the object is not loaded
  if (H5Lget_info(parent, name.c_str(), &link, H5P_DEFAULT) < 0 || link.type != H5L_TYPE_HARD) {
    H5Eclear2(H5E_DEFAULT);
    return;
  }
  check_ids(attribute_ids(link.u.address, context), context + ": string attributes");
}

void StringHeapCheck::check_header(std::uint64_t address, const std::string& context) const {
  if (fd_ < 0) return;
  check_ids(attribute_ids(address, context), context + ": string attributes");
}

void StringHeapCheck::check_ids(const std::vector<HeapId>& ids, const std::string& context) const {
  std::map<std::uint64_t, std::map<unsigned, std::uint64_t>> collections;
  const std::uint64_t object_header = 8 + length_size_;
  for (std::size_t k = 0; k < ids.size(); ++k) {
    const HeapId& id = ids[k];
    if (id.address == 0 && id.length == 0) continue;  // null string
    const std::string where = context + ": string " + std::to_string(k) + " (heap collection at " +
                              std::to_string(id.address) + ")";
    auto found = collections.find(id.address);
    if (found == collections.end()) {
      const std::uint64_t header = 8 + length_size_;
      unsigned char head[16];
      if (!read(id.address, head, header) || std::memcmp(head, "GCOL", 4) != 0 || head[4] != 1) {
        throw Error(where + " is corrupt (no global heap collection there)");
      }
      const std::uint64_t size = decode(head + 8, length_size_);
      const std::uint64_t available =
          file_size_of(fd_) - std::min(file_size_of(fd_), base_ + id.address);
      std::vector<unsigned char> chunk;
      if (size >= header && size <= available && size <= (std::uint64_t{1} << 30)) {
        chunk.resize(static_cast<std::size_t>(size));
      }
      if (chunk.empty() || !read(id.address, chunk.data(), chunk.size())) {
        throw Error(where + " is corrupt (collection size " + std::to_string(size) + ")");
      }
      // The walk of H5HG__cache_heap_deserialize, with every step bounded.
      std::map<unsigned, std::uint64_t> objects;
      std::uint64_t p = header;
      while (p < size) {
        if (p + object_header > size) break;  // tail too small for an object: free space
        const auto index = static_cast<unsigned>(decode(chunk.data() + p, 2));
        const std::uint64_t object_size = decode(chunk.data() + p + 8, length_size_);
        std::uint64_t need = object_size;
        if (index > 0) {
          need = object_size > size ? size + 1 : object_header + ((object_size + 7) / 8) * 8;
          objects[index] = object_size;
        }
        if (need < object_header || need > size - p) {
          throw Error(where + " is corrupt (object " + std::to_string(index) + " at offset " +
                      std::to_string(p) + " does not fit the collection)");
        }
        p += need;
      }
      found = collections.emplace(id.address, std::move(objects)).first;
    }
    const auto object = found->second.find(id.index);
    if (object == found->second.end()) {
      throw Error(where + " is corrupt (object " + std::to_string(id.index) + " is missing)");
    }
    if (object->second != id.length) {
      throw Error(where + " is corrupt (object " + std::to_string(id.index) + " holds " +
                  std::to_string(object->second) + " bytes, the string has " +
                  std::to_string(id.length) + ")");
    }
  }
}

std::vector<StringHeapCheck::HeapId> StringHeapCheck::attribute_ids(
    std::uint64_t header, const std::string& context) const {
  std::vector<HeapId> ids;
  // Prefix of a version-2 header: signature, version, flags, optional times
  // and attribute phase change values, then the size of chunk 0.
  unsigned char prefix[32];
  if (!read(header, prefix, 6) || std::memcmp(prefix, "OHDR", 4) != 0 || prefix[4] != 2) {
    return ids;  // version 1 header (no checksum): left to HDF5
  }
  const unsigned flags = prefix[5];
  std::size_t p = 6 + ((flags & 0x20) ? 16 : 0) + ((flags & 0x10) ? 4 : 0);
  const unsigned size_bytes = 1u << (flags & 3);
  if (!read(header, prefix, p + size_bytes)) return ids;
  const std::uint64_t chunk0 = decode(prefix + p, size_bytes);
  const bool creation_order = (flags & 0x04) != 0;
  struct Chunk {
    std::uint64_t address, length;
    std::size_t start;  ///< offset of the first message
  };
  std::vector<Chunk> chunks = {{header, p + size_bytes + chunk0 + 4, p + size_bytes}};
  const unsigned id_size = 4 + address_size_ + 4;
  for (std::size_t c = 0; c < chunks.size() && c < 64; ++c) {
    const Chunk chunk = chunks[c];
    if (chunk.length > (std::uint64_t{1} << 24) || chunk.length < chunk.start + 4) return {};
    std::vector<unsigned char> b(chunk.length);
    if (!read(chunk.address, b.data(), b.size())) return {};
    if (c > 0 && std::memcmp(b.data(), "OCHK", 4) != 0) return {};
    if (lookup3(b.data(), b.size() - 4) != decode(b.data() + b.size() - 4, 4)) {
      throw Error(context + ": object header at address " + std::to_string(chunk.address) +
                  " is corrupt (checksum mismatch)");
    }
    const std::size_t end = b.size() - 4;
    const std::size_t message_header = creation_order ? 6 : 4;
    std::size_t q = chunk.start;
    while (q + message_header <= end) {
      const unsigned type = b[q];
      const auto size = static_cast<std::size_t>(decode(b.data() + q + 1, 2));
      q += message_header;
      if (q + size > end) return {};
      const unsigned char* m = b.data() + q;
      if (type == 0x10 && size >= address_size_ + length_size_) {  // continuation
        chunks.push_back({decode(m, address_size_), decode(m + address_size_, length_size_), 4});
      } else if (type == 0x0c && size >= 8) {  // attribute
        const unsigned version = m[0];
        const unsigned attribute_flags = version == 1 ? 0 : m[1];
        const auto name_size = static_cast<std::size_t>(decode(m + 2, 2));
        const auto type_size = static_cast<std::size_t>(decode(m + 4, 2));
        const auto space_size = static_cast<std::size_t>(decode(m + 6, 2));
        const auto pad = [&](std::size_t n) { return version == 1 ? (n + 7) / 8 * 8 : n; };
        std::size_t o = version == 3 ? 9 : 8;
        const std::size_t type_at = o + pad(name_size);
        const std::size_t space_at = type_at + pad(type_size);
        const std::size_t data_at = space_at + pad(space_size);
        if (version < 1 || version > 3 || (attribute_flags & 3) != 0 || data_at > size ||
            type_size < 8 || space_size < 4) {
          q += size;
          continue;  // shared type/space or unknown form: left to HDF5
        }
        if ((m[type_at] & 0x0f) == 9) {  // variable-length (string or sequence)
          const unsigned char* s = m + space_at;
          const unsigned rank = s[1];
          std::size_t dims_at = s[0] == 1 ? 8 : 4;
          std::uint64_t count = 1;
          if (s[0] == 2 && s[3] == 2) count = 0;  // null dataspace
          if (dims_at + std::size_t{rank} * length_size_ > space_size) return {};
          for (unsigned r = 0; r < rank && count > 0; ++r) {
            count *= decode(s + dims_at + std::size_t{r} * length_size_, length_size_);
            if (count > (std::uint64_t{1} << 20)) return {};
          }
          if (data_at + count * id_size > size) return {};
          for (std::uint64_t k = 0; k < count; ++k) {
            const unsigned char* id = m + data_at + k * id_size;
            ids.push_back(HeapId{decode(id, 4), decode(id + 4, address_size_),
                                 static_cast<unsigned>(decode(id + 4 + address_size_, 4))});
          }
        }
      }
      q += size;
    }
  }
  return ids;
}

}  // namespace attnflow::io::detail
