// The HTML report: one self-contained page, no scripts or external files.
#include "report_format.hpp"

#include <algorithm>

namespace atproto::conformance::report_detail {

std::string html(std::string_view s) { return xml_escape(s, false, true); }

// Outcomes in the order the attention table lists them.
int severity(Outcome o) {
  switch (o) {
    case Outcome::kFail:
      return 0;
    case Outcome::kUnexpectedPass:
      return 1;
    case Outcome::kNonStrict:
      return 2;
    case Outcome::kInformational:
      return 3;
    case Outcome::kExpectedFail:
      return 4;
    case Outcome::kSkipped:
      return 5;
    case Outcome::kPass:
      return 6;
  }
  return 6;
}

void write_html(const RunSummary& s, const Catalog& catalog, std::ostream& out) {
  Totals t = totals(s);
  out << R"(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title>atproto conformance: )"
      << html(implementation_line(s)) << R"(</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.5em; }
h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; }
code, pre { font-family: ui-monospace, monospace; font-size: 0.9em; }
pre { white-space: pre-wrap; word-break: break-all; margin: 0.4em 0; }
dl.meta { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; }
dl.meta dt { font-weight: bold; }
dl.meta dd { margin: 0; }
.totals span { display: inline-block; padding: 0.3em 0.8em; margin-right: 0.5em; border-radius: 4px; font-weight: bold; }
.pass { background: #d8f5d8; }
.fail, .unexpected-pass { background: #f8d0d0; }
.non-strict { background: #fbe8c8; }
.informational { background: #dde8f8; }
.skipped { background: #eee; }
.expected-fail { background: #efe0f5; }
details summary { cursor: pointer; }
</style>
</head>
<body>
<h1>atproto conformance report</h1>
<dl class="meta">
)";
  out << "<dt>target</dt><dd>" << html(s.target) << "</dd>\n";
  out << "<dt>implementation</dt><dd>" << html(implementation_line(s)) << "</dd>\n";
  out << "<dt>seed</dt><dd>" << s.seed << " (replay with <code>--seed " << s.seed
      << "</code>)</dd>\n";
  out << "<dt>strict</dt><dd>" << (s.strict ? "yes" : "no") << "</dd>\n";
  if (s.profile != "atproto") out << "<dt>profile</dt><dd>" << html(s.profile) << "</dd>\n";
  out << "<dt>time</dt><dd>" << format_seconds(s.seconds) << " s</dd>\n";
  out << "</dl>\n";
  out << "<p class=\"totals\"><span class=\"pass\">" << t.passed << " passed</span>"
      << "<span class=\"fail\">" << t.failed << " failed</span>"
      << "<span class=\"skipped\">" << t.skipped << " skipped</span>"
      << "<span class=\"expected-fail\">" << s.count(Outcome::kExpectedFail)
      << " expected failures</span>"
      << "<span class=\"non-strict\">" << s.count(Outcome::kNonStrict) << " non-strict</span>"
      << "<span class=\"informational\">" << s.count(Outcome::kInformational)
      << " informational</span></p>\n";

  // Counts per suite and kind.
  out << "<table>\n<tr><th>suite</th><th>kind</th><th>total</th>";
  for (Outcome o : kAllOutcomes) out << "<th>" << outcome_name(o) << "</th>";
  out << "</tr>\n";
  for (const auto& row : count_rows(s)) {
    out << "<tr><td>" << html(row.suite) << "</td><td>" << row.kind << "</td><td class=\"num\">"
        << row.total << "</td>";
    for (Outcome o : kAllOutcomes) {
      auto it = row.counts.find(o);
      std::size_t n = it == row.counts.end() ? 0 : it->second;
      out << "<td class=\"num";
      if (n) out << " " << outcome_name(o);
      out << "\">" << n << "</td>";
    }
    out << "</tr>\n";
  }
  out << "</table>\n";

  // The rules at stake, one example each: a few root causes first.
  auto groups = requirement_groups(s, catalog);
  if (!groups.empty()) {
    out << "<h2>By requirement (" << groups.size() << ")</h2>\n";
    out << "<table>\n<tr><th>cases</th><th>requirement</th><th>level</th><th>example</th></tr>\n";
    for (const auto& g : groups) {
      const Requirement* req = g.requirement.empty() ? nullptr : catalog.find(g.requirement);
      const CaseResult& example = *g.results.front();
      std::string what = example.outcome == Outcome::kUnexpectedPass
                             ? "listed as an expected failure, but passed"
                             : example.verdict.message;
      out << "<tr><td class=\"num\">" << g.results.size() << "</td><td>";
      if (req) {
        out << "<a href=\"" << html(req->url) << "\"><code>" << html(g.requirement)
            << "</code></a>";
      } else {
        out << "<code>" << html(g.requirement.empty() ? "(none cited)" : g.requirement)
            << "</code>";
      }
      out << "</td><td>" << (req ? std::string(level_name(req->level)) : "") << "</td><td><code>"
          << html(case_of(example).id) << "</code>: " << html(what) << "</td></tr>\n";
    }
    out << "</table>\n";
  }

  // Everything that did not simply pass, most serious first.
  std::vector<const CaseResult*> attention;
  for (const auto& r : s.results) {
    if (r.outcome != Outcome::kPass) attention.push_back(&r);
  }
  std::stable_sort(attention.begin(), attention.end(),
                   [](const CaseResult* a, const CaseResult* b) {
                     return severity(a->outcome) < severity(b->outcome);
                   });
  out << "<h2>Results other than pass (" << attention.size() << ")</h2>\n";
  if (attention.empty()) {
    out << "<p>Every case passed.</p>\n";
  } else {
    out << "<table>\n<tr><th>outcome</th><th>case</th><th>details</th></tr>\n";
    for (const CaseResult* r : attention) {
      const Case& c = case_of(*r);
      std::string summary =
          r->outcome == Outcome::kUnexpectedPass
              ? "listed as an expected failure, but the case passed"
          : r->outcome == Outcome::kExpectedFail || r->outcome == Outcome::kSkipped
              ? outcome_note(*r, s.strict)
              : r->verdict.message;
      out << "<tr><td class=\"" << outcome_name(r->outcome) << "\">" << outcome_name(r->outcome)
          << "</td><td><code>" << html(c.id) << "</code></td><td>";
      if (r->outcome == Outcome::kSkipped) {
        // The reason is all there is to say about a skipped case.
        out << html(summary);
      } else {
        out << "<details><summary>" << html(summary) << "</summary><pre>"
            << html(details(*r, catalog, s.strict, "")) << "</pre></details>";
      }
      out << "</td></tr>\n";
    }
    out << "</table>\n";
  }

  out << "<h2>All cases (" << s.results.size() << ")</h2>\n";
  out << "<table>\n<tr><th>case</th><th>suite</th><th>kind</th><th>level</th><th>outcome</th>"
         "<th>seconds</th></tr>\n";
  for (const auto& r : s.results) {
    const Case& c = case_of(r);
    out << "<tr><td><code>" << html(c.id) << "</code></td><td>" << html(c.suite) << "</td><td>"
        << case_kind_name(c.kind) << "</td><td>" << level_name(c.level) << "</td><td class=\""
        << outcome_name(r.outcome) << "\">" << outcome_name(r.outcome) << "</td><td class=\"num\">"
        << format_seconds(r.seconds) << "</td></tr>\n";
  }
  out << "</table>\n";
  out << "<p>" << t.passed << " passed, " << t.failed << " failed, " << t.skipped
      << " skipped</p>\n</body>\n</html>\n";
}

}  // namespace atproto::conformance::report_detail
