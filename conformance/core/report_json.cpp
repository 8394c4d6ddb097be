// The JSON report, for scripts and dashboards.
#include "report_format.hpp"

namespace atproto::conformance::report_detail {

void write_json(const RunSummary& s, const Catalog& catalog, std::ostream& out) {
  Totals t = totals(s);
  json counts = json::object();
  for (Outcome o : kAllOutcomes) counts[std::string(outcome_name(o))] = s.count(o);
  json results = json::array();
  for (const auto& r : s.results) {
    const Case& c = case_of(r);
    json requirements = json::array();
    for (const auto& id : c.requirements) {
      const Requirement* req = catalog.find(id);
      requirements.push_back(
          {{"id", id},
           {"level", req ? json(std::string(level_name(req->level))) : json(nullptr)},
           {"url", req ? json(req->url) : json(nullptr)}});
    }
    results.push_back({{"id", c.id},
                       {"suite", c.suite},
                       {"kind", std::string(case_kind_name(c.kind))},
                       {"level", std::string(level_name(c.level))},
                       {"description", c.description},
                       {"requirements", requirements},
                       {"outcome", std::string(outcome_name(r.outcome))},
                       {"fails_run", outcome_fails_run(r.outcome, s.strict)},
                       {"message", r.verdict.message},
                       {"operation", operation_of(r)},
                       {"sent", r.verdict.sent},
                       {"expected", r.verdict.expected},
                       {"received", r.verdict.received},
                       {"http_status", r.verdict.http_status},
                       {"reproduce", r.reproduce},
                       {"expectation_reason", r.expectation_reason},
                       {"suggested_vector", pasteable(r.verdict.suggested_vector)},
                       {"calls", r.verdict.calls},
                       {"seconds", r.seconds}});
  }
  json doc{{"tool", "atproto-conformance"},
           {"target", s.target},
           {"target_name", s.target_name},
           {"target_version", s.target_version},
           {"profile", s.profile},
           {"seed", s.seed},
           {"strict", s.strict},
           {"seconds", s.seconds},
           {"counts", counts},
           {"passed", t.passed},
           {"failed", t.failed},
           {"skipped", t.skipped},
           {"results", results}};
  out << dump(doc, 2) << "\n";
}

}  // namespace atproto::conformance::report_detail
