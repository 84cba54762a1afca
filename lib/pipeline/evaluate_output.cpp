// evaluate's means, its table (text, CSV), curves (CSV, figures), timings and scores file.
#include "evaluate_output.hpp"

#include <algorithm>
#include <iomanip>
#include <sstream>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/atomic_file.hpp"
#include "attnflow/plot/curve_chart.hpp"
#include "attnflow/version.hpp"

namespace attnflow::pipeline::detail {
namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  const std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  const double upper = v[mid];
  if (v.size() % 2 == 1) return upper;
  return (upper + *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid))) / 2;
}

StepCost median(const std::vector<StepCost>& v) {
  std::vector<double> wall, cpu;
  for (const StepCost& c : v) {
    wall.push_back(c.wall);
    cpu.push_back(c.cpu);
  }
  return {median(std::move(wall)), median(std::move(cpu))};
}

std::string fixed(double v, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

std::string percents_text(const std::vector<double>& percents) {
  std::ostringstream s;
  for (std::size_t i = 0; i < percents.size(); ++i) s << (i ? ", " : "") << percents[i];
  return s.str();
}

// The count each rounding rule gives, for table.txt.
constexpr EnumName<PercentRounding> kRoundingFormulas[] = {
    {PercentRounding::Ceil, "ceil(k m / 100)"},
    {PercentRounding::Round, "floor(k m / 100 + 1/2)"},
    {PercentRounding::Floor, "floor(k m / 100)"}};

// What ran on what: the head of table.txt.
void header_text(const EvaluateOptions& o, const EvaluateReport& r, std::ostream& txt) {
  const FaithfulnessOptions& f = r.faithfulness;
  txt << "Faithfulness benchmark, attnflow " << ATTNFLOW_VERSION_STRING << "\n"
      << "model: " << r.model << "\ncorpus: " << r.corpus << " (" << r.examples
      << " examples; accuracy " << fixed(r.accuracy, 4) << ")\n"
      << "explained class: " << enum_name(kEvaluateTargetNames, o.target)
      << "; perturbation: " << enum_name(kPerturbationNames, f.perturbation);
  if (f.perturbation != Perturbation::Remove) txt << " (token id " << f.replacement_id << ")";
  txt << "; random seed " << o.seed << "\n"
      << "top k% of the m non-special tokens = " << enum_name(kRoundingFormulas, f.rounding)
      << " tokens, clamped to [1, m]; special tokens are never removed\n"
      << "AOPC (ERASER): mean over k = " << percents_text(f.aopc_percents)
      << " % of comprehensiveness p(y|x) - p(y|x without top k) and sufficiency p(y|x) - "
         "p(y|top k only)\n"
      << "curves at k = " << percents_text(f.curve_percents)
      << " %; areas by the trapezoid rule over k / 100 in [0, 1]\n"
      << "higher comprehensiveness, lower sufficiency, lower deletion area and higher "
         "insertion area are more faithful\n\n";
}

void table_text(const EvaluateReport& r, std::ostream& txt) {
  std::size_t width = 18;  // the method column: the longest name and two spaces
  for (const MethodResult& m : r.methods) width = std::max(width, m.name.size() + 2);
  const int w = static_cast<int>(width);
  txt << std::left << std::setw(w) << "method" << std::right << std::setw(18) << "comp (AOPC)"
      << std::setw(18) << "suff (AOPC)" << std::setw(10) << "del area" << std::setw(10)
      << "ins area" << std::setw(18) << "rho(blank-out)"
      << "\n";
  for (const MethodResult& m : r.methods) {
    const FaithfulnessSummary& f = m.faithfulness;
    txt << std::left << std::setw(w) << m.name << std::right << std::setw(18)
        << (fixed(f.comprehensiveness.mean, 4) + " ± " + fixed(f.comprehensiveness.std, 3))
        << std::setw(18) << (fixed(f.sufficiency.mean, 4) + " ± " + fixed(f.sufficiency.std, 3))
        << std::setw(10) << fixed(f.deletion_area, 4) << std::setw(10) << fixed(f.insertion_area, 4)
        << std::setw(18)
        << (m.spearman_blank_out
                ? fixed(m.spearman_blank_out->mean, 3) + " ± " + fixed(m.spearman_blank_out->std, 3)
                : std::string("-"))
        << "\n";
  }
  const std::vector<double>& bins = r.faithfulness.aopc_percents;
  for (const bool comp : {true, false}) {
    txt << "\n"
        << (comp ? "comprehensiveness" : "sufficiency") << " per bin\n"
        << std::left << std::setw(w) << "method" << std::right;
    for (double k : bins) txt << std::setw(9) << (fixed(k, 0) + "%");
    txt << "\n";
    for (const MethodResult& m : r.methods) {
      txt << std::left << std::setw(w) << m.name << std::right;
      for (double v : comp ? m.faithfulness.comprehensiveness_at : m.faithfulness.sufficiency_at)
        txt << std::setw(9) << fixed(v, 4);
      txt << "\n";
    }
  }
}

void table_csv(const EvaluateReport& r, std::ostream& csv) {
  csv << std::setprecision(10) << "method,examples,comprehensiveness,comprehensiveness_std,"
      << "sufficiency,sufficiency_std";
  for (double k : r.faithfulness.aopc_percents) csv << ",comprehensiveness_" << k;
  for (double k : r.faithfulness.aopc_percents) csv << ",sufficiency_" << k;
  csv << ",deletion_area,insertion_area,spearman_blank_out,spearman_blank_out_std\n";
  for (const MethodResult& m : r.methods) {
    const FaithfulnessSummary& f = m.faithfulness;
    csv << m.name << "," << f.examples << "," << f.comprehensiveness.mean << ","
        << f.comprehensiveness.std << "," << f.sufficiency.mean << "," << f.sufficiency.std;
    for (double v : f.comprehensiveness_at) csv << "," << v;
    for (double v : f.sufficiency_at) csv << "," << v;
    csv << "," << f.deletion_area << "," << f.insertion_area << ",";
    if (m.spearman_blank_out) {
      csv << m.spearman_blank_out->mean << "," << m.spearman_blank_out->std;
    } else {
      csv << ",";
    }
    csv << "\n";
  }
}

void curves_csv(const EvaluateReport& r, std::ostream& csv) {
  csv << std::setprecision(10) << "method,curve,percent,probability\n";
  for (const MethodResult& m : r.methods) {
    for (const bool deletion : {true, false}) {
      const auto& y = deletion ? m.faithfulness.deletion : m.faithfulness.insertion;
      for (std::size_t k = 0; k < y.size(); ++k) {
        csv << m.name << "," << (deletion ? "deletion" : "insertion") << ","
            << r.faithfulness.curve_percents[k] << "," << y[k] << "\n";
      }
    }
  }
}

void timing_csv(const EvaluateReport& r, std::ostream& csv) {
  const auto row = [&](const std::string& step, const StepCost& c) {
    csv << step << "," << c.wall << "," << c.cpu << "\n";
  };
  csv << std::setprecision(6) << "step,median_wall_seconds,median_cpu_seconds\n";
  row("shared model run", r.run_cost);
  for (const MethodResult& m : r.methods) row(m.name, m.cost);
  row("perturbed inputs (" + fixed(r.perturbed_inputs_mean, 1) + " per example)", r.perturbed_cost);
}

void draw_curves(const EvaluateReport& r, const OutputFolder& folder, bool deletion) {
  std::vector<plot::CurveSeries> series;
  for (const MethodResult& m : r.methods) {
    series.push_back({m.name, r.faithfulness.curve_percents,
                      deletion ? m.faithfulness.deletion : m.faithfulness.insertion});
  }
  plot::CurveChartOptions co;
  co.figure.title = std::string(deletion ? "Deletion" : "Insertion") + " curves, " +
                    std::to_string(r.examples) + " examples (" +
                    enum_name(kPerturbationNames, r.faithfulness.perturbation) + ")";
  co.x_label = deletion ? "top k% of the tokens removed" : "only the top k% of the tokens kept";
  co.y_label = "mean p(explained class)";
  co.y_range = std::make_pair(0.0, 1.0);
  plot::plot_curves(series, folder.file(deletion ? "deletion.png" : "insertion.png"), co);
}

}  // namespace

std::string scores_line(std::int64_t line, const std::vector<std::string>& tokens,
                        const std::vector<std::int64_t>& ids,
                        const std::vector<std::uint8_t>& special, std::int64_t target,
                        const std::vector<std::string>& methods,
                        const std::vector<std::vector<double>>& scores) {
  std::ostringstream s;
  s << std::setprecision(17) << "{\"line\": " << line << ", \"target\": " << target
    << ", \"tokens\": [";
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    s << (i ? ", " : "") << "\"";
    for (char c : tokens[i]) {
      if (c == '"' || c == '\\') s << '\\';
      s << c;
    }
    s << "\"";
  }
  s << "], \"ids\": [";
  for (std::size_t i = 0; i < ids.size(); ++i) s << (i ? ", " : "") << ids[i];
  s << "], \"special\": [";
  for (std::size_t i = 0; i < special.size(); ++i) s << (i ? ", " : "") << int{special[i]};
  s << "], \"scores\": {";
  for (std::size_t m = 0; m < methods.size(); ++m) {
    s << (m ? ", " : "") << "\"" << methods[m] << "\": [";
    for (std::size_t i = 0; i < scores[m].size(); ++i) s << (i ? ", " : "") << scores[m][i];
    s << "]";
  }
  s << "}}\n";
  return s.str();
}

void summarize(const std::vector<std::string>& methods, const EvaluationRecord& record,
               EvaluateReport& r) {
  r.methods.clear();
  for (std::size_t m = 0; m < methods.size(); ++m) {
    MethodResult result;
    result.name = methods[m];
    result.faithfulness =
        summarize_faithfulness(record.faithfulness[m], r.faithfulness.curve_percents);
    if (!record.spearman[m].empty()) result.spearman_blank_out = mean_std(record.spearman[m]);
    result.cost = median(record.method_costs[m]);
    r.methods.push_back(std::move(result));
  }
  r.run_cost = median(record.run_costs);
  r.perturbed_cost = median(record.perturbed_costs);
  r.perturbed_inputs_mean = record.run_costs.empty()
                                ? 0.0
                                : static_cast<double>(record.perturbed_inputs) /
                                      static_cast<double>(record.run_costs.size());
}

void write_outputs(const EvaluationRecord& record, const EvaluateOptions& o,
                   const OutputFolder& folder, EvaluateReport& r) {
  std::ostringstream txt;
  header_text(o, r, txt);
  table_text(r, txt);
  r.text = txt.str();
  const auto write = [&](const std::string& name, const auto& fill) {
    write_file_atomically(folder.file(name), fill);
    r.files.push_back(name);
  };
  write("table.txt", [&](std::ostream& out) { out << r.text; });
  write("table.csv", [&](std::ostream& out) { table_csv(r, out); });
  write("curves.csv", [&](std::ostream& out) { curves_csv(r, out); });
  write("timing.csv", [&](std::ostream& out) { timing_csv(r, out); });
  if (o.save_scores) write("scores.jsonl", [&](std::ostream& out) { out << record.scores_jsonl; });
  if (o.plots) {
    for (const bool deletion : {true, false}) {
      draw_curves(r, folder, deletion);
      r.files.push_back(deletion ? "deletion.png" : "insertion.png");
    }
  }
}

}  // namespace attnflow::pipeline::detail
