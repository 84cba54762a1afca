// Corpus analysis throughput: writes a corpus of random row-stochastic
// attention (default 1000 examples, 12 layers x 12 heads x 64 tokens) as
// float16 and float32 stores, then reports examples/s for reading alone,
// computing alone and `analyze` end to end, with HDF5 time and compute time
// shown separately. The corpora go to --dir (default /tmp), never to git.
//   attnflow_analyze_bench [--examples 1000] [--layers 12] [--heads 12]
//       [--tokens 64] [--threads 1,2] [--flow-examples N] [--dir /tmp] [--keep]
#include <sys/stat.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "attnflow/core/analysis.hpp"
#include "attnflow/core/error.hpp"
#include "attnflow/io/store.hpp"
#include "attnflow/pipeline/analyze_corpus.hpp"

namespace {

using namespace attnflow;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

struct Args {
  long examples = 1000, flow_examples = -1;
  int layers = 12, heads = 12, tokens = 64, compression = 4;
  std::vector<int> threads;
  std::string dir = "/tmp";
  bool keep = false;
};

AttentionStack random_stack(const Args& a, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> temperature(0.5f, 4.0f);
  AttentionStack s(a.layers, a.heads, a.tokens);
  for (int l = 0; l < a.layers; ++l) {
    for (int h = 0; h < a.heads; ++h) {
      const float t = temperature(rng);
      auto m = s.head(l, h);
      for (int i = 0; i < a.tokens; ++i) {
        float sum = 0.0f;
        for (int j = 0; j < a.tokens; ++j) sum += (m(i, j) = std::exp(normal(rng) * t));
        m.row(i) /= sum;
      }
    }
  }
  return s;
}

io::Example pool_example(const std::vector<AttentionStack>& pool, long i, int n) {
  io::Example e;
  for (int k = 0; k < n; ++k) {
    e.tokens.push_back(k == 0 ? "[CLS]" : "tok" + std::to_string((i * 31 + k) % 5000));
    e.token_ids.push_back((i * 31 + k) % 30522);
  }
  e.attention = pool[static_cast<std::size_t>(i) % pool.size()];
  e.label = i % 2;
  return e;
}

double file_megabytes(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<double>(st.st_size) / 1e6 : 0.0;
}

void write_corpus(const std::string& path, const Args& a, io::Precision p, long count,
                  const std::vector<AttentionStack>& pool) {
  std::remove(path.c_str());
  io::StoreInfo info;
  info.model = "random";
  info.tokenizer = "none";
  info.layers = a.layers;
  info.heads = a.heads;
  info.attention_precision = p;
  io::WriteOptions w;
  w.compression = a.compression;
  const Clock::time_point t = Clock::now();
  io::Store store = io::Store::create(path, info, w);
  for (long i = 0; i < count; ++i) store.append(pool_example(pool, i, a.tokens));
  store.close();
  const double s = since(t);
  const double raw = static_cast<double>(count) * a.layers * a.heads * a.tokens * a.tokens *
                     (p == io::Precision::Float16 ? 2 : 4) / 1e6;
  std::printf(
      "  write: %ld examples in %.2f s (%.0f examples/s); %.0f MB of %s, %.0f MB on disk "
      "(gzip 4 + shuffle: %.2fx)\n",
      count, s, static_cast<double>(count) / s, raw, io::to_string(p), file_megabytes(path),
      raw / file_megabytes(path));
}

void read_only(const std::string& path, long count, int threads) {
  const io::Store store = io::Store::open(path);
  std::atomic<long> next{0};
  std::vector<io::ReadTiming> totals(static_cast<std::size_t>(threads));
  const Clock::time_point t = Clock::now();
  std::vector<std::thread> pool;
  for (int k = 0; k < threads; ++k) {
    pool.emplace_back([&, k] {
      for (long i; (i = next++) < count;) {
        io::ReadTiming timing;
        store.read(i, {}, &timing);
        auto& total = totals[static_cast<std::size_t>(k)];
        total.waiting += timing.waiting;
        total.hdf5 += timing.hdf5;
        total.decode += timing.decode;
      }
    });
  }
  for (auto& th : pool) th.join();
  const double s = since(t);
  io::ReadTiming sum;
  for (const auto& x : totals) {
    sum.waiting += x.waiting;
    sum.hdf5 += x.hdf5;
    sum.decode += x.decode;
  }
  const double per = 1e3 / static_cast<double>(count);
  std::printf(
      "  read only       j=%d: %7.1f examples/s   per example: HDF5 %.2f ms (serialised) "
      "+ decode %.2f ms (parallel) + lock wait %.2f ms\n",
      threads, static_cast<double>(count) / s, sum.hdf5 * per, sum.decode * per, sum.waiting * per);
}

void compute_only(const char* label, const AnalysisOptions& o,
                  const std::vector<AttentionStack>& pool, long count, int threads) {
  std::atomic<long> next{0};
  const Clock::time_point t = Clock::now();
  std::vector<std::thread> workers;
  for (int k = 0; k < threads; ++k) {
    workers.emplace_back([&] {
      for (long i; (i = next++) < count;)
        analyze(pool[static_cast<std::size_t>(i) % pool.size()], nullptr, o);
    });
  }
  for (auto& th : workers) th.join();
  const double s = since(t);
  std::printf("  compute only    j=%d %-22s %7.1f examples/s   (%.2f ms per example and thread)\n",
              threads, label, static_cast<double>(count) / s,
              1e3 * s * threads / static_cast<double>(count));
}

void end_to_end(const char* label, const std::string& path, const AnalysisOptions& analysis,
                int threads, pipeline::CorpusOutput output) {
  pipeline::CorpusAnalysisOptions o;
  o.analysis = analysis;
  o.threads = threads;
  o.output = output;
  o.run = "bench";
  o.start = io::RunStart::Overwrite;
  const pipeline::CorpusAnalysisStats s = pipeline::analyze_corpus(path, o);
  const double n = static_cast<double>(s.computed);
  std::printf(
      "  analyze %-7s j=%d %-22s %7.1f examples/s   per example: read %.2f ms (HDF5 %.2f, "
      "decode %.2f, wait %.2f), compute %.2f ms, write %.2f ms\n",
      output == pipeline::CorpusOutput::None ? "" : "+store", threads, label, n / s.wall_seconds,
      1e3 * s.read_seconds / n, 1e3 * s.read_hdf5_seconds / n, 1e3 * s.read_decode_seconds / n,
      1e3 * s.read_wait_seconds / n, 1e3 * s.compute_seconds / n, 1e3 * s.write_seconds / n);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int k = 1; k < argc; ++k) {
    const std::string arg = argv[k];
    const auto value = [&]() -> std::string {
      if (k + 1 >= argc) throw Error(arg + ": value expected");
      return argv[++k];
    };
    if (arg == "--examples")
      a.examples = std::stol(value());
    else if (arg == "--flow-examples")
      a.flow_examples = std::stol(value());
    else if (arg == "--layers")
      a.layers = std::stoi(value());
    else if (arg == "--heads")
      a.heads = std::stoi(value());
    else if (arg == "--tokens")
      a.tokens = std::stoi(value());
    else if (arg == "--compression")
      a.compression = std::stoi(value());
    else if (arg == "--dir")
      a.dir = value();
    else if (arg == "--keep")
      a.keep = true;
    else if (arg == "--threads") {
      const std::string list = value();
      std::size_t start = 0;
      while (start <= list.size()) {
        const std::size_t comma = std::min(list.find(',', start), list.size());
        a.threads.push_back(std::stoi(list.substr(start, comma - start)));
        start = comma + 1;
      }
    } else {
      throw Error("unknown argument " + arg + " (see the comment at the top of analyze_bench.cpp)");
    }
  }
  if (a.threads.empty()) {
    a.threads = {1};
    const int all = static_cast<int>(std::thread::hardware_concurrency());
    if (all > 1) a.threads.push_back(all);
  }
  if (a.flow_examples < 0 || a.flow_examples > a.examples) a.flow_examples = a.examples;
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args a = parse(argc, argv);
    std::printf(
        "attnflow analyze benchmark: %ld examples of %d layers x %d heads x %d tokens; "
        "%u hardware threads; flow configuration on %ld examples\n",
        a.examples, a.layers, a.heads, a.tokens, std::thread::hardware_concurrency(),
        a.flow_examples);
    std::vector<AttentionStack> pool;
    for (unsigned k = 0; k < 64; ++k) pool.push_back(random_stack(a, 100 + k));

    AnalysisOptions rollout_only;
    rollout_only.methods = {Method::Rollout};
    rollout_only.target_rows = {0};
    AnalysisOptions all3;
    all3.methods = {Method::Raw, Method::Rollout, Method::Flow};
    all3.target_rows = {0};
    all3.flow.threads = 1;

    std::printf("\ncompute (in memory, no HDF5):\n");
    for (int t : a.threads) compute_only("rollout", rollout_only, pool, a.examples, t);
    for (int t : a.threads) {
      compute_only("raw+rollout+flow", all3, pool, std::min(a.flow_examples, 64L * t), t);
    }

    for (io::Precision p : {io::Precision::Float16, io::Precision::Float32}) {
      const std::string path = a.dir + "/attnflow_bench_" + io::to_string(p) + ".h5";
      std::printf("\n%s corpus %s:\n", io::to_string(p), path.c_str());
      write_corpus(path, a, p, a.examples, pool);
      for (int t : a.threads) read_only(path, a.examples, t);
      for (int t : a.threads)
        end_to_end("rollout", path, rollout_only, t, pipeline::CorpusOutput::None);
      end_to_end("rollout", path, rollout_only, a.threads.back(), pipeline::CorpusOutput::InPlace);
      std::string flow_path = path;
      if (a.flow_examples < a.examples) {
        flow_path = a.dir + "/attnflow_bench_flow_" + io::to_string(p) + ".h5";
        write_corpus(flow_path, a, p, a.flow_examples, pool);
      }
      for (int t : a.threads)
        end_to_end("raw+rollout+flow", flow_path, all3, t, pipeline::CorpusOutput::None);
      if (!a.keep) {
        std::remove(path.c_str());
        std::remove(flow_path.c_str());
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "attnflow_analyze_bench: %s\n", e.what());
    return 1;
  }
}
