// Write-then-rename: PATH.partial, fsync (Durability::Synced), rename; the partial file is removed
// on failure.
#include "attnflow/core/util/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "attnflow/core/error.hpp"

namespace attnflow {
namespace {

std::string folder_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// fsync of a file by name (its data reaches the disk before the rename publishes it).
int sync_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  const int err = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  return err;
}

}  // namespace

AtomicFile::AtomicFile(std::string path, std::ios::openmode mode, Durability durability)
    : path_(std::move(path)), partial_(path_ + ".partial"), durability_(durability) {
  out_.open(partial_, mode | std::ios::out | std::ios::trunc);
  if (!out_) {
    const int err = errno;
    struct stat st {};
    if (::stat(partial_.c_str(), &st) == 0) {  // something of someone else's is in the way
      throw Error(partial_ + ": cannot write (" + std::strerror(err) + ")");
    }
    throw Error(path_ + ": cannot write to folder '" + folder_of(path_) + "' (" +
                std::strerror(err) + ")");
  }
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : path_(std::move(other.path_)),
      partial_(std::move(other.partial_)),
      out_(std::move(other.out_)),
      durability_(other.durability_),
      done_(other.done_) {
  other.done_ = true;
}

AtomicFile::~AtomicFile() {
  if (done_) return;
  out_.close();
  std::remove(partial_.c_str());
}

void AtomicFile::commit() {
  out_.flush();
  const bool written = static_cast<bool>(out_);
  out_.close();
  if (!written || !out_) {
    throw Error(path_ + ": write failed");  // the destructor removes the partial file
  }
  if (const int err = durability_ == Durability::Synced ? sync_file(partial_) : 0; err != 0) {
    throw Error(path_ + ": write failed (" + std::strerror(err) + ")");
  }
  if (std::rename(partial_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    throw Error(path_ + ": cannot move the finished file into place (" + std::strerror(err) + ")");
  }
  done_ = true;
}

}  // namespace attnflow
