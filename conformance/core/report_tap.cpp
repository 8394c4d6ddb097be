// The TAP version 13 report.
#include "report_format.hpp"

namespace atproto::conformance::report_detail {

// A TAP description: one line, '#' escaped so it is not read as a directive.
std::string tap_text(std::string_view s) {
  std::string text = visible(s);
  std::string out;
  for (char c : text) {
    if (c == '#') out += '\\';
    out += c;
  }
  return out;
}

void write_tap(const RunSummary& s, const Catalog& catalog, std::ostream& out) {
  out << "TAP version 13\n";
  out << "1.." << s.results.size() << "\n";
  out << "# target: " << visible(s.target) << " (" << implementation_line(s) << ")\n";
  out << "# seed: " << s.seed << " (replay with --seed " << s.seed << ")"
      << (s.strict ? ", strict" : "") << "\n";
  std::size_t n = 0;
  for (const auto& r : s.results) {
    ++n;
    const Case& c = case_of(r);
    const Verdict& v = r.verdict;
    const bool failing = outcome_fails_run(r.outcome, s.strict);
    const bool not_ok = failing || r.outcome == Outcome::kExpectedFail;
    out << (not_ok ? "not ok " : "ok ") << n << " - " << tap_text(c.id);
    if (r.outcome == Outcome::kSkipped) {
      out << " # SKIP " << tap_text(outcome_note(r, s.strict));
    } else if (r.outcome == Outcome::kExpectedFail) {
      out << " # TODO " << tap_text(r.expectation_reason);
    }
    out << "\n";
    if (r.outcome == Outcome::kNonStrict || r.outcome == Outcome::kInformational) {
      out << "# " << outcome_name(r.outcome) << ": " << visible(outcome_note(r, s.strict)) << "\n";
    }
    if (!failing && r.outcome != Outcome::kNonStrict && r.outcome != Outcome::kInformational &&
        r.outcome != Outcome::kExpectedFail) {
      continue;
    }
    // YAML diagnostics; quote() writes YAML-compatible double-quoted scalars.
    out << "  ---\n";
    out << "  outcome: " << outcome_name(r.outcome) << "\n";
    out << "  kind: " << case_kind_name(c.kind) << "\n";
    out << "  level: " << level_name(c.level) << "\n";
    std::string message = r.outcome == Outcome::kUnexpectedPass
                              ? "listed as an expected failure, but the case passed"
                              : v.message;
    out << "  message: " << quote(message) << "\n";
    if (!r.expectation_reason.empty()) {
      out << "  expectation_reason: " << quote(r.expectation_reason) << "\n";
    }
    if (!c.requirements.empty()) {
      out << "  requirements:\n";
      for (const auto& id : c.requirements) {
        const Requirement* req = catalog.find(id);
        out << "    - id: " << quote(id) << "\n";
        if (req) {
          out << "      level: " << level_name(req->level) << "\n";
          out << "      url: " << quote(req->url) << "\n";
        }
      }
    }
    // JSON values are written as YAML flow collections: show() only uses
    // escapes that YAML double-quoted scalars also understand.
    out << "  operation: " << quote(operation_of(r)) << "\n";
    if (!v.sent.is_null()) out << "  sent: " << show(v.sent) << "\n";
    out << "  got:\n";
    out << "    status: " << v.http_status << (v.http_status ? "" : "  # no answer") << "\n";
    out << "    body: " << show(v.received) << "\n";
    if (!v.expected.is_null()) out << "  expected: " << show(v.expected) << "\n";
    if (!r.reproduce.empty()) out << "  reproduce: " << quote(r.reproduce) << "\n";
    if (!v.suggested_vector.is_null()) {
      json vectors =
          v.suggested_vector.is_array() ? v.suggested_vector : json::array({v.suggested_vector});
      out << "  suggested_vectors:\n";
      for (const auto& e : vectors) out << "    - " << show_vector(pasteable_vector(e)) << "\n";
    }
    out << "  ...\n";
  }
  Totals t = totals(s);
  out << "# " << t.passed << " passed, " << t.failed << " failed, " << t.skipped << " skipped\n";
}

}  // namespace atproto::conformance::report_detail
