// `attnflow encdec`: options -> pipeline::analyze_encdec_corpus -> one summary line.
#include "encdec_command.hpp"

#include <iostream>
#include <memory>

#include "attnflow/io/store.hpp"
#include "attnflow/pipeline/encdec_corpus.hpp"

namespace attnflow::app {

void add_encdec_command(CLI::App& app) {
  auto o = std::make_shared<pipeline::EncDecCorpusOptions>();
  auto no_normalize = std::make_shared<bool>(false);
  auto cross_only = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "encdec",
      "Encoder-decoder relevance (Chefer et al. 2021) and cross-attention of an encoder-decoder "
      "store (attnflow extract of a T5), as a CSV");
  cmd->add_option("store", o->input, "Encoder-decoder store (.h5), extracted with a --target")
      ->required();
  cmd->add_option("-o,--output", o->output, "CSV to write")->required();
  cmd->add_option("--examples", o->examples, "Examples, e.g. 0-4,7 (default: all)");
  cmd->add_flag("--no-normalize", *no_normalize,
                "Use R itself, not rownorm(R - I) + I, in the cross update (an ablation)");
  cmd->add_flag("--no-self-in-cross", *cross_only,
                "Add the cross term alone, without the self-relevances (an ablation)");
  cmd->callback([o, no_normalize, cross_only] {
    io::silence_hdf5_errors();
    o->relevance.normalize_self_relevance = !*no_normalize;
    o->relevance.self_in_cross = !*cross_only;
    const pipeline::EncDecCorpusReport r = pipeline::analyze_encdec_corpus(*o);
    std::cout << "encdec: " << r.examples << " examples, " << r.rows << " rows -> " << r.csv
              << "\n";
  });
}

}  // namespace attnflow::app
