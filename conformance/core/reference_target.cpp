// The reference implementation behind the adapter protocol.
#include <algorithm>

#include "atproto/syntax/format.hpp"
#include "target.hpp"

namespace atproto::conformance {
namespace {

Response answer(int status, json body) {
  Response r;
  r.status = status;
  r.raw_body = body.dump();
  r.body = std::move(body);
  return r;
}

Response bad_request(const std::string& why) { return answer(400, json{{"error", why}}); }

Response syntax_validate(const json& request) {
  if (!request.is_object() || !request.contains("type") || !request["type"].is_string() ||
      !request.contains("value") || !request["value"].is_string()) {
    return bad_request("syntax/validate needs string fields \"type\" and \"value\"");
  }
  const auto& type = request["type"].get_ref<const std::string&>();
  if (!syntax::string_format_from_name(type)) {
    return answer(501, json{{"error", "unsupported type: " + type}});
  }
  auto status = syntax::validate_string_format(type, request["value"].get_ref<const std::string&>());
  json body{{"valid", status.ok()}};
  // Extension (protocol v0 allows extra fields): the rule that was broken.
  if (!status.ok()) body["error"] = status.error().code;
  return answer(200, std::move(body));
}

class ReferenceTarget final : public Target {
 public:
  std::string description() const override { return "reference (in-process)"; }
  Response capabilities() override {
    return answer(200, json{{"name", "atproto-cpp reference"},
                            {"version", "0.1.0"},
                            {"operations", reference_operations()}});
  }
  Response call(const std::string& operation, const json& request) override {
    return reference_dispatch(operation, request);
  }
  std::string reproduce_command(const std::string&, const json&) const override { return ""; }
};

}  // namespace

bool Capabilities::supports(const std::string& operation) const {
  return std::find(operations.begin(), operations.end(), operation) != operations.end();
}

const std::vector<std::string>& reference_operations() {
  static const std::vector<std::string> kOperations = {"syntax/validate"};
  return kOperations;
}

Response reference_dispatch(const std::string& operation, const json& request) {
  if (operation == "syntax/validate") return syntax_validate(request);
  return answer(404, json{{"error", "unsupported operation: " + operation}});
}

std::unique_ptr<Target> make_reference_target() { return std::make_unique<ReferenceTarget>(); }

}  // namespace atproto::conformance
