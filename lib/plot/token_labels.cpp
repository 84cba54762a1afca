// Token labels and hidden special tokens.
#include "attnflow/plot/token_labels.hpp"

#include "attnflow/core/error.hpp"

namespace attnflow::plot {

const std::set<std::string>& special_tokens() {
  static const std::set<std::string> tokens = {"[CLS]", "[SEP]",  "[PAD]",        "[MASK]",
                                               "[UNK]", "<s>",    "</s>",         "<pad>",
                                               "<unk>", "<mask>", "<|endoftext|>"};
  return tokens;
}

std::vector<std::string> token_labels(const std::vector<std::string>& labels, int n,
                                      const std::string& what) {
  if (labels.empty()) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) out.push_back(std::to_string(i));
    return out;
  }
  if (static_cast<int>(labels.size()) != n) {
    throw Error(what + ": " + std::to_string(labels.size()) + " token labels for " +
                std::to_string(n) + " tokens");
  }
  return labels;
}

std::vector<int> visible_tokens(const std::vector<std::string>& labels,
                                const std::set<std::string>& hide, const std::string& what) {
  std::vector<int> out;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (!hide.count(labels[i])) out.push_back(static_cast<int>(i));
  }
  if (out.empty()) throw Error(what + ": every token is hidden");
  return out;
}

}  // namespace attnflow::plot
