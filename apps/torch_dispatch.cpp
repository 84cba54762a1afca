// torch_dispatch: the lean executable's pass-through to attnflow-torch (found beside attnflow in
// a build tree, in LIBEXECDIR/attnflow when installed, or named by $ATTNFLOW_TORCH_EXE).
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "attnflow/core/error.hpp"
#include "torch_commands.hpp"

namespace attnflow::app {
namespace {

namespace fs = std::filesystem;

#ifdef ATTNFLOW_HAVE_TORCH
/// The attnflow-torch executable, or "" when there is none.
std::string torch_executable() {
  if (const char* env = std::getenv("ATTNFLOW_TORCH_EXE"); env != nullptr && *env != '\0') {
    return env;
  }
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  const fs::path dir = self.parent_path();
  for (const fs::path& candidate :
       {dir / "attnflow-torch", dir / ATTNFLOW_LIBEXEC_RELATIVE / "attnflow-torch"}) {
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.lexically_normal().string();
  }
  return "";
}
#endif

[[noreturn]] void dispatch(const std::string& name, char** argv) {
#ifndef ATTNFLOW_HAVE_TORCH
  (void)argv;
  throw Error("attnflow was built without libtorch: " + name + " is not available");
#else
  const std::string exe = torch_executable();
  if (exe.empty()) {
    throw Error(name +
                " needs attnflow-torch, which is not beside this attnflow nor in its libexec "
                "folder (reinstall attnflow, or set ATTNFLOW_TORCH_EXE)");
  }
  std::cout.flush();
  char program[] = "attnflow";
  argv[0] = program;
  ::execv(exe.c_str(), argv);
  throw Error("cannot run " + exe + " for " + name + ": " + std::strerror(errno));
#endif
}

}  // namespace

void add_torch_subcommand_stub(CLI::App& parent, const std::string& name,
                               const std::string& description, char** argv) {
  CLI::App* cmd = parent.add_subcommand(name, description);
  cmd->prefix_command();  // everything after the name is attnflow-torch's to parse
  cmd->set_help_flag();   // so is --help
  const std::string full = parent.get_parent() != nullptr ? parent.get_name() + " " + name : name;
  cmd->callback([full, argv] { dispatch(full, argv); });
}

void add_torch_command_stubs(CLI::App& app, char** argv) {
  for (const TorchCommand& c : torch_commands())
    add_torch_subcommand_stub(app, c.name, c.description, argv);
}

}  // namespace attnflow::app
