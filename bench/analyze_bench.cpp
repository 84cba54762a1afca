// Corpus analysis throughput: writes a corpus of random row-stochastic
// attention (default 1000 examples, 12 layers x 12 heads x 64 tokens) as
// float16 and float32 stores with each codec, then reports bytes on disk,
// examples/s for writing (one thread), reading alone, computing alone and
// `analyze` end to end, with HDF5 time and compute time shown separately.
// Every figure is the median of --repeat runs. The corpora go to --dir
// (default /tmp), never to git.
//   attnflow_analyze_bench [--examples 1000] [--layers 12] [--heads 12]
//       [--tokens 64] [--threads 1,2] [--flow-examples N] [--dir /tmp] [--keep]
//       [--compression none,lz4,bitshuffle,gzip-1,gzip-4] [--precision float16,float32]
//       [--repeat 3]
#include <sys/stat.h>
#include <time.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
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

/// CPU seconds of the whole process (all threads): on a shared machine, where wall time
/// depends on the other load, CPU time per example shows what the work itself costs.
double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct Args {
  long examples = 1000, flow_examples = -1;
  int layers = 12, heads = 12, tokens = 64, repeat = 3;
  std::vector<int> threads;
  std::vector<std::string> codecs = {"none", "lz4", "bitshuffle", "gzip-1", "gzip-4"};
  std::vector<std::string> precisions = {"float16", "float32"};
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

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 == 1 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

/// A median rate and the median CPU time per example behind it.
struct Rate {
  double per_second = 0, cpu_ms = 0;
};

/// Writes the corpus `repeat` times (one thread).
Rate write_corpus(const std::string& path, const Args& a, io::Precision p, const std::string& codec,
                  long count, const std::vector<AttentionStack>& pool) {
  io::StoreInfo info;
  info.model = "random";
  info.tokenizer = "none";
  info.layers = a.layers;
  info.heads = a.heads;
  info.attention_precision = p;
  io::WriteOptions w;
  io::set_compression(w, codec);
  std::vector<double> rates, cpu;
  for (int r = 0; r < a.repeat; ++r) {
    std::remove(path.c_str());
    const Clock::time_point t = Clock::now();
    const double c = process_cpu_seconds();
    io::Store store = io::Store::create(path, info, w);
    for (long i = 0; i < count; ++i) store.append(pool_example(pool, i, a.tokens));
    store.close();
    rates.push_back(static_cast<double>(count) / since(t));
    cpu.push_back(1e3 * (process_cpu_seconds() - c) / static_cast<double>(count));
  }
  const double raw = static_cast<double>(count) * a.layers * a.heads * a.tokens * a.tokens *
                     (p == io::Precision::Float16 ? 2 : 4) / 1e6;
  const double disk = file_megabytes(path);
  std::printf(
      "  write  %-10s j=1: %7.1f examples/s (CPU %.2f ms/example)   %.1f MB of %s -> %.1f MB on "
      "disk (%.0f bytes, %.3fx)\n",
      codec.c_str(), median(rates), median(cpu), raw, io::to_string(p), disk, disk * 1e6,
      raw / disk);
  return {median(rates), median(cpu)};
}

/// Reads every example on `threads` threads, `repeat` times.
Rate read_only(const std::string& path, const Args& a, long count, int threads) {
  const io::Store store = io::Store::open(path);
  std::vector<double> rates, hdf5, decode, waiting, cpu;
  for (int r = 0; r < a.repeat; ++r) {
    const double c = process_cpu_seconds();
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
    rates.push_back(static_cast<double>(count) / since(t));
    cpu.push_back(1e3 * (process_cpu_seconds() - c) / static_cast<double>(count));
    io::ReadTiming sum;
    for (const auto& x : totals) {
      sum.waiting += x.waiting;
      sum.hdf5 += x.hdf5;
      sum.decode += x.decode;
    }
    const double per = 1e3 / static_cast<double>(count);
    hdf5.push_back(sum.hdf5 * per);
    decode.push_back(sum.decode * per);
    waiting.push_back(sum.waiting * per);
  }
  std::printf(
      "  read only         j=%d: %7.1f examples/s (CPU %.2f ms/example)   per example: HDF5 %.2f "
      "ms (serialised) + decode %.2f ms (parallel) + lock wait %.2f ms\n",
      threads, median(rates), median(cpu), median(hdf5), median(decode), median(waiting));
  return {median(rates), median(cpu)};
}

void compute_only(const char* label, const AnalysisOptions& o,
                  const std::vector<AttentionStack>& pool, long count, int threads, int repeat) {
  std::vector<double> rates, cpu;
  for (int r = 0; r < repeat; ++r) {
    std::atomic<long> next{0};
    const Clock::time_point t = Clock::now();
    const double c = process_cpu_seconds();
    std::vector<std::thread> workers;
    for (int k = 0; k < threads; ++k) {
      workers.emplace_back([&] {
        for (long i; (i = next++) < count;)
          analyze(pool[static_cast<std::size_t>(i) % pool.size()], nullptr, o);
      });
    }
    for (auto& th : workers) th.join();
    rates.push_back(static_cast<double>(count) / since(t));
    cpu.push_back(1e3 * (process_cpu_seconds() - c) / static_cast<double>(count));
  }
  std::printf("  compute only    j=%d %-22s %7.1f examples/s (CPU %.2f ms/example)\n", threads,
              label, median(rates), median(cpu));
}

Rate end_to_end(const char* label, const std::string& path, const AnalysisOptions& analysis,
                int threads, pipeline::CorpusOutput output, int repeat) {
  pipeline::CorpusAnalysisOptions o;
  o.analysis = analysis;
  o.threads = threads;
  o.output = output;
  o.run = "bench";
  o.start = io::RunStart::Overwrite;
  std::vector<double> rates, read, hdf5, decode, wait, compute, write, cpu;
  for (int r = 0; r < repeat; ++r) {
    const double c = process_cpu_seconds();
    const pipeline::CorpusAnalysisStats s = pipeline::analyze_corpus(path, o);
    const double n = static_cast<double>(s.computed);
    rates.push_back(n / s.wall_seconds);
    cpu.push_back(1e3 * (process_cpu_seconds() - c) / n);
    read.push_back(1e3 * s.read_seconds / n);
    hdf5.push_back(1e3 * s.read_hdf5_seconds / n);
    decode.push_back(1e3 * s.read_decode_seconds / n);
    wait.push_back(1e3 * s.read_wait_seconds / n);
    compute.push_back(1e3 * s.compute_seconds / n);
    write.push_back(1e3 * s.write_seconds / n);
  }
  std::printf(
      "  analyze %-7s j=%d %-18s %7.1f examples/s (CPU %.2f ms/example)   per example: read %.2f "
      "ms (HDF5 %.2f, decode %.2f, wait %.2f), compute %.2f ms, write %.2f ms\n",
      output == pipeline::CorpusOutput::None ? "" : "+store", threads, label, median(rates),
      median(cpu), median(read), median(hdf5), median(decode), median(wait), median(compute),
      median(write));
  return {median(rates), median(cpu)};
}

std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t comma = std::min(list.find(',', start), list.size());
    out.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
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
      a.codecs = split_list(value());
    else if (arg == "--precision")
      a.precisions = split_list(value());
    else if (arg == "--repeat")
      a.repeat = std::max(1, std::stoi(value()));
    else if (arg == "--dir")
      a.dir = value();
    else if (arg == "--keep")
      a.keep = true;
    else if (arg == "--threads") {
      for (const std::string& t : split_list(value())) a.threads.push_back(std::stoi(t));
    } else if (arg == "--help" || arg == "-h") {
      std::printf(
          "attnflow_analyze_bench [--examples 1000] [--layers 12] [--heads 12] [--tokens 64]\n"
          "    [--threads 1,2] [--flow-examples N] [--dir /tmp] [--keep] [--repeat 3]\n"
          "    [--compression none,lz4,bitshuffle,gzip-1,gzip-4] [--precision "
          "float16,float32]\n"
          "Writes random corpora with each codec and prints bytes on disk and median "
          "examples/s of writing, reading and analyze.\n");
      std::exit(0);
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
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // lines appear as they are measured
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
    for (int t : a.threads) compute_only("rollout", rollout_only, pool, a.examples, t, a.repeat);
    for (int t : a.threads) {
      compute_only("raw+rollout+flow", all3, pool, std::min(a.flow_examples, 64L * t), t, 1);
    }

    struct Row {
      std::string precision, codec;
      double disk = 0;
      Rate write;
      std::vector<Rate> read, analyze;
    };
    std::vector<Row> rows;
    for (const std::string& precision : a.precisions) {
      const io::Precision p = io::parse_precision(precision);
      for (const std::string& codec : a.codecs) {
        io::WriteOptions w;
        io::set_compression(w, codec);
        if (!io::codec_available(w.codec)) {
          std::printf("\n%s %s: skipped (its HDF5 filter plugin is not available here)\n",
                      precision.c_str(), codec.c_str());
          continue;
        }
        const std::string path = a.dir + "/attnflow_bench_" + precision + "_" + codec + ".h5";
        std::printf("\n%s corpus, compression %s: %s\n", precision.c_str(), codec.c_str(),
                    path.c_str());
        Row row{precision, codec, 0, {}, {}, {}};
        row.write = write_corpus(path, a, p, codec, a.examples, pool);
        row.disk = file_megabytes(path);
        for (int t : a.threads) row.read.push_back(read_only(path, a, a.examples, t));
        for (int t : a.threads) {
          row.analyze.push_back(
              end_to_end("rollout", path, rollout_only, t, pipeline::CorpusOutput::None, a.repeat));
        }
        if (codec == a.codecs.front()) {  // results written, and flow: the first codec only
          end_to_end("rollout", path, rollout_only, a.threads.back(),
                     pipeline::CorpusOutput::InPlace, a.repeat);
          std::string flow_path = path;
          if (a.flow_examples < a.examples) {
            flow_path = a.dir + "/attnflow_bench_flow_" + precision + "_" + codec + ".h5";
            Args once = a;
            once.repeat = 1;
            write_corpus(flow_path, once, p, codec, a.flow_examples, pool);
          }
          for (int t : a.threads) {
            end_to_end("raw+rollout+flow", flow_path, all3, t, pipeline::CorpusOutput::None, 1);
          }
          if (!a.keep && flow_path != path) std::remove(flow_path.c_str());
        }
        if (!a.keep) std::remove(path.c_str());
        rows.push_back(row);
      }
    }
    std::printf(
        "\nsummary (medians of %d runs; %ld examples): examples/s (wall) [CPU ms per example, "
        "all threads]\n",
        a.repeat, a.examples);
    std::printf("  %-8s %-11s %9s %7s %17s", "dtype", "codec", "MB disk", "ratio", "write j=1");
    for (int t : a.threads) std::printf(" %17s%d", "read j=", t);
    for (int t : a.threads) std::printf(" %17s%d", "analyze rollout j=", t);
    std::printf("\n");
    const auto cell = [](const Rate& r) { std::printf(" %8.1f [%6.2f]", r.per_second, r.cpu_ms); };
    for (const Row& r : rows) {
      const double raw = static_cast<double>(a.examples) * a.layers * a.heads * a.tokens *
                         a.tokens * (r.precision == "float16" ? 2 : 4) / 1e6;
      std::printf("  %-8s %-11s %9.1f %6.3fx", r.precision.c_str(), r.codec.c_str(), r.disk,
                  raw / r.disk);
      cell(r.write);
      for (const Rate& x : r.read) cell(x);
      for (const Rate& x : r.analyze) cell(x);
      std::printf("\n");
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "attnflow_analyze_bench: %s\n", e.what());
    return 1;
  }
}
