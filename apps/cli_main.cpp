#include "cli_main.hpp"

#include <iostream>

#include "attnflow/core/error.hpp"
#include "attnflow/pipeline/shard_job.hpp"
#include "attnflow/version.hpp"

namespace attnflow::app {

void configure_top_level(CLI::App& app) {
  app.require_subcommand(1);
  app.set_version_flag("--version", ATTNFLOW_VERSION_STRING);
}

int run_cli(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const attnflow::pipeline::ReportedByRankZero&) {
    return 1;  // an MPI job failed: rank 0 printed why
  } catch (const attnflow::Error& e) {
    std::cout.flush();
    std::cerr << "attnflow: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cout.flush();
    std::cerr << "attnflow: unexpected error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}

}  // namespace attnflow::app
