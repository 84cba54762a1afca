// `attnflow demo`: the whole pipeline, offline, on the shipped model and sentences:
// extract -> analyze (raw, rollout, flow, gradient rollout) -> figures + a text summary.
#pragma once

#include <CLI/CLI.hpp>

namespace attnflow::app {

void add_demo_command(CLI::App& app);

}  // namespace attnflow::app
