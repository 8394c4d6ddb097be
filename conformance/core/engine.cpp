#include "engine.hpp"

namespace atproto::conformance::engine {

bool disagrees(const Verdict& v) {
  return v.state == Verdict::State::kMismatch || v.state == Verdict::State::kAdapterError;
}

bool answered(const Response& r, Verdict& v, const std::string& unsupported) {
  v.http_status = r.status;
  v.received = r.body.is_discarded() ? json(r.raw_body) : r.body;
  if (!r.transport_error.empty()) {
    v.state = Verdict::State::kAdapterError;
    v.message = "no answer from the adapter: " + r.transport_error;
    return false;
  }
  if (r.status == 501) {
    v.state = Verdict::State::kUnsupported;
    v.message = unsupported;
    return false;
  }
  return true;
}

const json* verdict_answer(const Response& r, Verdict& v) {
  if (!answered(r, v, "the adapter does not support this operation (HTTP 501)")) return nullptr;
  if (r.status == 404) {
    v.state = Verdict::State::kUnsupported;
    v.message = "the adapter does not support this operation (HTTP 404)";
    return nullptr;
  }
  const json& b = r.body;
  if (r.status != 200 || !b.is_object() || !b.contains("valid") || !b["valid"].is_boolean()) {
    v.state = Verdict::State::kAdapterError;
    v.message = "the adapter did not answer with a verdict (HTTP " + std::to_string(r.status) +
                ", expected 200 with {\"valid\": bool, ...})";
    return nullptr;
  }
  return &b;
}

void mutate_bytes(std::vector<std::uint8_t>& bytes, std::mt19937_64& rng, bool may_truncate) {
  const std::size_t pos = bytes.empty() ? 0 : rng() % bytes.size();
  switch (rng() % (may_truncate ? 5 : 4)) {
    case 0:
      if (!bytes.empty()) bytes[pos] = static_cast<std::uint8_t>(rng());
      break;
    case 1:
      if (!bytes.empty()) bytes[pos] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
      break;
    case 2:
      bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(pos),
                   static_cast<std::uint8_t>(rng()));
      break;
    case 3:
      if (!bytes.empty()) bytes.erase(bytes.begin() + static_cast<std::ptrdiff_t>(pos));
      break;
    default:
      // Cut the string short: truncation is the commonest transport fault.
      bytes.resize(pos);
      break;
  }
}

}  // namespace atproto::conformance::engine
