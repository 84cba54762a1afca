// Google Benchmark: attention flow (and rollout for scale) on random
// row-stochastic stacks of the paper's and BERT-base's shapes.
//   attnflow_bench --benchmark_filter=Flow
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>

#include "attnflow/core/flow.hpp"
#include "attnflow/core/residual.hpp"
#include "attnflow/core/rollout.hpp"

namespace {

attnflow::LayerMatrices random_layers(int layers, int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  attnflow::AttentionStack s(layers, 1, n);
  for (float& v : s.data()) v = std::exp(normal(rng));
  for (int l = 0; l < layers; ++l) {
    auto m = s.head(l, 0);
    for (int i = 0; i < n; ++i) m.row(i) /= m.row(i).sum();
  }
  return attnflow::prepare_layers(s);
}

// args: layers, tokens, scope (0 = all layers x all rows, 1 = top layer x all
// rows, 2 = CLS row 0 at every layer), algorithm, threads
void BM_Flow(benchmark::State& state) {
  const int layers = static_cast<int>(state.range(0));
  const int n = static_cast<int>(state.range(1));
  const auto scope = state.range(2);
  const auto l = random_layers(layers, n, 1);
  attnflow::FlowOptions o;
  if (scope == 1) o.layers = {layers};
  if (scope == 2) o.target_rows = {0};
  o.algorithm = static_cast<attnflow::FlowAlgorithm>(state.range(3));
  o.threads = static_cast<int>(state.range(4));
  for (auto _ : state) benchmark::DoNotOptimize(attnflow::attention_flow(l, o));
  const double pairs = double(n) * (scope == 2 ? layers : n * (scope == 1 ? 1 : layers));
  state.counters["pairs/s"] =
      benchmark::Counter(pairs, benchmark::Counter::kIsIterationInvariantRate);
  const char* scopes[] = {" all", " top", " cls"};
  state.SetLabel(std::string(attnflow::to_string(o.algorithm)) + scopes[scope]);
}

constexpr int kBK = static_cast<int>(attnflow::FlowAlgorithm::BoykovKolmogorov);
constexpr int kPR = static_cast<int>(attnflow::FlowAlgorithm::PushRelabel);
constexpr int kEK = static_cast<int>(attnflow::FlowAlgorithm::EdmondsKarp);
constexpr int kLY = static_cast<int>(attnflow::FlowAlgorithm::Layered);

BENCHMARK(BM_Flow)
    ->ArgNames({"L", "n", "scope", "alg", "threads"})
    ->Args({6, 32, 0, kLY, 1})
    ->Args({6, 32, 0, kBK, 1})
    ->Args({6, 32, 0, kPR, 1})
    ->Args({6, 32, 0, kEK, 1})
    ->Args({6, 32, 1, kBK, 1})
    ->Args({6, 32, 0, kLY, 2})
    ->Args({6, 32, 0, kPR, 2})
    ->Args({12, 64, 1, kLY, 1})
    ->Args({12, 64, 1, kLY, 2})
    ->Args({12, 64, 0, kLY, 1})
    ->Args({12, 64, 1, kPR, 1})
    ->Args({12, 64, 2, kLY, 1})
    ->Unit(benchmark::kMillisecond);

BENCHMARK(BM_Flow)
    ->Name("BM_Flow_BertBase")
    ->ArgNames({"L", "n", "scope", "alg", "threads"})
    ->Args({12, 128, 1, kLY, 0})
    ->Args({12, 128, 1, kPR, 0})
    ->Args({12, 128, 1, kBK, 0})
    ->Args({12, 512, 2, kLY, 0})
    ->Unit(benchmark::kSecond)
    ->Iterations(1);

void BM_Rollout(benchmark::State& state) {
  const auto l = random_layers(12, static_cast<int>(state.range(0)), 2);
  attnflow::RolloutOptions o;
  if (state.range(1)) o.target_rows = {0};
  for (auto _ : state) benchmark::DoNotOptimize(attnflow::rollout(l, o));
}
BENCHMARK(BM_Rollout)->ArgNames({"n", "cls_only"})->Args({128, 0})->Args({128, 1});

}  // namespace

BENCHMARK_MAIN();
