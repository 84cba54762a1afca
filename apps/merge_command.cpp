// `attnflow merge`: options -> pipeline::merge_shards -> its report on stdout.
#include "merge_command.hpp"

#include <iostream>
#include <memory>

#include "attnflow/io/store.hpp"
#include "attnflow/pipeline/merge.hpp"

namespace attnflow::app {

namespace {

struct MergeArgs {
  pipeline::MergeOptions options;
  bool quiet = false;
};

}  // namespace

void add_merge_command(CLI::App& app) {
  auto args = std::make_shared<MergeArgs>();
  pipeline::MergeOptions& o = args->options;
  CLI::App* cmd = app.add_subcommand(
      "merge",
      "Join the shard stores of a job (--shard K/N, or mpirun) into one store: external links "
      "into the shards, or --copy");
  cmd->add_option("shards", o.shards, "The shard stores (.h5), in any order")->required();
  cmd->add_option("-o,--output", o.output, "The merged store to write")->required();
  cmd->add_flag("--copy", o.copy,
                "Copy examples and results into a self-contained file (default: HDF5 external "
                "links, zero-copy; the shard files must stay beside it)");
  cmd->add_flag("--overwrite", o.overwrite, "Replace an existing output");
  cmd->add_option("--summary", o.summary,
                  "Also write the summary CSV of the merged run (as `attnflow analyze -o`)");
  cmd->add_option("--run", o.run, "Run for --summary (default: the only one)");
  cmd->add_flag("--csv-values", o.csv_values,
                "Add a 'values' column with the whole map row to the summary CSV");
  cmd->add_flag("-q,--quiet", args->quiet, "Print nothing but errors");
  cmd->callback([args] {
    io::silence_hdf5_errors();
    const pipeline::MergeReport report = pipeline::merge_shards(args->options);
    if (!args->quiet) pipeline::print_report(report, std::cout);
  });
}

}  // namespace attnflow::app
