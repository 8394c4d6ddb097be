// The "interop" suite: replays a checkout of the official
// bluesky-social/atproto-interop-tests files through the adapter. The
// project does not ship those files; users point --interop-tests at theirs.
//
// Text files under syntax/ hold one value per line ('#' comments and blank
// lines are skipped). The file name gives type and verdict:
//   <type>_syntax_valid.txt, <type>_syntax_invalid.txt, <type>_parse_invalid.txt
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "atproto/syntax/format.hpp"
#include "suites.hpp"
#include "utf8.hpp"

namespace atproto::conformance {
namespace {

namespace fs = std::filesystem;

// The interop file prefixes, mapped to our Lexicon format names.
const std::map<std::string, std::string>& interop_types() {
  static const std::map<std::string, std::string> kTypes = {{"aturi", "at-uri"},
                                                            {"at_uri", "at-uri"},
                                                            {"atidentifier", "at-identifier"},
                                                            {"at_identifier", "at-identifier"},
                                                            {"cid", "cid"},
                                                            {"datetime", "datetime"},
                                                            {"did", "did"},
                                                            {"handle", "handle"},
                                                            {"language", "language"},
                                                            {"nsid", "nsid"},
                                                            {"recordkey", "record-key"},
                                                            {"record_key", "record-key"},
                                                            {"tid", "tid"},
                                                            {"uri", "uri"}};
  return kTypes;
}

}  // namespace

std::vector<Case> build_interop_suite(const SuiteSources& sources, std::string& error) {
  std::vector<Case> cases;
  if (sources.interop_tests_dir.empty()) return cases;
  fs::path dir = fs::path(sources.interop_tests_dir) / "syntax";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    error = "no syntax/ folder in the interop tests checkout " + sources.interop_tests_dir;
    return cases;
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".txt") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::string stem = path.stem().string();
    bool valid;
    std::string prefix;
    if (stem.size() > 13 && stem.ends_with("_syntax_valid")) {
      valid = true;
      prefix = stem.substr(0, stem.size() - 13);
    } else if (stem.size() > 15 && stem.ends_with("_syntax_invalid")) {
      valid = false;
      prefix = stem.substr(0, stem.size() - 15);
    } else if (stem == "datetime_parse_invalid") {
      // Datetimes that look right but name no real moment: the Lexicon
      // datetime format rejects them. (Other *_parse_invalid files concern
      // method-level parsing that syntax/validate does not cover.)
      valid = false;
      prefix = "datetime";
    } else {
      continue;
    }
    auto type_it = interop_types().find(prefix);
    if (type_it == interop_types().end()) continue;
    const std::string type = type_it->second;
    std::ifstream in(path);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
      ++number;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty() || line[0] == '#') continue;
      Case c;
      // Stable across edits of other lines: the id hashes the value itself.
      c.id = "interop.syntax." + stem + "." + stable_hash_hex(line, 12);
      c.suite = "interop";
      c.kind = CaseKind::kInterop;
      c.level = Level::kMust;
      c.operation = "syntax/validate";
      c.description = (valid ? "accept " : "reject ") + type + " " +
                      json(line).dump(-1, ' ', false, json::error_handler_t::replace) + " (" +
                      path.filename().string() + ":" + std::to_string(number) + ")";
      c.run = [type, value = line, valid](RunContext& ctx) {
        Verdict v;
        json request{{"type", type}, {"value", value}};
        if (!is_valid_utf8(value)) {
          // The protocol carries values as JSON strings.
          v.state = Verdict::State::kUnsupported;
          v.message = "the line is not valid UTF-8, so it cannot be sent as a JSON string";
          return v;
        }
        Response r = ctx.target.call("syntax/validate", request);
        v.operation = "syntax/validate";
        v.sent = request;
        v.http_status = r.status;
        v.received = r.body.is_discarded() ? json(r.raw_body) : r.body;
        v.expected = json{{"valid", valid}};
        v.calls = 1;
        if (!r.transport_error.empty()) {
          v.state = Verdict::State::kAdapterError;
          v.message = "no answer from the adapter: " + r.transport_error;
        } else if (r.status == 501) {
          v.state = Verdict::State::kUnsupported;
          v.message = "the adapter answered 501 for type " + type;
        } else if (r.status != 200 || !r.body.is_object() || !r.body.contains("valid") ||
                   !r.body["valid"].is_boolean()) {
          v.state = Verdict::State::kAdapterError;
          v.message =
              "the adapter did not answer with a verdict (HTTP " + std::to_string(r.status) + ")";
        } else if (r.body["valid"].get<bool>() != valid) {
          v.state = Verdict::State::kMismatch;
          v.message = std::string("the interop tests expect the ") + type + " to be " +
                      (valid ? "accepted" : "rejected");
        }
        return v;
      };
      cases.push_back(std::move(c));
    }
  }
  if (cases.empty()) error = "no usable interop test files in " + dir.string();
  return cases;
}

}  // namespace atproto::conformance
