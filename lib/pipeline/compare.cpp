// compare: two stores of the same examples -> per-head and per-layer change measures, CSV
// tables and figures.
#include "attnflow/pipeline/compare.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "attnflow/core/error.hpp"
#include "attnflow/core/residual.hpp"
#include "attnflow/core/rollout.hpp"
#include "attnflow/core/util/atomic_file.hpp"
#include "attnflow/io/store.hpp"
#include "attnflow/plot/head_grid.hpp"
#include "attnflow/plot/heatmap.hpp"

namespace attnflow::pipeline {

namespace fs = std::filesystem;

double entropy(const double* p, std::size_t n) {
  double h = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] > 0) h -= p[i] * std::log(p[i]);
  }
  return h;
}

double js_divergence(const double* p, const double* q, std::size_t n) {
  double d = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double m = 0.5 * (p[i] + q[i]);
    if (p[i] > 0) d += 0.5 * p[i] * std::log(p[i] / m);
    if (q[i] > 0) d += 0.5 * q[i] * std::log(q[i] / m);
  }
  return std::max(0.0, d);
}

namespace {

std::string g9(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", x);
  return buf;
}

void check_tokens(const io::Example& a, const io::Example& b, std::int64_t index,
                  const CompareOptions& o) {
  const std::string where = o.before + " and " + o.after + ": example " + std::to_string(index);
  if (a.tokens.size() != b.tokens.size()) {
    throw Error(where + " has " + std::to_string(a.tokens.size()) + " and " +
                std::to_string(b.tokens.size()) +
                " tokens: compare needs the same examples, tokenized alike, in both");
  }
  for (std::size_t i = 0; i < a.tokens.size(); ++i) {
    if (a.tokens[i] != b.tokens[i]) {
      throw Error(where + " differs at token " + std::to_string(i) + " ('" + a.tokens[i] +
                  "' vs '" + b.tokens[i] +
                  "'): compare needs the same examples, tokenized alike, in both");
    }
  }
}

// L1 distance and JS divergence of two rows.
void add_row_change(const Eigen::RowVectorXd& p, const Eigen::RowVectorXd& q, double& l1,
                    double& js) {
  l1 += (p - q).cwiseAbs().sum();
  js += js_divergence(p.data(), q.data(), static_cast<std::size_t>(p.size()));
}

LayerMatrices rollout_maps(const AttentionStack& stack, double alpha) {
  PrepareOptions prep;
  prep.residual.alpha = alpha;
  return rollout(prepare_layers(stack, prep)).maps;
}

void write_csv(const std::string& path, const std::string& content) {
  AtomicFile f(path);
  f.stream() << content;
  f.commit();
}

void check_figure_options(const CompareOptions& o, int layers, std::int64_t examples) {
  if (o.grid_layer < 1 || o.grid_layer > layers) {
    throw Error("compare: --layer " + std::to_string(o.grid_layer) + " outside 1.." +
                std::to_string(layers));
  }
  if (o.example < 0 || o.example >= examples) {
    throw Error("compare: --example " + std::to_string(o.example) + " outside 0.." +
                std::to_string(examples - 1));
  }
}

void draw_figures(const CompareOptions& o, const CompareReport& r, const io::Store& a,
                  const io::Store& b, std::vector<std::string>& files) {
  io::ReadOptions ro;
  ro.gradient = false;
  ro.contributions = false;
  const io::Example ea = a.read(o.example, ro), eb = b.read(o.example, ro);
  // One colour scale for both grids: 0 .. the largest weight of the layer in either.
  float top = 0;
  for (const io::Example* e : {&ea, &eb}) {
    for (int h = 0; h < r.heads; ++h)
      top = std::max(top, e->attention.head(o.grid_layer - 1, h).maxCoeff());
  }
  const std::string layer = std::to_string(o.grid_layer);
  for (const auto& [e, name, label] :
       {std::make_tuple(&ea, "before", o.before), std::make_tuple(&eb, "after", o.after)}) {
    plot::HeadGridOptions g;
    g.colors.min = 0;
    g.colors.max = top > 0 ? top : 1;
    g.figure.title = std::string(name) + " (" + fs::path(label).filename().string() + "), layer " +
                     layer + ", example " + std::to_string(o.example);
    const std::string path =
        (fs::path(o.output) / ("heads_" + std::string(name) + "_layer" + layer + "." + o.format))
            .string();
    plot::plot_head_grid(e->attention, o.grid_layer, e->tokens, path, g);
    files.push_back(path);
  }
  Matrix js(r.layers, r.heads);
  for (const HeadChange& c : r.heads_changed) js(c.layer - 1, c.head - 1) = c.js;
  std::vector<std::string> rows, cols;
  for (int l = 1; l <= r.layers; ++l) rows.push_back("L" + std::to_string(l));
  for (int h = 1; h <= r.heads; ++h) cols.push_back("H" + std::to_string(h));
  plot::HeatmapOptions hm;
  hm.figure.title = "What changed: mean JS divergence of the attention rows (nats)";
  hm.x_label = "head";
  hm.y_label = "layer";
  hm.value_format = "%.3f";
  hm.colors.min = 0;
  if (js.maxCoeff() <= 0) hm.colors.max = 1;  // nothing changed: a flat, valid scale
  const std::string path = (fs::path(o.output) / ("js_heatmap." + o.format)).string();
  plot::plot_table_heatmap(js, rows, cols, path, hm);
  files.push_back(path);
}

}  // namespace

CompareReport compare(const CompareOptions& o) {
  const io::Store a = io::Store::open(o.before), b = io::Store::open(o.after);
  const io::StoreInfo &ia = a.info(), &ib = b.info();
  const std::string both = o.before + " and " + o.after;
  if (ia.mode == io::StoreMode::Derived || ib.mode == io::StoreMode::Derived) {
    throw Error(both + ": a derived store holds no attention to compare");
  }
  if (ia.layers != ib.layers || ia.heads != ib.heads) {
    throw Error(both + ": " + std::to_string(ia.layers) + " x " + std::to_string(ia.heads) +
                " and " + std::to_string(ib.layers) + " x " + std::to_string(ib.heads) +
                " layers x heads: compare needs models of the same shape");
  }
  if (o.limit < 0) throw Error("compare: --limit " + std::to_string(o.limit) + " < 0");
  std::int64_t count = o.limit;
  if (count == 0) {
    if (a.size() != b.size()) {
      throw Error(both + ": " + std::to_string(a.size()) + " and " + std::to_string(b.size()) +
                  " examples (use --limit to compare the first N)");
    }
    count = a.size();
  } else if (a.size() < count || b.size() < count) {
    throw Error(both + ": fewer than --limit " + std::to_string(count) + " examples (" +
                std::to_string(a.size()) + " and " + std::to_string(b.size()) + ")");
  }
  if (count == 0) throw Error(both + ": no examples");

  if (o.figures) check_figure_options(o, ia.layers, count);
  CompareReport r;
  r.examples = count;
  r.layers = ia.layers;
  r.heads = ia.heads;
  const int L = r.layers, H = r.heads;
  r.heads_changed.resize(static_cast<std::size_t>(L * H));
  for (int l = 0; l < L; ++l) {
    for (int h = 0; h < H; ++h) {
      r.heads_changed[static_cast<std::size_t>(l * H + h)].layer = l + 1;
      r.heads_changed[static_cast<std::size_t>(l * H + h)].head = h + 1;
    }
  }
  r.readout.resize(static_cast<std::size_t>(L));
  for (int l = 0; l < L; ++l) r.readout[static_cast<std::size_t>(l)].layer = l + 1;

  io::ReadOptions ro;
  ro.gradient = false;
  ro.contributions = false;
  std::vector<double> p, q;
  for (std::int64_t e = 0; e < count; ++e) {
    const io::Example ea = a.read(e, ro), eb = b.read(e, ro);
    check_tokens(ea, eb, e, o);
    const int n = ea.tokens_count();
    p.resize(static_cast<std::size_t>(n));
    q.resize(static_cast<std::size_t>(n));
    for (int l = 0; l < L; ++l) {
      for (int h = 0; h < H; ++h) {
        HeadChange& c = r.heads_changed[static_cast<std::size_t>(l * H + h)];
        const auto A = ea.attention.head(l, h), B = eb.attention.head(l, h);
        double js = 0, ha = 0, hb = 0;
        for (int i = 0; i < n; ++i) {
          for (int j = 0; j < n; ++j) {
            p[static_cast<std::size_t>(j)] = A(i, j);
            q[static_cast<std::size_t>(j)] = B(i, j);
          }
          const double d = js_divergence(p.data(), q.data(), p.size());
          js += d;
          c.js_max = std::max(c.js_max, d);
          ha += entropy(p.data(), p.size());
          hb += entropy(q.data(), q.size());
        }
        c.js += js / n;
        c.entropy_before += ha / n;
        c.entropy_after += hb / n;
      }
    }
    const LayerMatrices ra = rollout_maps(ea.attention, o.residual_alpha),
                        rb = rollout_maps(eb.attention, o.residual_alpha);
    for (int l = 0; l < L; ++l) {
      ReadoutChange& c = r.readout[static_cast<std::size_t>(l)];
      const Matrix &ma = ra[static_cast<std::size_t>(l)], &mb = rb[static_cast<std::size_t>(l)];
      add_row_change(ma.row(0), mb.row(0), c.cls_l1, c.cls_js);
      add_row_change(ma.colwise().mean(), mb.colwise().mean(), c.mean_l1, c.mean_js);
    }
  }
  const auto mean = [count](double& x) { x /= static_cast<double>(count); };
  for (HeadChange& c : r.heads_changed) {
    mean(c.js);
    mean(c.entropy_before);
    mean(c.entropy_after);
  }
  for (ReadoutChange& c : r.readout) {
    mean(c.cls_l1);
    mean(c.cls_js);
    mean(c.mean_l1);
    mean(c.mean_js);
  }

  std::error_code ec;
  fs::create_directories(o.output, ec);
  if (ec) throw Error(o.output + ": cannot create the output folder (" + ec.message() + ")");
  std::string heads = "layer,head,js_mean,js_max,entropy_before,entropy_after,entropy_change\n";
  for (const HeadChange& c : r.heads_changed) {
    heads += std::to_string(c.layer) + "," + std::to_string(c.head) + "," + g9(c.js) + "," +
             g9(c.js_max) + "," + g9(c.entropy_before) + "," + g9(c.entropy_after) + "," +
             g9(c.entropy_change()) + "\n";
  }
  std::string readout = "layer,cls_rollout_l1,cls_rollout_js,mean_rollout_l1,mean_rollout_js\n";
  for (const ReadoutChange& c : r.readout) {
    readout += std::to_string(c.layer) + "," + g9(c.cls_l1) + "," + g9(c.cls_js) + "," +
               g9(c.mean_l1) + "," + g9(c.mean_js) + "\n";
  }
  const std::string heads_path = (fs::path(o.output) / "compare.csv").string();
  const std::string readout_path = (fs::path(o.output) / "readout.csv").string();
  write_csv(heads_path, heads);
  write_csv(readout_path, readout);
  r.files = {heads_path, readout_path};
  if (o.figures) draw_figures(o, r, a, b, r.files);
  return r;
}

}  // namespace attnflow::pipeline
