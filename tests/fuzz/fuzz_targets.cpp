// The fuzz targets. Inputs that name several files (a tokenizer directory) are split at NUL
// bytes; readers that take a path get the input written to a private scratch file first.
#include "fuzz_targets.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string_view>

#include "attnflow/core/error.hpp"
#include "attnflow/hf/config.hpp"
#include "attnflow/hf/safetensors.hpp"
#include "attnflow/hf/tokenizer.hpp"
#include "attnflow/io/corpus_reader.hpp"
#include "attnflow/io/derived_run.hpp"
#include "attnflow/io/npy.hpp"
#include "attnflow/io/store.hpp"

namespace attnflow::fuzz {
namespace {

namespace fs = std::filesystem;

/// A scratch folder of this process (one per process: libFuzzer's -jobs/-fork run many).
const fs::path& scratch() {
  static const fs::path dir = [] {
    const char* base = std::getenv("ATTNFLOW_FUZZ_SCRATCH");
    fs::path d = fs::path(base != nullptr && *base != '\0' ? base : fs::temp_directory_path()) /
                 ("attnflow-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

std::string write_file(const std::string& name, std::string_view bytes) {
  const fs::path p = scratch() / name;
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return p.string();
}

/// A fresh tokenizer directory with `files` (name, content).
std::string tokenizer_dir(const std::vector<std::pair<std::string, std::string_view>>& files) {
  const fs::path dir = scratch() / "tok";
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir);
  for (const auto& [name, content] : files) {
    std::ofstream out(dir / name, std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
  }
  return dir.string();
}

/// The input split at NUL bytes into at most `parts` pieces (the last keeps any NULs).
std::vector<std::string_view> split(const std::uint8_t* data, std::size_t size, int parts) {
  std::string_view all(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> out;
  while (static_cast<int>(out.size()) + 1 < parts) {
    const std::size_t nul = all.find('\0');
    if (nul == std::string_view::npos) break;
    out.push_back(all.substr(0, nul));
    all.remove_prefix(nul + 1);
  }
  out.push_back(all);
  while (static_cast<int>(out.size()) < parts) out.emplace_back();
  return out;
}

std::string_view view(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// Encodes a few texts with a loaded tokenizer (exercises the vocabulary that was read).
void exercise(const hf::Tokenizer& t) {
  for (const char* text :
       {"Hello, world!", "the keys to the cabinet", "naïve café 東京 🙂", ""}) {
    const hf::Encoding e = t.encode(text);
    for (std::int64_t id : e.ids) (void)t.id_to_token(id);
  }
  (void)t.encode_pair("a question?", "an answer.");
}

int npy(const std::uint8_t* data, std::size_t size) {
  const std::string path = write_file("x.npy", view(data, size));
  (void)io::read_npy(path);
  (void)io::read_attention_npy(path);
  return 0;
}

int safetensors(const std::uint8_t* data, std::size_t size) {
  const std::string path = write_file("x.safetensors", view(data, size));
  for (const bool mmap : {true, false}) {
    hf::SafetensorsOptions o;
    o.use_mmap = mmap;
    const hf::SafetensorsFile file(path, o);
    for (const hf::TensorInfo& t : file.tensors()) {
      try {
        (void)file.to_float32(t);
      } catch (const Error&) {
        (void)file.to_int64(t);  // not a float tensor: may be an integer one
      }
    }
  }
  return 0;
}

int config(const std::uint8_t* data, std::size_t size) {
  hf::ConfigOptions o;
  o.extra_architectures = {"AttnflowEncoderClassifier"};
  (void)hf::parse_model_config(view(data, size), "config.json", o);
  return 0;
}

int tokenizer_json(const std::uint8_t* data, std::size_t size) {
  const std::string dir = tokenizer_dir({{"tokenizer.json", view(data, size)}});
  exercise(*hf::load_tokenizer(dir));
  return 0;
}

int vocab_txt(const std::uint8_t* data, std::size_t size) {
  const std::string dir = tokenizer_dir({{"vocab.txt", view(data, size)}});
  hf::TokenizerLoadOptions o;
  o.source = hf::TokenizerLoadOptions::Source::VocabFiles;
  exercise(*hf::load_tokenizer(dir, o));
  return 0;
}

int bpe_files(const std::uint8_t* data, std::size_t size) {
  const auto parts = split(data, size, 2);
  const std::string dir = tokenizer_dir({{"vocab.json", parts[0]}, {"merges.txt", parts[1]}});
  hf::TokenizerLoadOptions o;
  o.source = hf::TokenizerLoadOptions::Source::VocabFiles;
  exercise(*hf::load_tokenizer(dir, o));
  return 0;
}

int spiece_model(const std::uint8_t* data, std::size_t size) {
  const std::string dir = tokenizer_dir({{"spiece.model", view(data, size)}});
  exercise(*hf::load_tokenizer(dir));
  return 0;
}

int tokenizer_config(const std::uint8_t* data, std::size_t size) {
  // A small valid WordPiece vocabulary; the fuzzed part is tokenizer_config.json.
  static const std::string vocab =
      "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\nkey\n##s\nto\ncabinet\nhello\n,\n!\nworld\n";
  const std::string dir =
      tokenizer_dir({{"vocab.txt", vocab}, {"tokenizer_config.json", view(data, size)}});
  exercise(*hf::load_tokenizer(dir));
  return 0;
}

int corpus(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const char* const kNames[] = {"c.txt", "c.jsonl", "c.tsv"};
  io::CorpusReadOptions o;
  o.skip_empty = (data[0] & 4) != 0;
  if (data[0] & 8) o.label_ids = {{"neg", 0}, {"pos", 1}};
  const std::string content(reinterpret_cast<const char*>(data) + 1, size - 1);
  (void)io::parse_corpus(content, kNames[data[0] % 3], o);
  return 0;
}

int store(const std::uint8_t* data, std::size_t size) {
  io::silence_hdf5_errors();
  const std::string path = write_file("x.h5", view(data, size));
  const io::Store s = io::Store::open(path);
  for (std::int64_t i = 0; i < s.size(); ++i) (void)s.read(i);
  for (const io::RunInfo& run : io::list_runs(s)) {
    for (std::int64_t i = 0; i < run.size; ++i) (void)io::read_derived(s, run.name, i);
  }
  return 0;
}

}  // namespace

const std::vector<NamedTarget>& targets() {
  static const std::vector<NamedTarget> all = {
      {"npy", npy},
      {"safetensors", safetensors},
      {"config", config},
      {"tokenizer_json", tokenizer_json},
      {"vocab_txt", vocab_txt},
      {"bpe_files", bpe_files},
      {"tokenizer_config", tokenizer_config},
      {"spiece_model", spiece_model},
      {"corpus", corpus},
      {"store", store},
  };
  return all;
}

Target find_target(const std::string& name) {
  for (const NamedTarget& t : targets()) {
    if (name == t.name) return t.run;
  }
  return nullptr;
}

bool run_one(Target target, const std::uint8_t* data, std::size_t size, std::string& what) {
  try {
    target(data, size);
  } catch (const Error&) {
    // a clean rejection
  } catch (const std::exception& e) {
    what = std::string("exception other than attnflow::Error: ") + e.what();
    return false;
  } catch (...) {
    what = "a non-std exception";
    return false;
  }
  return true;
}

}  // namespace attnflow::fuzz
