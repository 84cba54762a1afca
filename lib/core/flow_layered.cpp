// Layered push-relabel for attention flow (FlowAlgorithm::Layered).
//
// The graph of a source (l, i): a super source S feeding layer l-1 with the
// capacities A^(l)[i, :], dense blocks A^(k) from layer k to layer k-1 for
// k = l-1 .. 2, and layer 1 feeding the sink T with A^(1)[:, j]. Node
// (k, p), 1 <= k <= l-1, is u = (k-1)*n + p. Arc data live in n x n blocks:
// residual[k] (row p = upper node, column q = lower node) and flow_t[k]
// (transposed: row q, column p), so that every scan of a node's arcs -- down
// to layer k-1 and back up to layer k+1 -- is contiguous.
//
// Phase one of push-relabel (highest label first, gap heuristic, exact
// global relabelling) computes a maximum preflow; its excess at T is the
// max-flow value. For the next sink of the same source only the n sink arcs
// change: flow above the new capacity is handed back to its layer-1 node as
// excess, labels are recomputed, and the solve continues from that preflow
// instead of from zero. A solve also stops as soon as T's excess reaches the
// upper bound min(source capacity, sink capacity).
#include "flow_layered.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <numeric>

#include "attnflow/core/util/parallel.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define ATTNFLOW_HAVE_AVX2_DISPATCH 1
#endif

namespace attnflow::detail {
namespace {

using Cap = std::int64_t;

int arc_scan_scalar(const Cap* r, const int* lab, int from, int to, int want, int* low) {
  int lo = *low;
  int a = from;
  for (; a < to; ++a) {
    if (r[a] <= 0) continue;
    const int lv = lab[a];
    if (lv == want) break;
    lo = std::min(lo, lv);
  }
  *low = lo;
  return a;
}

#ifdef ATTNFLOW_HAVE_AVX2_DISPATCH
__attribute__((target("avx2"))) inline int horizontal_min(__m256i v) {
  __m128i m = _mm_min_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  m = _mm_min_epi32(m, _mm_shuffle_epi32(m, 0x4E));
  m = _mm_min_epi32(m, _mm_shuffle_epi32(m, 0xB1));
  return _mm_cvtsi128_si32(m);
}

// Eight arcs per step: residual > 0 (two 4 x int64 compares, packed to eight
// 32-bit lanes in arc order) and label == want; the lowest label of the
// residual arcs is kept in a vector until the end.
__attribute__((target("avx2"))) int arc_scan_avx2(const Cap* r, const int* lab, int from, int to,
                                                  int want, int* low) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i wanted = _mm256_set1_epi32(want);
  const __m256i none = _mm256_set1_epi32(*low);
  const __m256i order = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
  __m256i lowest = none;
  int a = from;
  for (; a + 8 <= to; a += 8) {
    const __m256i r0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r + a));
    const __m256i r1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r + a + 4));
    // 32-bit lanes of the compares: arcs 0 0 1 1 2 2 3 3 and 4 4 5 5 6 6 7 7;
    // the blend gives 0 4 1 5 2 6 3 7, the permutation 0 1 2 3 4 5 6 7.
    const __m256i mixed =
        _mm256_blend_epi32(_mm256_cmpgt_epi64(r0, zero), _mm256_cmpgt_epi64(r1, zero), 0xAA);
    const __m256i residual = _mm256_permutevar8x32_epi32(mixed, order);
    const __m256i labels = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lab + a));
    const int admissible = _mm256_movemask_ps(
        _mm256_castsi256_ps(_mm256_and_si256(residual, _mm256_cmpeq_epi32(labels, wanted))));
    if (admissible != 0) {
      const int end = a + __builtin_ctz(static_cast<unsigned>(admissible));
      *low = horizontal_min(lowest);
      arc_scan_scalar(r, lab, a, end, want, low);  // the residual arcs before `end`
      return end;
    }
    lowest = _mm256_min_epi32(lowest, _mm256_blendv_epi8(none, labels, residual));
  }
  *low = horizontal_min(lowest);
  return arc_scan_scalar(r, lab, a, to, want, low);
}

bool cpu_has_avx2() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return has;
}
#endif

constexpr int kNoLabel = -1;  // no node has it: a scan for it only takes the lowest label

// The scan the solver runs: AVX2 where the CPU has it.
inline int scan(const Cap* r, const int* lab, int from, int to, int want, int* low) {
#ifdef ATTNFLOW_HAVE_AVX2_DISPATCH
  static const bool simd = cpu_has_avx2();
  if (simd) return arc_scan_avx2(r, lab, from, to, want, low);
#endif
  return arc_scan_scalar(r, lab, from, to, want, low);
}

// std::llround, exactly (ties away from zero), for c >= 0.
inline Cap to_cap(double c, double scale) {
  const double x = c * scale;
  const double t = std::trunc(x);
  return static_cast<Cap>(t) + (x - t >= 0.5 ? 1 : 0);
}

class LayeredSolver {
 public:
  LayeredSolver(const LayerMatrices& a, int max_layer)
      : a_(a), n_(static_cast<int>(a.front().rows())) {
    const std::size_t nn = static_cast<std::size_t>(n_) * static_cast<std::size_t>(n_);
    const std::size_t blocks = static_cast<std::size_t>(std::max(0, max_layer - 2));
    const std::size_t nodes = static_cast<std::size_t>(std::max(1, max_layer - 1) * n_);
    cap_.resize(blocks * nn);
    residual_.resize(blocks * nn);
    flow_t_.resize(blocks * nn);
    sink_all_.resize(nn);
    sink_cap_.resize(static_cast<std::size_t>(n_));
    sink_flow_.resize(static_cast<std::size_t>(n_));
    excess_.resize(nodes);
    label_.resize(nodes);
    current_.resize(nodes);
    next_.resize(nodes);
    queued_.resize(nodes);
    dirty_.resize(nodes);
    pending_.reserve(nodes);
    head_.resize(nodes + 2);
    count_.resize(nodes + 2);
  }

  // Raw flow values of source (layer, row) to every reachable input; a sink
  // j with known[j] >= 0 (certified elsewhere) is not solved: its value is
  // known[j]. known may be null.
  void solve_row(int layer, int row, double scale, const double* reach, const Cap* known,
                 double* out, LayeredStart how = LayeredStart::Auto) {
    if (layer == 1) {
      for (int j = 0; j < n_; ++j) {
        out[j] = reach[j] == 0.0 ? 0.0 : static_cast<double>(to_cap(a_[0](row, j), scale)) / scale;
      }
      return;
    }
    const Matrix& top = a_[static_cast<std::size_t>(layer - 1)];
    supply_.resize(static_cast<std::size_t>(n_));
    for (int p = 0; p < n_; ++p) supply_[static_cast<std::size_t>(p)] = to_cap(top(row, p), scale);
    start(layer, scale, supply_.data());
    inflow_bound();
    // From zero with augmenting paths, or warm from the previous sink's
    // preflow where that measured faster: large n, where a fresh solve
    // touches every row (L12 stacks, one row or all: layer 3 fresh/warm
    // 0.9x-1.3x at n = 64-128, 3-6x slower at n = 256-512; layer >= 4
    // 1.2-5x faster up to n = 256, 4x slower at n = 512).
    const bool fresh =
        how == LayeredStart::Auto ? n_ <= (layer <= 3 ? 64 : 256) : how == LayeredStart::Fresh;
    for (int j = 0; j < n_; ++j) {
      if (reach[j] == 0.0) {
        out[j] = 0.0;
      } else {
        const Cap v = known != nullptr && known[j] >= 0 ? known[j]
                      : fresh                           ? solve_fresh(j)
                                                        : solve_sink(j);
        out[j] = static_cast<double>(v) / scale;
      }
    }
  }

  // The network of a source at `layer` (nodes at layers layer-1..1) with the
  // top nodes fed by `supply` instead of a row of A^(layer); then flow_to(j).
  void start(int layer, double scale, const Cap* supply) {
    prepare_layer(layer, scale);
    reset_source(supply);
  }

  // Max-flow value to sink j of the started network (exact: it stops only
  // at the upper bound min(supply total, sink_total(j))).
  Cap flow_to(int j) { return solve_sink(j); }

  // Capacities of the network of `layer` (no solve).
  void prepare(int layer, double scale) { prepare_layer(layer, scale); }

  Cap sink_total(int j) const {
    const Cap* c = &sink_all_[static_cast<std::size_t>(j) * n_];
    return std::accumulate(c, c + n_, Cap{0});
  }

 private:
  // Integer capacities of the blocks 2..layer-1 and of every sink column.
  void prepare_layer(int layer, double scale) {
    if (layer == layer_ && scale == scale_) return;
    layer_ = layer;
    scale_ = scale;
    k_ = layer - 1;
    v_ = k_ * n_;
    inf_ = v_ + 2;
    const std::size_t nn = static_cast<std::size_t>(n_) * static_cast<std::size_t>(n_);
    for (int k = 2; k <= k_; ++k) {
      const double* src = a_[static_cast<std::size_t>(k - 1)].data();
      Cap* dst = &cap_[static_cast<std::size_t>(k - 2) * nn];
      for (std::size_t e = 0; e < nn; ++e) dst[e] = to_cap(src[e], scale);
    }
    const double* a1 = a_[0].data();  // row m, column j: sink arc of node (1, m) for sink j
    for (int m = 0; m < n_; ++m) {
      for (int j = 0; j < n_; ++j) {
        sink_all_[static_cast<std::size_t>(j) * n_ + m] =
            to_cap(a1[static_cast<std::size_t>(m) * n_ + j], scale);
      }
    }
  }

  void reset_source(const Cap* supply) {
    const std::size_t arcs = static_cast<std::size_t>(k_ - 1) * n_ * n_;
    std::copy(cap_.begin(), cap_.begin() + static_cast<std::ptrdiff_t>(arcs), residual_.begin());
    std::fill(flow_t_.begin(), flow_t_.begin() + static_cast<std::ptrdiff_t>(arcs), Cap{0});
    for (const int u : dirty_list_) dirty_[static_cast<std::size_t>(u)] = 0;
    dirty_list_.clear();
    flows_written_ = false;
    std::fill(excess_.begin(), excess_.begin() + v_, Cap{0});
    std::fill(sink_flow_.begin(), sink_flow_.end(), Cap{0});
    total_source_ = 0;
    Cap* top_excess = &excess_[static_cast<std::size_t>(k_ - 1) * n_];
    supply_top_.assign(supply, supply + n_);
    for (int p = 0; p < n_; ++p) {
      top_excess[p] = supply[p];  // S -> (l-1, p) saturated
      total_source_ += top_excess[p];
    }
    excess_t_ = 0;
  }

  // Node u's arcs down (its residual row and its column of the flows below)
  // no longer hold the capacities and zero flow: reset_flow restores them.
  void mark(int u) {
    if (dirty_[static_cast<std::size_t>(u)]) return;
    dirty_[static_cast<std::size_t>(u)] = 1;
    dirty_list_.push_back(u);
  }

  // Back to the zero flow of the started source: the top nodes hold the
  // supply as excess, every arc its capacity.
  void reset_flow() {
    const int n = n_;
    for_dirty_rows([this, n](const Cap* c, Cap* r, Cap* ft) {
      std::copy_n(c, n, r);
      if (flows_written_) {
        for (int q = 0; q < n; ++q) ft[static_cast<std::size_t>(q) * n] = 0;
      }
    });
    for (const int u : dirty_list_) dirty_[static_cast<std::size_t>(u)] = 0;
    dirty_list_.clear();
    flows_written_ = false;
    const int top = (k_ - 1) * n;
    std::fill(excess_.begin(), excess_.begin() + top, Cap{0});
    std::copy_n(supply_top_.begin(), n, excess_.begin() + top);
    std::fill(sink_flow_.begin(), sink_flow_.end(), Cap{0});
    excess_t_ = 0;
  }

  // reach_[m]: an upper bound on the inflow of layer-1 node m from the
  // started source, a_m = sum_q min(C[q, m], a_q) layer by layer down from
  // the supply (the inflow of q is <= a_q, and arc (q, m) carries at most
  // both). So sum_m min(c_m, a_m) bounds the max flow to a sink c.
  void inflow_bound() {
    const int n = n_;
    const std::size_t nn = static_cast<std::size_t>(n) * n;
    reach_.assign(supply_top_.begin(), supply_top_.end());
    scratch_.resize(static_cast<std::size_t>(n));
    for (int k = k_; k >= 2; --k) {
      std::fill(scratch_.begin(), scratch_.end(), Cap{0});
      const Cap* c = &cap_[static_cast<std::size_t>(k - 2) * nn];
      for (int p = 0; p < n; ++p) {
        const Cap a = reach_[static_cast<std::size_t>(p)];
        if (a == 0) continue;
        const Cap* row = c + static_cast<std::size_t>(p) * n;
        for (int q = 0; q < n; ++q) scratch_[static_cast<std::size_t>(q)] += std::min(row[q], a);
      }
      reach_.swap(scratch_);
    }
  }

  // Max-flow value to sink j of the started source, from the zero flow:
  // augmenting paths down the DAG first (augment_down), then push-relabel
  // if they stop short of the upper bound.
  Cap solve_fresh(int j) {
    reset_flow();
    const Cap* c = &sink_all_[static_cast<std::size_t>(j) * n_];
    Cap total_sink = 0, reachable = 0;
    for (int p = 0; p < n_; ++p) {
      sink_cap_[p] = c[p];
      total_sink += c[p];
      reachable += std::min(c[p], reach_[static_cast<std::size_t>(p)]);
    }
    bound_ = std::min({total_source_, total_sink, reachable});
    if (bound_ > 0) augment_down(j);
    if (excess_t_ < bound_) {
      write_flows();
      run();
    }
    return excess_t_;
  }

  // augment_down keeps only the residuals; push-relabel also scans the flows
  // (the reverse arcs): flow = capacity - residual on the rows it changed.
  void write_flows() {
    const int n = n_;
    for_dirty_rows([n](const Cap* c, Cap* r, Cap* ft) {
      for (int q = 0; q < n; ++q) ft[static_cast<std::size_t>(q) * n] = c[q] - r[q];
    });
    flows_written_ = true;
  }

  // f(capacities, residuals, flows) of each dirty node's arcs down: its
  // rows of cap_ and residual_, and its column of flow_t_ (stride n).
  template <class F>
  void for_dirty_rows(F f) {
    const int n = n_;
    const std::size_t nn = static_cast<std::size_t>(n) * n;
    for (const int u : dirty_list_) {
      const int k = u / n + 1;
      const auto p = static_cast<std::size_t>(u % n);
      const std::size_t block = static_cast<std::size_t>(k - 2) * nn;
      f(&cap_[block + p * n], &residual_[block + p * n], &flow_t_[block + p]);
    }
  }

  // A blocking flow of the layered DAG (forward arcs only): depth-first
  // paths from each top node's excess to T with current arcs, each node's
  // arcs tried from column j (the sink's own chain, whose diagonal
  // capacities are the large ones) on, cyclically. Every path is a real
  // augmentation, so what remains is a preflow with excess only at the top
  // nodes; stops at the bound.
  void augment_down(int j) {
    const int n = n_;
    const std::size_t nn = static_cast<std::size_t>(n) * n;
    std::fill(current_.begin(), current_.begin() + v_, 0);
    path_.resize(static_cast<std::size_t>(k_));
    arc_.resize(static_cast<std::size_t>(k_));
    int* path = path_.data();
    std::size_t* arc = arc_.data();  // residual index of the arc path[d] -> path[d + 1]
    for (int p0 = 0; p0 < n && excess_t_ < bound_; ++p0) {
      const int top = (k_ - 1) * n + p0;
      int d = 0;
      path[0] = top;
      while (excess_[top] > 0 && excess_t_ < bound_) {
        const int u = path[d];
        const int k = k_ - d;  // layer of u
        const int pu = u - (k - 1) * n;
        if (k == 1) {
          const Cap r = sink_cap_[pu] - sink_flow_[pu];
          if (r > 0) {
            Cap amount = std::min({excess_[top], r, bound_ - excess_t_});
            for (int e = 0; e < d; ++e) amount = std::min(amount, residual_[arc[e]]);
            int back = d;  // tail of the first arc the path saturates
            for (int e = 0; e < d; ++e) {
              residual_[arc[e]] -= amount;
              if (residual_[arc[e]] == 0 && back == d) back = e;
            }
            sink_flow_[pu] += amount;
            excess_t_ += amount;
            excess_[top] -= amount;
            d = back;
            continue;
          }
          // the sink arc is full: u is dead (its parent's arc scan skips it)
        } else {
          const std::size_t row =
              static_cast<std::size_t>(k - 2) * nn + static_cast<std::size_t>(pu) * n;
          const Cap* res = &residual_[row];
          const int base = (k - 2) * n;
          int a = current_[u];
          int q = a + j < n ? a + j : a + j - n;
          for (; a < n; ++a, q = q + 1 == n ? 0 : q + 1) {
            if (res[q] <= 0) continue;
            const int v = base + q;
            const bool alive = k == 2 ? sink_cap_[q] > sink_flow_[q] : current_[v] < n;
            if (alive) break;
          }
          current_[u] = a;
          if (a < n) {
            mark(u);  // (a row marked without a push is only restored for nothing)
            arc[d] = row + static_cast<std::size_t>(q);
            path[++d] = base + q;
            continue;
          }
        }
        if (d == 0) break;  // the top node is dead
        --d;
        ++current_[path[d]];
      }
    }
  }

  Cap solve_sink(int j) {
    const Cap* c = &sink_all_[static_cast<std::size_t>(j) * n_];
    Cap total_sink = 0;
    for (int p = 0; p < n_; ++p) {
      sink_cap_[p] = c[p];
      total_sink += c[p];
      if (sink_flow_[p] > c[p]) {  // hand the flow above the new capacity back
        excess_[p] += sink_flow_[p] - c[p];
        excess_t_ -= sink_flow_[p] - c[p];
        sink_flow_[p] = c[p];
      }
    }
    bound_ = std::min(total_source_, total_sink);
    if (excess_t_ < bound_) run();
    return excess_t_;
  }

  // Highest-label push-relabel until no active node can reach T (or T's
  // excess meets the bound).
  void run() {
    global_relabel();
    const long long budget = 12LL * (static_cast<long long>(v_) + 2LL * (k_ - 1) * n_ * n_) + 64;
    long long work = 0;
    while (max_active_ > 0 && excess_t_ < bound_) {
      const int u = head_[max_active_];
      if (u < 0) {
        --max_active_;
        continue;
      }
      head_[max_active_] = next_[u];
      queued_[u] = 0;
      if (excess_[u] == 0 || label_[u] >= inf_) continue;
      work += discharge(u);
      if (work > budget) {
        global_relabel();
        work = 0;
      }
    }
  }

  // Queues v in the bucket of its label unless it is queued already (a
  // queued node may since have been lifted by a gap; run() checks).
  void activate(int v) {
    if (queued_[v]) return;
    queued_[v] = 1;
    const int d = label_[v];
    next_[v] = head_[d];
    head_[d] = v;
    if (d > max_active_) max_active_ = d;
  }

  // Pushes the excess of u along admissible arcs, relabelling as needed.
  // Arcs of u, in current-arc order: the down arcs (to layer k-1, or the one
  // sink arc when k = 1), then the reverse arcs up to layer k+1. A pass over
  // the arcs also records the lowest label among arcs that keep residual
  // capacity, so a relabel after a pass needs to scan only the arcs the pass
  // skipped (those before the current arc). Returns the arcs scanned.
  long long discharge(int u) {
    const int n = n_;
    const std::size_t nn = static_cast<std::size_t>(n) * n;
    const int k = u / n + 1;
    const int p = u % n;
    const int downs = k == 1 ? 1 : n;
    const int ups = k < k_ ? n : 0;
    Cap* res_down = k >= 2 ? &residual_[static_cast<std::size_t>(k - 2) * nn + p * n] : nullptr;
    Cap* ft_down = k >= 2 ? &flow_t_[static_cast<std::size_t>(k - 2) * nn] : nullptr;
    const int* lab_down = k >= 2 ? &label_[static_cast<std::size_t>(k - 2) * n] : nullptr;
    Cap* ft_up = k < k_ ? &flow_t_[static_cast<std::size_t>(k - 1) * nn + p * n] : nullptr;
    Cap* res_up = k < k_ ? &residual_[static_cast<std::size_t>(k - 1) * nn] : nullptr;
    const int* lab_up = k < k_ ? &label_[static_cast<std::size_t>(k) * n] : nullptr;
    const int down_base = (k - 2) * n, up_base = k * n;
    Cap e = excess_[u];
    long long work = 0;
    if (k >= 2) mark(u);
    while (e > 0) {
      const int want = label_[u] - 1;
      const int first = current_[u];
      int low = inf_;  // lowest label over residual arcs from `first` on
      int a = first;
      if (k == 1) {
        if (a == 0) {
          const Cap r = sink_cap_[p] - sink_flow_[p];
          if (r > 0) {
            if (want == 0) {
              const Cap d = std::min(e, r);
              sink_flow_[p] += d;
              excess_t_ += d;
              e -= d;
              if (r > d) low = 0;
            } else {
              low = 0;
            }
          }
          if (e > 0) a = 1;
        }
      } else {
        for (;; ++a) {
          a = scan(res_down, lab_down, a, n, want, &low);
          if (a >= n) break;
          const Cap r = res_down[a];
          const Cap d = std::min(e, r);
          res_down[a] = r - d;
          ft_down[static_cast<std::size_t>(a) * n + p] += d;
          const int v = down_base + a;
          activate(v);
          excess_[v] += d;
          e -= d;
          if (e == 0) break;
        }
      }
      if (e > 0 && ups > 0) {
        int b = std::max(0, a - downs);
        for (;; ++b) {
          b = scan(ft_up, lab_up, b, ups, want, &low);
          if (b >= ups) break;
          const Cap r = ft_up[b];
          const Cap d = std::min(e, r);
          ft_up[b] = r - d;
          res_up[static_cast<std::size_t>(b) * n + p] += d;
          const int v = up_base + b;
          mark(v);
          activate(v);
          excess_[v] += d;
          e -= d;
          if (e == 0) break;
        }
        a = downs + b;
      }
      work += a - first;
      current_[u] = a;
      if (e == 0) break;
      if (excess_t_ >= bound_) {  // the bound is met: stop, keep the excess
        excess_[u] = e;
        activate(u);
        return work;
      }
      // Relabel: 1 + the lowest label over residual arcs; those from `first`
      // on were seen by the pass.
      const int skipped_downs = std::min(first, downs);
      if (k == 1) {
        if (skipped_downs > 0 && sink_cap_[p] > sink_flow_[p]) low = 0;
      } else {
        scan(res_down, lab_down, 0, skipped_downs, kNoLabel, &low);
      }
      if (first > downs) scan(ft_up, lab_up, 0, first - downs, kNoLabel, &low);
      work += first;
      const int old = label_[u];
      const int fresh = std::min(inf_, low + 1);
      current_[u] = 0;
      --count_[old];
      if (count_[old] == 0) {  // gap: nothing at or above `old` can reach T
        for (int w = 0; w < v_; ++w) {
          if (label_[w] > old && label_[w] < inf_) {
            --count_[label_[w]];
            label_[w] = inf_;
          }
        }
        label_[u] = inf_;
        break;
      }
      label_[u] = fresh;
      if (fresh >= inf_) break;
      ++count_[fresh];
      if (fresh > max_active_) max_active_ = fresh;
    }
    excess_[u] = e;
    return work;
  }

  // Exact distances to T in the residual graph, level by level (a node of
  // layer k is at distance >= k with the parity of k), then the buckets.
  void global_relabel() {
    const int n = n_;
    const std::size_t nn = static_cast<std::size_t>(n) * n;
    std::fill(label_.begin(), label_.begin() + v_, inf_);
    // pending_: the unlabelled nodes, layer by layer ([start_[k-1], start_[k]))
    pending_.clear();
    start_.assign(static_cast<std::size_t>(k_) + 1, 0);
    for (int p = 0; p < n; ++p) {
      if (sink_cap_[p] > sink_flow_[p]) {
        label_[p] = 1;
      } else {
        pending_.push_back(p);
      }
    }
    start_[1] = static_cast<int>(pending_.size());
    for (int k = 2; k <= k_; ++k) {
      for (int p = 0; p < n; ++p) pending_.push_back((k - 1) * n + p);
      start_[static_cast<std::size_t>(k)] = static_cast<int>(pending_.size());
    }
    // Level `level` labels nodes at distance level + 1: layers k <= level + 1
    // with k = level + 1 (mod 2). Their neighbours have the other parity, so
    // labels set during a level are never read in it.
    for (int level = 1;; ++level) {
      bool grew = false, left = false;  // labelled any / any still unlabelled
      for (int k = (level + 1) % 2 == 1 ? 1 : 2; k <= std::min(level + 1, k_); k += 2) {
        int* first = &pending_[static_cast<std::size_t>(start_[k - 1])];
        int* last = &pending_[0] + start_[static_cast<std::size_t>(k)];
        int* keep = first;
        const int* lab_down = k >= 2 ? &label_[static_cast<std::size_t>(k - 2) * n] : nullptr;
        const int* lab_up = k < k_ ? &label_[static_cast<std::size_t>(k) * n] : nullptr;
        for (int* it = first; it != last; ++it) {
          const int u = *it;
          const int p = u - (k - 1) * n;
          bool found = false;
          int unused = 0;
          if (k >= 2) {
            const Cap* res = &residual_[static_cast<std::size_t>(k - 2) * nn + p * n];
            found = scan(res, lab_down, 0, n, level, &unused) < n;
          }
          if (!found && k < k_) {
            const Cap* ft = &flow_t_[static_cast<std::size_t>(k - 1) * nn + p * n];
            found = scan(ft, lab_up, 0, n, level, &unused) < n;
          }
          if (found) {
            label_[u] = level + 1;
            grew = true;
          } else {
            *keep++ = u;
          }
        }
        // compact in place: the layer's range shrinks from its end
        const int kept = static_cast<int>(keep - first);
        const int gone = static_cast<int>(last - first) - kept;
        if (gone > 0) {
          pending_.erase(pending_.begin() + start_[k - 1] + kept,
                         pending_.begin() + start_[static_cast<std::size_t>(k)]);
          for (int m = k; m <= k_; ++m) start_[static_cast<std::size_t>(m)] -= gone;
        }
      }
      for (int k = 1; k <= k_ && !left; ++k) {
        left = start_[static_cast<std::size_t>(k)] > start_[static_cast<std::size_t>(k - 1)];
      }
      // No node at distance level + 1 means none further away either.
      if (!grew || !left) break;
    }
    std::fill(head_.begin(), head_.end(), -1);
    std::fill(queued_.begin(), queued_.end(), 0);
    std::fill(count_.begin(), count_.end(), 0);
    std::fill(current_.begin(), current_.begin() + v_, 0);
    max_active_ = 0;
    for (int u = 0; u < v_; ++u) {
      if (label_[u] >= inf_) continue;
      ++count_[label_[u]];
      if (excess_[u] > 0) activate(u);
    }
  }

  const LayerMatrices& a_;
  int n_;
  int layer_ = 0, k_ = 0, v_ = 0, inf_ = 0;
  double scale_ = 0.0;
  std::vector<Cap> cap_, residual_, flow_t_, sink_all_, sink_cap_, sink_flow_, excess_, supply_;
  std::vector<int> label_, current_, next_, pending_, start_, head_, count_, path_, dirty_list_;
  std::vector<std::size_t> arc_;
  std::vector<Cap> supply_top_, reach_, scratch_;
  std::vector<char> queued_, dirty_;
  bool flows_written_ = false;  ///< flow_t_ of the dirty rows may be non-zero
  Cap total_source_ = 0, excess_t_ = 0, bound_ = 0;
  int max_active_ = 0;
};

// Certificates for the sources of one layer, shared by all of them.
//
// The top of the network of a source (l, i) -- the source arcs and the blocks
// l-1 .. K+1 -- can carry the whole supply down proportionally: node q with
// inflow x_q <= R_q (its integer out-capacity) sends x_q C[q, t] / R_q on each
// arc, a feasible real flow that delivers the vector w_i (total = the supply
// total R_i) to layer K. Below layer K every source of the layer sees the same
// integer network ("the bottom"), which one solver run per sink and per
// supply vector answers for all the sources at once:
//   * W = floor(min_i w_i): if the bottom fed by W carries the sink total T_j,
//     then every source with R_i >= T_j has max flow T_j (W <= w_i, so the
//     top reduced to deliver the bottom's inflow plus the bottom is feasible);
//   * U = ceil(max_i w_i): if the bottom absorbs all of U, then every source
//     with R_i < T_j has max flow R_i (any w_i <= U is absorbed too).
// Either value is the upper bound min(R_i, T_j) of the integer network and a
// real feasible flow reaches it, so it is that network's max-flow value
// exactly (integer capacities have an integral maximum). W and U are computed
// in double with a 1e-9 relative margin (their error is ~1e-13) and
// the top is used only where x_q <= R_q (1 - 1e-9) holds.
class LayerCertificate {
 public:
  static constexpr int kBottom = 3;  ///< node layers of the bottom network
  static constexpr double kMargin = 1e-9;
  static constexpr int kSmallestGroup = 2;             ///< groups this small are not split
  static constexpr std::size_t kShareLayersBelow = 8;  ///< rows: layers of a scale share one

  static bool applies(int layer) { return layer >= kBottom + 2; }

  // The members are the sources (job, row) of every job of `group`: jobs
  // with one scale (so one integer bottom network), layers >= kBottom + 2.
  LayerCertificate(const LayerMatrices& a, const std::vector<int>& rows,
                   const std::vector<const LayeredJob*>& group)
      : rows_(static_cast<int>(rows.size() * group.size())),
        n_(static_cast<int>(a.front().rows())),
        known_(static_cast<std::size_t>(rows_) * static_cast<std::size_t>(n_), Cap{-1}),
        total_(static_cast<std::size_t>(rows_)),
        w_(rows_, n_) {
    std::vector<char> feasible(static_cast<std::size_t>(rows_), 1);
    const auto per_job = static_cast<int>(rows.size());
    for (std::size_t g = 0; g < group.size(); ++g) {
      const int offset = static_cast<int>(g) * per_job;
      top_flow(a, rows, *group[g], w_.middleRows(offset, per_job),
               &total_[static_cast<std::size_t>(offset)],
               &feasible[static_cast<std::size_t>(offset)]);
    }
    for (int r = 0; r < rows_; ++r) {
      if (feasible[static_cast<std::size_t>(r)]) order_.push_back(r);
    }
    sort_by_principal_direction();
  }

  // Certifies the sinks j in [first, last): the members first as one group,
  // then, for the sinks some member is still open for, in halves of the
  // group (members in order_, so that each half's vectors are closer).
  // `solver` is the caller's worker's.
  void certify(LayeredSolver& solver, double scale, int first, int last) {
    struct Group {
      int lo, hi;
      std::vector<int> sinks;
    };
    std::vector<Group> todo;
    todo.push_back({0, static_cast<int>(order_.size()), {}});
    for (int j = first; j < last; ++j) todo.back().sinks.push_back(j);
    std::vector<Cap> supply(static_cast<std::size_t>(n_));
    std::vector<char> failed(static_cast<std::size_t>(n_), 0);
    while (!todo.empty()) {
      Group g = std::move(todo.back());
      todo.pop_back();
      if (g.lo >= g.hi || g.sinks.empty()) continue;
      std::fill(failed.begin(), failed.end(), 0);
      for (const bool high : {false, true}) {
        const Cap total = group_supply(g.lo, g.hi, high, supply);
        bool started = false;
        for (const int j : g.sinks) {
          const Cap sink = solver_sink_total(solver, scale, j);
          // the members this run can prove: R_i >= T_j (low) or R_i < T_j (high)
          bool any = false;
          for (int m = g.lo; m < g.hi && !any; ++m) {
            const int r = order_[static_cast<std::size_t>(m)];
            any = at(r, j) < 0 && (total_[static_cast<std::size_t>(r)] >= sink) != high;
          }
          if (!any || (high ? sink < total : total < sink)) continue;
          if (!started) {
            solver.start(kBottom + 1, scale, supply.data());
            started = true;
          }
          if (solver.flow_to(j) != (high ? total : sink)) {
            failed[static_cast<std::size_t>(j)] = 1;  // the bottom cannot carry it: no retry
            continue;
          }
          for (int m = g.lo; m < g.hi; ++m) {
            const int r = order_[static_cast<std::size_t>(m)];
            const Cap source = total_[static_cast<std::size_t>(r)];
            if (at(r, j) < 0 && (source >= sink) != high) at(r, j) = high ? source : sink;
          }
        }
      }
      if (g.hi - g.lo <= kSmallestGroup) continue;
      std::vector<int> left;  // sinks some member is still open for
      for (const int j : g.sinks) {
        if (failed[static_cast<std::size_t>(j)]) continue;
        bool open = false;
        for (int m = g.lo; m < g.hi && !open; ++m)
          open = at(order_[static_cast<std::size_t>(m)], j) < 0;
        if (open) left.push_back(j);
      }
      if (left.empty()) continue;
      const int mid = (g.lo + g.hi) / 2;
      todo.push_back({g.lo, mid, left});
      todo.push_back({mid, g.hi, std::move(left)});
    }
  }

  // Certified max-flow values of member r (-1 = not certified).
  const Cap* row(int r) const { return &known_[static_cast<std::size_t>(r) * n_]; }

  // Whether a member's row k (from row()) has a reachable sink left open.
  static bool needs_solve(const Cap* k, int n, const double* reach) {
    for (int j = 0; j < n; ++j) {
      if (reach[j] != 0.0 && k[j] < 0) return true;
    }
    return false;
  }

 private:
  Cap& at(int r, int j) { return known_[static_cast<std::size_t>(r) * n_ + j]; }

  // The proportional top flow of each row of `job` down to layer kBottom:
  // its vector (x), supply total and whether it is feasible.
  static void top_flow(const LayerMatrices& a, const std::vector<int>& rows, const LayeredJob& job,
                       Eigen::Ref<Matrix> w, Cap* total, char* feasible) {
    const int n = static_cast<int>(a.front().rows());
    const auto count = static_cast<int>(rows.size());
    const double scale = job.scale;
    const Matrix& top = a[static_cast<std::size_t>(job.layer - 1)];
    Matrix x(count, n);  // flow entering the current layer, in capacity units
    for (int r = 0; r < count; ++r) {
      Cap sum = 0;
      for (int p = 0; p < n; ++p) {
        const Cap c = to_cap(top(rows[static_cast<std::size_t>(r)], p), scale);
        x(r, p) = static_cast<double>(c);
        sum += c;
      }
      total[r] = sum;
    }
    Matrix split(n, n);
    for (int m = job.layer - 1; m >= kBottom + 1; --m) {
      const Matrix& am = a[static_cast<std::size_t>(m - 1)];
      for (int q = 0; q < n; ++q) {
        Cap out = 0;
        for (int t = 0; t < n; ++t) out += to_cap(am(q, t), scale);
        const double capacity = static_cast<double>(out);
        for (int r = 0; r < count; ++r) {
          if (x(r, q) > 0.0 && !(x(r, q) <= capacity * (1.0 - kMargin))) feasible[r] = 0;
        }
        for (int t = 0; t < n; ++t) {
          split(q, t) = out > 0 ? static_cast<double>(to_cap(am(q, t), scale)) / capacity : 0.0;
        }
      }
      x = (x * split).eval();
    }
    w = x;
  }

  static Cap solver_sink_total(LayeredSolver& solver, double scale, int j) {
    solver.prepare(kBottom + 1, scale);
    return solver.sink_total(j);
  }

  // floor(min) (high = false) or ceil(max) of the vectors w_i of the members
  // order_[lo, hi), with the margin; returns the total.
  Cap group_supply(int lo, int hi, bool high, std::vector<Cap>& supply) const {
    Cap total = 0;
    for (int p = 0; p < n_; ++p) {
      double v = high ? 0.0 : std::numeric_limits<double>::infinity();
      for (int m = lo; m < hi; ++m) {
        const double x = w_(order_[static_cast<std::size_t>(m)], p);
        v = high ? std::max(v, x) : std::min(v, x);
      }
      Cap c = 0;
      if (high) {
        c = v > 0.0 ? static_cast<Cap>(std::ceil(v * (1.0 + kMargin))) + 1 : Cap{0};
      } else {
        const double f = std::floor(v * (1.0 - kMargin)) - 1.0;
        c = f > 0.0 ? static_cast<Cap>(f) : Cap{0};
      }
      supply[static_cast<std::size_t>(p)] = c;
      total += c;
    }
    return total;
  }

  // Orders the members by their projection on the main direction in which
  // their vectors differ (a few power iterations on the centred vectors).
  void sort_by_principal_direction() {
    if (order_.size() < 3) return;
    Eigen::VectorXd mean = Eigen::VectorXd::Zero(n_);
    for (const int r : order_) mean += w_.row(r).transpose();
    mean /= static_cast<double>(order_.size());
    Matrix d(static_cast<Eigen::Index>(order_.size()), n_);
    for (std::size_t m = 0; m < order_.size(); ++m) {
      d.row(static_cast<Eigen::Index>(m)) = w_.row(order_[m]) - mean.transpose();
    }
    Eigen::Index far = 0;
    d.rowwise().squaredNorm().maxCoeff(&far);
    Eigen::VectorXd v = d.row(far).transpose();
    for (int it = 0; it < 8 && v.squaredNorm() > 0.0; ++it) {
      v = d.transpose() * (d * v);
      v /= v.norm();
    }
    const Eigen::VectorXd key = d * v;
    std::vector<std::size_t> idx(order_.size());
    std::iota(idx.begin(), idx.end(), std::size_t{0});
    std::stable_sort(idx.begin(), idx.end(), [&key](std::size_t x, std::size_t y) {
      return key(static_cast<Eigen::Index>(x)) < key(static_cast<Eigen::Index>(y));
    });
    std::vector<int> sorted;
    for (const std::size_t m : idx) sorted.push_back(order_[m]);
    order_ = std::move(sorted);
  }

  int rows_, n_;
  std::vector<Cap> known_, total_;
  Matrix w_;                ///< members' vectors at layer kBottom (capacity units)
  std::vector<int> order_;  ///< the feasible members, by principal direction
};

}  // namespace

void layered_flow(const LayerMatrices& a, const std::vector<int>& rows,
                  const std::vector<LayeredJob>& jobs, int threads) {
  int max_layer = 1;
  for (const LayeredJob& job : jobs) max_layer = std::max(max_layer, job.layer);
  const int n = static_cast<int>(a.front().rows());
  // Phase 1: certificates of the layers deep enough, sinks split in chunks;
  // with few rows (the CLS row) one per scale: jobs of one scale share the
  // integer bottom network (many rows make groups large enough per layer).
  std::vector<std::unique_ptr<LayerCertificate>> certs;
  std::vector<std::pair<int, int>> member_of(jobs.size(), {-1, 0});  // certificate, first member
  std::vector<double> cert_scale;
  for (std::size_t b = 0; b < jobs.size(); ++b) {
    if (!LayerCertificate::applies(jobs[b].layer) || member_of[b].first >= 0) continue;
    std::vector<const LayeredJob*> group;
    for (std::size_t c = b; c < jobs.size(); ++c) {
      if (!LayerCertificate::applies(jobs[c].layer) || jobs[c].scale != jobs[b].scale) continue;
      if (c != b && rows.size() >= LayerCertificate::kShareLayersBelow) continue;
      member_of[c] = {static_cast<int>(certs.size()), static_cast<int>(group.size() * rows.size())};
      group.push_back(&jobs[c]);
    }
    certs.push_back(std::make_unique<LayerCertificate>(a, rows, group));
    cert_scale.push_back(jobs[b].scale);
  }
  struct Chunk {
    std::size_t cert;
    int first, last;
  };
  std::vector<Chunk> chunks;
  const int pieces = std::max(1, std::min(threads, n));
  for (std::size_t c = 0; c < certs.size(); ++c) {
    for (int p = 0; p < pieces; ++p) chunks.push_back({c, p * n / pieces, (p + 1) * n / pieces});
  }
  std::atomic<std::size_t> next_chunk{0};
  auto certifier = [&] {
    LayeredSolver bottom(a, LayerCertificate::kBottom + 1);
    for (std::size_t t = next_chunk++; t < chunks.size(); t = next_chunk++) {
      const Chunk& c = chunks[t];
      certs[c.cert]->certify(bottom, cert_scale[c.cert], c.first, c.last);
    }
  };
  if (!chunks.empty())
    run_workers(std::min<int>(threads, static_cast<int>(chunks.size())), certifier);
  auto known = [&](std::size_t b, std::size_t r) -> const Cap* {
    const auto [c, first] = member_of[b];
    return c < 0 ? nullptr : certs[static_cast<std::size_t>(c)]->row(first + static_cast<int>(r));
  };

  // Phase 2: the solver for every row with sinks left.
  struct Task {
    std::size_t job, row;
  };
  std::vector<Task> tasks;
  for (std::size_t b = 0; b < jobs.size(); ++b) {
    for (std::size_t r = 0; r < rows.size(); ++r) {
      const auto rr = static_cast<int>(r);
      const double* reach = jobs[b].reach->row(rr).data();
      const Cap* k = known(b, r);
      if (k != nullptr && !LayerCertificate::needs_solve(k, n, reach)) {
        double* out = jobs[b].out->row(rr).data();
        for (int j = 0; j < n; ++j) {
          out[j] = reach[j] == 0.0 ? 0.0 : static_cast<double>(k[j]) / jobs[b].scale;
        }
        continue;
      }
      tasks.push_back({b, r});
    }
  }
  // Largest graphs first, rows of one layer together (one capacity copy each).
  std::stable_sort(tasks.begin(), tasks.end(), [&jobs](const Task& x, const Task& y) {
    return jobs[x.job].layer > jobs[y.job].layer;
  });
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    LayeredSolver solver(a, max_layer);
    for (std::size_t t = next++; t < tasks.size(); t = next++) {
      const LayeredJob& job = jobs[tasks[t].job];
      const auto r = static_cast<Eigen::Index>(tasks[t].row);
      solver.solve_row(job.layer, rows[tasks[t].row], job.scale, job.reach->row(r).data(),
                       known(tasks[t].job, tasks[t].row), job.out->row(r).data(), job.start);
    }
  };
  if (!tasks.empty()) run_workers(std::min<int>(threads, static_cast<int>(tasks.size())), worker);
}

std::vector<std::int64_t> certified_values(const LayerMatrices& a, const std::vector<int>& rows,
                                           const LayeredJob& job) {
  const int n = static_cast<int>(a.front().rows());
  if (!LayerCertificate::applies(job.layer)) {
    return std::vector<std::int64_t>(rows.size() * static_cast<std::size_t>(n), -1);
  }
  LayerCertificate cert(a, rows, {&job});
  LayeredSolver bottom(a, LayerCertificate::kBottom + 1);
  cert.certify(bottom, job.scale, 0, n);
  std::vector<std::int64_t> out;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const Cap* k = cert.row(static_cast<int>(r));
    out.insert(out.end(), k, k + n);
  }
  return out;
}

int arc_scan(const std::int64_t* residual, const int* label, int from, int to, int want, int* low,
             bool simd) {
#ifdef ATTNFLOW_HAVE_AVX2_DISPATCH
  if (simd && cpu_has_avx2()) return arc_scan_avx2(residual, label, from, to, want, low);
#endif
  (void)simd;
  return arc_scan_scalar(residual, label, from, to, want, low);
}

bool arc_scan_has_simd() {
#ifdef ATTNFLOW_HAVE_AVX2_DISPATCH
  return cpu_has_avx2();
#else
  return false;
#endif
}

}  // namespace attnflow::detail
