// Token labels on the axes and the tokens a figure leaves out: special tokens
// such as [CLS] and [SEP] are hidden by label (their rows and columns are
// dropped; nothing is renormalised).
#pragma once

#include <set>
#include <string>
#include <vector>

namespace attnflow::plot {

/// Labels of common special tokens: [CLS], [SEP], [PAD], [MASK], [UNK],
/// <s>, </s>, <pad>, <unk>, <mask>, <|endoftext|>.
const std::set<std::string>& special_tokens();

/// The labels to draw for n tokens: `labels` itself, or "0".."n-1" when it is
/// empty. Throws Error("<what>: <k> token labels for <n> tokens") otherwise.
std::vector<std::string> token_labels(const std::vector<std::string>& labels, int n,
                                      const std::string& what);

/// Indices 0..n-1 whose label is not in `hide`. Throws Error("<what>: every
/// token is hidden") when none is left.
std::vector<int> visible_tokens(const std::vector<std::string>& labels,
                                const std::set<std::string>& hide, const std::string& what);

}  // namespace attnflow::plot
