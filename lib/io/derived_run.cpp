// Derived runs: /derived/<run> groups with the options as attributes and one
// group of LayerMaps datasets per example, committed like examples.
#include "attnflow/io/derived_run.hpp"

#include <algorithm>
#include <cstdio>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/utc_time.hpp"
#include "attnflow/core/util/utf8.hpp"
#include "attnflow/version.hpp"
#include "chunk_codec.hpp"
#include "store_impl.hpp"

namespace attnflow::io {

using detail::Handle;

namespace {

constexpr const char* kDerivedGroup = "derived";

std::string run_where(const Store& store, const std::string& run) {
  return store.path() + ": run '" + run + "'";
}

void validate_run_name(const std::string& name, const std::string& path) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
      name.size() > 255) {
    throw Error(path + ": run name '" + name +
                "' is invalid (1-255 characters, no '/', not '.' or '..')");
  }
  require_utf8(name, path + ": run name", NulBytes::Rejected);
}

// Precisions of derived results (float16 is for attention stacks only).
constexpr EnumName<Precision> kResultPrecisionNames[] = {
    {Precision::Float32, "float32"},
    {Precision::Float64, "float64"},
};

}  // namespace

void detail::write_run_attributes(hid_t g, const RunInfo& run) {
  using namespace detail;
  const AnalysisOptions& o = run.options;
  std::vector<std::string> methods;
  for (Method m : o.methods) methods.push_back(to_string(m));
  set_strings(g, "methods", methods);
  set_string(g, "precision", to_string(run.precision));
  set_ints(g, "target_rows", o.target_rows);
  set_ints(g, "layers", o.layers);
  set_int(g, "start_layer", o.start_layer, H5T_STD_I32LE);
  set_string(g, "fusion", to_string(o.prepare.fusion.method));
  set_doubles(g, "head_weights", o.prepare.fusion.head_weights);
  set_double(g, "discard_ratio", o.prepare.discard.ratio);
  set_string(g, "discard_scope", to_string(o.prepare.discard.scope));
  set_bool(g, "discard_keep_cls", o.prepare.discard.keep_cls);
  set_bool(g, "residual", o.prepare.residual.enabled);
  set_double(g, "residual_alpha", o.prepare.residual.alpha);
  set_bool(g, "residual_renormalize", o.prepare.residual.renormalize);
  set_bool(g, "flow_normalize", o.flow.normalize);
  set_string(g, "flow_algorithm", to_string(o.flow.algorithm));
  set_bool(g, "flow_closed_form_low_layers", o.flow.closed_form_low_layers);
  set_string(g, "grad_rule", to_string(o.grad.rule));
  set_bool(g, "grad_signed", o.grad.signed_relevance);
  set_bool(g, "grad_renormalize", o.grad.renormalize);
  set_double(g, "grad_discard_ratio", o.grad.discard.ratio);
  set_string(g, "grad_discard_scope", to_string(o.grad.discard.scope));
  set_bool(g, "grad_discard_keep_cls", o.grad.discard.keep_cls);
  set_string(g, "status", to_string(run.status));
  set_string(g, "error", run.error);
  set_string(g, "created", utc_now_iso8601());
  set_string(g, "attnflow_version", ATTNFLOW_VERSION_STRING);
  set_string(g, "source", run.source);
  set_int(g, detail::kCountAttribute, 0, H5T_STD_I64LE);
}

namespace {

RunInfo read_run_attributes(hid_t g, const std::string& name, const std::string& where) {
  using namespace detail;
  RunInfo run;
  run.name = name;
  AnalysisOptions& o = run.options;
  o.methods.clear();
  for (const auto& m : get_strings(g, "methods", where)) {
    o.methods.push_back(parse_enum(kMethodNames, m, where + ": attribute 'methods'"));
  }
  if (o.methods.empty()) throw Error(where + ": attribute 'methods' is empty");
  run.precision = parse_enum(kResultPrecisionNames, get_string(g, "precision", where),
                             where + ": attribute 'precision'");
  o.target_rows = get_ints(g, "target_rows", where);
  o.layers = get_ints(g, "layers", where);
  o.start_layer = static_cast<int>(get_int(g, "start_layer", where));
  o.prepare.fusion.method =
      parse_enum(kHeadFusionNames, get_string(g, "fusion", where), where + ": attribute 'fusion'");
  o.prepare.fusion.head_weights = get_doubles(g, "head_weights", where);
  o.prepare.discard.ratio = get_double(g, "discard_ratio", where);
  o.prepare.discard.scope = parse_enum(kDiscardScopeNames, get_string(g, "discard_scope", where),
                                       where + ": attribute 'discard_scope'");
  o.prepare.discard.keep_cls = get_bool(g, "discard_keep_cls", where);
  o.prepare.residual.enabled = get_bool(g, "residual", where);
  o.prepare.residual.alpha = get_double(g, "residual_alpha", where);
  o.prepare.residual.renormalize = get_bool(g, "residual_renormalize", where);
  o.flow.normalize = get_bool(g, "flow_normalize", where);
  o.flow.algorithm = parse_enum(kFlowAlgorithmNames, get_string(g, "flow_algorithm", where),
                                where + ": attribute 'flow_algorithm'");
  o.flow.closed_form_low_layers = get_bool(g, "flow_closed_form_low_layers", where);
  o.grad.rule = parse_enum(kGradRolloutRuleNames, get_string(g, "grad_rule", where),
                           where + ": attribute 'grad_rule'");
  o.grad.signed_relevance = get_bool(g, "grad_signed", where);
  o.grad.renormalize = get_bool(g, "grad_renormalize", where);
  o.grad.discard.ratio = get_double(g, "grad_discard_ratio", where);
  o.grad.discard.scope = parse_enum(kDiscardScopeNames, get_string(g, "grad_discard_scope", where),
                                    where + ": attribute 'grad_discard_scope'");
  o.grad.discard.keep_cls = get_bool(g, "grad_discard_keep_cls", where);
  run.status =
      parse_enum(kRunStatusNames, get_string(g, "status", where), where + ": attribute 'status'");
  run.error = get_string(g, "error", where);
  run.created = get_string(g, "created", where);
  run.tool_version = get_string(g, "attnflow_version", where);
  run.source = get_string(g, "source", where);
  run.size = get_int(g, detail::kCountAttribute, where);
  if (run.size < 0) {
    throw Error(where + ": attribute 'num_examples' is " + std::to_string(run.size) +
                " (expected >= 0)");
  }
  return run;
}

/// Opens /derived/<run> (lock held); throws Error when it does not exist.
Handle open_run(const Store& store, const std::string& run) {
  const detail::StoreImpl& s = detail::impl_of(store);
  if (!s.file.valid()) throw Error(s.path + ": store is closed");
  if (!detail::has_link(s.file.get(), kDerivedGroup) ||
      !detail::has_link(s.file.get(), std::string(kDerivedGroup) + "/" + run)) {
    throw Error(run_where(store, run) + " does not exist");
  }
  Handle derived = detail::open_group(s.file.get(), kDerivedGroup, s.path);
  s.heap_check.check_attributes(derived.get(), run, run_where(store, run));
  return detail::open_group(derived.get(), run, s.path + ": group '/derived'");
}

/// Committed examples of the run group `g`: its commit index, or the
/// num_examples attribute (`recorded`) for runs without one.
std::int64_t committed(hid_t g, std::int64_t recorded, detail::CommitIndex& commits,
                       const std::string& where) {
  commits.open(g, where);
  return commits.present() ? commits.count() : recorded;
}

/// Writes the committed count to the run's num_examples (lazy: at finish,
/// fail and resume; readers use the commit index).
void record_size(hid_t g, const std::string& where) {
  detail::CommitIndex commits;
  commits.open(g, where);
  if (commits.present())
    detail::set_int(g, detail::kCountAttribute, commits.count(), H5T_STD_I64LE);
}

RunInfo read_run(const Store& store, const std::string& run) {
  Handle g = open_run(store, run);
  const std::string where = run_where(store, run);
  RunInfo info = read_run_attributes(g.get(), run, where);
  detail::CommitIndex commits;
  info.size = committed(g.get(), info.size, commits, where);
  info.size =
      std::min(info.size, detail::impl_of(store).size);  // never trust more than the store holds
  return info;
}

std::string format_double(double v) {
  char text[40];
  std::snprintf(text, sizeof text, "%.17g", v);
  return text;
}

template <class T>
std::string join(const std::vector<T>& values, const std::string& empty) {
  if (values.empty()) return empty;
  std::string s;
  for (std::size_t k = 0; k < values.size(); ++k) {
    if (k > 0) s += ",";
    if constexpr (std::is_same_v<T, double>) {
      s += format_double(values[k]);
    } else {
      s += std::to_string(values[k]);
    }
  }
  return s;
}

}  // namespace

const char* to_string(RunStatus status) {
  return enum_name(kRunStatusNames, status);
}

std::vector<std::string> describe_options(const RunInfo& run) {
  const AnalysisOptions& o = run.options;
  std::string methods;
  for (Method m : o.methods) methods += std::string(methods.empty() ? "" : ",") + to_string(m);
  const auto flag = [](bool b) { return std::string(b ? "true" : "false"); };
  return {
      "methods=" + methods,
      "precision=" + std::string(to_string(run.precision)),
      "target_rows=" + join(o.target_rows, "all"),
      "layers=" + join(o.layers, "all"),
      "start_layer=" + std::to_string(o.start_layer),
      "fusion=" + std::string(to_string(o.prepare.fusion.method)),
      "head_weights=" + join(o.prepare.fusion.head_weights, "none"),
      "discard_ratio=" + format_double(o.prepare.discard.ratio),
      "discard_scope=" + std::string(to_string(o.prepare.discard.scope)),
      "discard_keep_cls=" + flag(o.prepare.discard.keep_cls),
      "residual=" + flag(o.prepare.residual.enabled),
      "residual_alpha=" + format_double(o.prepare.residual.alpha),
      "residual_renormalize=" + flag(o.prepare.residual.renormalize),
      "flow_normalize=" + flag(o.flow.normalize),
      "flow_algorithm=" + std::string(to_string(o.flow.algorithm)),
      "flow_closed_form_low_layers=" + flag(o.flow.closed_form_low_layers),
      "grad_rule=" + std::string(to_string(o.grad.rule)),
      "grad_signed=" + flag(o.grad.signed_relevance),
      "grad_renormalize=" + flag(o.grad.renormalize),
      "grad_discard_ratio=" + format_double(o.grad.discard.ratio),
      "grad_discard_scope=" + std::string(to_string(o.grad.discard.scope)),
      "grad_discard_keep_cls=" + flag(o.grad.discard.keep_cls),
  };
}

std::vector<RunInfo> list_runs(const Store& store) {
  detail::Hdf5Lock lock;
  const detail::StoreImpl& s = detail::impl_of(store);
  if (!s.file.valid()) throw Error(s.path + ": store is closed");
  std::vector<std::string> names;
  if (detail::has_link(s.file.get(), kDerivedGroup)) {
    Handle derived = detail::open_group(s.file.get(), kDerivedGroup, s.path);
    hsize_t position = 0;
    const auto collect = [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
      static_cast<std::vector<std::string>*>(out)->push_back(name);
      return 0;
    };
    detail::check(H5Literate(derived.get(), H5_INDEX_NAME, H5_ITER_INC, &position, collect, &names),
                  s.path + ": cannot list '/derived'");
  }
  std::sort(names.begin(), names.end());
  std::vector<RunInfo> runs;
  for (const auto& name : names) runs.push_back(read_run(store, name));
  return runs;
}

RunInfo run_info(const Store& store, const std::string& name) {
  detail::Hdf5Lock lock;
  return read_run(store, name);
}

bool has_run(const Store& store, const std::string& name) {
  detail::Hdf5Lock lock;
  const detail::StoreImpl& s = detail::impl_of(store);
  if (!s.file.valid()) throw Error(s.path + ": store is closed");
  if (name.empty() || name.find('/') != std::string::npos) return false;
  return detail::has_link(s.file.get(), kDerivedGroup) &&
         detail::has_link(s.file.get(), std::string(kDerivedGroup) + "/" + name);
}

RunInfo begin_run(Store& store, const RunInfo& run, RunStart start) {
  detail::StoreImpl& s = detail::impl_of(store);
  s.require_writable("write derived results");
  validate_run_name(run.name, s.path);
  const std::string where = run_where(store, run.name);
  if (run.precision == Precision::Float16) {
    throw Error(where + ": derived results are stored as float32 or float64, not float16");
  }
  if (run.options.methods.empty()) throw Error(where + ": no method chosen");
  detail::Hdf5Lock lock;
  if (!s.file.valid()) throw Error(s.path + ": store is closed");
  if (!detail::has_link(s.file.get(), kDerivedGroup)) {
    Handle group = detail::checked(H5Gcreate_anon(s.file.get(), H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
                                   s.path + ": cannot create group '/derived'");
    detail::flush(s.file.get(), s.path);
    detail::check(H5Olink(group.get(), s.file.get(), kDerivedGroup, detail::utf8_link_properties(),
                          H5P_DEFAULT),
                  s.path + ": cannot create group '/derived'");
    detail::flush(s.file.get(), s.path);
  }
  Handle derived = detail::open_group(s.file.get(), kDerivedGroup, s.path);
  const bool exists = detail::has_link(derived.get(), run.name);
  if (exists && start == RunStart::New) {
    const RunInfo old = read_run(store, run.name);
    throw Error(where + " already exists (" + to_string(old.status) + ", " +
                std::to_string(old.size) + " of " + std::to_string(s.size) +
                " examples); overwrite it or choose another name");
  }
  if (start == RunStart::Resume) {
    if (!exists) throw Error(where + " does not exist, nothing to resume");
    RunInfo old = read_run(store, run.name);
    const auto a = describe_options(old), b = describe_options(run);
    for (std::size_t k = 0; k < a.size(); ++k) {
      if (a[k] != b[k]) {
        throw Error(where + " was computed with " + a[k] + ", this run asks for " + b[k] +
                    "; overwrite it or choose another name");
      }
    }
    Handle g = open_run(store, run.name);
    detail::CommitIndex commits;
    commits.open(g.get(), where);
    if (commits.present()) {
      if (detail::names_damaged(g.get(), commits)) {
        throw Error(where +
                    ": HDF5 cannot read the result names (a writer was killed while "
                    "HDF5 was writing them); the " +
                    std::to_string(commits.count()) +
                    " committed results are readable, but the run cannot be resumed: start a "
                    "new run (another --run name)");
      }
      // A writer killed between naming and committing a result left its name.
      detail::drop_stray_name(s.file.get(), g.get(), commits.count(), where);
      if (commits.count() != detail::get_int(g.get(), detail::kCountAttribute, where)) {
        detail::set_int(g.get(), detail::kCountAttribute, commits.count(), H5T_STD_I64LE);
      }
    } else {
      const std::string leftover = example_name(old.size);
      if (detail::has_link(g.get(), leftover)) {
        detail::check(H5Ldelete(g.get(), leftover.c_str(), H5P_DEFAULT),
                      where + ": cannot remove the uncommitted example " + leftover);
      }
    }
    if (old.status == RunStatus::Failed) {
      detail::set_string(g.get(), "status", to_string(RunStatus::Running));
      detail::set_string(g.get(), "error", "");
      old.status = RunStatus::Running;
      old.error.clear();
    }
    detail::flush(s.file.get(), where);
    return old;
  }
  if (exists) {  // Overwrite
    detail::check(H5Ldelete(derived.get(), run.name.c_str(), H5P_DEFAULT),
                  where + ": cannot delete the old run");
    detail::flush(s.file.get(), where);
  }
  Handle gcpl = detail::numbered_group_properties();
  Handle group = detail::checked(H5Gcreate_anon(s.file.get(), gcpl.get(), H5P_DEFAULT), H5Gclose,
                                 where + ": cannot create");
  RunInfo fresh = run;
  fresh.status = RunStatus::Running;
  fresh.error.clear();
  detail::write_run_attributes(group.get(), fresh);
  detail::CommitIndex::create(group.get(), where);
  detail::flush(s.file.get(), where);
  detail::check(H5Olink(group.get(), derived.get(), run.name.c_str(),
                        detail::utf8_link_properties(), H5P_DEFAULT),
                where + ": cannot create");
  detail::flush(s.file.get(), where);
  return read_run(store, run.name);
}

void write_derived(Store& store, const std::string& run, std::int64_t index,
                   const AnalysisResult& result) {
  detail::StoreImpl& s = detail::impl_of(store);
  s.require_writable("write derived results");
  const std::string where = run_where(store, run) + ": example " + std::to_string(index);
  detail::Hdf5Lock lock;
  Handle g = open_run(store, run);
  const RunInfo info = read_run_attributes(g.get(), run, run_where(store, run));
  detail::CommitIndex commits;
  const std::int64_t size = committed(g.get(), info.size, commits, run_where(store, run));
  if (index != size) {
    throw Error(where + ": written out of order (the run's next example is " +
                std::to_string(size) + ")");
  }
  if (index >= s.size) {
    throw Error(where + ": the store holds only " + std::to_string(s.size) + " examples");
  }
  for (Method m : info.options.methods) {
    if (result.maps.count(m) == 0) {
      throw Error(where + ": the result has no '" + std::string(to_string(m)) + "' maps");
    }
  }
  Handle group = detail::checked(H5Gcreate_anon(s.file.get(), H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
                                 where + ": cannot create group");
  for (Method m : info.options.methods) {
    const LayerMaps& maps = result.maps.at(m);
    const std::string name = to_string(m);
    const std::size_t layers = maps.layers.size(), rows = maps.rows.size();
    if (maps.maps.size() != layers || layers == 0 || rows == 0) {
      throw Error(where + ": '" + name + "' maps are malformed (" +
                  std::to_string(maps.maps.size()) + " maps for " + std::to_string(layers) +
                  " layers, " + std::to_string(rows) + " rows)");
    }
    const auto n = static_cast<std::size_t>(maps.maps.front().cols());
    std::vector<double> values;
    values.reserve(layers * rows * n);
    for (const Matrix& map : maps.maps) {
      if (static_cast<std::size_t>(map.rows()) != rows ||
          static_cast<std::size_t>(map.cols()) != n) {
        throw Error(where + ": '" + name + "' map is " + std::to_string(map.rows()) + " x " +
                    std::to_string(map.cols()) + ", expected " + std::to_string(rows) + " x " +
                    std::to_string(n));
      }
      values.insert(values.end(), map.data(), map.data() + map.size());
    }
    Handle dataset = detail::write_doubles(group.get(), name, {layers, rows, n}, values.data(),
                                           info.precision, s.write_options, where);
    detail::set_ints(dataset.get(), "layers", maps.layers);
    detail::set_ints(dataset.get(), "rows", maps.rows);
    detail::close_written(dataset, where + ": cannot write dataset '" + name + "'");
  }
  detail::commit_member(s.file.get(), group.get(), g.get(), commits, index, g.get(), where);
}

void finish_run(Store& store, const std::string& run) {
  detail::impl_of(store).require_writable("write derived results");
  detail::Hdf5Lock lock;
  Handle g = open_run(store, run);
  detail::set_string(g.get(), "status", to_string(RunStatus::Complete));
  record_size(g.get(), run_where(store, run));
  detail::flush(g.get(), run_where(store, run));
}

void fail_run(Store& store, const std::string& run, const std::string& error) {
  detail::impl_of(store).require_writable("write derived results");
  detail::Hdf5Lock lock;
  Handle g = open_run(store, run);
  detail::set_string(g.get(), "status", to_string(RunStatus::Failed));
  detail::set_string(g.get(), "error", error);
  record_size(g.get(), run_where(store, run));
  detail::flush(g.get(), run_where(store, run));
}

AnalysisResult read_derived(const Store& store, const std::string& run, std::int64_t index) {
  detail::Hdf5Lock lock;
  const std::string run_context = run_where(store, run);
  Handle g = open_run(store, run);
  RunInfo info = read_run_attributes(g.get(), run, run_context);
  detail::CommitIndex commits;
  info.size =
      std::min(committed(g.get(), info.size, commits, run_context), detail::impl_of(store).size);
  const std::string where = run_context + ": example " + std::to_string(index);
  if (index < 0 || index >= info.size) {
    throw Error(where + " out of range (the run holds " + std::to_string(info.size) + " examples)");
  }
  const detail::StoreImpl& s = detail::impl_of(store);
  Handle group = detail::open_member(s.file.get(), g.get(), "/derived/" + run, commits,
                                     s.heap_check, index, where);
  AnalysisResult result;
  for (Method m : info.options.methods) {
    const std::string method = to_string(m);
    s.heap_check.check_attributes(group.get(), method, where + ": dataset '" + method + "'");
    Handle dataset = detail::open_dataset(group.get(), method, where);
    const std::string what = where + ": dataset '" + method + "'";
    const std::vector<hsize_t> shape = detail::dataset_shape(dataset.get());
    LayerMaps maps;
    maps.layers = detail::get_ints(dataset.get(), "layers", what);
    maps.rows = detail::get_ints(dataset.get(), "rows", what);
    if (shape.size() != 3 || shape[0] != maps.layers.size() || shape[1] != maps.rows.size() ||
        shape[2] == 0 || shape[2] > 1000000) {
      throw Error(what + " has shape " + detail::shape_string(shape) + ", expected (" +
                  std::to_string(maps.layers.size()) + ", " + std::to_string(maps.rows.size()) +
                  ", tokens) from its 'layers' and 'rows' attributes");
    }
    const std::vector<double> values = detail::read_doubles(dataset.get(), what);
    const auto rows = static_cast<Eigen::Index>(shape[1]), n = static_cast<Eigen::Index>(shape[2]);
    for (std::size_t k = 0; k < shape[0]; ++k) {
      maps.maps.push_back(
          Eigen::Map<const Matrix>(values.data() + k * shape[1] * shape[2], rows, n));
    }
    result.maps[m] = std::move(maps);
  }
  return result;
}

}  // namespace attnflow::io
