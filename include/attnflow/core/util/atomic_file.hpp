// attnflow::AtomicFile — writes a file by way of PATH.partial: the content goes to
// PATH.partial, commit() flushes it to disk (fsync) and renames it to PATH, so PATH holds
// either its old content or the complete new one. Without commit() (an error, an
// exception) the destructor removes PATH.partial again.
#pragma once

#include <fstream>
#include <ios>
#include <string>

namespace attnflow {

/// What commit() guarantees beyond "PATH is never seen half-written".
enum class Durability {
  /// fsync PATH.partial, then rename: after a system crash PATH holds its old content or the
  /// complete new one (stores, models, datasets: costly to make again).
  Synced,
  /// Rename only, no fsync: readers and later commands never see a partial PATH and an error
  /// leaves none, but a system crash soon after may leave PATH empty. For outputs that are
  /// quick to make again (analysis CSV), where the fsync costs more than the work.
  Published,
};

class AtomicFile {
 public:
  /// Creates (or truncates) PATH.partial for writing. Throws
  /// Error("PATH: cannot write to folder 'DIR' (reason)"), or, when something is already
  /// in the way at PATH.partial (e.g. a folder), Error("PATH.partial: cannot write (reason)").
  explicit AtomicFile(std::string path, std::ios::openmode mode = std::ios::binary,
                      Durability durability = Durability::Synced);
  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  /// Removes PATH.partial unless commit() succeeded; never throws.
  ~AtomicFile();

  /// Where the content goes (PATH.partial).
  std::ostream& stream() { return out_; }
  /// The final name, PATH.
  const std::string& path() const { return path_; }
  /// PATH.partial, for content written by another program (e.g. gnuplot); commit() then
  /// moves what that program wrote.
  const std::string& partial_path() const { return partial_; }

  /// Flushes and closes the stream, syncs PATH.partial to disk (Durability::Synced) and
  /// renames it to PATH
  /// (replacing an existing PATH). Throws Error("PATH: write failed[ (reason)]") or
  /// Error("PATH: cannot move the finished file into place (reason)"); PATH.partial is
  /// removed then, and PATH is left as it was.
  void commit();

 private:
  std::string path_;
  std::string partial_;
  std::ofstream out_;
  Durability durability_ = Durability::Synced;
  bool done_ = false;  ///< committed, or moved from: nothing left to remove
};

/// Writes PATH atomically: `write(std::ostream&)` fills PATH.partial, then AtomicFile::commit().
template <class Write>
void write_file_atomically(const std::string& path, Write&& write,
                           std::ios::openmode mode = std::ios::binary,
                           Durability durability = Durability::Synced) {
  AtomicFile file(path, mode, durability);
  write(file.stream());
  file.commit();
}

}  // namespace attnflow
