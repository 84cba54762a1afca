// Test helper for the HDF5 store (not installed): writes deterministic
// corpora (also as a process the crash test kills), writes the schema-v1
// fixture, and damages files in controlled ways for the error tests.
//   attnflow_store_tool write PATH COUNT [--mode M] [--dtype D] [--layers L]
//       [--heads H] [--seed S] [--spread K] [--gradient] [--causal] [--progress]
//       [--compression none|lz4|bitshuffle|gzip[-N]] [--model NAME]
//   attnflow_store_tool codec-available NAME   (exit 0: this process can write it, 3: not)
//   attnflow_store_tool fixture PATH      (tests/data/store_v1.h5 when it was written)
//   attnflow_store_tool fixture-v2 PATH   (tests/data/store_v2.h5: schema 2, contributions)
//   attnflow_store_tool fixture-v3 DIR    (tests/data/store_v3_*.h5: schema 3, one file per
//                                          test::V3Fixture, into the existing folder DIR)
//   attnflow_store_tool poison PATH EXAMPLE nan|negative|bad-utf8|drop-attention|bad-shape
//   attnflow_store_tool set-root-int PATH NAME VALUE
#include <hdf5.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "attnflow/core/error.hpp"
#include "attnflow/io/derived_run.hpp"
#include "attnflow/io/store.hpp"
#include "store_fixture_v3.hpp"
#include "store_test_util.hpp"

namespace {

using namespace attnflow;

int write_corpus(const std::vector<std::string>& args) {
  if (args.size() < 2) throw Error("write: PATH COUNT expected");
  const std::string path = args[0];
  const long long count = std::stoll(args[1]);
  io::StoreInfo info;
  info.model = "store-tool";
  info.tokenizer = "synthetic";
  info.layers = 2;
  info.heads = 3;
  unsigned seed = 1;
  int spread = 13;
  bool gradient = false, progress = false;
  io::WriteOptions write_options;
  for (std::size_t k = 2; k < args.size(); ++k) {
    const std::string& a = args[k];
    const auto value = [&]() -> std::string {
      if (k + 1 >= args.size()) throw Error(a + ": value expected");
      return args[++k];
    };
    if (a == "--mode")
      info.mode = io::parse_store_mode(value());
    else if (a == "--dtype")
      info.attention_precision = io::parse_precision(value());
    else if (a == "--layers")
      info.layers = std::stoi(value());
    else if (a == "--heads")
      info.heads = std::stoi(value());
    else if (a == "--seed")
      seed = static_cast<unsigned>(std::stoul(value()));
    else if (a == "--spread")
      spread = std::stoi(value());
    else if (a == "--compression")
      io::set_compression(write_options, value());
    else if (a == "--gradient")
      gradient = true;
    else if (a == "--causal")
      info.causal = true;
    else if (a == "--progress")
      progress = true;
    else if (a == "--model")
      info.model = value();
    else
      throw Error("write: unknown option " + a);
  }
  std::FILE* exists = std::fopen(path.c_str(), "rb");
  io::Store store = exists ? io::Store::open(path, io::Access::ReadWrite, write_options)
                           : io::Store::create(path, info, write_options);
  if (exists) std::fclose(exists);
  const io::StoreInfo& have = store.info();
  for (long long k = 0; k < count; ++k) {
    const std::int64_t index = store.size();
    store.append(test::make_example(index, have, seed, gradient, spread));
    if (progress) std::cout << "committed " << index << std::endl;
  }
  return 0;
}

// Run `run` over every example of `store`, the results of example i being result(i).
template <class Result>
void write_run(io::Store& store, const io::RunInfo& run, Result result) {
  io::begin_run(store, run);
  for (std::int64_t i = 0; i < store.size(); ++i) {
    io::write_derived(store, run.name, i, result(static_cast<int>(i)));
  }
  io::finish_run(store, run.name);
}

int write_fixture(const std::string& path, bool v2) {
  io::Store store = io::Store::create(path, v2 ? test::fixture_v2_info() : test::fixture_info());
  for (int i = 0; i < test::kFixtureExamples; ++i) {
    store.append(v2 ? test::fixture_v2_example(i) : test::fixture_example(i));
  }
  io::RunInfo run;
  run.name = "fixture";
  run.options = test::fixture_run_options();
  run.precision = io::Precision::Float64;
  write_run(store, run,
            [&](int i) { return analyze(store.read(i).attention, nullptr, run.options); });
  return 0;
}

int write_fixture_v3(const std::string& dir) {
  for (test::V3Fixture f : test::kV3Fixtures) {
    io::WriteOptions write;
    io::set_compression(write, test::v3_compression(f));
    io::Store store = io::Store::create(dir + "/" + test::v3_file(f), test::v3_info(f), write);
    for (int i = 0; i < test::v3_examples(f); ++i) store.append(test::v3_example(f, i));
    if (const auto run = test::v3_run(f)) {
      write_run(store, *run, [f](int i) { return test::v3_run_result(f, i); });
    }
  }
  return 0;
}

void check(herr_t status, const char* what) {
  if (status < 0) throw Error(std::string("poison: ") + what + " failed");
}

int poison(const std::string& path, long long index, const std::string& what) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  if (file < 0) throw Error("poison: cannot open " + path);
  const std::string group_name = "examples/" + io::example_name(index);
  const hid_t group = H5Gopen2(file, group_name.c_str(), H5P_DEFAULT);
  if (group < 0) throw Error("poison: no " + group_name);
  if (what == "nan" || what == "negative") {
    const hid_t d = H5Dopen2(group, "attention", H5P_DEFAULT);
    const hid_t space = H5Dget_space(d);
    std::vector<float> v(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
    check(H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), "read");
    v[v.size() / 2] = what == "nan" ? std::nanf("") : -0.5f;
    check(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), "write");
    H5Sclose(space);
    H5Dclose(d);
  } else if (what == "bad-utf8") {
    const hid_t d = H5Dopen2(group, "tokens", H5P_DEFAULT);
    const hid_t type = H5Dget_type(d);
    const hid_t space = H5Dget_space(d);
    std::vector<char*> strings(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
    check(H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, strings.data()), "read");
    std::vector<std::string> copy(strings.begin(), strings.end());
    H5Dvlen_reclaim(type, space, H5P_DEFAULT, strings.data());
    copy[1] = "ab\xff";
    std::vector<const char*> raw;
    for (const auto& s : copy) raw.push_back(s.c_str());
    check(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()), "write");
    H5Sclose(space);
    H5Tclose(type);
    H5Dclose(d);
  } else if (what == "drop-attention") {
    check(H5Ldelete(group, "attention", H5P_DEFAULT), "delete");
  } else if (what == "bad-shape") {
    check(H5Ldelete(group, "attention", H5P_DEFAULT), "delete");
    const hsize_t dims[3] = {2, 3, 3};
    const hid_t space = H5Screate_simple(3, dims, nullptr);
    const hid_t d = H5Dcreate2(group, "attention", H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT,
                               H5P_DEFAULT);
    std::vector<float> zeros(18, 0.0f);
    check(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, zeros.data()), "write");
    H5Dclose(d);
    H5Sclose(space);
  } else {
    throw Error("poison: unknown damage '" + what + "'");
  }
  H5Gclose(group);
  H5Fclose(file);
  return 0;
}

int set_root_int(const std::string& path, const std::string& name, long long value) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  if (file < 0) throw Error("set-root-int: cannot open " + path);
  if (H5Aexists(file, name.c_str()) > 0) check(H5Adelete(file, name.c_str()), "delete");
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t a = H5Acreate2(file, name.c_str(), H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
  check(H5Awrite(a, H5T_NATIVE_LLONG, &value), "write");
  H5Aclose(a);
  H5Sclose(space);
  H5Fclose(file);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() >= 3 && args[0] == "write") {
      return write_corpus({args.begin() + 1, args.end()});
    }
    if (args.size() == 2 && args[0] == "fixture") return write_fixture(args[1], false);
    if (args.size() == 2 && args[0] == "fixture-v2") return write_fixture(args[1], true);
    if (args.size() == 2 && args[0] == "fixture-v3") return write_fixture_v3(args[1]);
    if (args.size() == 2 && args[0] == "codec-available") {
      io::WriteOptions w;
      io::set_compression(w, args[1]);
      return io::codec_available(w.codec) ? 0 : 3;
    }
    if (args.size() == 4 && args[0] == "poison") {
      return poison(args[1], std::stoll(args[2]), args[3]);
    }
    if (args.size() == 4 && args[0] == "set-root-int") {
      return set_root_int(args[1], args[2], std::stoll(args[3]));
    }
    std::cerr << "usage: see the comment at the top of tests/io/store_tool.cpp\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "attnflow_store_tool: " << e.what() << "\n";
    return 1;
  }
}
