// Conformance reports in five formats. Everything here must survive
// arbitrary bytes: fuzz inputs and adapter answers can hold NUL, control
// characters and invalid UTF-8. Two rules keep every format well-formed:
//
//  - values shown to people go through show() / visible(), which write
//    invalid UTF-8 and control bytes as visible \xHH escapes (so the bytes
//    that made a case fail can still be read off the report);
//  - the JSON report is written by nlohmann::json with the "replace" error
//    handler, so dumping never throws (invalid bytes become U+FFFD there,
//    since JSON cannot carry them).
#include "report.hpp"
#include "utf8.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>
#include <utility>

namespace atproto::conformance {
namespace {

// ---------------------------------------------------------------------------
// Bytes and characters

// U+FFFE and U+FFFF are valid UTF-8 but not allowed in XML 1.0.
bool is_xml_noncharacter(std::string_view s, std::size_t i, std::size_t n) {
  return n == 3 && static_cast<unsigned char>(s[i]) == 0xEF &&
         static_cast<unsigned char>(s[i + 1]) == 0xBF &&
         static_cast<unsigned char>(s[i + 2]) >= 0xBE;
}

void append_hex_byte(std::string& out, const char* prefix, unsigned char b) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%s%02x", prefix, static_cast<unsigned>(b));
  out += buf;
}

// Appends the character at s[i] (not ASCII control): well-formed UTF-8 as
// it is, a byte that starts no UTF-8 character as \xHH, U+FFFE/U+FFFF
// (not allowed in XML) as \uFFFE/\uFFFF. Returns the index after it.
std::size_t append_character(std::string& out, std::string_view s, std::size_t i) {
  std::size_t n = utf8_length_at(s, i);
  if (n == 0) {
    append_hex_byte(out, "\\x", static_cast<unsigned char>(s[i]));
    return i + 1;
  }
  if (is_xml_noncharacter(s, i, n)) {
    out += static_cast<unsigned char>(s[i + 2]) == 0xBE ? "\\uFFFE" : "\\uFFFF";
  } else {
    out.append(s.substr(i, n));
  }
  return i + n;
}

// How visible() treats line breaks and tabs.
enum class Breaks {
  kKeep,    // \n and \t stay as they are (multi-line text)
  kEscape,  // written as \n and \t (one-line fields)
};

// The text with every byte that is not printable, well-formed UTF-8 written
// as a visible escape: control bytes and DEL as \xHH, bytes that are not
// UTF-8 as \xHH, U+FFFE/U+FFFF as \uFFFE/\uFFFF. The result is valid UTF-8
// holding no control characters other than (with kKeep) \n and \t.
std::string visible(std::string_view s, Breaks breaks = Breaks::kEscape) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b == '\n' || b == '\t') {
      if (breaks == Breaks::kKeep) {
        out += static_cast<char>(b);
      } else {
        out += b == '\n' ? "\\n" : "\\t";
      }
      ++i;
      continue;
    }
    if (b < 0x20 || b == 0x7F) {
      append_hex_byte(out, "\\x", b);
      ++i;
      continue;
    }
    i = append_character(out, s, i);
  }
  return out;
}

// ---------------------------------------------------------------------------
// JSON for people

// A JSON string literal, except that bytes which are not UTF-8 are written as
// \xHH so they stay visible (nlohmann would refuse or replace them). The
// escapes used are also valid in YAML double-quoted scalars.
std::string quote(std::string_view s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    switch (b) {
      case '"':
        out += "\\\"";
        ++i;
        continue;
      case '\\':
        out += "\\\\";
        ++i;
        continue;
      case '\n':
        out += "\\n";
        ++i;
        continue;
      case '\r':
        out += "\\r";
        ++i;
        continue;
      case '\t':
        out += "\\t";
        ++i;
        continue;
      case '\b':
        out += "\\b";
        ++i;
        continue;
      case '\f':
        out += "\\f";
        ++i;
        continue;
      default:
        break;
    }
    if (b < 0x20 || b == 0x7F) {
      append_hex_byte(out, "\\u00", b);
      ++i;
      continue;
    }
    i = append_character(out, s, i);
  }
  return out + "\"";
}

// Vector cases read best with their keys in this order; other keys follow
// alphabetically.
int vector_key_rank(const std::string& key) {
  static const char* const kOrder[] = {"id",    "requirements", "input",  "input_hex",
                                       "valid", "error",        "comment"};
  for (int i = 0; i < static_cast<int>(std::size(kOrder)); ++i) {
    if (key == kOrder[i]) return i;
  }
  return static_cast<int>(std::size(kOrder));
}

void show_to(std::string& out, const json& j, int indent, int depth, bool vector_order) {
  auto newline = [&](int level) {
    if (indent < 0) return;
    out += '\n';
    out.append(static_cast<std::size_t>(indent * level), ' ');
  };
  if (j.is_string()) {
    out += quote(j.get_ref<const std::string&>());
  } else if (j.is_object()) {
    if (j.empty()) {
      out += "{}";
      return;
    }
    std::vector<std::pair<std::string, const json*>> members;
    for (auto it = j.begin(); it != j.end(); ++it) members.emplace_back(it.key(), &it.value());
    if (vector_order && depth == 0) {
      std::stable_sort(members.begin(), members.end(), [](const auto& a, const auto& b) {
        return vector_key_rank(a.first) < vector_key_rank(b.first);
      });
    }
    out += '{';
    bool first = true;
    for (const auto& [key, value] : members) {
      if (!first) out += ',';
      first = false;
      newline(depth + 1);
      out += quote(key);
      out += indent < 0 ? ":" : ": ";
      show_to(out, *value, indent, depth + 1, vector_order);
    }
    newline(depth);
    out += '}';
  } else if (j.is_array()) {
    if (j.empty()) {
      out += "[]";
      return;
    }
    out += '[';
    bool first = true;
    for (const auto& value : j) {
      if (!first) out += ',';
      first = false;
      newline(depth + 1);
      show_to(out, value, indent, depth + 1, vector_order);
    }
    newline(depth);
    out += ']';
  } else {
    // null, booleans, numbers, binary: no strings inside, cannot throw.
    out += j.dump(-1, ' ', false, json::error_handler_t::replace);
  }
}

// JSON as people should see it: compact (indent < 0) or pretty.
std::string show(const json& j, int indent = -1) {
  std::string out;
  show_to(out, j, indent, 0, false);
  return out;
}

// A suggested vector case, keys in reading order.
std::string show_vector(const json& j, int indent = -1) {
  std::string out;
  show_to(out, j, indent, 0, true);
  return out;
}

// JSON for machines: never throws, invalid UTF-8 becomes U+FFFD.
std::string dump(const json& j, int indent = -1) {
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

// A suggested vector whose input is not valid UTF-8 cannot be pasted as a
// JSON string: the vector files carry such inputs as "input_hex" instead.
json pasteable_vector(json v) {
  if (v.is_object() && v.contains("input") && v["input"].is_string() &&
      !is_valid_utf8(v["input"].get_ref<const std::string&>())) {
    std::string hex;
    for (char c : v["input"].get_ref<const std::string&>()) {
      auto b = static_cast<unsigned char>(c);
      append_hex_byte(hex, "", b);
    }
    json out = json::object();
    for (auto& [key, value] : v.items()) {
      if (key == "input") {
        out["input_hex"] = hex;
      } else {
        out[key] = value;
      }
    }
    return out;
  }
  return v;
}

// pasteable_vector() over a single vector or an array of them.
json pasteable(const json& suggested) {
  if (!suggested.is_array()) return pasteable_vector(suggested);
  json out = json::array();
  for (const auto& v : suggested) out.push_back(pasteable_vector(v));
  return out;
}

std::string format_seconds(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", seconds);
  return buf;
}

// ---------------------------------------------------------------------------
// Shared views of a result

const Case& case_of(const CaseResult& r) {
  static const Case kUnknown{};
  return r.test_case ? *r.test_case : kUnknown;
}

std::string operation_of(const CaseResult& r) {
  return r.verdict.operation.empty() ? case_of(r).operation : r.verdict.operation;
}

// Outcomes that get a detail block in the text report.
bool needs_attention(Outcome o) {
  return o == Outcome::kFail || o == Outcome::kUnexpectedPass || o == Outcome::kNonStrict ||
         o == Outcome::kInformational;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

struct Totals {
  std::size_t passed = 0;
  std::size_t failed = 0;
  std::size_t skipped = 0;
};

Totals totals(const RunSummary& s) {
  Totals t;
  for (const auto& r : s.results) {
    if (r.outcome == Outcome::kPass) ++t.passed;
    if (r.outcome == Outcome::kSkipped) ++t.skipped;
    if (outcome_fails_run(r.outcome, s.strict)) ++t.failed;
  }
  return t;
}

constexpr Outcome kAllOutcomes[] = {
    Outcome::kPass,    Outcome::kFail,         Outcome::kNonStrict,     Outcome::kInformational,
    Outcome::kSkipped, Outcome::kExpectedFail, Outcome::kUnexpectedPass};

// A short explanation of a graded outcome that is not a plain pass or fail.
std::string outcome_note(const CaseResult& r, bool strict) {
  switch (r.outcome) {
    case Outcome::kNonStrict:
      return strict ? "a \"should\" requirement is not followed; --strict makes this a failure"
                    : "a \"should\" requirement is not followed; not a failure without --strict";
    case Outcome::kInformational:
      return "behaviour the spec leaves open (\"may\"); reported for information only";
    case Outcome::kExpectedFail:
      return "failed as expected (listed in the expected-failures file): " + r.expectation_reason;
    case Outcome::kUnexpectedPass:
      return "listed in the expected-failures file, but the case passed; remove the entry "
             "(it said: " +
             r.expectation_reason + ")";
    case Outcome::kSkipped:
      return r.verdict.message.empty() ? "not supported by the adapter" : r.verdict.message;
    default:
      return "";
  }
}

// The detail lines of one result (everything below the block's title line),
// each prefixed with `indent`. Free text goes through visible(), JSON through
// show(), so the lines hold no control bytes and only valid UTF-8.
std::string details(const CaseResult& r, const Catalog& catalog, bool strict,
                    const std::string& indent) {
  const Case& c = case_of(r);
  const Verdict& v = r.verdict;
  std::ostringstream out;
  auto line = [&](const std::string& label, const std::string& value) {
    std::string padded = label + ":";
    if (padded.size() < 13)
      padded.resize(13, ' ');
    else
      padded += ' ';
    out << indent << padded << value << "\n";
  };
  line("kind", std::string(case_kind_name(c.kind)));
  line("level", std::string(level_name(c.level)));
  if (!c.description.empty()) line("description", visible(c.description));
  for (const auto& id : c.requirements) {
    const Requirement* req = catalog.find(id);
    line("requirement",
         req ? visible(id) + " (" + std::string(level_name(req->level)) + ") " + visible(req->url)
             : visible(id) + " (not in the requirement catalog)");
  }
  if (r.outcome == Outcome::kUnexpectedPass) {
    line("message", "listed as an expected failure, but the case passed; remove the entry");
    line("reason", visible(r.expectation_reason));
  } else {
    if (!v.message.empty()) line("message", visible(v.message));
    std::string note = outcome_note(r, strict);
    if (!note.empty() && note != v.message) line("note", visible(note));
  }
  const std::string op = operation_of(r);
  if (!v.sent.is_null()) line("sent", visible(op) + " " + show(v.sent));
  if (v.http_status != 0 || !v.received.is_null()) {
    std::string got = v.http_status != 0 ? "HTTP " + std::to_string(v.http_status) : "no answer";
    if (!v.received.is_null()) got += " " + show(v.received);
    line("got", got);
  } else if (!v.sent.is_null()) {
    line("got", "no answer");
  }
  if (!v.expected.is_null()) line("expected", show(v.expected));
  if (!r.reproduce.empty()) line("reproduce", visible(r.reproduce));
  if (v.calls > 1) line("calls", std::to_string(v.calls));
  if (!v.suggested_vector.is_null()) {
    // The vectors, written so they paste straight into a "cases" array.
    std::vector<json> vectors;
    if (v.suggested_vector.is_array()) {
      for (const auto& e : v.suggested_vector) vectors.push_back(pasteable_vector(e));
    } else {
      vectors.push_back(pasteable_vector(v.suggested_vector));
    }
    out << indent
        << (vectors.size() == 1 ? std::string("add as vector:")
                                : "add as vectors (" + std::to_string(vectors.size()) + "):")
        << "\n";
    for (std::size_t i = 0; i < vectors.size(); ++i) {
      std::string text = show_vector(vectors[i], 2) + (i + 1 < vectors.size() ? "," : "");
      std::istringstream lines(text);
      std::string l;
      while (std::getline(lines, l)) out << indent << "    " << l << "\n";
    }
  }
  return out.str();
}

// Rows of the count table: (suite, kind) in order of first appearance.
struct CountRow {
  std::string suite;
  std::string kind;
  std::map<Outcome, std::size_t> counts;
  std::size_t total = 0;
};

std::vector<CountRow> count_rows(const RunSummary& s) {
  std::vector<CountRow> rows;
  for (const auto& r : s.results) {
    const Case& c = case_of(r);
    std::string kind(case_kind_name(c.kind));
    auto it = std::find_if(rows.begin(), rows.end(), [&](const CountRow& row) {
      return row.suite == c.suite && row.kind == kind;
    });
    if (it == rows.end()) {
      rows.push_back({c.suite, kind, {}, 0});
      it = rows.end() - 1;
    }
    ++it->counts[r.outcome];
    ++it->total;
  }
  return rows;
}

std::string pad_right(const std::string& s, std::size_t width) {
  std::string out = s;
  if (out.size() < width) out.append(width - out.size(), ' ');
  return out;
}
std::string pad_left(const std::string& s, std::size_t width) {
  std::string out;
  if (s.size() < width) out.append(width - s.size(), ' ');
  out += s;
  return out;
}

std::string implementation_line(const RunSummary& s) {
  std::string name = s.target_name.empty() ? "(no name given)" : s.target_name;
  if (!s.target_version.empty()) name += " " + s.target_version;
  return visible(name);
}

// ---------------------------------------------------------------------------
// text

void write_text(const RunSummary& s, const Catalog& catalog, std::ostream& out) {
  out << "atproto-conformance report\n";
  out << "target:         " << visible(s.target) << "\n";
  out << "implementation: " << implementation_line(s) << "\n";
  out << "seed:           " << s.seed << " (replay with --seed " << s.seed << ")\n";
  out << "strict:         " << (s.strict ? "yes" : "no") << "\n";
  out << "cases:          " << s.results.size() << " in " << format_seconds(s.seconds) << " s\n";

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

// ---------------------------------------------------------------------------
// json

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

// ---------------------------------------------------------------------------
// junit

// XML character data or attribute value. visible() removes what XML 1.0
// cannot hold; in attributes, line breaks and tabs become character
// references so parsers keep them. `quotes` escapes quote characters in
// element text too (used for HTML).
std::string xml_escape(std::string_view s, bool attribute, bool quotes = false) {
  std::string text = visible(s, Breaks::kKeep);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += attribute || quotes ? "&quot;" : "\"";
        break;
      case '\'':
        out += attribute || quotes ? "&#39;" : "'";
        break;
      case '\n':
        out += attribute ? "&#10;" : "\n";
        break;
      case '\t':
        out += attribute ? "&#9;" : "\t";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string xml_attr(std::string_view s) { return xml_escape(s, true); }
std::string xml_text(std::string_view s) { return xml_escape(s, false); }

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

// ---------------------------------------------------------------------------
// tap

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

// ---------------------------------------------------------------------------
// html

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

}  // namespace

std::optional<ReportFormat> report_format_from_name(const std::string& name) {
  if (name == "text") return ReportFormat::kText;
  if (name == "json") return ReportFormat::kJson;
  if (name == "junit") return ReportFormat::kJunit;
  if (name == "tap") return ReportFormat::kTap;
  if (name == "html") return ReportFormat::kHtml;
  return std::nullopt;
}

void write_report(ReportFormat format, const RunSummary& summary, const Catalog& catalog,
                  std::ostream& out) {
  switch (format) {
    case ReportFormat::kText:
      write_text(summary, catalog, out);
      break;
    case ReportFormat::kJson:
      write_json(summary, catalog, out);
      break;
    case ReportFormat::kJunit:
      write_junit(summary, catalog, out);
      break;
    case ReportFormat::kTap:
      write_tap(summary, catalog, out);
      break;
    case ReportFormat::kHtml:
      write_html(summary, catalog, out);
      break;
  }
  out.flush();
}

void write_case_list(const std::vector<Case>& cases, std::ostream& out) {
  std::size_t id_w = 0;
  std::size_t kind_w = 0;
  for (const auto& c : cases) {
    id_w = std::max(id_w, visible(c.id).size());
    kind_w = std::max(kind_w, case_kind_name(c.kind).size());
  }
  for (const auto& c : cases) {
    std::string requirements;
    for (const auto& id : c.requirements) {
      if (!requirements.empty()) requirements += ',';
      requirements += visible(id);
    }
    if (requirements.empty()) requirements = "-";
    out << pad_right(visible(c.id), id_w) << "  "
        << pad_right(std::string(case_kind_name(c.kind)), kind_w) << "  "
        << pad_right(std::string(level_name(c.level)), 6) << "  " << requirements << "\n";
  }
}

}  // namespace atproto::conformance
