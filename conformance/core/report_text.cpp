// The text report, for people: a summary grouped by requirement, one block
// per case that needs attention, a count table and the closing
// "N passed, N failed, N skipped" line.
#include "report_format.hpp"

#include <algorithm>
#include <map>

namespace atproto::conformance::report_detail {

void write_text(const RunSummary& s, const Catalog& catalog, std::ostream& out) {
  out << "atproto-conformance report\n";
  out << "target:         " << visible(s.target) << "\n";
  out << "implementation: " << implementation_line(s) << "\n";
  out << "seed:           " << s.seed << " (replay with --seed " << s.seed << ")\n";
  out << "strict:         " << (s.strict ? "yes" : "no") << "\n";
  out << "cases:          " << s.results.size() << " in " << format_seconds(s.seconds) << " s\n";
  if (s.profile != "atproto") out << "profile:        " << visible(s.profile) << "\n";

  // One line per rule at stake first: a few root causes, not many blocks.
  auto groups = requirement_groups(s, catalog);
  if (!groups.empty()) {
    std::size_t cases = 0;
    for (const auto& g : groups) cases += g.results.size();
    out << "\nby requirement (" << cases << (cases == 1 ? " case" : " cases")
        << " needing attention, " << groups.size() << (groups.size() == 1 ? " rule" : " rules")
        << "; one example each, details below):\n";
    for (const auto& g : groups) {
      const Requirement* req = g.requirement.empty() ? nullptr : catalog.find(g.requirement);
      out << pad_left(std::to_string(g.results.size()), 6) << "  "
          << (g.requirement.empty() ? "(no requirement cited)" : visible(g.requirement));
      if (req) out << " (" << level_name(req->level) << ") " << visible(req->url);
      out << "\n";
      const CaseResult& example = *g.results.front();
      std::string what = example.outcome == Outcome::kUnexpectedPass
                             ? "listed as an expected failure, but passed"
                             : example.verdict.message;
      out << "        e.g. " << visible(case_of(example).id) << ": " << visible(what) << "\n";
    }
  }

  for (const auto& r : s.results) {
    if (!needs_attention(r.outcome)) continue;
    out << "\n" << upper(outcome_name(r.outcome)) << " " << visible(case_of(r).id) << "\n";
    out << details(r, catalog, s.strict, "  ");
  }

  // Expected failures and skipped operations: one line each, no detail.
  bool first = true;
  for (const auto& r : s.results) {
    if (r.outcome != Outcome::kExpectedFail) continue;
    if (first) out << "\nexpected failures (pinned by --expect-fail):\n";
    first = false;
    out << "  " << visible(case_of(r).id) << ": " << visible(r.expectation_reason) << "\n";
  }
  // Skipped cases grouped by the reason the target gave (an operation
  // missing from its capabilities, or one type answered with 501).
  std::map<std::string, std::size_t> skipped_by_reason;
  for (const auto& r : s.results) {
    if (r.outcome == Outcome::kSkipped) ++skipped_by_reason[outcome_note(r, s.strict)];
  }
  if (!skipped_by_reason.empty()) {
    out << "\nskipped (not supported by the target):\n";
    for (const auto& [reason, n] : skipped_by_reason) {
      out << "  " << n << (n == 1 ? " case: " : " cases: ") << visible(reason) << "\n";
    }
  }

  // Count table.
  auto rows = count_rows(s);
  std::size_t suite_w = 5;
  std::size_t kind_w = 4;
  for (const auto& row : rows) {
    suite_w = std::max(suite_w, row.suite.size());
    kind_w = std::max(kind_w, row.kind.size());
  }
  out << "\n" << pad_right("suite", suite_w) << "  " << pad_right("kind", kind_w) << "  total";
  for (Outcome o : kAllOutcomes) out << "  " << outcome_name(o);
  out << "\n";
  auto write_row = [&](const std::string& suite, const std::string& kind, std::size_t total,
                       const std::map<Outcome, std::size_t>& counts) {
    out << pad_right(visible(suite), suite_w) << "  " << pad_right(kind, kind_w) << "  "
        << pad_left(std::to_string(total), 5);
    for (Outcome o : kAllOutcomes) {
      auto it = counts.find(o);
      std::size_t n = it == counts.end() ? 0 : it->second;
      out << "  " << pad_left(std::to_string(n), outcome_name(o).size());
    }
    out << "\n";
  };
  std::map<Outcome, std::size_t> all;
  for (const auto& row : rows) {
    write_row(row.suite, row.kind, row.total, row.counts);
    for (const auto& [o, n] : row.counts) all[o] += n;
  }
  write_row("all", "", s.results.size(), all);

  Totals t = totals(s);
  out << "\n"
      << s.count(Outcome::kExpectedFail) << " expected failures, " << s.count(Outcome::kNonStrict)
      << " non-strict, " << s.count(Outcome::kInformational) << " informational"
      << (s.strict ? " (--strict: non-strict cases count as failed)" : "") << "\n";
  out << t.passed << " passed, " << t.failed << " failed, " << t.skipped << " skipped\n";
}

}  // namespace atproto::conformance::report_detail
