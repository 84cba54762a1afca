// Output folders built as NAME.partial and renamed when complete; shipped default files.
#include "attnflow/pipeline/output_folder.hpp"

#include "attnflow/core/error.hpp"

namespace attnflow::pipeline {

namespace fs = std::filesystem;

std::string shipped_path(const std::string& given, const std::string& relative) {
  if (!given.empty()) return given;
  if (fs::exists(relative)) return relative;
  return std::string(ATTNFLOW_SOURCE_DIR) + "/" + relative;
}

OutputFolder::OutputFolder(const std::string& name, bool overwrite)
    : final_(name), partial_(name + ".partial") {
  if (fs::exists(final_) && !overwrite) {
    throw Error(name + ": exists (use --overwrite to replace it)");
  }
  std::error_code ec;
  fs::remove_all(partial_, ec);
  fs::create_directories(partial_, ec);
  if (ec) throw Error(name + ": cannot create the output folder (" + ec.message() + ")");
}

OutputFolder::~OutputFolder() {
  if (!committed_) {
    std::error_code ignored;
    fs::remove_all(partial_, ignored);
  }
}

void OutputFolder::commit() {
  std::error_code ec;
  if (fs::exists(final_)) fs::remove_all(final_, ec);
  if (!ec) fs::rename(partial_, final_, ec);
  if (ec)
    throw Error(final_.string() + ": cannot move the finished folder in place (" + ec.message() +
                ")");
  committed_ = true;
}

}  // namespace attnflow::pipeline
