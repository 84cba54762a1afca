// The analysis options shared by `attnflow analyze` and `attnflow plot`
// (methods, fusion, residual, discard, flow, gradient rule), registered once
// into a pipeline::AnalysisSettings.
#pragma once

#include <CLI/CLI.hpp>

#include "attnflow/pipeline/analysis_settings.hpp"

namespace attnflow::app {

/// Adds -m, --fusion, --head-weights, --alpha, --no-residual,
/// --no-renormalize, --discard, --discard-scope, --no-flow-normalize,
/// --flow-algorithm, --grad-rule and --grad-signed to `command`.
void add_analysis_flags(CLI::App& command, pipeline::AnalysisSettings& settings);

}  // namespace attnflow::app
