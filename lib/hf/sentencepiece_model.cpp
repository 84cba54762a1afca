// The protobuf wire format (varints, 32/64-bit and length-delimited fields) of SentencePiece's
// ModelProto: pieces (1) {piece 1, score 2, type 3}, trainer_spec (2) {model_type 3,
// treat_whitespace_as_suffix 24, byte_fallback 35}, normalizer_spec (3) {name 1,
// precompiled_charsmap 2, add_dummy_prefix 3, remove_extra_whitespaces 4, escape_whitespaces 5}.
#include "sentencepiece_model.hpp"

#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <unordered_set>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/utf8.hpp"

namespace attnflow::hf::detail {

namespace {

// One message: its bytes and its name in messages ("pieces[3]").
class Reader {
 public:
  Reader(std::string_view bytes, std::string file, std::string path)
      : bytes_(bytes), file_(std::move(file)), path_(std::move(path)) {}

  bool done() const { return at_ >= bytes_.size(); }

  struct Field {
    std::uint32_t number = 0;
    int wire = 0;
    std::uint64_t varint = 0;   ///< wire 0
    std::string_view bytes;     ///< wire 2
    std::uint32_t fixed32 = 0;  ///< wire 5
  };

  Field next() {
    const std::size_t start = at_;
    const std::uint64_t key = varint("field key");
    Field f;
    f.number = static_cast<std::uint32_t>(key >> 3);
    f.wire = static_cast<int>(key & 7);
    if (f.number == 0) fail("field number 0 at byte " + std::to_string(start));
    switch (f.wire) {
      case 0: f.varint = varint("varint of field " + std::to_string(f.number)); break;
      case 1: take(8, f.number); break;
      case 2: {
        const std::uint64_t n = varint("length of field " + std::to_string(f.number));
        f.bytes = take(n, f.number);
        break;
      }
      case 5: {
        const std::string_view b = take(4, f.number);
        std::memcpy(&f.fixed32, b.data(), 4);  // little-endian hosts only, as SentencePiece
        break;
      }
      default:
        fail("field " + std::to_string(f.number) + " has wire type " + std::to_string(f.wire) +
             " (not a SentencePiece model?) at byte " + std::to_string(start));
    }
    return f;
  }

  [[noreturn]] void fail(const std::string& problem) const {
    throw Error(file_ + ": " + (path_.empty() ? "" : path_ + ": ") + problem);
  }
  std::string sub(const std::string& name) const {
    return path_.empty() ? name : path_ + "." + name;
  }
  const std::string& file() const { return file_; }

  void expect(const Field& f, int wire, const char* name) const {
    if (f.wire != wire) {
      fail(std::string(name) + " (field " + std::to_string(f.number) + ") has wire type " +
           std::to_string(f.wire) + ", expected " + std::to_string(wire));
    }
  }

 private:
  std::uint64_t varint(const std::string& what) {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at_ >= bytes_.size()) fail("truncated " + what + " at byte " + std::to_string(at_));
      const auto b = static_cast<std::uint8_t>(bytes_[at_++]);
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    fail("overlong " + what + " at byte " + std::to_string(at_));
  }
  std::string_view take(std::uint64_t n, std::uint32_t number) {
    if (n > bytes_.size() - at_) {
      fail("field " + std::to_string(number) + " needs " + std::to_string(n) + " bytes at byte " +
           std::to_string(at_) + ", only " + std::to_string(bytes_.size() - at_) +
           " left (truncated file?)");
    }
    const std::string_view out = bytes_.substr(at_, static_cast<std::size_t>(n));
    at_ += static_cast<std::size_t>(n);
    return out;
  }

  std::string_view bytes_;
  std::size_t at_ = 0;
  std::string file_, path_;
};

bool as_bool(const Reader& r, const Reader::Field& f, const char* name) {
  r.expect(f, 0, name);
  if (f.varint > 1) r.fail(std::string(name) + " must be a bool, got " + std::to_string(f.varint));
  return f.varint == 1;
}

std::string utf8_string(const Reader& r, const Reader::Field& f, const std::string& name) {
  r.expect(f, 2, name.c_str());
  const std::string problem = utf8_problem(f.bytes, NulBytes::Rejected);
  if (!problem.empty()) r.fail(name + " " + problem);
  return std::string(f.bytes);
}

SpModel::Piece parse_piece(const Reader& parent, std::string_view bytes, std::size_t index) {
  Reader r(bytes, parent.file(), "pieces[" + std::to_string(index) + "]");
  SpModel::Piece p;
  bool has_piece = false;
  while (!r.done()) {
    const Reader::Field f = r.next();
    if (f.number == 1) {
      p.piece = utf8_string(r, f, "piece");
      has_piece = true;
    } else if (f.number == 2) {
      r.expect(f, 5, "score");
      std::memcpy(&p.score, &f.fixed32, 4);
      if (!std::isfinite(p.score)) r.fail("score is not finite");
    } else if (f.number == 3) {
      r.expect(f, 0, "type");
      if (f.varint < 1 || f.varint > 6)
        r.fail("type " + std::to_string(f.varint) + " is not a SentencePiece piece type (1..6)");
      p.type = static_cast<int>(f.varint);
    }
  }
  if (!has_piece || p.piece.empty()) r.fail("piece is missing or empty");
  return p;
}

void parse_trainer(const Reader& parent, std::string_view bytes, SpModel& m) {
  Reader r(bytes, parent.file(), "trainer_spec");
  while (!r.done()) {
    const Reader::Field f = r.next();
    if (f.number == 3) {
      r.expect(f, 0, "model_type");
      m.model_type = static_cast<int>(std::min<std::uint64_t>(f.varint, 1000));
    } else if (f.number == 24) {
      m.treat_whitespace_as_suffix = as_bool(r, f, "treat_whitespace_as_suffix");
    } else if (f.number == 35) {
      m.byte_fallback = as_bool(r, f, "byte_fallback");
    }
  }
}

void parse_normalizer(const Reader& parent, std::string_view bytes, SpModel& m) {
  Reader r(bytes, parent.file(), "normalizer_spec");
  while (!r.done()) {
    const Reader::Field f = r.next();
    switch (f.number) {
      case 1: m.normalizer_name = utf8_string(r, f, "name"); break;
      case 2:
        r.expect(f, 2, "precompiled_charsmap");
        m.precompiled_charsmap = std::string(f.bytes);
        break;
      case 3: m.add_dummy_prefix = as_bool(r, f, "add_dummy_prefix"); break;
      case 4: m.remove_extra_whitespaces = as_bool(r, f, "remove_extra_whitespaces"); break;
      case 5: m.escape_whitespaces = as_bool(r, f, "escape_whitespaces"); break;
      default: break;
    }
  }
}

}  // namespace

int SpModel::unk_id() const {
  for (std::size_t i = 0; i < pieces.size(); ++i)
    if (pieces[i].type == kUnknown) return static_cast<int>(i);
  return -1;
}

SpModel parse_sentencepiece_model(std::string_view bytes, const std::string& file) {
  Reader r(bytes, file, "");
  SpModel m;
  while (!r.done()) {
    const Reader::Field f = r.next();
    if (f.number == 1) {
      r.expect(f, 2, "pieces");
      m.pieces.push_back(parse_piece(r, f.bytes, m.pieces.size()));
    } else if (f.number == 2) {
      r.expect(f, 2, "trainer_spec");
      parse_trainer(r, f.bytes, m);
    } else if (f.number == 3) {
      r.expect(f, 2, "normalizer_spec");
      parse_normalizer(r, f.bytes, m);
    }
  }
  if (m.pieces.empty()) r.fail("pieces: none (not a SentencePiece model?)");
  if (m.model_type != SpModel::kUnigram && m.model_type != SpModel::kBpe) {
    r.fail("trainer_spec.model_type " + std::to_string(m.model_type) +
           " is not supported (Unigram 1 and BPE 2 are; WORD and CHAR models are not)");
  }
  std::unordered_set<std::string_view> seen;
  int unknowns = 0;
  for (std::size_t i = 0; i < m.pieces.size(); ++i) {
    const SpModel::Piece& p = m.pieces[i];
    const std::string at = "pieces[" + std::to_string(i) + "]";
    if (!seen.insert(p.piece).second) r.fail(at + ": piece '" + p.piece + "' is listed twice");
    if (p.type == SpModel::kUnknown) ++unknowns;
    if (p.type == SpModel::kByte) {
      if (!m.byte_fallback)
        r.fail(at + ": byte piece '" + p.piece + "' but trainer_spec.byte_fallback is false");
      if (p.piece.size() != 6 || p.piece.compare(0, 3, "<0x") != 0 || p.piece[5] != '>' ||
          !std::isxdigit(static_cast<unsigned char>(p.piece[3])) ||
          !std::isxdigit(static_cast<unsigned char>(p.piece[4]))) {
        r.fail(at + ": byte piece '" + p.piece + "' is not <0xXX>");
      }
    }
  }
  if (unknowns != 1) {
    r.fail("pieces: " + std::to_string(unknowns) +
           " pieces of type UNKNOWN (2), a model needs exactly one");
  }
  return m;
}

SpModel read_sentencepiece_model(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error(path + ": read failed");
  return parse_sentencepiece_model(bytes, path);
}

}  // namespace attnflow::hf::detail
