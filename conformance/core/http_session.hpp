// What every service suite (plc-directory, pds, relay) keeps of one case:
// its HTTP exchanges with the service under test, checked one by one, and the
// first failure with the exchange it happened on. A suite derives its own
// Session from HttpSession and adds the requests its service takes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model.hpp"
#include "suites.hpp"
#include "target.hpp"

namespace atproto::conformance {

// One HTTP answer as a suite reads it.
struct HttpAnswer {
  int status = 0;
  std::string content_type;
  std::string text;
  json headers = json::object();
  json body;  // null when not JSON
  bool accepted() const { return status >= 200 && status < 300; }
  bool client_error() const { return status >= 400 && status < 500; }
  std::string header(const std::string& name) const { return headers.value(name, ""); }
  // The XRPC error name of the body, or "".
  std::string error() const {
    return body.is_object() && body.contains("error") && body["error"].is_string()
               ? body["error"].get<std::string>()
               : "";
  }
  std::vector<std::uint8_t> bytes() const { return {text.begin(), text.end()}; }
};

// A service suite's case, all but its run: id "<suite>.<id>", graded at the
// strongest level of its requirements unless `level` says otherwise.
inline Case service_case(const Catalog& catalog, const std::string& suite, const std::string& id,
                         std::vector<std::string> requirements, const std::string& operation,
                         const std::string& description, std::optional<Level> level = {}) {
  Case c;
  c.id = suite + "." + id;
  c.suite = suite;
  c.kind = CaseKind::kService;
  c.level = level ? *level : strongest_level(catalog, requirements);
  c.requirements = std::move(requirements);
  c.operation = operation;
  c.description = description;
  return c;
}

class HttpSession {
 public:
  // `http_operation`: the target operation HTTP exchanges go through (what
  // a verdict names); `service`: how messages name the service ("the PDS").
  HttpSession(Target& target, std::string http_operation, std::string service)
      : target_(target),
        service_(std::move(service)),
        http_operation_(std::move(http_operation)),
        last_operation_(http_operation_) {}

  Target& target() { return target_; }

  // Records an HTTP exchange (made here or elsewhere) and reads its answer.
  HttpAnswer note(const json& sent, const Response& r) {
    last_operation_ = http_operation_;
    last_sent_ = sent;
    HttpAnswer h;
    if (!transport_ok(sent, r)) return h;
    h.status = r.status;
    h.text = r.raw_body;
    h.content_type = r.body.value("content_type", "");
    h.headers = r.body.value("headers", json::object());
    h.body = r.body.contains("json") ? r.body["json"] : json();
    received(h.status, h.body.is_null() ? json(h.text.substr(0, 2000)) : h.body);
    return h;
  }

  // True when `ok`; otherwise records the first failure (with the last
  // exchange) and returns false so the case can stop.
  bool check(bool ok, const std::string& message, json expected = nullptr) {
    if (ok && !failed_) return true;
    if (!failed_) {
      failed_ = true;
      verdict_.state = Verdict::State::kMismatch;
      verdict_.message = message;
      verdict_.operation = last_operation_;
      verdict_.sent = last_sent_;
      verdict_.expected = std::move(expected);
      verdict_.received = last_received_;
      verdict_.http_status = last_status_;
    }
    return false;
  }
  bool failed() const { return failed_; }

  bool accepted(const HttpAnswer& h, const std::string& what) {
    return check(h.accepted(),
                 what + " was not accepted (HTTP " + std::to_string(h.status) +
                     (h.error().empty() ? "" : " " + h.error()) + ")",
                 "a 2xx status");
  }
  bool status(const HttpAnswer& h, int want, const std::string& what) {
    return check(h.status == want,
                 what + ": HTTP " + std::to_string(h.status) + ", want " + std::to_string(want),
                 want);
  }

  // The case cannot run against this service (a feature it does not offer).
  void unsupported(const std::string& message) {
    if (failed_) return;
    failed_ = true;
    verdict_.state = Verdict::State::kUnsupported;
    verdict_.message = message;
  }

  Verdict verdict() {
    verdict_.calls = calls_;
    if (!failed_) {
      verdict_.state = Verdict::State::kPass;
      verdict_.operation = last_operation_;
    }
    return verdict_;
  }

 protected:
  // False, recording an adapter error, when the exchange got no answer.
  bool transport_ok(const json& sent, const Response& r) {
    if (r.transport_error.empty()) return true;
    if (!failed_) {
      failed_ = true;
      verdict_.state = Verdict::State::kAdapterError;
      verdict_.message = "no answer from " + service_ + ": " + r.transport_error;
      verdict_.operation = last_operation_;
      verdict_.sent = sent;
    }
    return false;
  }
  // Records what came back, for the verdict of a later failed check.
  void received(int status, json what) {
    last_status_ = status;
    last_received_ = std::move(what);
    ++calls_;
  }
  // Records what was sent through another operation than HTTP.
  void sent(const json& what, const std::string& operation) {
    last_sent_ = what;
    last_operation_ = operation;
  }

 private:
  Target& target_;
  std::string service_;
  std::string http_operation_;
  Verdict verdict_;
  bool failed_ = false;
  json last_sent_;
  json last_received_;
  std::string last_operation_;
  int last_status_ = 0;
  std::uint64_t calls_ = 0;
};

}  // namespace atproto::conformance
