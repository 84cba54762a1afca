// UTF-8 (core/util/utf8): exact messages for each kind of defect, decoding, encoding and
// sanitising.
#include "attnflow/core/util/utf8.hpp"

#include "test_util.hpp"

namespace attnflow {
namespace {

TEST(Utf8, AcceptsValidText) {
  for (const char* s : {"", "hello", "naïve", "日本語", "𝄞 clef", "\xf4\x8f\xbf\xbf", "Ünïcödé"}) {
    EXPECT_EQ(utf8_problem(s, NulBytes::Rejected), "") << s;
  }
}

TEST(Utf8, RejectsEveryDefectWithItsPosition) {
  const auto problem = [](std::string_view s) { return utf8_problem(s, NulBytes::Rejected); };
  EXPECT_EQ(problem("ab\xff"), "is not valid UTF-8 (byte 0xff at offset 2)");
  EXPECT_EQ(problem("\x80"), "is not valid UTF-8 (byte 0x80 at offset 0)");
  EXPECT_EQ(problem("\xc0\xaf"), "is not valid UTF-8 (byte 0xc0 at offset 0)");  // overlong
  EXPECT_EQ(problem("\xe0\x80\xaf"), "is not valid UTF-8 (byte 0x80 at offset 1)");
  EXPECT_EQ(problem("x\xed\xa0\x80"), "is not valid UTF-8 (byte 0xa0 at offset 2)");  // surrogate
  EXPECT_EQ(problem("\xf4\x90\x80\x80"), "is not valid UTF-8 (byte 0x90 at offset 1)");
  EXPECT_EQ(problem("\xe6\x97"), "is not valid UTF-8 (sequence truncated at offset 0)");
  EXPECT_EQ(problem("\xe6\x97x"), "is not valid UTF-8 (byte 0x78 at offset 2)");
  EXPECT_EQ(problem(std::string("a\0b", 3)), "contains a NUL byte at offset 1");
  EXPECT_EQ(utf8_problem(std::string("a\0b", 3), NulBytes::Allowed), "");
  test::expect_error(
      [] { require_utf8("ok\xfe", "corpus.h5: example 3: token 1", NulBytes::Rejected); },
      "corpus.h5: example 3: token 1 is not valid UTF-8 (byte 0xfe at offset 2)");
}

TEST(Utf8, DecodesAndEncodesCodePoints) {
  const std::u32string cps = decode_utf8("a\xc3\xa9\xe6\x97\xa5\xf0\x9d\x84\x9e", "text");
  EXPECT_EQ(cps, (std::u32string{U'a', 0xe9, 0x65e5, 0x1d11e}));
  EXPECT_EQ(encode_utf8(cps), "a\xc3\xa9\xe6\x97\xa5\xf0\x9d\x84\x9e");
  EXPECT_EQ(decode_utf8(std::string("\0", 1), "text"), std::u32string(1, U'\0'));
  test::expect_error([] { decode_utf8("caf\xc3", "text"); },
                     "text is not valid UTF-8 (sequence truncated at offset 3)");
  char32_t cp = 0;
  EXPECT_EQ(utf8_sequence("x\xe2\x82\xac", 1, &cp), 3u);
  EXPECT_EQ(cp, 0x20acu);
  EXPECT_EQ(utf8_sequence("\xed\xa0\x80", 0), 0u);
}

TEST(Utf8, SanitizeReplacesEachBadByte) {
  EXPECT_EQ(sanitize_utf8("ok"), "ok");
  EXPECT_EQ(sanitize_utf8("a\xff"
                          "b"),
            "a\xef\xbf\xbd"
            "b");
  EXPECT_EQ(sanitize_utf8("\xe6\x97"), "\xef\xbf\xbd\xef\xbf\xbd");  // a cut character
}

}  // namespace
}  // namespace attnflow
