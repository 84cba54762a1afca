// Names of the value-aware contribution methods.
#include "attnflow/core/contribution.hpp"

namespace attnflow {

Contribution parse_contribution(const std::string& name) {
  return parse_enum(kContributionNames, name, "contribution");
}

const char* to_string(Contribution method) {
  return enum_name(kContributionNames, method);
}

bool rows_sum_to_one(Contribution method) {
  return method == Contribution::Alti || method == Contribution::ValueZeroing;
}

}  // namespace attnflow
