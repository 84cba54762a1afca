// Derived results in the HDF5 store: a "run" (/derived/<name>) holds, for
// examples 0..k-1, the LayerMaps of each method computed with one set of
// AnalysisOptions, recorded as attributes of the run group.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attnflow/core/analysis.hpp"
#include "attnflow/io/store.hpp"

namespace attnflow::io {

enum class RunStatus {
  Running,   ///< being written (or the writer was killed)
  Complete,  ///< every example of the store has results
  Failed,    ///< stopped at a bad example; `error` says which
};
inline constexpr EnumName<RunStatus> kRunStatusNames[] = {
    {RunStatus::Running, "running"},
    {RunStatus::Complete, "complete"},
    {RunStatus::Failed, "failed"},
};
const char* to_string(RunStatus status);

enum class RunStart {
  New,        ///< error when the run exists
  Overwrite,  ///< delete an existing run of that name first
  Resume,     ///< continue an existing run with identical options
};

struct RunInfo {
  std::string name;                          ///< group name under /derived (no '/')
  AnalysisOptions options;                   ///< what produced the maps (threads not recorded)
  Precision precision = Precision::Float32;  ///< of the stored maps
  // Filled by the store:
  RunStatus status = RunStatus::Running;
  std::int64_t size = 0;     ///< committed examples (0..size-1 have results)
  std::string error;         ///< message of the failure (Failed)
  std::string created;       ///< UTC, ISO 8601
  std::string tool_version;  ///< attnflow version that wrote the run
  std::string source;        ///< input store of a separate output file
};

/// Runs of the store, sorted by name.
std::vector<RunInfo> list_runs(const Store& store);
/// One run; throws Error when it does not exist or is malformed.
RunInfo run_info(const Store& store, const std::string& name);
bool has_run(const Store& store, const std::string& name);

/// Starts (or resumes) run `run.name`; returns its stored state (size > 0
/// when resuming). Resume throws Error naming the first option that differs.
RunInfo begin_run(Store& store, const RunInfo& run, RunStart start = RunStart::New);

/// Writes the results of example `index`, which must be the run's next
/// example (its current size) and < store.size(); commits like append().
void write_derived(Store& store, const std::string& run, std::int64_t index,
                   const AnalysisResult& result);
/// Marks the run complete or failed (with `error`), and flushes.
void finish_run(Store& store, const std::string& run);
void fail_run(Store& store, const std::string& run, const std::string& error);

/// Results of example `index` (< run size), as written.
AnalysisResult read_derived(const Store& store, const std::string& run, std::int64_t index);

/// "key=value" lines of every recorded option, in a fixed order; equal
/// strings mean the runs computed the same thing.
std::vector<std::string> describe_options(const RunInfo& run);

}  // namespace attnflow::io
