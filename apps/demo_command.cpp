// `attnflow demo`: options -> pipeline::run_demo -> the summary and the files written.
#include "demo_command.hpp"

#include <iomanip>
#include <iostream>
#include <memory>
#include <string>

#include "attnflow/pipeline/demo.hpp"
#include "torch_commands.hpp"

namespace attnflow::app {
namespace {

struct DemoArgs {
  pipeline::DemoOptions job;
  bool quiet = false;
};

void run_demo(DemoArgs& a) {
  if (!a.quiet) a.job.on_step = [](const std::string& line) { std::cerr << line << "\n"; };
  const pipeline::DemoReport r = pipeline::run_demo(a.job);
  std::cout << r.summary << "\nwrote " << r.files.size() << " files to " << r.output << "/ in "
            << std::setprecision(1) << r.seconds << " s:";
  for (const std::string& f : r.files) std::cout << " " << f;
  std::cout << "\n";
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto args = std::make_shared<DemoArgs>();
  pipeline::DemoOptions& o = args->job;
  CLI::App* cmd = app.add_subcommand("demo", torch_command_description("demo"));
  cmd->add_option("-o,--output", o.output, "Output folder")->capture_default_str();
  cmd->add_option("--model", o.model_dir, "Model directory (default: datasets/models/sva)");
  cmd->add_option("--sentences", o.sentences_path,
                  "JSONL sentences with labels (default: datasets/sva/demo.jsonl)");
  cmd->add_option("--figures", o.figures, "Sentences to draw")->capture_default_str();
  cmd->add_option("-j,--threads", o.threads, "Threads (0 = all cores)")->capture_default_str();
  cmd->add_flag("--overwrite", o.overwrite, "Replace an existing output folder");
  cmd->add_flag("-q,--quiet", args->quiet, "Print only the summary");
  cmd->callback([args] { run_demo(*args); });
}

}  // namespace attnflow::app
