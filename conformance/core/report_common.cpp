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
//
// This file holds what the formats share; each format has its own
// report_<format>.cpp.
#include "exact_json.hpp"
#include "report.hpp"
#include "report_format.hpp"
#include "utf8.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>
#include <utility>

namespace atproto::conformance::report_detail {

// ---------------------------------------------------------------------------
// Bytes and characters

namespace {

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

}  // namespace

// The text with every byte that is not printable, well-formed UTF-8 written
// as a visible escape: control bytes and DEL as \xHH, bytes that are not
// UTF-8 as \xHH, U+FFFE/U+FFFF as \uFFFE/\uFFFF. The result is valid UTF-8
// holding no control characters other than (with kKeep) \n and \t.
std::string visible(std::string_view s, Breaks breaks) {
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

namespace {

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
  if (auto raw = raw_json_text(j)) {
    out += *raw;  // a number beyond 64 bits, or raw JSON text, as sent
  } else if (j.is_string()) {
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

}  // namespace

// JSON as people should see it: compact (indent < 0) or pretty.
std::string show(const json& j, int indent) {
  std::string out;
  show_to(out, j, indent, 0, false);
  return out;
}

// A suggested vector case, keys in reading order.
std::string show_vector(const json& j, int indent) {
  std::string out;
  show_to(out, j, indent, 0, true);
  return out;
}

// JSON for machines: never throws, invalid UTF-8 becomes U+FFFD.
std::string dump(const json& j, int indent) { return dump_json(j, indent); }

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

Totals totals(const RunSummary& s) {
  Totals t;
  for (const auto& r : s.results) {
    if (r.outcome == Outcome::kPass) ++t.passed;
    if (r.outcome == Outcome::kSkipped) ++t.skipped;
    if (outcome_fails_run(r.outcome, s.strict)) ++t.failed;
  }
  return t;
}

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

std::vector<RequirementGroup> requirement_groups(const RunSummary& s, const Catalog& catalog) {
  std::vector<RequirementGroup> groups;
  std::map<std::string, std::size_t> index;
  for (const auto& r : s.results) {
    if (!needs_attention(r.outcome)) continue;
    const Case& c = case_of(r);
    // The rule a failure names ("... breaks data.model.int64 ...") is the
    // root cause more often than the case's first citation.
    std::string at_stake;
    std::string token;
    const std::string& message = r.verdict.message;
    for (std::size_t i = 0; i <= message.size() && at_stake.empty(); ++i) {
      char ch = i < message.size() ? message[i] : ' ';
      bool part = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '-';
      if (part) {
        token += ch;
        continue;
      }
      while (!token.empty() && (token.back() == '.' || token.back() == '-')) token.pop_back();
      if (!token.empty() && catalog.find(token)) at_stake = token;
      token.clear();
    }
    if (at_stake.empty() && !c.requirements.empty()) at_stake = c.requirements.front();
    auto [it, added] = index.emplace(at_stake, groups.size());
    if (added) groups.push_back({at_stake, {}});
    groups[it->second].results.push_back(&r);
  }
  std::stable_sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) {
    return a.results.size() > b.results.size();
  });
  return groups;
}

std::string implementation_line(const RunSummary& s) {
  std::string name = s.target_name.empty() ? "(no name given)" : s.target_name;
  if (!s.target_version.empty()) name += " " + s.target_version;
  return visible(name);
}

// XML character data or attribute value. visible() removes what XML 1.0
// cannot hold; in attributes, line breaks and tabs become character
// references so parsers keep them. `quotes` escapes quote characters in
// element text too (used for HTML).
std::string xml_escape(std::string_view s, bool attribute, bool quotes) {
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

}  // namespace atproto::conformance::report_detail

namespace atproto::conformance {

using namespace report_detail;

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
