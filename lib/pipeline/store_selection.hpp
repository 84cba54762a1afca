// The schema-3 layer/head selection of a store (StoreInfo::layer_selection, head_selection) as
// text for reports and messages: analyze numbers the stored layers 1..L, which are model layers
// layer_selection[k - 1].
#pragma once

#include <string>
#include <vector>

#include "attnflow/io/store_types.hpp"

namespace attnflow::pipeline {

/// "model layers 1,3 of 3, model heads 2,4 of 4" (each part only when selected); "" for a store
/// without a selection.
inline std::string describe_selection(const io::StoreInfo& info) {
  std::string text;
  const auto part = [&](const char* what, const std::vector<int>& chosen, int model) {
    if (chosen.empty()) return;
    text += (text.empty() ? "model " : ", model ") + std::string(what) + " ";
    for (std::size_t k = 0; k < chosen.size(); ++k) {
      text += (k ? "," : "") + std::to_string(chosen[k]);
    }
    text += " of " + std::to_string(model);
  };
  part("layers", info.layer_selection, info.model_layers);
  part("heads", info.head_selection, info.model_heads);
  return text;
}

}  // namespace attnflow::pipeline
