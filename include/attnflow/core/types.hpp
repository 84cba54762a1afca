// Matrix types and the layout convention shared by the whole library.
//
// Layout, stated once: an attention matrix is n x n, row i = query token i,
// column j = key token j; stored row-major. Attention stacks are float32 in
// memory (as models produce them); derived matrices (fused, residual, rollout,
// flow, relevance) are double so that long products stay exact to ~1e-12.
// Layers are numbered 1..L in every option and result ("layer 0" = inputs).
#pragma once

#include <Eigen/Core>
#include <vector>

namespace attnflow {

using Matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vector = Eigen::VectorXd;

/// One n x n matrix per layer; element k is layer k+1.
using LayerMatrices = std::vector<Matrix>;

/// Per-layer token maps for a set of target rows, the common result type of
/// rollout, flow, gradient rollout and raw readouts.
///   maps[k] is rows.size() x n; row r of maps[k] belongs to token rows[r]
///   at layer layers[k].
struct LayerMaps {
  std::vector<int> layers;  ///< 1-based layer number of each map
  std::vector<int> rows;    ///< token index (query) of each row
  std::vector<Matrix> maps;
};

/// Divides every row of `m` by its sum, so that rows with a positive sum become
/// distributions. A row that sums to zero is left as it is (no NaN); a row with a negative
/// sum (signed relevance) is divided too.
inline void normalize_rows(Matrix& m) {
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    const double s = m.row(i).sum();
    if (s != 0.0) m.row(i) /= s;
  }
}

}  // namespace attnflow
