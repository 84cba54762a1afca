// Derived runs: results round-trip with their options, run states, resume
// rules, and errors for misuse.
#include "attnflow/io/derived_run.hpp"

#include <hdf5.h>

#include "../core/test_util.hpp"
#include "attnflow/version.hpp"
#include "store_test_util.hpp"

namespace attnflow::io {
namespace {

StoreInfo info_for_runs() {
  StoreInfo info;
  info.model = "m";
  info.tokenizer = "t";
  info.layers = 3;
  info.heads = 2;
  return info;
}

Store store_with(const std::string& path, int examples) {
  Store store = Store::create(path, info_for_runs());
  for (int i = 0; i < examples; ++i) store.append(test::make_example(i, info_for_runs(), 3, true));
  return store;
}

RunInfo custom_run(const std::string& name) {
  RunInfo run;
  run.name = name;
  AnalysisOptions& o = run.options;
  o.methods = {Method::Raw, Method::Residual, Method::Rollout, Method::Flow, Method::GradRollout};
  o.target_rows = {0, 2};
  o.layers = {1, 3};
  o.start_layer = 2;
  o.prepare.fusion.method = HeadFusion::WeightedMean;
  o.prepare.fusion.head_weights = {0.25, 0.75};
  o.prepare.discard.ratio = 0.1;
  o.prepare.discard.scope = DiscardScope::PerRow;
  o.prepare.discard.keep_cls = false;
  o.prepare.residual.alpha = 0.3;
  o.prepare.residual.renormalize = false;
  o.flow.normalize = false;
  o.flow.algorithm = FlowAlgorithm::PushRelabel;
  o.flow.closed_form_low_layers = false;
  o.grad.rule = GradRolloutRule::VitExplain;
  o.grad.renormalize = true;
  o.grad.discard.ratio = 0.2;
  run.precision = Precision::Float64;
  return run;
}

void expect_maps(const AnalysisResult& got, const AnalysisResult& want, double tol) {
  ASSERT_EQ(got.maps.size(), want.maps.size());
  for (const auto& [method, maps] : want.maps) {
    const LayerMaps& g = got.maps.at(method);
    EXPECT_EQ(g.layers, maps.layers) << to_string(method);
    EXPECT_EQ(g.rows, maps.rows) << to_string(method);
    ASSERT_EQ(g.maps.size(), maps.maps.size());
    for (std::size_t k = 0; k < maps.maps.size(); ++k)
      test::expect_near(g.maps[k], maps.maps[k], tol);
  }
}

TEST(DerivedRun, ResultsAndOptionsRoundTrip) {
  const std::string path = test::temp_path("roundtrip.h5");
  std::vector<AnalysisResult> want;
  const RunInfo run = custom_run("custom ☃");
  {
    Store store = store_with(path, 4);
    const RunInfo begun = begin_run(store, run);
    EXPECT_EQ(begun.size, 0);
    EXPECT_EQ(begun.status, RunStatus::Running);
    for (int i = 0; i < 4; ++i) {
      const Example e = store.read(i);
      want.push_back(analyze(e.attention, &e.gradient, run.options));
      write_derived(store, run.name, i, want.back());
    }
    finish_run(store, run.name);
  }
  const Store store = Store::open(path);
  const RunInfo got = run_info(store, run.name);
  EXPECT_EQ(got.status, RunStatus::Complete);
  EXPECT_EQ(got.size, 4);
  EXPECT_EQ(got.error, "");
  EXPECT_EQ(got.tool_version, ATTNFLOW_VERSION_STRING);
  EXPECT_EQ(describe_options(got), describe_options(run));
  EXPECT_EQ(describe_options(got)[2], "target_rows=0,2");
  for (int i = 0; i < 4; ++i)
    expect_maps(read_derived(store, run.name, i), want[static_cast<std::size_t>(i)], 0.0);
  test::expect_error([&] { read_derived(store, run.name, 4); },
                     path + ": run 'custom ☃': example 4 out of range (the run holds 4 examples)");
  ASSERT_EQ(list_runs(store).size(), 1u);
  EXPECT_TRUE(has_run(store, run.name));
  EXPECT_FALSE(has_run(store, "other"));
}

TEST(DerivedRun, Float32MapsAreRoundedOnce) {
  const std::string path = test::temp_path("float32.h5");
  Store store = store_with(path, 1);
  RunInfo run;
  run.name = "f32";
  begin_run(store, run);
  const Example e = store.read(0);
  const AnalysisResult r = analyze(e.attention, nullptr, run.options);
  write_derived(store, run.name, 0, r);
  const AnalysisResult back = read_derived(store, run.name, 0);
  for (const auto& [method, maps] : r.maps) {
    for (std::size_t k = 0; k < maps.maps.size(); ++k) {
      const Matrix rounded = maps.maps[k].cast<float>().cast<double>();
      test::expect_near(back.maps.at(method).maps[k], rounded, 0.0);
    }
  }
}

TEST(DerivedRun, StartRules) {
  const std::string path = test::temp_path("rules.h5");
  Store store = store_with(path, 3);
  RunInfo run;
  run.name = "a";
  begin_run(store, run);
  const Example e0 = store.read(0);
  write_derived(store, "a", 0, analyze(e0.attention, nullptr, run.options));
  test::expect_error([&] { begin_run(store, run); },
                     path +
                         ": run 'a' already exists (running, 1 of 3 examples); overwrite it or "
                         "choose another name");
  RunInfo changed = run;
  changed.options.prepare.residual.alpha = 0.25;
  test::expect_error([&] { begin_run(store, changed, RunStart::Resume); },
                     path +
                         ": run 'a' was computed with residual_alpha=0.5, this run asks for "
                         "residual_alpha=0.25; overwrite it or choose another name");
  fail_run(store, "a", "example 1: broken");
  EXPECT_EQ(run_info(store, "a").status, RunStatus::Failed);
  EXPECT_EQ(run_info(store, "a").error, "example 1: broken");
  const RunInfo resumed = begin_run(store, run, RunStart::Resume);
  EXPECT_EQ(resumed.size, 1);
  EXPECT_EQ(resumed.status, RunStatus::Running);
  EXPECT_EQ(run_info(store, "a").error, "");
  const RunInfo fresh = begin_run(store, changed, RunStart::Overwrite);
  EXPECT_EQ(fresh.size, 0);
  EXPECT_EQ(describe_options(run_info(store, "a")), describe_options(changed));
  test::expect_error(
      [&] {
        begin_run(
            store,
            [] {
              RunInfo r;
              r.name = "x";
              return r;
            }(),
            RunStart::Resume);
      },
      path + ": run 'x' does not exist, nothing to resume");
}

TEST(DerivedRun, MisuseErrors) {
  const std::string path = test::temp_path("misuse.h5");
  Store store = store_with(path, 2);
  RunInfo run;
  run.name = "r";
  const Example e = store.read(0);
  const AnalysisResult result = analyze(e.attention, nullptr, run.options);
  test::expect_error([&] { write_derived(store, "r", 0, result); },
                     path + ": run 'r' does not exist");
  begin_run(store, run);
  test::expect_error(
      [&] { write_derived(store, "r", 1, result); },
      path + ": run 'r': example 1: written out of order (the run's next example is 0)");
  AnalysisResult partial = result;
  partial.maps.erase(Method::Flow);
  test::expect_error([&] { write_derived(store, "r", 0, partial); },
                     path + ": run 'r': example 0: the result has no 'flow' maps");
  write_derived(store, "r", 0, result);
  write_derived(store, "r", 1, result);
  test::expect_error([&] { write_derived(store, "r", 2, result); },
                     path + ": run 'r': example 2: the store holds only 2 examples");
  RunInfo bad;
  bad.name = "a/b";
  test::expect_error(
      [&] { begin_run(store, bad); },
      path + ": run name 'a/b' is invalid (1-255 characters, no '/', not '.' or '..')");
  bad.name = "half";
  bad.precision = Precision::Float16;
  test::expect_error(
      [&] { begin_run(store, bad); },
      path + ": run 'half': derived results are stored as float32 or float64, not float16");
  store.close();
  const Store read_only = Store::open(path);
  Store& ro = const_cast<Store&>(read_only);
  test::expect_error(
      [&] { begin_run(ro, run); },
      path + ": opened read-only; open it with Access::ReadWrite to write derived results");
}

TEST(DerivedRun, DamagedRunGroupGivesClearErrors) {
  const std::string path = test::temp_path("damaged.h5");
  {
    Store store = store_with(path, 1);
    RunInfo run;
    run.name = "r";
    begin_run(store, run);
    const Example e = store.read(0);
    write_derived(store, "r", 0, analyze(e.attention, nullptr, run.options));
  }
  {
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    H5Adelete_by_name(f, "derived/r", "flow_algorithm", H5P_DEFAULT);
    H5Ldelete(f, "derived/r/000000000/rollout", H5P_DEFAULT);
    H5Fclose(f);
  }
  const Store store = Store::open(path);
  test::expect_error([&] { run_info(store, "r"); },
                     path + ": run 'r': missing attribute 'flow_algorithm'");
  test::expect_error([&] { list_runs(store); },
                     path + ": run 'r': missing attribute 'flow_algorithm'");
}

}  // namespace
}  // namespace attnflow::io
