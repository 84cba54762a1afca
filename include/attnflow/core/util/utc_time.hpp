// UTC timestamps in ISO 8601 ("2024-05-01T12:00:00Z"): the "created" time written into
// HDF5 stores, derived runs and training.json.
#pragma once

#include <ctime>
#include <string>

namespace attnflow {

/// `t` (seconds since the epoch) as UTC ISO 8601 with whole seconds, e.g.
/// utc_iso8601(0) == "1970-01-01T00:00:00Z".
std::string utc_iso8601(std::time_t t);

/// The current time as utc_iso8601 writes it.
std::string utc_now_iso8601();

}  // namespace attnflow
