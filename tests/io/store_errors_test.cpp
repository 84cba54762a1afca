// HDF5 store: every damaged, foreign or invalid input gives one
// attnflow::Error with an exact message, and never a crash (this suite is
// also run under ASan/UBSan: cmake -DATTNFLOW_SANITIZE=ON).
#include <hdf5.h>

#include <algorithm>
#include <cstdio>
#include <random>

#include "../core/test_util.hpp"
#include "attnflow/io/store.hpp"
#include "attnflow/version.hpp"
#include "store_test_util.hpp"

namespace attnflow::io {
namespace {

StoreInfo small_info() {
  StoreInfo info;
  info.model = "m";
  info.tokenizer = "t";
  info.layers = 2;
  info.heads = 3;
  return info;
}

/// A valid 3-example store (example 1 has 5 tokens: seed 0, spread 13).
std::string valid_store(const std::string& name, Precision p = Precision::Float32,
                        const std::string& codec = "none") {
  const std::string path = test::temp_path(name);
  StoreInfo info = small_info();
  info.attention_precision = p;
  WriteOptions w;
  set_compression(w, codec);
  Store store = Store::create(path, info, w);
  for (int i = 0; i < 3; ++i) store.append(test::make_example(i, info, 0, i == 0));
  return path;
}

/// Opens the file with the plain HDF5 API to damage it.
struct Raw {
  explicit Raw(const std::string& path) : file(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT)) {
    EXPECT_GE(file, 0);
  }
  ~Raw() { H5Fclose(file); }
  void remove(const std::string& name) { EXPECT_GE(H5Ldelete(file, name.c_str(), H5P_DEFAULT), 0); }
  void remove_attribute(const std::string& object, const std::string& name) {
    EXPECT_GE(H5Adelete_by_name(file, object.c_str(), name.c_str(), H5P_DEFAULT), 0);
  }
  void set_string(const std::string& object, const std::string& name, const std::string& value) {
    if (H5Aexists_by_name(file, object.c_str(), name.c_str(), H5P_DEFAULT) > 0) {
      remove_attribute(object, name);
    }
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate_by_name(file, object.c_str(), name.c_str(), type, space, H5P_DEFAULT,
                                      H5P_DEFAULT, H5P_DEFAULT);
    const char* p = value.c_str();
    EXPECT_GE(H5Awrite(a, type, &p), 0);
    H5Aclose(a);
    H5Sclose(space);
    H5Tclose(type);
  }
  void set_int(const std::string& object, const std::string& name, long long value) {
    if (H5Aexists_by_name(file, object.c_str(), name.c_str(), H5P_DEFAULT) > 0) {
      remove_attribute(object, name);
    }
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate_by_name(file, object.c_str(), name.c_str(), H5T_STD_I32LE, space,
                                      H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    EXPECT_GE(H5Awrite(a, H5T_NATIVE_LLONG, &value), 0);
    H5Aclose(a);
    H5Sclose(space);
  }
  template <class T>
  void replace_dataset(const std::string& name, hid_t file_type, hid_t memory_type,
                       const std::vector<hsize_t>& dims, const std::vector<T>& values) {
    if (H5Lexists(file, name.c_str(), H5P_DEFAULT) > 0) remove(name);
    const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    const hid_t d =
        H5Dcreate2(file, name.c_str(), file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    EXPECT_GE(H5Dwrite(d, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), 0);
    H5Dclose(d);
    H5Sclose(space);
  }
  hid_t file;
};

TEST(StoreErrors, FilesThatAreNotStores) {
  test::expect_error([] { Store::open("/nonexistent/x.h5"); },
                     "/nonexistent/x.h5: cannot open (No such file or directory)");
  const std::string text = test::temp_path("text.h5");
  test::write_file(text, "just some text, not HDF5\n");
  test::expect_error([&] { Store::open(text); }, text + ": not an HDF5 file");
  const std::string empty = test::temp_path("empty.h5");
  test::write_file(empty, "");
  test::expect_error([&] { Store::open(empty); }, empty + ": not an HDF5 file");
  const std::string plain = test::temp_path("plain.h5");
  H5Fclose(H5Fcreate(plain.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
  test::expect_error(
      [&] { Store::open(plain); },
      plain + ": not an attnflow store (no root attribute 'attnflow_schema_version')");
  test::expect_error([&] { Store::open(testing::TempDir()); },
                     testing::TempDir() + ": is a directory, not an HDF5 file");
}

TEST(StoreErrors, TruncatedFile) {
  const std::string path = valid_store("truncated.h5");
  const std::string bytes = test::read_file(path);
  for (const std::size_t keep : {bytes.size() / 2, bytes.size() - 1}) {
    test::write_file(path, bytes.substr(0, keep));
    test::expect_error(
        [&] { Store::open(path); },
        path + ": cannot open as HDF5 (HDF5: truncated file: eof = " + std::to_string(keep) +
            ", sblock->base_addr = 0, stored_eof = " + std::to_string(bytes.size()) + ")");
  }
}

TEST(StoreErrors, WrongOrMissingRootMetadata) {
  const std::string path = valid_store("schema.h5");
  { Raw(path).set_int("/", "attnflow_schema_version", 4); }
  test::expect_error([&] { Store::open(path); },
                     path + ": schema version 4 is not supported (attnflow " ATTNFLOW_VERSION_STRING
                            " reads schema versions 1 to 3)");
  { Raw(path).set_string("/", "attnflow_schema_version", "1"); }
  test::expect_error(
      [&] { Store::open(path); },
      path + ": attribute 'attnflow_schema_version' must be an integer, found string");
  { Raw(path).set_int("/", "attnflow_schema_version", 1); }
  EXPECT_EQ(Store::open(path).size(), 3);
  { Raw(path).remove_attribute("/", "layers"); }
  test::expect_error([&] { Store::open(path); }, path + ": missing attribute 'layers'");
  { Raw(path).set_int("/", "layers", 0); }
  test::expect_error([&] { Store::open(path); },
                     path + ": attribute 'layers' is 0 (expected 1 to 100000)");
  { Raw(path).set_int("/", "layers", 2); }
  { Raw(path).set_string("/", "store_mode", "sparse"); }
  test::expect_error(
      [&] { Store::open(path); },
      path + ": attribute 'store_mode': unknown 'sparse' (expected per-head, fused or derived)");
  { Raw(path).set_string("/", "store_mode", "per-head"); }
  { Raw(path).set_string("/", "attention_dtype", "bfloat16"); }
  test::expect_error(
      [&] { Store::open(path); },
      path + ": attribute 'attention_dtype': unknown 'bfloat16' (expected float32 or float16)");
  { Raw(path).set_string("/", "attention_dtype", "float32"); }
  { Raw(path).set_int("/", "num_examples", -4); }
  test::expect_error([&] { Store::open(path); },
                     path + ": attribute 'num_examples' is -4 (expected >= 0)");
  { Raw(path).set_int("/", "num_examples", 3); }
  { Raw(path).remove("examples"); }
  test::expect_error([&] { Store::open(path); }, path + ": missing group 'examples'");
}

TEST(StoreErrors, MissingGroupsAndDatasets) {
  const std::string path = valid_store("missing.h5");
  {
    Raw raw(path);
    raw.remove("examples/000000001/attention");
    // A store without commit index (as other tools write it) finds its
    // examples by name only.
    raw.remove_attribute("examples", "index");
    raw.remove("examples/000000002");
  }
  const Store store = Store::open(path);
  EXPECT_NO_THROW(store.read(0));
  test::expect_error([&] { store.read(1); }, path + ": example 1: missing dataset 'attention'");
  EXPECT_NO_THROW(store.read(1, ReadOptions::metadata_only()));
  test::expect_error([&] { store.read(2); },
                     path + ": example 2: missing group '/examples/000000002'");
}

TEST(StoreErrors, ShapeAndTypeMismatches) {
  const std::string path = valid_store("shapes.h5");
  ASSERT_EQ(test::example_tokens(1, 0), 10);
  {
    Raw raw(path);
    raw.replace_dataset<float>("examples/000000001/attention", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                               {2, 3, 10, 9}, std::vector<float>(540, 0.1f));
    raw.replace_dataset<int>("examples/000000002/attention", H5T_STD_I32LE, H5T_NATIVE_INT,
                             {2, 3, 4, 4}, std::vector<int>(96, 0));
    raw.replace_dataset<float>("examples/000000000/gradient", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                               {2, 3, 4, 4}, std::vector<float>(96, 0.1f));
  }
  const Store store = Store::open(path);
  test::expect_error([&] { store.read(1); },
                     path +
                         ": example 1: dataset 'attention' has shape (2, 3, 10, 9), expected "
                         "(2, 3, 10, 10) (layers, heads, tokens, tokens)");
  test::expect_error([&] { store.read(2); },
                     path +
                         ": example 2: dataset 'attention' must hold floating-point values, "
                         "found int32");
  test::expect_error([&] { store.read(0); },
                     path +
                         ": example 0: dataset 'gradient' has shape (2, 3, 4, 4), expected "
                         "(2, 3, 3, 3) (layers, heads, tokens, tokens)");
  EXPECT_NO_THROW(store.read(0, ReadOptions::without_gradient()));
}

TEST(StoreErrors, BadTokensAndLabels) {
  const std::string path = valid_store("tokens.h5");
  {
    Raw raw(path);
    raw.replace_dataset<float>("examples/000000000/tokens", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {3},
                               {1.0f, 2.0f, 3.0f});
    raw.replace_dataset<long long>("examples/000000002/token_ids", H5T_STD_I64LE, H5T_NATIVE_LLONG,
                                   {2}, {1, 2});
    raw.set_string("examples/000000002", "label", "positive");
  }
  ASSERT_EQ(
      std::system((std::string(ATTNFLOW_STORE_TOOL) + " poison " + path + " 1 bad-utf8").c_str()),
      0);
  {
    const Store store = Store::open(path);
    test::expect_error([&] { store.read(0); },
                       path + ": example 0: dataset 'tokens' must hold strings, found float32");
    test::expect_error([&] { store.read(1); },
                       path + ": example 1: token 1 is not valid UTF-8 (byte 0xff at offset 2)");
    test::expect_error([&] { store.read(2); },
                       path + ": example 2: dataset 'token_ids' has 2 entries for 4 tokens");
  }
  {
    Raw(path).replace_dataset<long long>("examples/000000002/token_ids", H5T_STD_I64LE,
                                         H5T_NATIVE_LLONG, {4}, {1, 2, 3, 4});
  }
  test::expect_error([&] { Store::open(path).read(2); },
                     path + ": example 2: attribute 'label' must be an integer, found string");
}

TEST(StoreErrors, CorruptCompressedChunk) {
  const std::string path = valid_store("chunk.h5", Precision::Float16, "gzip");
  haddr_t address = 0;
  hsize_t size = 0;
  {
    Raw raw(path);
    const hid_t d = H5Dopen2(raw.file, "examples/000000001/attention", H5P_DEFAULT);
    const hsize_t offset[4] = {1, 0, 0, 0};
    unsigned mask = 0;
    ASSERT_GE(H5Dget_chunk_info_by_coord(d, offset, &mask, &address, &size), 0);
    H5Dclose(d);
  }
  std::string bytes = test::read_file(path);
  ASSERT_GT(size, 8u);
  for (hsize_t k = size - 4; k < size; ++k) bytes[address + k] ^= 0x5a;  // zlib's Adler-32
  test::write_file(path, bytes);
  const Store store = Store::open(path);
  EXPECT_NO_THROW(store.read(0));
  test::expect_error([&] { store.read(1); },
                     path +
                         ": example 1: dataset 'attention': chunk (1, 0, 0, 0) is corrupt "
                         "(zlib: data error)");
  EXPECT_NO_THROW(store.read(2));
}

// Flip bytes all over a valid file: opening and reading must either work or
// throw attnflow::Error (checksums on HDF5 metadata, zlib on chunks).
TEST(StoreErrors, RandomDamageNeverCrashes) {
  // HDF5 1.10.8 prints "infinite loop closing library" at exit after failing
  // to load damaged metadata; the CLI silences it the same way.
  silence_hdf5_errors();
  for (const char* codec : {"gzip", "none"}) {  // zlib checks the chunks of one, not the other
    const std::string path = valid_store("fuzz_src.h5", Precision::Float16, codec);
    const std::string original = test::read_file(path);
    const std::string damaged = test::temp_path("fuzz.h5");
    std::mt19937 rng(11);
    int errors = 0, clean = 0;
    const ssize_t baseline_ids =
        H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);  // attnflow's own types
    for (int round = 0; round < 200; ++round) {
      std::string bytes = original;
      const std::size_t at = std::uniform_int_distribution<std::size_t>(0, bytes.size() - 1)(rng);
      const int width = 1 + static_cast<int>(rng() % 8);
      for (int k = 0; k < width && at + static_cast<std::size_t>(k) < bytes.size(); ++k) {
        bytes[at + static_cast<std::size_t>(k)] = static_cast<char>(rng());
      }
      test::write_file(damaged, bytes);
      try {
        const Store store = Store::open(damaged);
        for (std::int64_t i = 0; i < store.size(); ++i) store.read(i);
        ++clean;
      } catch (const Error&) {
        ++errors;
      }
      // No HDF5 identifier (file, group, dataset, attribute, type) may leak.
      ASSERT_EQ(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL), baseline_ids)
          << codec << ": round " << round << " at " << at;
    }
    EXPECT_EQ(errors + clean, 200) << codec;
    EXPECT_GT(errors, 0) << codec;
    std::remove(path.c_str());
  }
}

TEST(StoreErrors, WriterRejectsInvalidExamples) {
  const std::string path = test::temp_path("writer.h5");
  StoreInfo info = small_info();
  info.attention_precision = Precision::Float16;
  info.gradient_precision = Precision::Float16;
  Store store = Store::create(path, info);
  const Example good = test::make_example(0, info, 0, true);  // 3 tokens
  Example e = good;
  e.tokens[2] = "\xff";
  test::expect_error([&] { store.append(e); },
                     path + ": example 0: token 2 is not valid UTF-8 (byte 0xff at offset 0)");
  e = good;
  e.tokens[0] = std::string("a\0b", 3);
  test::expect_error([&] { store.append(e); },
                     path + ": example 0: token 0 contains a NUL byte at offset 1");
  e = good;
  e.tokens.clear();
  test::expect_error([&] { store.append(e); }, path + ": example 0: no tokens");
  e = good;
  e.token_ids.pop_back();
  test::expect_error([&] { store.append(e); }, path + ": example 0: 2 token ids for 3 tokens");
  e = good;
  e.tokens.push_back("extra");
  e.token_ids.clear();
  test::expect_error([&] { store.append(e); },
                     path +
                         ": example 0: attention is 2 layers x 3 heads x 3 x 3, the store "
                         "expects 2 layers x 3 heads x 4 x 4 (4 tokens)");
  e = good;
  e.attention.head(0, 0)(0, 1) = std::nanf("");
  test::expect_error([&] { store.append(e); },
                     path + ": example 0: attention: layer 1 head 1 row 0 column 1 is NaN");
  e = good;
  e.gradient.head(1, 2)(2, 0) = 70000.0f;
  test::expect_error([&] { store.append(e); },
                     path +
                         ": example 0: gradient: value 70000 at layer 2 head 3 row 2 column 0 "
                         "does not fit float16 (largest 65504); store float32");
  e = good;
  e.attention = AttentionStack();
  test::expect_error([&] { store.append(e); }, path + ": example 0: no attention stack");
  e = good;
  e.gradient = AttentionStack(2, 3, 4);
  test::expect_error([&] { store.append(e); },
                     path +
                         ": example 0: gradient: shape 2 layers x 3 heads x 4 x 4 does not "
                         "match " +
                         path + ": example 0: attention shape 2 layers x 3 heads x 3 x 3");
  // Nothing was written; the store still works.
  EXPECT_EQ(store.size(), 0);
  EXPECT_EQ(store.append(good), 0);
  store.close();
  test::expect_error(
      [&] { Store::open(path).append(good); },
      path + ": opened read-only; open it with Access::ReadWrite to append examples");
}

TEST(StoreErrors, ModeSpecificWriterErrors) {
  StoreInfo info = small_info();
  info.mode = StoreMode::Fused;
  const std::string fused = test::temp_path("fused.h5");
  Store f = Store::create(fused, info);
  Example e = test::make_example(0, info, 0, false);
  e.gradient = e.attention;
  test::expect_error([&] { f.append(e); },
                     fused +
                         ": example 0: a fused-mode store holds no gradient (gradient rollout "
                         "needs per-head attention)");
  e = test::make_example(0, small_info(), 0, false);  // 3 heads
  test::expect_error([&] { f.append(e); },
                     fused +
                         ": example 0: attention is 2 layers x 3 heads x 3 x 3, the store "
                         "expects 2 layers x 1 heads x 3 x 3 (3 tokens)");
  info.mode = StoreMode::Derived;
  const std::string derived = test::temp_path("derived.h5");
  Store d = Store::create(derived, info);
  test::expect_error([&] { d.append(e); },
                     derived +
                         ": example 0: a derived-mode store holds no attention or gradient "
                         "(leave them empty and write derived results)");
}

TEST(StoreErrors, CreateErrors) {
  const std::string path = valid_store("exists.h5");
  test::expect_error([&] { Store::create(path, small_info()); },
                     path + ": already exists (open it with Access::ReadWrite to append)");
  test::expect_error([] { Store::create("/nonexistent/dir/x.h5", small_info()); },
                     "/nonexistent/dir/x.h5: cannot create (No such file or directory)");
  StoreInfo info = small_info();
  info.layers = 0;
  const std::string other = test::temp_path("bad_info.h5");
  test::expect_error([&] { Store::create(other, info); },
                     other + ": layers is 0 (expected 1 to 100000)");
  info = small_info();
  info.attention_precision = Precision::Float64;
  test::expect_error([&] { Store::create(other, info); },
                     other + ": attention and gradient precision must be float32 or float16");
  info = small_info();
  info.model = "bad\xc3";
  test::expect_error([&] { Store::create(other, info); },
                     other + ": model name is not valid UTF-8 (sequence truncated at offset 3)");
  WriteOptions w;
  w.compression = 10;
  test::expect_error([&] { Store::create(other, small_info(), w); },
                     other + ": compression level 10 (expected 0 to 9)");
  std::FILE* f = std::fopen(other.c_str(), "rb");
  EXPECT_EQ(f, nullptr);  // no half-made file left behind
  if (f) std::fclose(f);
}

// After an unclean shutdown the names may disagree with the commit index
// (and num_examples, written at close, is behind): readers go by the index,
// the next write-open renames what is missing and drops leftovers.
TEST(StoreErrors, TheCommitIndexOutranksNames) {
  const std::string path = valid_store("leftover.h5");
  {
    Raw raw(path);
    // Example 2 loses its name (kept alive by another link), a stray name
    // appears beyond the committed ones, and the recorded count is stale.
    EXPECT_GE(
        H5Lmove(raw.file, "examples/000000002", raw.file, "elsewhere", H5P_DEFAULT, H5P_DEFAULT),
        0);
    EXPECT_GE(H5Lcreate_hard(raw.file, "examples/000000000", raw.file, "examples/000000003",
                             H5P_DEFAULT, H5P_DEFAULT),
              0);
    raw.set_int("/", "num_examples", 1);
  }
  const StoreInfo info = small_info();
  {
    const Store store = Store::open(path);
    EXPECT_EQ(store.size(), 3);
    EXPECT_EQ(store.read(2).tokens, test::make_example(2, info, 0, false).tokens);
  }
  { Store store = Store::open(path, Access::ReadWrite); }
  {
    Raw raw(path);
    // Names are not rebuilt (that would rewrite committed object headers); the stray name of
    // an uncommitted member is removed.
    EXPECT_EQ(H5Lexists(raw.file, "examples/000000002", H5P_DEFAULT), 0);
    EXPECT_EQ(H5Lexists(raw.file, "examples/000000003", H5P_DEFAULT), 0);
    std::int64_t recorded = 0;
    const hid_t a = H5Aopen(raw.file, "num_examples", H5P_DEFAULT);
    H5Aread(a, H5T_NATIVE_INT64, &recorded);
    H5Aclose(a);
    EXPECT_EQ(recorded, 3);
  }
  Store store = Store::open(path, Access::ReadWrite);
  const Example e = test::make_example(3, info, 0, false);
  EXPECT_EQ(store.append(e), 3);
  EXPECT_EQ(store.read(3).tokens, e.tokens);
}

// What a writer killed inside a flush can do to HDF5's link index (seen in
// StoreCrash under load: a B-tree node pointing at a child that was never
// written). Every example stays readable; appending is refused with a clear
// message (writing into a damaged link index corrupts HDF5's state).
TEST(StoreErrors, DestroyedLinkIndexLosesNothing) {
  const std::string path = test::temp_path("links.h5");
  const StoreInfo info = small_info();
  {
    Store store = Store::create(path, info);
    for (int i = 0; i < 30; ++i) store.append(test::make_example(i, info, 0, false));
  }
  std::string bytes = test::read_file(path);
  const std::size_t leaf = bytes.find("BTLF");  // the only v2 B-tree: /examples names
  ASSERT_NE(leaf, std::string::npos);
  std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(leaf),
            bytes.begin() + static_cast<std::ptrdiff_t>(leaf + 512), '\0');
  test::write_file(path, bytes);
  {
    Raw raw(path);
    EXPECT_LT(H5Lexists(raw.file, "examples/000000007", H5P_DEFAULT), 0);  // HDF5 lost the names
  }
  {
    const Store store = Store::open(path);
    ASSERT_EQ(store.size(), 30);
    for (int i = 0; i < 30; ++i) {
      EXPECT_EQ(store.read(i).tokens, test::make_example(i, info, 0, false).tokens);
    }
  }
  {
    Raw raw(path);  // as after a crash: the recorded count is stale
    raw.set_int("/", "num_examples", 29);
  }
  test::expect_error([&] { Store::open(path, Access::ReadWrite); },
                     path +
                         ": group '/examples': HDF5 cannot read the example names (a writer was "
                         "killed while HDF5 was writing them); all 30 committed examples are "
                         "intact and readable, but appending to this file is refused: write "
                         "further examples to a new file");
  const Store store = Store::open(path);  // still readable, value for value
  ASSERT_EQ(store.size(), 30);
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(store.read(i).tokens, test::make_example(i, info, 0, false).tokens);
  }
}

}  // namespace
}  // namespace attnflow::io
