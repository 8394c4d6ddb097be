// What the report formats share (report_common.cpp); each format lives in
// its own report_<format>.cpp. Internal to the reports.
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "model.hpp"

namespace atproto::conformance::report_detail {

// Bytes and characters.
// How visible() treats line breaks and tabs.
enum class Breaks {
  kKeep,    // \n and \t stay as they are (multi-line text)
  kEscape,  // written as \n and \t (one-line fields)
};
// The text with every byte that is not printable, well-formed UTF-8 written
// as a visible escape (\xHH, \uFFFE, \uFFFF); valid UTF-8 holding no control
// characters other than (with kKeep) \n and \t.
std::string visible(std::string_view s, Breaks breaks = Breaks::kEscape);
// A JSON string literal whose bytes that are not UTF-8 are written as \xHH
// (escapes valid in YAML double-quoted scalars too).
std::string quote(std::string_view s);

// JSON for people: compact (indent < 0) or pretty; numbers beyond 64 bits
// and raw JSON text (exact_json.hpp) exactly as sent.
std::string show(const json& j, int indent = -1);
// A suggested vector case, keys in reading order.
std::string show_vector(const json& j, int indent = -1);
// JSON for machines: never throws, invalid UTF-8 becomes U+FFFD.
std::string dump(const json& j, int indent = -1);
// A suggested vector with an input that is not UTF-8 as "input_hex".
json pasteable_vector(json v);
// pasteable_vector() over a single vector or an array of them.
json pasteable(const json& suggested);
std::string format_seconds(double seconds);

// Shared views of a result.
const Case& case_of(const CaseResult& r);
std::string operation_of(const CaseResult& r);
// Outcomes that get a detail block in the text report.
bool needs_attention(Outcome o);
std::string upper(std::string_view s);
struct Totals {
  std::size_t passed = 0;
  std::size_t failed = 0;
  std::size_t skipped = 0;
};
Totals totals(const RunSummary& s);
inline constexpr Outcome kAllOutcomes[] = {
    Outcome::kPass,    Outcome::kFail,         Outcome::kNonStrict,     Outcome::kInformational,
    Outcome::kSkipped, Outcome::kExpectedFail, Outcome::kUnexpectedPass};
// A short explanation of a graded outcome that is not a plain pass or fail.
std::string outcome_note(const CaseResult& r, bool strict);
// The detail lines of one result, each prefixed with `indent`.
std::string details(const CaseResult& r, const Catalog& catalog, bool strict,
                    const std::string& indent);
// Rows of the count table: (suite, kind) in order of first appearance.
struct CountRow {
  std::string suite;
  std::string kind;
  std::map<Outcome, std::size_t> counts;
  std::size_t total = 0;
};
std::vector<CountRow> count_rows(const RunSummary& s);
std::string pad_right(const std::string& s, std::size_t width);
std::string pad_left(const std::string& s, std::size_t width);
std::string implementation_line(const RunSummary& s);

// The cases that need attention, grouped by the requirement at stake: the
// first requirement id the failure message names, else the case's first
// requirement. Groups with the most cases come first.
struct RequirementGroup {
  std::string requirement;  // "" when the case cites none
  std::vector<const CaseResult*> results;
};
std::vector<RequirementGroup> requirement_groups(const RunSummary& s, const Catalog& catalog);

// XML character data or attribute value (see report_common.cpp).
std::string xml_escape(std::string_view s, bool attribute, bool quotes = false);
std::string xml_attr(std::string_view s);
std::string xml_text(std::string_view s);

void write_text(const RunSummary& s, const Catalog& catalog, std::ostream& out);
void write_json(const RunSummary& s, const Catalog& catalog, std::ostream& out);
void write_junit(const RunSummary& s, const Catalog& catalog, std::ostream& out);
void write_tap(const RunSummary& s, const Catalog& catalog, std::ostream& out);
void write_html(const RunSummary& s, const Catalog& catalog, std::ostream& out);

}  // namespace atproto::conformance::report_detail
