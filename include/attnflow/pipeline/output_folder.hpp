// Output folders of the jobs that write a folder of results (train, demo, reproduce): built as
// NAME.partial and moved in place when complete, and the shipped files those jobs default to.
#pragma once

#include <filesystem>
#include <string>

namespace attnflow::pipeline {

/// A file that ships with the repository: `given` when set, else `relative` to the working
/// directory when it exists there, else relative to the source tree attnflow was built from
/// (so the jobs work from any directory of a checkout).
std::string shipped_path(const std::string& given, const std::string& relative);

/// An output folder built as NAME.partial and renamed to NAME by commit(); destroyed without
/// commit() (an error), the partial folder is removed, so a failed run leaves nothing that
/// looks finished. An existing NAME is an error unless `overwrite` (then it is replaced only
/// at commit()).
class OutputFolder {
 public:
  /// Throws Error("NAME: exists (use --overwrite to replace it)") or
  /// Error("NAME: cannot create the output folder (...)").
  OutputFolder(const std::string& name, bool overwrite);
  ~OutputFolder();
  OutputFolder(const OutputFolder&) = delete;
  OutputFolder& operator=(const OutputFolder&) = delete;

  /// The folder to write into (NAME.partial until commit()).
  const std::filesystem::path& path() const { return partial_; }
  /// path() / file, as a string.
  std::string file(const std::string& name) const { return (partial_ / name).string(); }
  /// Replaces NAME by the partial folder. Throws Error when the rename fails.
  void commit();

 private:
  std::filesystem::path final_;
  std::filesystem::path partial_;
  bool committed_ = false;
};

}  // namespace attnflow::pipeline
