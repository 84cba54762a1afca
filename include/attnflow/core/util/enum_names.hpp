// Table-driven names of enum values: one table per enum gives parsing, to_string and the
// "expected a, b or c" text of error messages, e.g.
//   constexpr EnumName<Method> kMethodNames[] = {{Method::Raw, "raw"}, {Method::Flow, "flow"}};
//   parse_enum(kMethodNames, "lrp", "method")  // Error("method: unknown 'lrp' (expected raw or
//   flow)")
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "attnflow/core/error.hpp"

namespace attnflow {

/// One row of a name table.
template <class E>
struct EnumName {
  E value;
  const char* name;
};

/// The names of a table in order, for messages: "a", "a or b", "a, b or c".
template <class E, std::size_t N>
std::string enum_choices(const EnumName<E> (&names)[N]) {
  std::string out;
  for (std::size_t i = 0; i < N; ++i) {
    if (i > 0) out += i + 1 == N ? " or " : ", ";
    out += names[i].name;
  }
  return out;
}

/// The value named `text` (exact, case-sensitive), or nullopt.
template <class E, std::size_t N>
std::optional<E> find_enum(const EnumName<E> (&names)[N], std::string_view text) {
  for (const EnumName<E>& n : names) {
    if (text == n.name) return n.value;
  }
  return std::nullopt;
}

/// The value named `text`; otherwise throws
/// Error("<what>: unknown '<text>' (expected a, b or c)").
template <class E, std::size_t N>
E parse_enum(const EnumName<E> (&names)[N], std::string_view text, std::string_view what) {
  if (const std::optional<E> value = find_enum(names, text)) return *value;
  throw Error(std::string(what) + ": unknown '" + std::string(text) + "' (expected " +
              enum_choices(names) + ")");
}

/// The name of `value`; "?" for a value the table lacks.
template <class E, std::size_t N>
const char* enum_name(const EnumName<E> (&names)[N], E value) {
  for (const EnumName<E>& n : names) {
    if (n.value == value) return n.name;
  }
  return "?";
}

}  // namespace attnflow
