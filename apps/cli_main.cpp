#include "cli_main.hpp"

#include <iostream>

#include "attnflow/core/error.hpp"

namespace attnflow::app {

int run_cli(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
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
