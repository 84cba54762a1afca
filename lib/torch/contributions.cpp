// Value-aware per-layer contribution matrices from one forward pass (docs/methods.md,
// "Value-aware contributions"): norm (Kobayashi et al. 2020), GlobEnc (Kobayashi et al. 2021,
// Modarressi et al. 2022), ALTI (Ferrando et al. 2022), value zeroing (Mohebbi et al. 2023).
#include "contributions.hpp"

#include <algorithm>
#include <cstring>

#include "attnflow/core/error.hpp"

namespace attnflow::torch::detail {

using ::torch::Tensor;
namespace idx = ::torch::indexing;

namespace {

constexpr auto kF64 = ::torch::kFloat64;

bool wants(const std::vector<Contribution>& methods, Contribution m) {
  return std::find(methods.begin(), methods.end(), m) != methods.end();
}

/// t in float64 (undefined stays undefined: a bias or norm the block lacks).
Tensor f64(const Tensor& t) {
  return t.defined() ? t.detach().to(kF64) : t;
}

LayerNorm f64(const LayerNorm& n) {
  return LayerNorm{f64(n.weight), f64(n.bias), n.eps};
}

RmsNorm f64(const RmsNorm& n) {
  return RmsNorm{f64(n.weight), n.eps};
}

/// Population standard deviation of the rows of u [R, d] as LayerNorm uses it: sqrt(var + eps).
Tensor ln_scale(const Tensor& u, double eps) {
  return (u.var({-1}, /*unbiased=*/false, /*keepdim=*/false) + eps).sqrt();
}

/// gamma (t - mean_d t) / s: the linear part of a LayerNorm whose statistics s [R] come from
/// the full input; t [R, n, d] (row i of t belongs to s_i).
Tensor ln_linear(const Tensor& t, const Tensor& gamma, const Tensor& s) {
  return gamma * (t - t.mean({-1}, true)) / s.view({-1, 1, 1});
}

/// max(0, ||y_i||_1 - ||y_i - T_i(x_j)||_1) with y_i = sum_j T_i(x_j) + bias_i (the output's
/// b_O part, as ALTI's own code counts it); t [R, n, d], bias [R, d] -> [R, n].
Tensor alti_rows(const Tensor& t, const Tensor& bias) {
  const Tensor y = t.sum(1, true) + bias.unsqueeze(1);
  return (y.abs().sum(-1) - (y - t).abs().sum(-1)).clamp_min(0.0);
}

/// The float64 per-layer quantities of one example: its n x n matrices per method.
struct LayerMaps {
  Tensor norm, globenc, alti;  // [n, n] float64 (undefined when not asked)
};

/// Norm, GlobEnc and ALTI of one layer for one example of n tokens: x [n, d] the layer input,
/// a [H, n, n] its attention (one map per query head), ffn_sum [n, d] (post-LN: the input of
/// LN2). Rows i are done in blocks so that the [rows, n, d] decomposition stays around 128 MB.
LayerMaps decompose(const BlockWeights& w, int heads, const Tensor& x, const Tensor& a,
                    const Tensor& ffn_sum, const std::vector<Contribution>& methods,
                    const ContributionOptions& options) {
  const std::int64_t n = x.size(0), d = x.size(1), H = heads;
  const std::int64_t KV = w.kv_heads > 0 ? w.kv_heads : H, dh = w.output_weight.size(0) / H;
  const bool pre = w.placement == Placement::PreLN;
  const LayerNorm ln1 = f64(w.ln1), ln2 = f64(w.ln2);
  // f^h(x'_j) = (x'_j W_V^g + b_V^g) W_O^h with g = h's value head, x' = x (post-LN), LN1(x)
  // or RMSNorm(x) (pre-norm): [H, n, d].
  const Tensor xin = !pre ? x : w.rms1.weight.defined() ? f64(w.rms1)(x) : ln1(x);
  Tensor v = xin.matmul(f64(w.value_weight));
  if (w.value_bias.defined()) v = v + f64(w.value_bias);
  v = v.view({n, KV, dh}).permute({1, 0, 2});
  if (KV != H) v = v.repeat_interleave(H / KV, 0);  // [H, n, dh]
  const Tensor f = ::torch::matmul(v, f64(w.output_weight).view({H, dh, d}));
  const Tensor b_o =
      w.output_bias.defined() ? f64(w.output_bias) : ::torch::zeros({d}, x.options());
  const bool norm = wants(methods, Contribution::Norm);
  const bool globenc = wants(methods, Contribution::GlobEnc);
  const bool alti = wants(methods, Contribution::Alti);
  LayerMaps out;
  std::vector<Tensor> norm_rows, globenc_rows, alti_rows_;
  const std::int64_t step = std::max<std::int64_t>(1, (std::int64_t{1} << 24) / (n * d));
  for (std::int64_t i0 = 0; i0 < n; i0 += step) {
    const std::int64_t R = std::min(step, n - i0);
    // sum_h alpha^h_ij f^h(x'_j): [R, n, d].
    const Tensor att = ::torch::einsum("hij,hjd->ijd", {a.narrow(1, i0, R), f});
    if (norm) norm_rows.push_back(att.norm(2, -1));
    if (!globenc && !alti) continue;
    // + the residual: x_j belongs to j = i.
    const Tensor eye = ::torch::eye(n, x.options()).narrow(0, i0, R);
    const Tensor g = att + eye.unsqueeze(-1) * x.unsqueeze(0);
    Tensor t = g;                      // T_i(x_j)
    Tensor bias = b_o.expand({R, d});  // the b_O part of the output, no token's
    if (!pre) {
      // LN1(x_i + z_i) is linear in its input once its mean and deviation (of the full sum,
      // b_O included) are fixed: T_i(x_j) = gamma1 (g_ij - mean(g_ij)) / s1_i.
      const Tensor u = x.narrow(0, i0, R) + att.sum(1) + b_o;
      const Tensor s1 = ln_scale(u, ln1.eps);
      t = ln_linear(g, ln1.weight, s1);
      bias = ln_linear(bias.unsqueeze(1), ln1.weight, s1).squeeze(1);
    }
    if (globenc) {
      Tensor e = t;
      if (!pre && options.globenc_second_norm) {
        e = ln_linear(t, ln2.weight, ln_scale(ffn_sum.narrow(0, i0, R), ln2.eps));
      }
      globenc_rows.push_back(e.norm(2, -1));
    }
    if (alti) alti_rows_.push_back(alti_rows(t, bias));
  }
  if (norm) out.norm = ::torch::cat(norm_rows, 0);
  if (globenc) out.globenc = ::torch::cat(globenc_rows, 0);
  if (alti) out.alti = ::torch::cat(alti_rows_, 0);
  return out;
}

/// Value zeroing of layer `l` for the whole batch: dist[b] [N, N] float64 on the CPU (column j
/// = cosine distances of every output token when token j's values are zeroed), only j < n_b.
std::vector<Tensor> value_zeroing(const Network& net, const ForwardResult& r, int l,
                                  const std::vector<std::int64_t>& n,
                                  const ContributionOptions& options) {
  const Tensor& x = r.layer_inputs[static_cast<std::size_t>(l)];
  const Tensor original = f64(r.layers[static_cast<std::size_t>(l)].output);
  const std::int64_t N = x.size(1), d = x.size(2), H = net.heads();
  std::vector<std::int64_t> pair_b, pair_j;
  for (std::size_t b = 0; b < n.size(); ++b)
    for (std::int64_t j = 0; j < n[b]; ++j) {
      pair_b.push_back(static_cast<std::int64_t>(b));
      pair_j.push_back(j);
    }
  std::int64_t chunk = options.value_zeroing_batch;
  if (chunk <= 0) {
    // About 256 MB of float32 activations per run: q, k, v, FFN and the scores.
    const std::int64_t per_pair = N * (12 * d + 3 * H * N);
    chunk =
        std::max<std::int64_t>(1, (std::int64_t{1} << 26) / std::max<std::int64_t>(1, per_pair));
  }
  std::vector<Tensor> dist(n.size());
  for (std::size_t b = 0; b < n.size(); ++b) dist[b] = ::torch::zeros({N, N}, kF64);
  const auto long_cpu = ::torch::TensorOptions().dtype(::torch::kInt64);
  const auto total = static_cast<std::int64_t>(pair_b.size());
  for (std::int64_t p0 = 0; p0 < total; p0 += chunk) {
    const std::int64_t C = std::min(chunk, total - p0);
    const Tensor bi = ::torch::from_blob(pair_b.data() + p0, {C}, long_cpu).clone();
    const Tensor ji = ::torch::from_blob(pair_j.data() + p0, {C}, long_cpu).clone();
    const Tensor bi_dev = bi.to(x.device()), ji_dev = ji.to(x.device());
    Tensor scale = ::torch::ones({C, N}, x.options());
    scale.index_put_({::torch::arange(C, bi_dev.options()), ji_dev}, 0.0);
    const LayerResult zeroed = net.layer(l, x.detach().index_select(0, bi_dev),
                                         r.additive_mask.index_select(0, bi_dev), scale);
    const Tensor cos =
        ::torch::cosine_similarity(f64(zeroed.output), original.index_select(0, bi_dev), -1, 1e-12);
    const Tensor dc = (1.0 - cos).clamp_min(0.0).to(::torch::kCPU);  // [C, N]
    for (std::int64_t c = 0; c < C; ++c) {
      const auto b = static_cast<std::size_t>(pair_b[static_cast<std::size_t>(p0 + c)]);
      const std::int64_t j = pair_j[static_cast<std::size_t>(p0 + c)];
      dist[b].select(1, j).copy_(dc[c]);
    }
  }
  return dist;
}

/// Copies the [n, n] float64 `m` into layer `l` of out [L, n, n], rows divided by their sum
/// when `normalize` (rows summing to 0 stay 0).
void store_layer(const Tensor& m, std::int64_t l, bool normalize, std::vector<float>& out) {
  const Tensor c = m.to(::torch::kCPU).contiguous();
  const std::int64_t n = c.size(0);
  const double* src = c.data_ptr<double>();
  float* dst = out.data() + l * n * n;
  for (std::int64_t i = 0; i < n; ++i) {
    double sum = 0.0;
    for (std::int64_t j = 0; j < n; ++j) sum += src[i * n + j];
    const double scale = normalize && sum > 0.0 ? 1.0 / sum : 1.0;
    for (std::int64_t j = 0; j < n; ++j) {
      dst[i * n + j] = static_cast<float>(src[i * n + j] * scale);
    }
  }
}

}  // namespace

std::vector<std::map<Contribution, std::vector<float>>> compute_contributions(
    const Network& net, const ForwardResult& r, const Tensor& lengths,
    const std::vector<Contribution>& methods, const ContributionOptions& options) {
  ::torch::NoGradGuard no_grad;
  const auto B = static_cast<std::size_t>(lengths.size(0));
  const auto L = static_cast<std::int64_t>(r.layers.size());
  std::vector<std::int64_t> n(B);
  for (std::size_t b = 0; b < B; ++b)
    n[b] = lengths[static_cast<std::int64_t>(b)].item<std::int64_t>();
  std::vector<std::map<Contribution, std::vector<float>>> out(B);
  for (std::size_t b = 0; b < B; ++b)
    for (Contribution m : methods) out[b][m].assign(static_cast<std::size_t>(L * n[b] * n[b]), 0.f);
  const bool decomposed = wants(methods, Contribution::Norm) ||
                          wants(methods, Contribution::GlobEnc) ||
                          wants(methods, Contribution::Alti);
  for (std::int64_t l = 0; l < L; ++l) {
    const auto ls = static_cast<std::size_t>(l);
    if (decomposed) {
      const BlockWeights w = net.block(static_cast<int>(l));
      for (std::size_t b = 0; b < B; ++b) {
        const auto bi = static_cast<std::int64_t>(b);
        const std::int64_t nb = n[b];
        const Tensor x = f64(r.layer_inputs[ls][bi].narrow(0, 0, nb));
        const Tensor a = f64(r.layers[ls].probs[bi].narrow(1, 0, nb).narrow(2, 0, nb));
        const Tensor ffn = f64(r.layers[ls].ffn_sum[bi].narrow(0, 0, nb));
        const LayerMaps maps = decompose(w, net.heads(), x, a, ffn, methods, options);
        if (maps.norm.defined()) store_layer(maps.norm, l, false, out[b][Contribution::Norm]);
        if (maps.globenc.defined()) {
          store_layer(maps.globenc, l, false, out[b][Contribution::GlobEnc]);
        }
        if (maps.alti.defined()) store_layer(maps.alti, l, true, out[b][Contribution::Alti]);
      }
    }
    if (wants(methods, Contribution::ValueZeroing)) {
      const std::vector<Tensor> dist = value_zeroing(net, r, static_cast<int>(l), n, options);
      for (std::size_t b = 0; b < B; ++b) {
        store_layer(dist[b].narrow(0, 0, n[b]).narrow(1, 0, n[b]), l, true,
                    out[b][Contribution::ValueZeroing]);
      }
    }
  }
  return out;
}

}  // namespace attnflow::torch::detail

namespace attnflow::torch {

AttentionStack contribution_stack(const Output& output, Contribution method) {
  const auto found = output.contributions.find(method);
  if (found == output.contributions.end()) {
    throw Error(std::string("contribution '") + to_string(method) +
                "': not in this output (ask for it in RunOptions::contributions)");
  }
  const std::int64_t L = static_cast<std::int64_t>(found->second.size()) / (output.n * output.n);
  return AttentionStack(found->second, static_cast<int>(L), 1, static_cast<int>(output.n));
}

}  // namespace attnflow::torch
