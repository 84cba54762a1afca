// AtomicFile (core/util/atomic_file): the file appears only on commit, a failed or
// abandoned write leaves nothing (and an existing file unchanged), exact messages.
#include "attnflow/core/util/atomic_file.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "test_util.hpp"

namespace attnflow {
namespace {

namespace fs = std::filesystem;

TEST(AtomicFile, AppearsOnlyOnCommit) {
  const fs::path d = test::temp_dir("commit");
  const std::string path = (d / "out.txt").string();
  {
    AtomicFile file(path);
    EXPECT_EQ(file.partial_path(), path + ".partial");
    file.stream() << "hello\n";
    EXPECT_FALSE(fs::exists(path));
    EXPECT_TRUE(fs::exists(path + ".partial"));
    file.commit();
  }
  EXPECT_EQ(test::read_file(path), "hello\n");
  EXPECT_FALSE(fs::exists(path + ".partial"));
  // Replacing an existing file.
  write_file_atomically(path, [](std::ostream& out) { out << "second"; });
  EXPECT_EQ(test::read_file(path), "second");
  fs::remove_all(d);
}

// Durability::Published skips only the fsync: the same file, the same all-or-nothing.
TEST(AtomicFile, PublishedAppearsOnlyOnCommitToo) {
  const fs::path d = test::temp_dir("published");
  const std::string path = (d / "out.csv").string();
  std::ofstream(path) << "old";
  {
    AtomicFile file(path, std::ios::binary, Durability::Published);
    file.stream() << "new,1\n";
    EXPECT_EQ(test::read_file(path), "old");
    file.commit();
  }
  EXPECT_EQ(test::read_file(path), "new,1\n");
  EXPECT_FALSE(fs::exists(path + ".partial"));
  EXPECT_THROW(write_file_atomically(
                   path,
                   [](std::ostream& out) {
                     out << "half";
                     throw Error("stopped");
                   },
                   std::ios::binary, Durability::Published),
               Error);
  EXPECT_EQ(test::read_file(path), "new,1\n");
  EXPECT_FALSE(fs::exists(path + ".partial"));
  fs::remove_all(d);
}

TEST(AtomicFile, WithoutCommitNothingIsLeftAndTheOldFileStays) {
  const fs::path d = test::temp_dir("abandon");
  const std::string path = (d / "out.bin").string();
  std::ofstream(path) << "old";
  EXPECT_THROW(write_file_atomically(path,
                                     [](std::ostream& out) {
                                       out << "half of it";
                                       throw Error("stopped");
                                     }),
               Error);
  EXPECT_EQ(test::read_file(path), "old");
  EXPECT_FALSE(fs::exists(path + ".partial"));
  // Moved-from objects remove nothing; the moved-to one still cleans up.
  {
    AtomicFile a(path);
    AtomicFile b(std::move(a));
    b.stream() << "x";
  }
  EXPECT_FALSE(fs::exists(path + ".partial"));
  fs::remove_all(d);
}

TEST(AtomicFile, ErrorsNameTheFileAndTheReason) {
  const fs::path d = test::temp_dir("errors");
  test::expect_error([&] { AtomicFile((d / "no" / "x.txt").string()); },
                     (d / "no" / "x.txt").string() + ": cannot write to folder '" +
                         (d / "no").string() + "' (No such file or directory)");
  // Something of someone else's in the way at PATH.partial: named, and left alone.
  fs::create_directories(d / "x.txt.partial");
  test::expect_error([&] { AtomicFile((d / "x.txt").string()); },
                     (d / "x.txt.partial").string() + ": cannot write (Is a directory)");
  EXPECT_TRUE(fs::is_directory(d / "x.txt.partial"));
  // The final name is a non-empty folder: the rename fails, the partial file goes.
  fs::create_directories(d / "dir" / "inside");
  test::expect_error(
      [&] {
        AtomicFile f((d / "dir").string());
        f.stream() << "x";
        f.commit();
      },
      (d / "dir").string() + ": cannot move the finished file into place (Is a directory)");
  EXPECT_FALSE(fs::exists(d / "dir.partial"));
  fs::remove_all(d);
}

}  // namespace
}  // namespace attnflow
