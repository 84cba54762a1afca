// attnflow.Store: the HDF5 attention store (docs/hdf5-schema.md) from Python: read examples
// (tokens as str, attention/gradient as numpy, derived maps as Maps), metadata as a dict, and
// write examples from numpy so that `attnflow analyze` reads what a Python pipeline wrote.
#include <pybind11/stl.h>

#include <memory>

#include "arrays.hpp"
#include "attnflow/core/error.hpp"
#include "attnflow/io/derived_run.hpp"
#include "attnflow/io/store.hpp"
#include "bindings.hpp"

namespace attnflow::python {

namespace {

/// One example as Python sees it.
struct PyExample {
  std::int64_t index = 0;
  std::vector<std::string> tokens;
  py::object token_ids = py::none();  ///< int64 (n,) or None
  py::object attention = py::none();  ///< float32 (L, H, n, n) or None
  py::object gradient = py::none();   ///< float32 (L, H, n, n) or None
  std::optional<std::int64_t> label, target, target_position, prediction;
  py::dict contributions;  ///< {method name: float32 (L, 1, n, n)}
  // encoder-decoder stores (info["decoder_layers"] > 0): the decoder side, else empty / None
  std::vector<std::string> decoder_tokens;
  py::object decoder_token_ids = py::none();  ///< int64 (m,)
  py::object decoder_attention = py::none();  ///< float32 (L_dec, H, m, m)
  py::object decoder_gradient = py::none();   ///< float32 (L_dec, H, m, m)
  py::object cross_attention = py::none();    ///< float32 (L_dec, H, m, n)
  py::object cross_gradient = py::none();     ///< float32 (L_dec, H, m, n)
};

class PyStore {
 public:
  PyStore(const std::string& path, const std::string& mode) {
    if (mode != "r" && mode != "a") {
      throw Error("store mode: unknown '" + mode + "' (expected r or a)");
    }
    io::silence_hdf5_errors();
    py::gil_scoped_release release;
    store_ = std::make_unique<io::Store>(
        io::Store::open(path, mode == "a" ? io::Access::ReadWrite : io::Access::ReadOnly));
  }
  explicit PyStore(io::Store store) : store_(std::make_unique<io::Store>(std::move(store))) {}

  io::Store& store() const {
    if (!store_) throw Error("store: closed");
    return *store_;
  }
  void close() {
    if (store_) store_->close();
    store_.reset();
  }
  bool closed() const { return !store_; }

  std::int64_t index(std::int64_t i) const {
    const std::int64_t n = store().size();
    if (i < -n || i >= n) {
      throw py::index_error(store().path() + ": example " + std::to_string(i) +
                            " out of range (the store has " + std::to_string(n) + " examples)");
    }
    return i < 0 ? n + i : i;
  }

  PyExample read(std::int64_t i, bool attention, bool gradient, bool contributions = true) const {
    io::ReadOptions o;
    o.attention = attention;
    o.gradient = gradient;
    o.contributions = contributions;
    io::Example e;
    {
      py::gil_scoped_release release;
      e = store().read(i, o);
    }
    PyExample out;
    out.index = i;
    out.tokens = std::move(e.tokens);
    if (!e.token_ids.empty())
      out.token_ids = py::array_t<std::int64_t>(e.token_ids.size(), e.token_ids.data());
    if (!e.attention.empty()) out.attention = to_array(e.attention);
    if (!e.gradient.empty()) out.gradient = to_array(e.gradient);
    out.label = e.label;
    out.target = e.target;
    out.target_position = e.target_position;
    out.prediction = e.prediction;
    for (const auto& [method, stack] : e.contributions)
      out.contributions[py::str(to_string(method))] = to_array(stack);
    io::DecoderMaps& d = e.decoder;
    out.decoder_tokens = std::move(d.tokens);
    if (!d.token_ids.empty())
      out.decoder_token_ids = py::array_t<std::int64_t>(d.token_ids.size(), d.token_ids.data());
    if (!d.attention.empty()) out.decoder_attention = to_array(d.attention);
    if (!d.gradient.empty()) out.decoder_gradient = to_array(d.gradient);
    if (!d.cross_attention.empty()) out.cross_attention = to_array(d.cross_attention);
    if (!d.cross_gradient.empty()) out.cross_gradient = to_array(d.cross_gradient);
    return out;
  }

 private:
  std::unique_ptr<io::Store> store_;
};

py::dict info_dict(const io::StoreInfo& s) {
  py::dict d;
  d["model"] = s.model;
  d["tokenizer"] = s.tokenizer;
  d["layers"] = s.layers;
  d["heads"] = s.heads;
  d["causal"] = s.causal;
  d["mode"] = io::to_string(s.mode);
  d["attention_precision"] = io::to_string(s.attention_precision);
  d["gradient_precision"] = io::to_string(s.gradient_precision);
  d["fusion"] = s.fusion;
  d["contributions"] = contribution_list(s.contributions);
  d["compression"] = s.compression;
  d["extract_batch_size"] = s.extract_batch_size;
  d["decoder_layers"] = s.decoder_layers;
  if (s.shard.active()) {
    py::dict shard;
    shard["index"] = s.shard.index;
    shard["count"] = s.shard.count;
    shard["first"] = s.shard.first;
    shard["end"] = s.shard.end;
    shard["total"] = s.shard.total;
    shard["source"] = s.shard.source;
    d["shard"] = shard;
  } else {
    d["shard"] = py::none();
  }
  d["schema_version"] = s.schema_version;
  d["layer_selection"] = s.layer_selection;  // schema 3; [] = all layers
  d["head_selection"] = s.head_selection;
  d["model_layers"] = s.model_layers;  // with a layer_selection; 0 otherwise
  d["model_heads"] = s.model_heads;
  d["derived_run"] = s.derived_run;
  d["compute_dtype"] = s.compute_dtype;  // schema 3 (--dtype); "float32" when not recorded
  d["tool_version"] = s.tool_version;
  d["created"] = s.created;
  return d;
}

py::dict run_dict(const io::RunInfo& r) {
  py::dict d;
  d["name"] = r.name;
  d["status"] = io::to_string(r.status);
  d["size"] = r.size;
  d["error"] = r.error;
  d["created"] = r.created;
  d["tool_version"] = r.tool_version;
  d["source"] = r.source;
  d["precision"] = io::to_string(r.precision);
  d["options"] = io::describe_options(r);
  return d;
}

PyStore create(const std::string& path, int layers, int heads, const std::string& model,
               const std::string& tokenizer, bool causal, const std::string& mode,
               const std::string& attention_precision, const std::string& gradient_precision,
               const std::string& fusion, const py::object& compression, bool shuffle) {
  io::StoreInfo info;
  info.model = model;
  info.tokenizer = tokenizer;
  info.layers = layers;
  info.heads = heads;
  info.causal = causal;
  info.mode = io::parse_store_mode(mode);
  info.attention_precision = io::parse_precision(attention_precision);
  info.gradient_precision = io::parse_precision(gradient_precision);
  info.fusion = fusion;
  io::WriteOptions w;
  if (py::isinstance<py::str>(compression)) {  // a codec name, as attnflow extract --compression
    io::set_compression(w, compression.cast<std::string>());
  } else {  // an int: the gzip level 0-9 of earlier versions (0 = none)
    w.codec = io::Codec::Gzip;
    w.compression = compression.cast<int>();
  }
  w.shuffle = shuffle;
  io::silence_hdf5_errors();
  py::gil_scoped_release release;
  return PyStore(io::Store::create(path, info, w));
}

std::int64_t append(PyStore& self, std::vector<std::string> tokens, py::handle attention,
                    py::handle gradient, py::handle token_ids, std::optional<std::int64_t> label,
                    std::optional<std::int64_t> target, std::optional<std::int64_t> prediction) {
  io::Example e;
  e.tokens = std::move(tokens);
  if (!token_ids.is_none()) e.token_ids = token_ids.cast<std::vector<std::int64_t>>();
  if (!attention.is_none()) e.attention = to_stack(attention, "attention");
  if (!gradient.is_none()) e.gradient = to_stack(gradient, "gradient");
  e.label = label;
  e.target = target;
  e.prediction = prediction;
  io::Store& store = self.store();
  py::gil_scoped_release release;
  return store.append(e);
}

}  // namespace

void bind_store(py::module_& m) {
  py::class_<PyExample>(m, "Example", R"doc(
One example of a Store. Attributes: index (0-based), tokens (list of str, n entries),
token_ids (int64 array (n,) or None), attention (float32 array (L, H, n, n), H = 1 in a fused
store; None in a derived store or when read without it), gradient (float32 (L, H, n, n) dy/dA
or None), label, target, prediction (int or None), target_position (the position whose
logit `target` is, for LM targets; int or None), contributions ({method: float32 array
(L, 1, n, n)} of the value-aware matrices the store holds, e.g. "alti"; empty when none or read
without them). Encoder-decoder stores (info["decoder_layers"] > 0; attention is then the
encoder's): decoder_tokens (list of m str), decoder_token_ids, decoder_attention and
decoder_gradient (L_dec, H, m, m), cross_attention and cross_gradient (L_dec, H, m, n:
decoder query, encoder key); [] / None otherwise. Row = query, column = key.)doc")
      .def_readonly("index", &PyExample::index)
      .def_readonly("tokens", &PyExample::tokens)
      .def_readonly("token_ids", &PyExample::token_ids)
      .def_readonly("attention", &PyExample::attention)
      .def_readonly("gradient", &PyExample::gradient)
      .def_readonly("label", &PyExample::label)
      .def_readonly("target", &PyExample::target)
      .def_readonly("target_position", &PyExample::target_position)
      .def_readonly("prediction", &PyExample::prediction)
      .def_readonly("contributions", &PyExample::contributions)
      .def_readonly("decoder_tokens", &PyExample::decoder_tokens)
      .def_readonly("decoder_token_ids", &PyExample::decoder_token_ids)
      .def_readonly("decoder_attention", &PyExample::decoder_attention)
      .def_readonly("decoder_gradient", &PyExample::decoder_gradient)
      .def_readonly("cross_attention", &PyExample::cross_attention)
      .def_readonly("cross_gradient", &PyExample::cross_gradient)
      .def("__repr__", [](const PyExample& e) {
        return "attnflow.Example(index=" + std::to_string(e.index) +
               ", tokens=" + std::to_string(e.tokens.size()) + ")";
      });

  py::class_<PyStore>(m, "Store", R"doc(
An HDF5 attention store (docs/hdf5-schema.md), the file `attnflow extract` writes and
`attnflow analyze` reads.

  store = attnflow.Store("corpus.h5")          # read-only; Store(path, "a") to append
  len(store); store[0]; store[-1]; for ex in store: ...
  store.info                                   # metadata dict (layers, heads, model, ...)
  store.runs; store.derived("run", 0)          # derived runs: {method: Maps}

  out = attnflow.Store.create("mine.h5", layers=6, heads=8, model="my-model")
  out.append(tokens, attention, gradient=None, label=1)   # numpy (L, H, n, n)
  out.close()                                  # or use `with` blocks

Errors raise attnflow.Error with the library's message (file, example, dataset).)doc")
      .def(py::init<const std::string&, const std::string&>(), py::arg("path"),
           py::arg("mode") = "r",
           "Opens an existing store: mode \"r\" (read-only, default) or \"a\" (also append).")
      .def_static(
          "create", &create, py::arg("path"), py::kw_only(), py::arg("layers"), py::arg("heads"),
          py::arg("model") = "", py::arg("tokenizer") = "", py::arg("causal") = false,
          py::arg("mode") = "per-head", py::arg("attention_precision") = "float32",
          py::arg("gradient_precision") = "float32", py::arg("fusion") = "mean",
          py::arg("compression") = "none", py::arg("shuffle") = true,
          R"doc(create(path, *, layers, heads, model="", tokenizer="", causal=False, mode="per-head", attention_precision="float32", gradient_precision="float32", fusion="mean", compression="none", shuffle=True) -> Store

Creates a new store (the file must not exist; it is built under a temporary name and renamed).
mode: "per-head" (attention (L, H, n, n) + optional gradient), "fused" ((L, n, n) attention
only; `fusion` records how) or "derived" (tokens and labels only). precision: "float32" or
"float16". compression: "none", "lz4", "bitshuffle", "gzip" or "gzip-1".."gzip-9" (or an int,
a gzip level 0-9, 0 = none); see docs/hdf5-schema.md, "Codecs".)doc")
      .def_property_readonly("path", [](const PyStore& s) { return s.store().path(); })
      .def_property_readonly(
          "info", [](const PyStore& s) { return info_dict(s.store().info()); },
          "Metadata dict: model, tokenizer, layers, heads, causal, mode, attention_precision, "
          "gradient_precision, fusion, contributions (comma-separated method names, \"\" = none), "
          "compression (the codec, \"\" in older files), extract_batch_size (0 = not recorded), "
          "decoder_layers (encoder-decoder stores; 0 otherwise), "
          "shard (None, or dict index, count, first, end, total, source of a --shard K/N store), "
          "schema_version, layer_selection, head_selection (schema 3; [] = all), model_layers, "
          "model_heads (the model's, with a selection; 0 otherwise), derived_run, "
          "compute_dtype (schema 3: the dtype extract computed in, \"float32\" when not recorded), "
          "tool_version, created.")
      .def_property_readonly(
          "metadata", [](const PyStore& s) { return info_dict(s.store().info()); }, "Same as info.")
      .def_property_readonly("writable", [](const PyStore& s) { return s.store().writable(); })
      .def_property_readonly("closed", &PyStore::closed)
      .def("__len__", [](const PyStore& s) { return s.store().size(); })
      .def(
          "__getitem__",
          [](const PyStore& s, std::int64_t i) { return s.read(s.index(i), true, true); },
          py::arg("index"), "Example `index` (negative counts from the end); IndexError outside.")
      .def(
          "__iter__",
          [](py::object self) {
            return py::iter(
                py::module_::import("builtins")
                    .attr("map")(self.attr("__getitem__"),
                                 py::module_::import("builtins").attr("range")(py::len(self))));
          },
          "Iterates over the examples in order.")
      .def(
          "read",
          [](const PyStore& s, std::int64_t i, bool attention, bool gradient, bool contributions) {
            return s.read(i, attention, gradient, contributions);
          },
          py::arg("index"), py::kw_only(), py::arg("attention") = true, py::arg("gradient") = true,
          py::arg("contributions") = true,
          "Example `index` (0-based); attention=False / gradient=False / contributions=False "
          "skip those arrays. Raises attnflow.Error outside 0..len-1.")
      .def(
          "append", &append, py::arg("tokens"), py::arg("attention") = py::none(),
          py::arg("gradient") = py::none(), py::kw_only(), py::arg("token_ids") = py::none(),
          py::arg("label") = py::none(), py::arg("target") = py::none(),
          py::arg("prediction") = py::none(),
          R"doc(append(tokens, attention=None, gradient=None, *, token_ids=None, label=None, target=None, prediction=None) -> int

Appends one example and returns its index (committed: a crash later keeps it readable).
tokens: list of n str. attention: (L, H, n, n) / (L, n, n) array or an HF-style tuple of
per-layer arrays (float32 or float64, stored as the store's precision); gradient: dy/dA of
the same shape (per-head stores only). The store validates names, shapes and values.)doc")
      .def_property_readonly(
          "runs",
          [](const PyStore& s) {
            std::vector<std::string> names;
            for (const io::RunInfo& r : io::list_runs(s.store())) names.push_back(r.name);
            return names;
          },
          "Names of the derived runs (/derived/<name>), sorted.")
      .def(
          "run_info",
          [](const PyStore& s, const std::string& name) {
            return run_dict(io::run_info(s.store(), name));
          },
          py::arg("name"),
          "Dict of a derived run: name, status, size, error, created, tool_version, source, "
          "precision, options (the recorded analysis options, 'key=value' lines).")
      .def(
          "derived",
          [](const PyStore& s, const std::string& run, std::int64_t index) {
            AnalysisResult r;
            {
              py::gil_scoped_release release;
              r = io::read_derived(s.store(), run, index);
            }
            py::dict out;
            for (const NamedMaps& nm : named_maps(r))
              out[py::str(nm.name)] = to_py_maps(nm.maps, nm.name);
            return out;
          },
          py::arg("run"), py::arg("index"),
          "The maps run `run` stored for example `index`: {method name: Maps}.")
      .def("close", &PyStore::close, "Flushes and closes the file (idempotent).")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](PyStore& s, py::args) { s.close(); })
      .def("__repr__", [](const PyStore& s) {
        if (s.closed()) return std::string("attnflow.Store(<closed>)");
        return "attnflow.Store('" + s.store().path() + "', " + std::to_string(s.store().size()) +
               " examples)";
      });
}

}  // namespace attnflow::python
