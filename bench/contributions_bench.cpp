// Cost per example of the value-aware contributions (norm, GlobEnc, ALTI, value zeroing) next
// to the forward pass that gives the attention alone: median over repeats of whole runs over
// the same random examples, side by side as ratios. Not a test (docs/methods.md).
//
//   build/bench/attnflow_contributions_bench [--model DIR] [--examples 64] [--length 16]
//                                            [--batch 16] [--repeats 5] [--threads 0]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "attnflow/core/error.hpp"
#include "attnflow/torch/model.hpp"

namespace at = attnflow::torch;
using attnflow::Contribution;

namespace {

struct Args {
  std::string model = ATTNFLOW_SOURCE_DIR "/datasets/models/sva";
  int examples = 64, length = 16, batch = 16, repeats = 5, threads = 0;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int k = 1; k + 1 < argc; k += 2) {
    const std::string key = argv[k], value = argv[k + 1];
    if (key == "--model") {
      a.model = value;
    } else if (key == "--examples") {
      a.examples = std::stoi(value);
    } else if (key == "--length") {
      a.length = std::stoi(value);
    } else if (key == "--batch") {
      a.batch = std::stoi(value);
    } else if (key == "--repeats") {
      a.repeats = std::stoi(value);
    } else if (key == "--threads") {
      a.threads = std::stoi(value);
    } else {
      throw attnflow::Error("unknown option " + key);
    }
  }
  return a;
}

struct Case {
  std::string name;
  std::vector<Contribution> methods;
  std::int64_t value_zeroing_batch = 0;
};

}  // namespace

int main(int argc, char** argv) try {
  const Args a = parse(argc, argv);
  at::LoadOptions load;
  load.threads = a.threads;
  auto model = at::Model::load(a.model, load);
  const at::ModelInfo& info = model->info();
  std::mt19937 rng(7);
  std::uniform_int_distribution<std::int64_t> id(1, info.vocab_size - 1);
  std::vector<std::vector<at::Input>> batches;
  for (int e = 0; e < a.examples; ++e) {
    if (e % a.batch == 0) batches.emplace_back();
    at::Input in;
    for (int k = 0; k < a.length; ++k) in.ids.push_back(id(rng));
    batches.back().push_back(std::move(in));
  }
  const std::vector<Case> cases = {
      {"attention only", {}},
      {"norm", {Contribution::Norm}},
      {"globenc", {Contribution::GlobEnc}},
      {"alti", {Contribution::Alti}},
      {"value-zeroing", {Contribution::ValueZeroing}},
      {"value-zeroing, 32 pairs/run", {Contribution::ValueZeroing}, 32},
      {"value-zeroing, 1 pair/run", {Contribution::ValueZeroing}, 1},
      {"all four",
       {Contribution::Norm, Contribution::GlobEnc, Contribution::Alti, Contribution::ValueZeroing}},
  };
  std::printf(
      "%s: %d layers x %d heads, d=%lld; %d examples of %d tokens, batches of %d, "
      "median of %d runs\n",
      a.model.c_str(), info.layers, info.heads, static_cast<long long>(info.hidden_size),
      a.examples, a.length, a.batch, a.repeats);
  std::printf("%-28s %14s %10s\n", "method", "ms / example", "x forward");
  double base = 0.0;
  for (const Case& c : cases) {
    at::RunOptions o;
    o.contributions = c.methods;
    o.contribution_options.value_zeroing_batch = c.value_zeroing_batch;
    for (const auto& b : batches) model->run(b, o);  // warm-up
    std::vector<double> times;
    for (int r = 0; r < a.repeats; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      for (const auto& b : batches) model->run(b, o);
      times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
    const double per_example = times[times.size() / 2] / a.examples * 1e3;
    if (c.methods.empty()) base = per_example;
    std::printf("%-28s %14.3f %10.2f\n", c.name.c_str(), per_example, per_example / base);
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "attnflow_contributions_bench: %s\n", e.what());
  return 1;
}
