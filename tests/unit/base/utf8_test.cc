// Table tests of SanitizeUtf8: validation, replacement and cutting.
#include "base/utf8.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace nsexp {
namespace {

constexpr std::size_t kBig = 1024;
#define R "\xEF\xBF\xBD"  // U+FFFD

struct Utf8Case {
  const char* name;
  std::string in;
  std::size_t max_bytes;
  std::string want;
};

void PrintTo(const Utf8Case& c, std::ostream* os) { *os << c.name; }

class SanitizeUtf8Test : public testing::TestWithParam<Utf8Case> {};

TEST_P(SanitizeUtf8Test, Sanitizes) {
  const Utf8Case& c = GetParam();
  EXPECT_EQ(SanitizeUtf8(c.in, c.max_bytes), c.want);
}

// std::string from a literal that may hold NUL bytes.
template <std::size_t N>
std::string Bytes(const char (&s)[N]) {
  return std::string(s, N - 1);
}

INSTANTIATE_TEST_SUITE_P(
    Table, SanitizeUtf8Test,
    testing::Values(
        Utf8Case{"empty", "", kBig, ""},
        Utf8Case{"ascii", "nginx: worker", kBig, "nginx: worker"},
        Utf8Case{"tab", "a\tb", kBig, "a" R "b"},
        Utf8Case{"two_byte", "caf\xC3\xA9", kBig, "caf\xC3\xA9"},
        Utf8Case{"three_byte", "\xE2\x82\xAC 5", kBig, "\xE2\x82\xAC 5"},
        Utf8Case{"four_byte", "\xF0\x9F\x90\xB3", kBig, "\xF0\x9F\x90\xB3"},
        Utf8Case{"max_code_point", "\xF4\x8F\xBF\xBF", kBig,
                 "\xF4\x8F\xBF\xBF"},
        Utf8Case{"lowest_three_byte", "\xE0\xA0\x80", kBig, "\xE0\xA0\x80"},
        Utf8Case{"below_surrogates", "\xED\x9F\xBF", kBig, "\xED\x9F\xBF"},
        Utf8Case{"replacement_char_itself", R, kBig, R},
        // Overlong forms: every byte is replaced.
        Utf8Case{"overlong_slash_2", "\xC0\xAF", kBig, R R},
        Utf8Case{"overlong_c1", "\xC1\xBF", kBig, R R},
        Utf8Case{"overlong_3", "\xE0\x80\xAF", kBig, R R R},
        Utf8Case{"overlong_4", "\xF0\x80\x80\xAF", kBig, R R R R},
        // Encoded UTF-16 surrogates.
        Utf8Case{"surrogate_high", "\xED\xA0\x80", kBig, R R R},
        Utf8Case{"surrogate_low", "\xED\xBF\xBF", kBig, R R R},
        // Above U+10FFFF and bytes that never appear in UTF-8.
        Utf8Case{"above_max", "\xF4\x90\x80\x80", kBig, R R R R},
        Utf8Case{"f5", "a\xF5z", kBig, "a" R "z"},
        Utf8Case{"ff", "\xFF", kBig, R}, Utf8Case{"fe", "\xFE", kBig, R},
        Utf8Case{"lone_continuation", "a\x80z", kBig, "a" R "z"},
        // Truncated sequences: the lead and what follows are kept apart.
        Utf8Case{"truncated_two_at_end", "ab\xC3", kBig, "ab" R},
        Utf8Case{"truncated_three_at_end", "\xE2\x82", kBig, R R},
        Utf8Case{"truncated_four_at_end", "\xF0\x9F\x90", kBig, R R R},
        Utf8Case{"truncated_then_ascii", "\xE2\x82x", kBig, R R "x"},
        Utf8Case{"truncated_then_valid", "\xC3\xC3\xA9", kBig, R "\xC3\xA9"},
        // Control characters.
        Utf8Case{"nul", Bytes("a\0b"), kBig, "a" R "b"},
        Utf8Case{"newline", "a\nb", kBig, "a" R "b"},
        Utf8Case{"escape", "\x1B[31m", kBig, R "[31m"},
        Utf8Case{"del", "a\x7F", kBig, "a" R},
        Utf8Case{"c1_control_is_valid_utf8", "\xC2\x85", kBig, "\xC2\x85"},
        // Cutting on a character boundary.
        Utf8Case{"cut_ascii", "abcdef", 3, "abc"},
        Utf8Case{"cut_zero", "abc", 0, ""},
        Utf8Case{"cut_exact_fit", "a\xC3\xA9", 3, "a\xC3\xA9"},
        Utf8Case{"cut_before_two_byte", "a\xC3\xA9", 2, "a"},
        Utf8Case{"cut_before_four_byte", "ab\xF0\x9F\x90\xB3", 5, "ab"},
        Utf8Case{"cut_before_replacement", "ab\xFF", 4, "ab"},
        Utf8Case{"cut_after_replacement",
                 "\xFF"
                 "abc",
                 4, R "a"}),
    [](const testing::TestParamInfo<Utf8Case>& p) {
      return std::string(p.param.name);
    });

TEST(SanitizeUtf8LongTest, LongInputIsBoundedAndValid) {
  std::string in;
  for (int i = 0; i < 1000; ++i) in += "\xC3\xA9\xFF";
  const std::string out = SanitizeUtf8(in, 256);
  EXPECT_LE(out.size(), 256u);
  EXPECT_GE(out.size(), 252u);  // at most one 4-byte character short
  // Idempotent: the output is already valid.
  EXPECT_EQ(SanitizeUtf8(out, 256), out);
}

TEST(SanitizeUtf8ControlsTest, TabKeptOnlyWhenAsked) {
  EXPECT_EQ(SanitizeUtf8("a\tb\nc", kBig, Controls::kReplaceButTab),
            "a\tb" R "c");
  EXPECT_EQ(SanitizeUtf8("a\tb\nc", kBig, Controls::kReplace), "a" R "b" R "c");
}

#undef R

}  // namespace
}  // namespace nsexp
