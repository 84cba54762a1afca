// Shared by the subcommands that write a folder of results (train, demo, reproduce).
#pragma once

#include <filesystem>
#include <string>

namespace attnflow::app {

/// A file that ships with the repository: `given` when set, else `relative` to the working
/// directory when it exists there, else relative to the source tree attnflow was built from
/// (so the commands work from any directory of a checkout).
std::string shipped_path(const std::string& given, const std::string& relative);

/// An output folder built as NAME.partial and renamed to NAME by commit(); destroyed without
/// commit() (an error), the partial folder is removed, so a failed run leaves nothing that
/// looks finished. An existing NAME is an error unless `overwrite` (then it is replaced only
/// at commit()).
class OutputFolder {
 public:
  OutputFolder(const std::string& name, bool overwrite);
  ~OutputFolder();
  OutputFolder(const OutputFolder&) = delete;
  OutputFolder& operator=(const OutputFolder&) = delete;

  /// The folder to write into (NAME.partial until commit()).
  const std::filesystem::path& path() const { return partial_; }
  /// path() / file, as a string.
  std::string file(const std::string& name) const { return (partial_ / name).string(); }
  void commit();

 private:
  std::filesystem::path final_;
  std::filesystem::path partial_;
  bool committed_ = false;
};

}  // namespace attnflow::app
