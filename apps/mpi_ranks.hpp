// The ranks of an MPI job (mpirun, srun) for pipeline::run_ranks, over Debian's OpenMPI when
// attnflow is built with ATTNFLOW_WITH_MPI. MPI is initialised on the first call, in the
// process that runs the subcommand (attnflow-torch for extract: after the exec), and
// finalised (or, when rank 0 failed while others still ran, aborted) at exit.
#pragma once

#include "attnflow/pipeline/shard_job.hpp"

namespace attnflow::app {

/// This process's rank when an MPI launcher started it as one of several processes, else null
/// (one process is a plain run). Throws Error when launched as one of several processes by an
/// attnflow built without MPI.
pipeline::Ranks* mpi_ranks();

/// The number of processes the MPI launcher started (from its environment; 0 = none).
int mpi_launch_size();

}  // namespace attnflow::app
