// attnflow.evaluate (with libtorch): `attnflow evaluate` as a call, its report as a dict.
#include <pybind11/stl.h>

#include "attnflow/core/util/enum_names.hpp"
#include "attnflow/pipeline/evaluate.hpp"
#include "bindings.hpp"

namespace attnflow::python {
namespace {

py::dict method_dict(const pipeline::MethodResult& m) {
  const pipeline::FaithfulnessSummary& f = m.faithfulness;
  py::dict d;
  d["comprehensiveness"] = f.comprehensiveness.mean;
  d["comprehensiveness_std"] = f.comprehensiveness.std;
  d["sufficiency"] = f.sufficiency.mean;
  d["sufficiency_std"] = f.sufficiency.std;
  d["comprehensiveness_at"] = f.comprehensiveness_at;
  d["sufficiency_at"] = f.sufficiency_at;
  d["deletion"] = f.deletion;
  d["insertion"] = f.insertion;
  d["deletion_area"] = f.deletion_area;
  d["insertion_area"] = f.insertion_area;
  d["spearman_blank_out"] =
      m.spearman_blank_out ? py::object(py::float_(m.spearman_blank_out->mean)) : py::none();
  d["spearman_blank_out_std"] =
      m.spearman_blank_out ? py::object(py::float_(m.spearman_blank_out->std)) : py::none();
  d["cpu_seconds_median"] = m.cost.cpu;
  d["wall_seconds_median"] = m.cost.wall;
  return d;
}

py::dict py_evaluate(const std::string& output, const std::string& model, const std::string& corpus,
                     const std::vector<std::string>& methods, std::int64_t examples,
                     const std::string& target, const std::string& perturbation,
                     const std::vector<double>& aopc_percents,
                     const std::vector<double>& curve_percents, const std::string& rounding,
                     std::uint64_t seed, int batch_size, int threads, bool plots, bool save_scores,
                     bool overwrite) {
  pipeline::EvaluateOptions o;
  o.output = output;
  o.model = model;
  o.corpus = corpus;
  o.methods = methods;
  o.examples = examples;
  o.target = parse_enum(pipeline::kEvaluateTargetNames, target, "target");
  o.faithfulness.perturbation =
      parse_enum(pipeline::kPerturbationNames, perturbation, "perturbation");
  o.faithfulness.aopc_percents = aopc_percents;
  o.faithfulness.curve_percents = curve_percents;
  o.faithfulness.rounding = parse_enum(pipeline::kPercentRoundingNames, rounding, "rounding");
  o.seed = seed;
  o.batch_size = batch_size;
  o.threads = threads;
  o.plots = plots;
  o.save_scores = save_scores;
  o.overwrite = overwrite;
  pipeline::EvaluateReport r;
  {
    py::gil_scoped_release release;
    r = pipeline::evaluate(o);
  }
  py::dict d, per_method;
  for (const pipeline::MethodResult& m : r.methods) per_method[py::str(m.name)] = method_dict(m);
  d["output"] = r.output;
  d["model"] = r.model;
  d["corpus"] = r.corpus;
  d["examples"] = r.examples;
  d["accuracy"] = r.accuracy;
  d["aopc_percents"] = r.faithfulness.aopc_percents;
  d["curve_percents"] = r.faithfulness.curve_percents;
  d["methods"] = per_method;
  d["files"] = r.files;
  d["text"] = r.text;
  d["seconds"] = r.seconds;
  return d;
}

}  // namespace

void bind_evaluate(py::module_& m) {
  const pipeline::EvaluateOptions defaults;
  m.def(
      "evaluate", &py_evaluate, py::arg("output"), py::kw_only(), py::arg("model") = "",
      py::arg("corpus") = "", py::arg("methods") = std::vector<std::string>{},
      py::arg("examples") = 0, py::arg("target") = "predicted", py::arg("perturbation") = "unk",
      py::arg("aopc_percents") = defaults.faithfulness.aopc_percents,
      py::arg("curve_percents") = defaults.faithfulness.curve_percents,
      py::arg("rounding") = "ceil", py::arg("seed") = defaults.seed,
      py::arg("batch_size") = defaults.batch_size, py::arg("threads") = 0, py::arg("plots") = false,
      py::arg("save_scores") = false, py::arg("overwrite") = false,
      R"doc(evaluate(output, *, model="", corpus="", methods=[], examples=0, target="predicted", perturbation="unk", aopc_percents=[1, 5, 10, 20, 50], curve_percents=[0, 10, ..., 100], rounding="ceil", seed=2020, batch_size=64, threads=0, plots=False, save_scores=False, overwrite=False) -> dict

`attnflow evaluate` as a call (docs/evaluate.md): the faithfulness benchmark of every method
(raw, rollout, flow, grad-rollout, blank-out, input-x-gradient, random; methods=[] = all) on a
classifier and a labelled corpus (defaults: the shipped SVA model and its test split). Writes
the folder `output` as the CLI does (figures only with plots=True) and returns the report:
examples, accuracy, methods = {name: {comprehensiveness, sufficiency (AOPC, with _std),
comprehensiveness_at, sufficiency_at (per bin), deletion, insertion (mean curves),
deletion_area, insertion_area, spearman_blank_out (None without blank-out), cpu_seconds_median, wall_seconds_median}},
files, text (table.txt).)doc");
}

}  // namespace attnflow::python
