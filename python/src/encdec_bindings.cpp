// encdec_relevance for Python: Chefer et al.'s encoder-decoder rules (core/encdec_relevance.hpp)
// on numpy arrays, e.g. the three stacks and gradients of an encoder-decoder store's example.
#include <cstring>

#include "arrays.hpp"
#include "attnflow/core/encdec_relevance.hpp"
#include "attnflow/core/error.hpp"
#include "bindings.hpp"

namespace attnflow::python {
namespace {

// (L, H, m, n) of any float dtype -> a float32 cross-attention stack (copied).
CrossAttentionStack to_cross_stack(py::handle obj, const std::string& name) {
  const auto a = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(obj);
  if (!a) throw Error(name + ": not an array of numbers");
  if (a.ndim() != 4) {
    throw Error(name +
                ": cross-attention must have 4 dimensions (layers, heads, decoder tokens, "
                "encoder tokens), got " +
                std::to_string(a.ndim()));
  }
  for (py::ssize_t d = 0; d < 4; ++d) {
    if (a.shape(d) < 1 || a.shape(d) > (py::ssize_t{1} << 20)) {
      throw Error(name + ": dimension " + std::to_string(d) + " is " + std::to_string(a.shape(d)));
    }
  }
  std::vector<float> data(a.data(), a.data() + a.size());
  return CrossAttentionStack(std::move(data), static_cast<int>(a.shape(0)),
                             static_cast<int>(a.shape(1)), static_cast<int>(a.shape(2)),
                             static_cast<int>(a.shape(3)));
}

py::array_t<double> matrix_array(const Matrix& m) {
  py::array_t<double> out({static_cast<py::ssize_t>(m.rows()), static_cast<py::ssize_t>(m.cols())});
  std::memcpy(out.mutable_data(), m.data(), static_cast<std::size_t>(m.size()) * sizeof(double));
  return out;
}

py::dict py_encdec_relevance(py::handle encoder, py::handle encoder_gradient, py::handle decoder,
                             py::handle decoder_gradient, py::handle cross,
                             py::handle cross_gradient, bool normalize_self_relevance,
                             bool self_in_cross) {
  EncoderDecoderAttention in;
  in.encoder = to_stack(encoder, "encoder");
  in.encoder_gradient = to_stack(encoder_gradient, "encoder_gradient");
  in.decoder = to_stack(decoder, "decoder");
  in.decoder_gradient = to_stack(decoder_gradient, "decoder_gradient");
  in.cross = to_cross_stack(cross, "cross");
  in.cross_gradient = to_cross_stack(cross_gradient, "cross_gradient");
  EncDecRelevanceOptions o;
  o.normalize_self_relevance = normalize_self_relevance;
  o.self_in_cross = self_in_cross;
  EncDecRelevance r;
  {
    py::gil_scoped_release release;
    r = encdec_relevance(in, o);
  }
  py::dict d;
  d["encoder"] = matrix_array(r.encoder);
  d["decoder"] = matrix_array(r.decoder);
  d["cross"] = matrix_array(r.cross);
  d["cross_by_layer"] = to_array(r.cross_by_layer);  // (L_dec, m, n)
  return d;
}

}  // namespace

void bind_encdec(py::module_& m) {
  m.def(
      "encdec_relevance", &py_encdec_relevance, py::arg("encoder"), py::arg("encoder_gradient"),
      py::arg("decoder"), py::arg("decoder_gradient"), py::arg("cross"), py::arg("cross_gradient"),
      py::kw_only(), py::arg("normalize_self_relevance") = true, py::arg("self_in_cross") = true,
      R"doc(encdec_relevance(encoder, encoder_gradient, decoder, decoder_gradient, cross, cross_gradient, *, normalize_self_relevance=True, self_in_cross=True) -> dict

Gradient-weighted relevance of an encoder-decoder with Chefer, Gur & Wolf's ICCV 2021 rules
(docs/methods.md, "Encoder-decoder relevance"): encoder (L_enc, H, n, n), decoder
(L_dec, H, m, m) and cross (L_dec, H, m, n) attention with dy/dA of the same shapes (e.g.
an example of an encoder-decoder store: Example.attention / gradient, decoder_attention /
decoder_gradient, cross_attention / cross_gradient). Returns float64 arrays: "encoder" R^ee
(n, n), "decoder" R^dd (m, m), "cross" R^de (m, n; row p = relevance of the encoder tokens for
decoder token p) and "cross_by_layer" (L_dec, m, n), R^de after each decoder block.)doc");
}

}  // namespace attnflow::python
