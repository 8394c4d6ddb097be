// The JUnit XML report, for CI systems.
#include "report_format.hpp"

#include <algorithm>

namespace atproto::conformance::report_detail {

void write_junit(const RunSummary& s, const Catalog& catalog, std::ostream& out) {
  // Suites in order of first appearance.
  std::vector<std::string> suites;
  for (const auto& r : s.results) {
    const std::string& name = case_of(r).suite;
    if (std::find(suites.begin(), suites.end(), name) == suites.end()) suites.push_back(name);
  }
  auto is_failure = [&](Outcome o) { return outcome_fails_run(o, s.strict); };
  Totals t = totals(s);
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << "<testsuites name=\"atproto-conformance\" tests=\"" << s.results.size() << "\" failures=\""
      << t.failed << "\" errors=\"0\" skipped=\"" << t.skipped << "\" time=\""
      << format_seconds(s.seconds) << "\">\n";
  for (const auto& suite : suites) {
    std::size_t tests = 0, failures = 0, skipped = 0;
    double seconds = 0;
    for (const auto& r : s.results) {
      if (case_of(r).suite != suite) continue;
      ++tests;
      failures += is_failure(r.outcome) ? 1 : 0;
      skipped += r.outcome == Outcome::kSkipped ? 1 : 0;
      seconds += r.seconds;
    }
    out << "  <testsuite name=\"" << xml_attr(suite) << "\" tests=\"" << tests << "\" failures=\""
        << failures << "\" errors=\"0\" skipped=\"" << skipped << "\" time=\""
        << format_seconds(seconds) << "\">\n";
    out << "    <properties>\n";
    auto property = [&](const std::string& name, const std::string& value) {
      out << "      <property name=\"" << name << "\" value=\"" << xml_attr(value) << "\"/>\n";
    };
    property("target", s.target);
    property("target_name", s.target_name);
    property("target_version", s.target_version);
    property("seed", std::to_string(s.seed));
    property("strict", s.strict ? "true" : "false");
    out << "    </properties>\n";
    for (const auto& r : s.results) {
      const Case& c = case_of(r);
      if (c.suite != suite) continue;
      out << "    <testcase classname=\""
          << xml_attr(c.suite + "." + std::string(case_kind_name(c.kind))) << "\" name=\""
          << xml_attr(c.id) << "\" time=\"" << format_seconds(r.seconds) << "\"";
      std::string title = upper(outcome_name(r.outcome)) + " " + c.id;
      if (is_failure(r.outcome)) {
        std::string message = r.outcome == Outcome::kUnexpectedPass
                                  ? "listed as an expected failure, but the case passed"
                                  : r.verdict.message;
        std::string type = r.verdict.state == Verdict::State::kAdapterError
                               ? "adapter-error"
                               : std::string(outcome_name(r.outcome));
        out << ">\n      <failure message=\"" << xml_attr(message) << "\" type=\"" << xml_attr(type)
            << "\">" << xml_text(title + "\n" + details(r, catalog, s.strict, "  "))
            << "</failure>\n    </testcase>\n";
      } else if (r.outcome == Outcome::kSkipped) {
        out << ">\n      <skipped message=\"" << xml_attr(outcome_note(r, s.strict))
            << "\"/>\n    </testcase>\n";
      } else if (r.outcome == Outcome::kPass) {
        out << "/>\n";
      } else {
        // Non-strict (without --strict), informational, expected failure:
        // passing testcases whose output says why.
        out << ">\n      <system-out>"
            << xml_text(title + ": " + outcome_note(r, s.strict) + "\n" +
                        details(r, catalog, s.strict, "  "))
            << "</system-out>\n    </testcase>\n";
      }
    }
    out << "  </testsuite>\n";
  }
  out << "</testsuites>\n";
}

}  // namespace atproto::conformance::report_detail
