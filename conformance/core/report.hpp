// Conformance reports: text (for people, closes with "N passed, N failed,
// N skipped"), JSON, JUnit XML, TAP and a standalone HTML page.
#pragma once

#include <ostream>
#include <string>

#include "model.hpp"

namespace atproto::conformance {

enum class ReportFormat { kText, kJson, kJunit, kTap, kHtml };

// "text", "json", "junit", "tap", "html"; nullopt for anything else.
std::optional<ReportFormat> report_format_from_name(const std::string& name);

// Writes the report. The catalog supplies requirement levels, text and spec
// URLs for each case's requirement ids.
void write_report(ReportFormat format, const RunSummary& summary, const Catalog& catalog,
                  std::ostream& out);

// `--list`: every case id with its kind, level and requirement ids, one per
// line, without running anything.
void write_case_list(const std::vector<Case>& cases, std::ostream& out);

}  // namespace atproto::conformance
