// attnflow.extract and attnflow.load_model (with libtorch): the pipeline's corpus extraction
// and a loaded model whose run() gives attention and dy/dA as numpy.
#include <pybind11/stl.h>

#include <filesystem>
#include <memory>

#include "arrays.hpp"
#include "attnflow/core/error.hpp"
#include "attnflow/hf/tokenizer.hpp"
#include "attnflow/io/store.hpp"
#include "attnflow/pipeline/extract_corpus.hpp"
#include "attnflow/torch/model.hpp"
#include "bindings.hpp"

namespace attnflow::python {

namespace {

namespace fs = std::filesystem;

/// A str / os.PathLike as a path string; None for anything else.
std::optional<std::string> as_path(py::handle obj) {
  if (py::isinstance<py::str>(obj)) return obj.cast<std::string>();
  if (py::hasattr(obj, "__fspath__")) return obj.attr("__fspath__")().cast<std::string>();
  return std::nullopt;
}

/// Texts (and optional labels) written as a JSON Lines corpus in a fresh temporary folder.
std::string write_texts(py::handle texts, py::handle labels, py::object& tmpdir) {
  const py::module_ json = py::module_::import("json");
  tmpdir = py::module_::import("tempfile").attr("TemporaryDirectory")("", "attnflow-");
  const std::string path =
      (fs::path(tmpdir.attr("name").cast<std::string>()) / "texts.jsonl").string();
  const py::object to_list = py::module_::import("builtins").attr("list");
  const py::list items = to_list(texts);
  const py::object label_list = labels.is_none() ? py::object(py::none()) : to_list(labels);
  if (!label_list.is_none() && py::len(label_list) != py::len(items)) {
    throw Error("labels: " + std::to_string(py::len(label_list)) + " labels for " +
                std::to_string(py::len(items)) + " texts");
  }
  std::string lines;
  for (std::size_t k = 0; k < py::len(items); ++k) {
    py::dict d;
    d["text"] = py::str(items[k]);
    if (!label_list.is_none()) d["label"] = label_list[py::int_(k)];
    lines += json.attr("dumps")(d).cast<std::string>() + "\n";
  }
  py::module_::import("pathlib").attr("Path")(path).attr("write_text")(lines, "utf-8");
  return path;
}

py::dict py_extract(py::handle model, py::handle corpus, const std::string& output,
                    const std::string& target, py::handle labels, const std::string& format,
                    bool skip_empty, const std::string& tokenizer, const std::string& device,
                    int batch_size, std::int64_t max_length, bool truncate,
                    const std::string& store, const std::string& precision, bool resume,
                    bool overwrite, int threads, const std::string& contributions,
                    py::object progress, const std::string& dtype) {
  pipeline::ExtractOptions o;
  o.model = as_path(model).value_or(py::str(model).cast<std::string>());
  py::object tmpdir = py::none();  // removes the temporary corpus when the call returns
  const auto corpus_path = as_path(corpus);
  o.corpus = corpus_path ? *corpus_path : write_texts(corpus, labels, tmpdir);
  o.output = output;
  o.format = io::parse_corpus_format(format);
  o.skip_empty = skip_empty;
  o.tokenizer = tokenizer;
  o.device = device;
  o.dtype = parse_enum(torch::kComputeDtypeNames, dtype, "dtype");
  o.batch_size = batch_size;
  o.max_length = max_length;
  o.truncate = truncate;
  o.store = parse_enum(pipeline::kExtractStoreModes, store, "store");
  o.precision = parse_enum(pipeline::kExtractPrecisions, precision, "precision");
  o.target = torch::parse_target(target);
  o.resume = resume;
  o.overwrite = overwrite;
  o.threads = threads;
  o.contributions = parse_contribution_list(contributions, "contributions");
  // Progress and Ctrl-C between examples (the callback takes the GIL for a moment).
  const pipeline::ExtractProgress on_progress = [&progress](std::int64_t done, std::int64_t total) {
    py::gil_scoped_acquire gil;
    if (!progress.is_none()) progress(done, total);
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  };
  io::silence_hdf5_errors();
  pipeline::ExtractReport r;
  {
    py::gil_scoped_release release;
    r = pipeline::extract_corpus(o, on_progress);
  }
  py::dict d;
  d["output"] = r.output;
  d["corpus"] = r.corpus;
  d["examples"] = r.examples;
  d["extracted"] = r.extracted;
  d["resumed"] = r.resumed;
  d["tokens"] = r.tokens;
  d["seconds"] = r.seconds;
  d["nothing_to_do"] = r.nothing_to_do;
  d["truncated_lines"] = r.truncated_lines;
  d["batch_note"] = r.batch_note;
  d["resume_note"] = r.resume_note;
  return d;
}

/// A loaded model and its tokenizer.
class PyModel {
 public:
  PyModel(const std::string& path, const std::string& tokenizer, const std::string& device,
          int threads, const std::string& dtype) {
    torch::LoadOptions lo;
    lo.device = device;
    lo.dtype = parse_enum(torch::kComputeDtypeNames, dtype, "dtype");
    lo.threads = threads;
    std::string dir = tokenizer;
    if (dir.empty()) {
      std::error_code ec;
      dir = fs::is_directory(path, ec) ? path : fs::path(path).parent_path().string();
      if (dir.empty()) dir = ".";
    }
    py::gil_scoped_release release;
    model_ = torch::Model::load(path, lo);
    tokenizer_ = hf::load_tokenizer(dir);
  }

  py::dict info() const {
    const torch::ModelInfo& i = model_->info();
    py::dict d;
    d["path"] = i.path;
    d["family"] = std::string(torch::to_string(i.family));
    d["architecture"] = i.architecture;
    d["layers"] = i.layers;
    d["heads"] = i.heads;
    d["hidden_size"] = i.hidden_size;
    d["causal"] = i.causal;
    d["num_labels"] = i.num_labels;
    d["vocab_size"] = i.vocab_size;
    d["max_positions"] = i.max_positions;
    d["device"] = i.device;
    d["dtype"] = i.dtype;
    return d;
  }

  std::vector<std::string> tokenize(const std::string& text) const {
    return tokenizer_->encode(text).tokens;
  }

  py::object run(py::handle texts, const std::string& target, py::handle labels, int batch_size,
                 bool logits, bool input_gradients) {
    const bool single = py::isinstance<py::str>(texts);
    std::vector<std::string> items;
    if (single) {
      items.push_back(texts.cast<std::string>());
    } else {
      for (py::handle t : texts) items.push_back(py::str(t).cast<std::string>());
    }
    std::vector<std::optional<std::int64_t>> label_of(items.size());
    if (!labels.is_none()) {
      const auto l = single ? std::vector<std::int64_t>{labels.cast<std::int64_t>()}
                            : labels.cast<std::vector<std::int64_t>>();
      if (l.size() != items.size()) {
        throw Error("labels: " + std::to_string(l.size()) + " labels for " +
                    std::to_string(items.size()) + " texts");
      }
      for (std::size_t k = 0; k < l.size(); ++k) label_of[k] = l[k];
    }
    if (batch_size < 1) throw Error("batch size: " + std::to_string(batch_size) + " (need >= 1)");
    torch::RunOptions ro;
    ro.target = torch::parse_target(target);
    ro.logits = logits;
    ro.input_gradients = input_gradients && ro.target.kind != torch::TargetKind::None;
    ro.mask_token_id = tokenizer_->special_ids().mask.value_or(-1);
    const torch::ModelInfo& info = model_->info();
    py::list out;
    for (std::size_t first = 0; first < items.size(); first += batch_size) {
      const std::size_t last = std::min(items.size(), first + static_cast<std::size_t>(batch_size));
      std::vector<torch::Input> batch;
      std::vector<hf::Encoding> enc;
      std::vector<torch::Output> res;
      {
        py::gil_scoped_release release;
        for (std::size_t k = first; k < last; ++k) {
          enc.push_back(tokenizer_->encode(items[k]));
          torch::Input in;
          in.ids = enc.back().ids;
          if (info.uses_type_ids) in.type_ids = enc.back().type_ids;
          in.label = label_of[k];
          batch.push_back(std::move(in));
        }
        res = model_->run(batch, ro);
      }
      for (std::size_t k = 0; k < res.size(); ++k) out.append(output_dict(enc[k], res[k]));
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    }
    return single ? py::object(out[0]) : py::object(out);
  }

 private:
  py::dict output_dict(const hf::Encoding& enc, const torch::Output& o) const {
    const torch::ModelInfo& info = model_->info();
    auto stack = [&](const std::vector<float>& v) -> py::object {
      if (v.empty()) return py::none();
      return to_array(AttentionStack(v, info.layers, info.heads, static_cast<int>(o.n)));
    };
    py::dict d;
    d["tokens"] = enc.tokens;
    d["ids"] = py::array_t<std::int64_t>(enc.ids.size(), enc.ids.data());
    d["attention"] = stack(o.attention);
    d["gradient"] = stack(o.attention_gradient);
    if (o.logits.empty()) {
      d["logits"] = py::none();
    } else {
      std::vector<py::ssize_t> shape(o.logits_shape.begin(), o.logits_shape.end());
      d["logits"] = py::array_t<float>(shape, o.logits.data());
    }
    if (o.input_gradient.empty()) {
      d["input_gradient"] = py::none();
      d["input_embedding"] = py::none();
    } else {
      const auto nd = static_cast<py::ssize_t>(o.input_gradient.size()) / o.n;
      d["input_gradient"] =
          py::array_t<float>({static_cast<py::ssize_t>(o.n), nd}, o.input_gradient.data());
      d["input_embedding"] =
          py::array_t<float>({static_cast<py::ssize_t>(o.n), nd}, o.input_embedding.data());
    }
    d["prediction"] = o.prediction;
    d["target_index"] = o.target_index;
    d["target_position"] = o.target_position;
    d["target_value"] = o.target_value;
    return d;
  }

  std::unique_ptr<torch::Model> model_;
  std::unique_ptr<hf::Tokenizer> tokenizer_;
};

}  // namespace

void bind_torch(py::module_& m) {
  m.attr("HAVE_TORCH") = true;
  m.def(
      "extract", &py_extract, py::arg("model"), py::arg("corpus"), py::arg("output"), py::kw_only(),
      py::arg("target") = "none", py::arg("labels") = py::none(), py::arg("format") = "auto",
      py::arg("skip_empty") = false, py::arg("tokenizer") = "", py::arg("device") = "cpu",
      py::arg("batch_size") = 8, py::arg("max_length") = 0, py::arg("truncate") = false,
      py::arg("store") = "per-head", py::arg("precision") = "float32", py::arg("resume") = false,
      py::arg("overwrite") = false, py::arg("threads") = 0, py::arg("contributions") = "",
      py::arg("progress") = py::none(), py::arg("dtype") = "float32",
      R"doc(extract(model, corpus, output, *, target="none", labels=None, format="auto", skip_empty=False, tokenizer="", device="cpu", batch_size=8, max_length=0, truncate=False, store="per-head", precision="float32", resume=False, overwrite=False, threads=0, contributions="", progress=None, dtype="float32") -> dict

`attnflow extract` as a call (docs/extract.md): runs the model (a Hugging Face directory or a
TorchScript .pt) on every example of `corpus` and writes the HDF5 store `output` with the
attention maps and, with a target ("class:K", "label", "predicted", "mask", "next", "last",
"token:POS:ID", "prob-diff"), their gradients dy/dA. corpus: a path (.txt, .jsonl, .tsv) or a list of texts
(with labels= a list of ints for target="label"), written to a temporary JSON Lines corpus.
progress(done, total) is called after every example; Ctrl-C stops between examples (the
store keeps the finished ones). Returns the report as a dict (examples, extracted, resumed,
tokens, seconds, ...). contributions: value-aware matrices stored with each example, as
`attnflow extract --contributions` ("alti,globenc"; norm, globenc, alti, value-zeroing), read
back as Example.contributions. dtype: "float32", "bfloat16", "float16" (CUDA only) or "auto",
as `attnflow extract --dtype` (bfloat16 / float16: the Llama family; recorded in the store as
info["compute_dtype"]).)doc");

  py::class_<PyModel>(m, "Model", R"doc(
A transformer loaded with libtorch (attnflow.load_model) and its tokenizer.
model.info: dict (layers, heads, architecture, causal, num_labels, max_positions, ...).
model.tokenize(text) -> list of str. model.run(texts, target=...) -> dict or list of dicts.)doc")
      .def_property_readonly("info", &PyModel::info)
      .def("tokenize", &PyModel::tokenize, py::arg("text"),
           "Tokens of `text` as the model sees them (special tokens included).")
      .def(
          "run", &PyModel::run, py::arg("texts"), py::kw_only(), py::arg("target") = "none",
          py::arg("labels") = py::none(), py::arg("batch_size") = 8, py::arg("logits") = true,
          py::arg("input_gradients") = false,
          R"doc(run(texts, *, target="none", labels=None, batch_size=8, logits=True, input_gradients=False) -> dict | list[dict]

Runs one text (str -> one dict) or a list of texts (-> a list of dicts, one per text) in
batches. Each dict: tokens (list of str), ids (int64 (n,)), attention (float32
(L, H, n, n), row = query), gradient (float32 (L, H, n, n) dy/dA of the target logit, or
None when target="none"), logits (float32 (C,) or (n, V)), input_gradient / input_embedding
((n, d) with input_gradients=True), prediction, target_index, target_position, target_value.
target: "class:K", "label" (needs labels=), "predicted", "mask", "mask:ID", "next",
"next:ID", "last", "token:POS:ID" (the logit of token ID at position POS, negative from the
end), "prob-diff" or "none" (as `attnflow extract --target`).)doc");

  m.def(
      "load_model",
      [](const std::string& path, const std::string& tokenizer, const std::string& device,
         int threads, const std::string& dtype) {
        return std::make_unique<PyModel>(path, tokenizer, device, threads, dtype);
      },
      py::arg("path"), py::kw_only(), py::arg("tokenizer") = "", py::arg("device") = "cpu",
      py::arg("threads") = 0, py::arg("dtype") = "float32",
      R"doc(load_model(path, *, tokenizer="", device="cpu", threads=0, dtype="float32") -> Model

Loads a Hugging Face model directory (BERT, GPT-2, the SVA encoder classifier) or a
TorchScript .pt file with libtorch, and the tokenizer of its directory (or `tokenizer`).
dtype: as extract's (model.info["dtype"] is the dtype it computes in).)doc");
}

}  // namespace attnflow::python
