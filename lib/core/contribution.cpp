// Names of the value-aware contribution methods.
#include "attnflow/core/contribution.hpp"

#include <algorithm>

namespace attnflow {

Contribution parse_contribution(const std::string& name) {
  return parse_enum(kContributionNames, name, "contribution");
}

const char* to_string(Contribution method) {
  return enum_name(kContributionNames, method);
}

std::string contribution_list(const std::vector<Contribution>& methods) {
  std::string out;
  for (Contribution c : methods) out += (out.empty() ? "" : ",") + std::string(to_string(c));
  return out;
}

std::vector<Contribution> parse_contribution_list(const std::string& text,
                                                  const std::string& what) {
  std::vector<Contribution> out;
  for (std::size_t begin = 0; begin < text.size();) {
    const std::size_t end = std::min(text.find(',', begin), text.size());
    const Contribution c = parse_enum(kContributionNames, text.substr(begin, end - begin), what);
    if (std::find(out.begin(), out.end(), c) != out.end()) {
      throw Error(what + ": '" + to_string(c) + "' appears twice");
    }
    out.push_back(c);
    begin = end + 1;
  }
  return out;
}

bool rows_sum_to_one(Contribution method) {
  return method == Contribution::Alti || method == Contribution::ValueZeroing;
}

}  // namespace attnflow
