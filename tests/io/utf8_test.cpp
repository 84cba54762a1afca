// UTF-8 validation of token strings: exact messages for each kind of defect.
#include "attnflow/io/utf8.hpp"

#include "../core/test_util.hpp"

namespace attnflow::io {
namespace {

TEST(Utf8, AcceptsValidText) {
  for (const char* s : {"", "hello", "naïve", "日本語", "𝄞 clef", "\xf4\x8f\xbf\xbf", "Ünïcödé"}) {
    EXPECT_EQ(utf8_problem(s), "") << s;
  }
}

TEST(Utf8, RejectsEveryDefectWithItsPosition) {
  EXPECT_EQ(utf8_problem("ab\xff"), "is not valid UTF-8 (byte 0xff at offset 2)");
  EXPECT_EQ(utf8_problem("\x80"), "is not valid UTF-8 (byte 0x80 at offset 0)");
  EXPECT_EQ(utf8_problem("\xc0\xaf"), "is not valid UTF-8 (byte 0xc0 at offset 0)");  // overlong
  EXPECT_EQ(utf8_problem("\xe0\x80\xaf"), "is not valid UTF-8 (byte 0x80 at offset 1)");
  EXPECT_EQ(utf8_problem("x\xed\xa0\x80"), "is not valid UTF-8 (byte 0xa0 at offset 2)");
  EXPECT_EQ(utf8_problem("\xf4\x90\x80\x80"), "is not valid UTF-8 (byte 0x90 at offset 1)");
  EXPECT_EQ(utf8_problem("\xe6\x97"), "is not valid UTF-8 (sequence truncated at offset 0)");
  EXPECT_EQ(utf8_problem("\xe6\x97x"), "is not valid UTF-8 (byte 0x78 at offset 2)");
  EXPECT_EQ(utf8_problem(std::string("a\0b", 3)), "contains a NUL byte at offset 1");
  test::expect_error([] { require_utf8("ok\xfe", "corpus.h5: example 3: token 1"); },
                     "corpus.h5: example 3: token 1 is not valid UTF-8 (byte 0xfe at offset 2)");
}

}  // namespace
}  // namespace attnflow::io
