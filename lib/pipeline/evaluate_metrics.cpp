// ERASER's faithfulness metrics of per-token scores: top-k% tokens, perturbed inputs, AOPC,
// deletion / insertion curves and their means.
#include "attnflow/pipeline/evaluate_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "attnflow/core/error.hpp"

namespace attnflow::pipeline {
namespace {

std::string percent_text(double v) {
  std::string s = std::to_string(v);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

void check_percents(const std::vector<double>& percents, bool zero_allowed,
                    const std::string& what) {
  if (percents.empty()) throw Error(what + ": no percent given");
  for (double p : percents) {
    const bool ok = std::isfinite(p) && p <= 100.0 && (zero_allowed ? p >= 0.0 : p > 0.0);
    if (!ok) {
      throw Error(what + ": " + percent_text(p) + " is outside " +
                  (zero_allowed ? "[0, 100]" : "(0, 100]") + " (percent of the tokens)");
    }
  }
}

// Positions 0..n-1 that are not special and not in `chosen` (insertion keeps only `chosen`).
std::vector<int> complement(const std::vector<int>& chosen,
                            const std::vector<std::uint8_t>& special) {
  std::vector<std::uint8_t> taken(special.size(), 0);
  for (int p : chosen) taken[static_cast<std::size_t>(p)] = 1;
  std::vector<int> out;
  for (std::size_t i = 0; i < special.size(); ++i) {
    if (!special[i] && !taken[i]) out.push_back(static_cast<int>(i));
  }
  return out;
}

double mean_of(const std::vector<double>& v) {
  return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

// Adds `v` elementwise into `sum` (sized on first use).
void add_into(std::vector<double>& sum, const std::vector<double>& v, const std::string& what) {
  if (sum.empty()) sum.assign(v.size(), 0.0);
  if (sum.size() != v.size()) throw Error("faithfulness summary: examples differ in " + what);
  for (std::size_t i = 0; i < v.size(); ++i) sum[i] += v[i];
}

double trapezoid(const std::vector<double>& x_percent, const std::vector<double>& y) {
  double area = 0;
  for (std::size_t i = 1; i < y.size(); ++i) {
    area += (x_percent[i] - x_percent[i - 1]) / 100.0 * (y[i] + y[i - 1]) / 2.0;
  }
  return area;
}

}  // namespace

void check_faithfulness_options(const FaithfulnessOptions& o) {
  check_percents(o.aopc_percents, false, "--aopc-percents");
  check_percents(o.curve_percents, true, "--curve-percents");
  if (!std::is_sorted(o.curve_percents.begin(), o.curve_percents.end())) {
    throw Error("--curve-percents: the points must be in increasing order");
  }
  if (o.perturbation != Perturbation::Remove && o.replacement_id < 0) {
    throw Error(std::string("--perturbation ") + enum_name(kPerturbationNames, o.perturbation) +
                ": the tokenizer has no such token");
  }
}

int top_count(double percent, int eligible, PercentRounding rounding) {
  if (percent <= 0.0 || eligible <= 0) return 0;
  const double exact = percent * eligible / 100.0;
  // A small tolerance so that e.g. 10% of 30 is 3 and not ceil(3.0000000000000004) = 4.
  const double eps = 1e-9;
  double c = 0;
  switch (rounding) {
    case PercentRounding::Ceil: c = std::ceil(exact - eps); break;
    case PercentRounding::Round: c = std::floor(exact + 0.5 + eps); break;
    case PercentRounding::Floor: c = std::floor(exact + eps); break;
  }
  return std::clamp(static_cast<int>(c), 1, eligible);
}

std::vector<int> rank_positions(const std::vector<double>& scores,
                                const std::vector<std::uint8_t>& special) {
  std::vector<int> order;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (i >= special.size() || !special[i]) order.push_back(static_cast<int>(i));
  }
  const auto key = [&](int p) {
    const double s = scores[static_cast<std::size_t>(p)];
    return std::isnan(s) ? -HUGE_VAL : s;
  };
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return key(a) > key(b); });
  return order;
}

std::vector<std::int64_t> perturb(const std::vector<std::int64_t>& ids,
                                  const std::vector<int>& chosen, const FaithfulnessOptions& o) {
  std::vector<std::uint8_t> hit(ids.size(), 0);
  for (int p : chosen) hit[static_cast<std::size_t>(p)] = 1;
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (!hit[i]) {
      out.push_back(ids[i]);
    } else if (o.perturbation != Perturbation::Remove) {
      out.push_back(o.replacement_id);
    }
  }
  return out;
}

std::vector<ExampleFaithfulness> example_faithfulness(
    const std::vector<std::int64_t>& ids, const std::vector<std::uint8_t>& special,
    const std::vector<std::vector<double>>& scores, const FaithfulnessOptions& o,
    const ProbabilityFn& probability) {
  if (special.size() != ids.size()) {
    throw Error("faithfulness: " + std::to_string(special.size()) + " special flags for " +
                std::to_string(ids.size()) + " tokens");
  }
  const auto eligible = static_cast<int>(std::count(special.begin(), special.end(), 0));
  if (eligible == 0) throw Error("faithfulness: the example has only special tokens");
  // Every distinct input once, the unchanged example first.
  std::map<std::vector<std::int64_t>, std::size_t> slot = {{ids, 0}};
  std::vector<std::vector<std::int64_t>> inputs = {ids};
  const auto input_of = [&](std::vector<std::int64_t> v) {
    const auto [it, fresh] = slot.emplace(std::move(v), inputs.size());
    if (fresh) inputs.push_back(it->first);
    return it->second;
  };
  // For each method: the input slot of "without top c" and "top c only", per count c used.
  struct Slots {
    std::map<int, std::size_t> without, only;
  };
  std::vector<Slots> slots(scores.size());
  std::vector<double> all_percents = o.aopc_percents;
  all_percents.insert(all_percents.end(), o.curve_percents.begin(), o.curve_percents.end());
  for (std::size_t m = 0; m < scores.size(); ++m) {
    if (scores[m].size() != ids.size()) {
      throw Error("faithfulness: method " + std::to_string(m) + " gave " +
                  std::to_string(scores[m].size()) + " scores for " + std::to_string(ids.size()) +
                  " tokens");
    }
    const std::vector<int> order = rank_positions(scores[m], special);
    for (double k : all_percents) {
      const int c = top_count(k, eligible, o.rounding);
      if (slots[m].without.count(c)) continue;
      const std::vector<int> top(order.begin(), order.begin() + c);
      slots[m].without[c] = input_of(perturb(ids, top, o));
      slots[m].only[c] = input_of(perturb(ids, complement(top, special), o));
    }
  }
  const std::vector<double> p = probability(inputs);
  if (p.size() != inputs.size()) {
    throw Error("faithfulness: " + std::to_string(p.size()) + " probabilities for " +
                std::to_string(inputs.size()) + " inputs");
  }
  std::vector<ExampleFaithfulness> out(scores.size());
  for (std::size_t m = 0; m < scores.size(); ++m) {
    ExampleFaithfulness& f = out[m];
    f.full = p[0];
    const auto at = [&](const std::map<int, std::size_t>& s, double k) {
      return p[s.at(top_count(k, eligible, o.rounding))];
    };
    for (double k : o.aopc_percents) {
      f.comprehensiveness.push_back(f.full - at(slots[m].without, k));
      f.sufficiency.push_back(f.full - at(slots[m].only, k));
    }
    for (double k : o.curve_percents) {
      f.deletion.push_back(at(slots[m].without, k));
      f.insertion.push_back(at(slots[m].only, k));
    }
    f.aopc_comprehensiveness = mean_of(f.comprehensiveness);
    f.aopc_sufficiency = mean_of(f.sufficiency);
  }
  return out;
}

MeanStd mean_std(const std::vector<double>& values) {
  if (values.empty()) return {};
  double sum = 0, sum_sq = 0;
  for (double v : values) {
    if (std::isnan(v)) v = 0;
    sum += v;
    sum_sq += v * v;
  }
  const auto n = static_cast<double>(values.size());
  const double mean = sum / n;
  return {mean, std::sqrt(std::max(0.0, sum_sq / n - mean * mean))};
}

FaithfulnessSummary summarize_faithfulness(const std::vector<ExampleFaithfulness>& examples,
                                           const std::vector<double>& curve_percents) {
  if (examples.empty()) throw Error("faithfulness summary: no examples");
  FaithfulnessSummary s;
  std::vector<double> comp, suff;
  for (const ExampleFaithfulness& e : examples) {
    comp.push_back(e.aopc_comprehensiveness);
    suff.push_back(e.aopc_sufficiency);
    add_into(s.comprehensiveness_at, e.comprehensiveness, "AOPC bins");
    add_into(s.sufficiency_at, e.sufficiency, "AOPC bins");
    add_into(s.deletion, e.deletion, "curve points");
    add_into(s.insertion, e.insertion, "curve points");
  }
  if (s.deletion.size() != curve_percents.size()) {
    throw Error("faithfulness summary: " + std::to_string(s.deletion.size()) +
                " curve points for " + std::to_string(curve_percents.size()) + " percents");
  }
  const auto n = static_cast<double>(examples.size());
  for (auto* v : {&s.comprehensiveness_at, &s.sufficiency_at, &s.deletion, &s.insertion}) {
    for (double& x : *v) x /= n;
  }
  s.comprehensiveness = mean_std(comp);
  s.sufficiency = mean_std(suff);
  s.deletion_area = trapezoid(curve_percents, s.deletion);
  s.insertion_area = trapezoid(curve_percents, s.insertion);
  s.examples = static_cast<std::int64_t>(examples.size());
  return s;
}

}  // namespace attnflow::pipeline
