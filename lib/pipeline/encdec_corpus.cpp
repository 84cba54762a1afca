// attnflow encdec: encoder-decoder relevance and cross-attention of a store's examples -> CSV.
#include "attnflow/pipeline/encdec_corpus.hpp"

#include <vector>

#include "attnflow/core/error.hpp"
#include "attnflow/core/readout.hpp"
#include "attnflow/core/util/atomic_file.hpp"
#include "attnflow/io/store.hpp"
#include "attnflow/pipeline/plot_figures.hpp"
#include "attnflow/pipeline/summary_csv.hpp"

namespace attnflow::pipeline {

EncDecCorpusReport analyze_encdec_corpus(const EncDecCorpusOptions& o) {
  if (o.output.empty()) throw Error("encdec: give the CSV to write with -o FILE.csv");
  const io::Store store = open_attention_store(o.input, "encdec");
  const io::StoreInfo& info = store.info();
  if (info.decoder_layers == 0) {
    throw Error(o.input +
                ": not an encoder-decoder store (no decoder_layers; attnflow extract of "
                "a T5 writes one)");
  }
  std::vector<std::int64_t> indices;
  if (o.examples.empty()) {
    for (std::int64_t i = 0; i < store.size(); ++i) indices.push_back(i);
  } else {
    indices = parse_examples(o.examples, o.input, store.size());
  }
  AtomicFile file(o.output);
  std::ostream& out = file.stream();
  out << "example,method,layer,decoder_position,decoder_token,encoder_position,encoder_token,"
         "value\n";
  EncDecCorpusReport report;
  for (std::int64_t i : indices) {
    io::Example e = store.read(i);
    const std::string name = o.input + " example " + std::to_string(i);
    if (e.gradient.empty() || e.decoder.gradient.empty() || e.decoder.cross_gradient.empty()) {
      throw Error(name + ": no gradient stored (extract with a --target, e.g. --target last)");
    }
    EncoderDecoderAttention in;
    in.encoder = std::move(e.attention);
    in.encoder_gradient = std::move(e.gradient);
    in.decoder = std::move(e.decoder.attention);
    in.decoder_gradient = std::move(e.decoder.gradient);
    in.cross = std::move(e.decoder.cross_attention);
    in.cross_gradient = std::move(e.decoder.cross_gradient);
    const EncDecRelevance r = encdec_relevance(in, o.relevance);
    CrossReadoutOptions readout;
    readout.fusion = o.fusion;
    const LayerMaps cross = cross_attention_readout(in.cross, readout);
    // rows[k] = the decoder position of row k of m
    const auto write = [&](const char* method, int layer, const Matrix& m,
                           const std::vector<int>& rows) {
      for (Eigen::Index k = 0; k < m.rows(); ++k) {
        const int p = rows.empty() ? static_cast<int>(k) : rows[static_cast<std::size_t>(k)];
        for (Eigen::Index j = 0; j < m.cols(); ++j) {
          out << i << "," << method << "," << layer << "," << p << ","
              << csv_quoted(e.decoder.tokens[static_cast<std::size_t>(p)]) << "," << j << ","
              << csv_quoted(e.tokens[static_cast<std::size_t>(j)]) << "," << csv_number(m(p, j))
              << "\n";
          ++report.rows;
        }
      }
    };
    for (std::size_t k = 0; k < r.cross_by_layer.size(); ++k) {
      write("encdec-relevance", static_cast<int>(k) + 1, r.cross_by_layer[k], {});
    }
    for (std::size_t k = 0; k < cross.maps.size(); ++k) {
      write("cross-attention", cross.layers[k], cross.maps[k], cross.rows);
    }
    ++report.examples;
  }
  file.commit();
  report.csv = o.output;
  return report;
}

}  // namespace attnflow::pipeline
