// Attention flow: one Boost.Graph max-flow per (source node, input token).
//
// For a source at layer l only layers 0..l matter, only node i of layer l can
// send flow, and the input nodes other than the sink are dead ends. So the
// graph of layer l is built once with a super source S (edges to layer l-1,
// capacities A^(l)[i, :] set per source row) and a super sink T (edges from
// layer 1, capacities A^(1)[:, j] set per sink); the value of that max-flow
// equals the reference's flow from (l, i) to (0, j). The graph is shared
// read-only; each worker thread owns its capacity/residual/label buffers.
#include "attnflow/core/flow.hpp"
#include "attnflow/core/util/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>
#include <tuple>

#include <boost/graph/boykov_kolmogorov_max_flow.hpp>
#include <boost/graph/compressed_sparse_row_graph.hpp>
#include <boost/graph/edmonds_karp_max_flow.hpp>
#include <boost/graph/push_relabel_max_flow.hpp>
#include <boost/property_map/property_map.hpp>

#include "attnflow/core/error.hpp"
#include "attnflow/core/stack.hpp"
#include "flow_layered.hpp"

namespace attnflow {
namespace {

using Graph = boost::compressed_sparse_row_graph<boost::directedS>;
using Edge = boost::graph_traits<Graph>::edge_descriptor;
using Vertex = boost::graph_traits<Graph>::vertex_descriptor;

// The flow graph for sources at layer `layer` (>= 1), in compressed sparse
// row form (one contiguous target array; edge index = CSR position), which
// push-relabel and Boykov-Kolmogorov traverse several times faster than an
// adjacency_list. Every edge has a reverse edge of capacity 0.
class LayerGraph {
 public:
  LayerGraph(const LayerMatrices& a, int layer) : layer_(layer) {
    const int n = static_cast<int>(a.front().rows());
    const int middle_layers = layer - 1;  // layers l-1 .. 1 get nodes
    const auto source = Vertex{0};
    const auto sink = static_cast<Vertex>(1 + middle_layers * n);
    auto node = [n, layer](int k, int m) {  // node (k, m) for 1 <= k <= layer-1
      return static_cast<Vertex>(1 + (layer - 1 - k) * n + m);
    };
    // (u, v, capacity) of every forward edge; terminal capacities are set per pair.
    std::vector<std::tuple<Vertex, Vertex, double>> forward;
    if (layer == 1) {
      forward.emplace_back(source, sink, 0.0);
    } else {
      for (int m = 0; m < n; ++m) forward.emplace_back(source, node(layer - 1, m), 0.0);
      for (int k = layer - 1; k >= 2; --k) {
        const Matrix& ak = a[static_cast<std::size_t>(k - 1)];
        for (int p = 0; p < n; ++p) {
          for (int q = 0; q < n; ++q) {
            if (ak(p, q) > 0.0) forward.emplace_back(node(k, p), node(k - 1, q), ak(p, q));
          }
        }
      }
      for (int m = 0; m < n; ++m) forward.emplace_back(node(1, m), sink, 0.0);
    }
    std::vector<std::pair<Vertex, Vertex>> ends;
    ends.reserve(2 * forward.size());
    for (const auto& [u, v, c] : forward) {
      ends.emplace_back(u, v);
      ends.emplace_back(v, u);
    }
    std::sort(ends.begin(), ends.end());
    g_ = Graph(boost::edges_are_sorted, ends.begin(), ends.end(),
               static_cast<std::size_t>(sink) + 1);
    auto position = [&ends](Vertex u, Vertex v) {
      return static_cast<std::size_t>(
          std::lower_bound(ends.begin(), ends.end(), std::make_pair(u, v)) - ends.begin());
    };
    by_index_.resize(ends.size());
    auto [first, last] = boost::edges(g_);
    for (; first != last; ++first) {
      const Edge e = *first;
      by_index_[e.idx] = e;  // CSR edge index = position in the sorted list
    }
    capacity_.assign(ends.size(), 0.0);
    reverse_.resize(ends.size());
    for (std::size_t e = 0; e < ends.size(); ++e) {
      reverse_[e] = by_index_[position(ends[e].second, ends[e].first)];
    }
    for (const auto& [u, v, c] : forward) capacity_[position(u, v)] = c;
    if (layer == 1) {
      source_edges_.push_back(position(source, sink));
    } else {
      for (int m = 0; m < n; ++m) source_edges_.push_back(position(source, node(layer - 1, m)));
      for (int m = 0; m < n; ++m) sink_edges_.push_back(position(node(1, m), sink));
    }
    source_ = source;
    sink_ = sink;
  }

  const Graph& graph() const { return g_; }
  Vertex source() const { return source_; }
  Vertex sink() const { return sink_; }
  const std::vector<double>& base_capacity() const { return capacity_; }
  const std::vector<Edge>& reverse() const { return reverse_; }
  const std::vector<std::size_t>& source_edges() const { return source_edges_; }
  const std::vector<std::size_t>& sink_edges() const { return sink_edges_; }
  int layer() const { return layer_; }

 private:
  Graph g_;
  Vertex source_ = 0, sink_ = 0;
  std::vector<Edge> by_index_;
  std::vector<double> capacity_;  // by edge index
  std::vector<Edge> reverse_;     // by edge index
  std::vector<std::size_t> source_edges_, sink_edges_;
  int layer_;
};

// Per-thread solver state; Cap is double or int64 (push-relabel).
template <class Cap>
class Solver {
 public:
  Solver(const LayerGraph& lg, FlowAlgorithm algorithm, double scale)
      : lg_(lg), algorithm_(algorithm), scale_(scale) {
    const auto& base = lg.base_capacity();
    capacity_.resize(base.size());
    for (std::size_t e = 0; e < base.size(); ++e) capacity_[e] = to_cap(base[e]);
    residual_.resize(base.size());
    const auto v = boost::num_vertices(lg.graph());
    pred_.resize(v);
    color_.resize(v);
    dist_.resize(v);
  }

  // Capacities of the terminal edges for source row i / sink column j.
  void set_source(const Matrix& top, int row) {
    const auto& edges = lg_.source_edges();
    if (lg_.layer() == 1) return;  // single S->T edge, set by set_sink
    for (std::size_t m = 0; m < edges.size(); ++m) {
      capacity_[edges[m]] = to_cap(top(row, static_cast<Eigen::Index>(m)));
    }
    row_ = row;
  }
  void set_sink(const Matrix& bottom, int column) {
    if (lg_.layer() == 1) {
      capacity_[lg_.source_edges().front()] = to_cap(bottom(row_one_, column));
      return;
    }
    const auto& edges = lg_.sink_edges();
    for (std::size_t m = 0; m < edges.size(); ++m) {
      capacity_[edges[m]] = to_cap(bottom(static_cast<Eigen::Index>(m), column));
    }
  }
  void set_layer_one_row(int row) { row_one_ = row; }

  double solve() {
    Graph& g = const_cast<Graph&>(lg_.graph());  // Boost takes Graph&; nothing is modified
    const auto eidx = boost::get(boost::edge_index, g);
    const auto vidx = boost::get(boost::vertex_index, g);
    auto cap = boost::make_iterator_property_map(capacity_.begin(), eidx);
    auto res = boost::make_iterator_property_map(residual_.begin(), eidx);
    auto rev = boost::make_iterator_property_map(lg_.reverse().begin(), eidx);
    auto pred = boost::make_iterator_property_map(pred_.begin(), vidx);
    auto color = boost::make_iterator_property_map(color_.begin(), vidx);
    auto dist = boost::make_iterator_property_map(dist_.begin(), vidx);
    Cap value{};
    switch (algorithm_) {
      case FlowAlgorithm::BoykovKolmogorov:
        value = boost::boykov_kolmogorov_max_flow(g, cap, res, rev, pred, color, dist, vidx,
                                                  lg_.source(), lg_.sink());
        break;
      case FlowAlgorithm::PushRelabel:
        value = boost::push_relabel_max_flow(g, lg_.source(), lg_.sink(), cap, res, rev, vidx);
        break;
      case FlowAlgorithm::EdmondsKarp:
        value =
            boost::edmonds_karp_max_flow(g, lg_.source(), lg_.sink(), cap, res, rev, color, pred);
        break;
      case FlowAlgorithm::Layered:  // solved by detail::layered_flow, never here
        break;
    }
    return static_cast<double>(value) / scale_;
  }

 private:
  Cap to_cap(double c) const {
    if constexpr (std::is_integral_v<Cap>) {
      return static_cast<Cap>(std::llround(c * scale_));
    } else {
      return c;
    }
  }

  const LayerGraph& lg_;
  FlowAlgorithm algorithm_;
  double scale_;
  std::vector<Cap> capacity_, residual_;
  std::vector<Edge> pred_;
  std::vector<boost::default_color_type> color_;
  std::vector<long> dist_;
  int row_ = 0, row_one_ = 0;
};

double scale_for(const LayerMatrices& a, int layer) {
  double total = 0.0;
  for (int k = 1; k <= layer; ++k) total += a[static_cast<std::size_t>(k - 1)].sum();
  total = std::max(total, 1.0);
  int exponent = static_cast<int>(std::floor(62.0 - std::log2(total))) - 1;
  exponent = std::min(exponent, 60);
  return std::ldexp(1.0, exponent);
}

// Which inputs each source row can reach at all: boolean products of the
// non-zero patterns (0/1 counts, no cancellation or underflow). A pair with
// no path has flow 0 and needs no solver call (half the pairs when causal).
Matrix reachable(const LayerMatrices& a, int layer, const std::vector<int>& rows) {
  const auto pattern = [&a](int k) {
    return a[static_cast<std::size_t>(k - 1)]
        .unaryExpr([](double v) { return v > 0.0 ? 1.0 : 0.0; })
        .eval();
  };
  const Matrix top = pattern(layer);
  Matrix v(static_cast<Eigen::Index>(rows.size()), top.cols());
  for (std::size_t r = 0; r < rows.size(); ++r)
    v.row(static_cast<Eigen::Index>(r)) = top.row(rows[r]);
  for (int k = layer - 1; k >= 1; --k) {
    v = (v * pattern(k)).unaryExpr([](double c) { return c > 0.0 ? 1.0 : 0.0; });
  }
  return v;
}

// Fills out.row(r) for rows[r] with raw flow values of source layer `layer`.
template <class Cap>
void solve_layer(const LayerMatrices& a, int layer, const std::vector<int>& rows,
                 FlowAlgorithm algorithm, int threads, Matrix& out) {
  const LayerGraph lg(a, layer);
  const double scale = std::is_integral_v<Cap> ? scale_for(a, layer) : 1.0;
  const int n = static_cast<int>(a.front().rows());
  const Matrix reach = reachable(a, layer, rows);
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    Solver<Cap> solver(lg, algorithm, scale);
    for (std::size_t r = next++; r < rows.size(); r = next++) {
      const auto rr = static_cast<Eigen::Index>(r);
      if (layer == 1) {
        solver.set_layer_one_row(rows[r]);
      } else {
        solver.set_source(a[static_cast<std::size_t>(layer - 1)], rows[r]);
      }
      for (int j = 0; j < n; ++j) {
        if (reach(rr, j) == 0.0) {
          out(rr, j) = 0.0;
          continue;
        }
        solver.set_sink(a.front(), j);
        out(rr, j) = solver.solve();
      }
    }
  };
  run_workers(std::min<int>(threads, static_cast<int>(rows.size())), worker);
}

void closed_form(const LayerMatrices& a, int layer, const std::vector<int>& rows, Matrix& out) {
  const Matrix& a1 = a.front();
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const auto rr = static_cast<Eigen::Index>(r);
    if (layer == 1) {
      out.row(rr) = a1.row(rows[r]);
      continue;
    }
    const Matrix& a2 = a[1];
    for (Eigen::Index j = 0; j < a1.cols(); ++j) {
      // sum_m min(A2[i, m], A1[m, j])
      out(rr, j) = a2.row(rows[r]).transpose().cwiseMin(a1.col(j)).sum();
    }
  }
}

int resolve_threads(int threads) {
  if (threads < 0) throw Error("flow threads: " + std::to_string(threads) + " is negative");
  if (threads == 0) return std::max(1u, std::thread::hardware_concurrency());
  return threads;
}

}  // namespace

LayerMaps attention_flow(const LayerMatrices& layers, const FlowOptions& options) {
  validate(layers, "flow input");
  const int n = static_cast<int>(layers.front().rows());
  const int threads = resolve_threads(options.threads);
  LayerMaps out;
  out.layers = resolve_layers(options.layers, static_cast<int>(layers.size()), "flow layers");
  out.rows = resolve_rows(options.target_rows, n, "flow target rows");
  const auto rows = static_cast<Eigen::Index>(out.rows.size());
  std::vector<Matrix> reach(out.layers.size());
  std::vector<detail::LayeredJob> jobs;
  out.maps.reserve(out.layers.size());  // jobs keep pointers into it
  for (std::size_t b = 0; b < out.layers.size(); ++b) {
    const int l = out.layers[b];
    out.maps.emplace_back(rows, n);
    Matrix& f = out.maps.back();
    if (options.closed_form_low_layers && l <= 2) {
      closed_form(layers, l, out.rows, f);
    } else if (options.algorithm == FlowAlgorithm::Layered) {
      reach[b] = reachable(layers, l, out.rows);
      jobs.push_back({l, scale_for(layers, l), &reach[b], &f});
    } else if (options.algorithm == FlowAlgorithm::PushRelabel) {
      solve_layer<long long>(layers, l, out.rows, options.algorithm, threads, f);
    } else {
      solve_layer<double>(layers, l, out.rows, options.algorithm, threads, f);
    }
  }
  if (!jobs.empty()) detail::layered_flow(layers, out.rows, jobs, threads);
  if (options.normalize) {
    for (Matrix& f : out.maps) normalize_rows(f);
  }
  return out;
}

double max_flow_value(const LayerMatrices& layers, int layer, int row, int input,
                      FlowAlgorithm algorithm) {
  FlowOptions options;
  options.layers = {layer};
  options.target_rows = {row};
  options.normalize = false;
  options.closed_form_low_layers = false;
  options.algorithm = algorithm;
  options.threads = 1;
  validate(layers, "flow input");
  check_token_index(input, static_cast<int>(layers.front().rows()), "flow input token");
  return attention_flow(layers, options).maps.front()(0, input);
}

double push_relabel_scale(const LayerMatrices& layers, int layer) {
  validate(layers, "flow input");
  resolve_layers({layer}, static_cast<int>(layers.size()), "flow layer");
  return scale_for(layers, layer);
}

FlowAlgorithm parse_flow_algorithm(const std::string& name) {
  if (name == "boykov-kolmogorov") return FlowAlgorithm::BoykovKolmogorov;
  return parse_enum(kFlowAlgorithmNames, name, "flow algorithm");
}

const char* to_string(FlowAlgorithm algorithm) {
  return enum_name(kFlowAlgorithmNames, algorithm);
}

}  // namespace attnflow
