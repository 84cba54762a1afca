// mpi_ranks(): the launcher's environment, and the MPI module (apps/mpi_module.cpp: MpiRanks)
// loaded with dlopen only when an MPI launcher started several processes.
#include "mpi_ranks.hpp"

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "attnflow/core/error.hpp"

#ifdef ATTNFLOW_HAVE_MPI
#include <dlfcn.h>
#include <unistd.h>

#include <filesystem>
#endif

namespace attnflow::app {

int mpi_launch_size() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"}) {
    if (const char* v = std::getenv(name); v != nullptr && *v != '\0') return std::atoi(v);
  }
  return std::getenv("PMIX_RANK") != nullptr ? 1 : 0;
}

#ifdef ATTNFLOW_HAVE_MPI
namespace {

namespace fs = std::filesystem;

// attnflow-mpi.so beside the executable (a build tree) or in its libexec folder (installed), or
// $ATTNFLOW_MPI_MODULE.
std::string mpi_module() {
  if (const char* env = std::getenv("ATTNFLOW_MPI_MODULE"); env != nullptr && *env != '\0') {
    return env;
  }
  std::error_code ec;
  const fs::path dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
  if (ec) return "attnflow-mpi.so";
#ifdef ATTNFLOW_LIBEXEC_RELATIVE  // attnflow; attnflow-torch is in the libexec folder itself
  if (const fs::path installed = dir / ATTNFLOW_LIBEXEC_RELATIVE / "attnflow-mpi.so";
      ::access(installed.c_str(), R_OK) == 0 &&
      ::access((dir / "attnflow-mpi.so").c_str(), R_OK) != 0) {
    return installed.lexically_normal().string();
  }
#endif
  return (dir / "attnflow-mpi.so").string();
}

std::unique_ptr<pipeline::Ranks> open_mpi_ranks() {
  const std::string path = mpi_module();
  // RTLD_GLOBAL: OpenMPI's own components (dlopened by libmpi) need libmpi's symbols. Never
  // closed: the ranks object lives until exit.
  void* module = ::dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (module == nullptr) {
    const char* why = ::dlerror();
    throw Error("this process is one of " + std::to_string(mpi_launch_size()) +
                " started by an MPI launcher, but the MPI module " + path + " cannot be loaded (" +
                (why != nullptr ? why : "unknown reason") +
                "; reinstall attnflow, or set ATTNFLOW_MPI_MODULE)");
  }
  using Open = pipeline::Ranks* (*)();
  auto open = reinterpret_cast<Open>(::dlsym(module, "attnflow_mpi_ranks"));
  if (open == nullptr) throw Error(path + ": not an attnflow MPI module (no attnflow_mpi_ranks)");
  return std::unique_ptr<pipeline::Ranks>(open());
}

}  // namespace

pipeline::Ranks* mpi_ranks() {
  // One process (mpirun -n 1, or srun of one task): a plain run, with no shard files.
  if (mpi_launch_size() <= 1) return nullptr;
  static std::unique_ptr<pipeline::Ranks> ranks = open_mpi_ranks();
  return ranks.get();
}
#else
pipeline::Ranks* mpi_ranks() {
  const int size = mpi_launch_size();
  if (size > 1) {
    throw Error("this process is one of " + std::to_string(size) +
                " started by an MPI launcher, but attnflow was built without MPI "
                "(-DATTNFLOW_WITH_MPI=ON with libopenmpi-dev); run the shards with --shard K/N "
                "instead (docs/scale.md)");
  }
  return nullptr;
}
#endif

}  // namespace attnflow::app
