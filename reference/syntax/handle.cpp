// Handle syntax and usability checks.
// Spec: https://atproto.com/specs/handle
#include "atproto/syntax/handle.hpp"

#include <array>

#include "ascii.hpp"

namespace atproto::syntax {
namespace {

// [handle.disallowed-tld] TLDs that must fail registration and resolution.
constexpr std::array<std::string_view, 8> kDisallowedTlds = {
    "alt", "arpa", "example", "internal", "invalid", "local", "localhost", "onion"};

Error handle_error(std::string code, std::string_view input, std::string_view why) {
  return make_error(std::move(code),
                    "invalid handle " + ascii::quote(input) + ": " + std::string(why));
}

std::string_view last_segment(std::string_view handle) {
  std::size_t dot = handle.rfind('.');
  return dot == std::string_view::npos ? handle : handle.substr(dot + 1);
}

}  // namespace

Status validate_handle(std::string_view input) {
  // [handle.syntax.ascii] Checked first so that non-ASCII input (emoji,
  // accented letters, raw UTF-8) is reported as such.
  for (char c : input) {
    if (ascii::is_non_ascii(c)) {
      return handle_error("handle.syntax.ascii", input, "only ASCII characters are allowed");
    }
  }
  // [handle.syntax.max-length]
  if (input.size() > kHandleMaxLength) {
    return handle_error("handle.syntax.max-length", input, "longer than 253 characters");
  }
  // [handle.syntax.segments] At least two non-empty segments: this rejects
  // the empty string, bare TLDs, leading, trailing and doubled periods.
  std::size_t segments = 0;
  Status result;
  std::string_view last;
  ascii::split(input, '.', [&](std::string_view segment) {
    ++segments;
    last = segment;
    if (!result.ok()) return;
    if (segment.empty()) {
      result = handle_error("handle.syntax.segments", input,
                            "empty segment (leading, trailing or doubled period)");
      return;
    }
    // [handle.syntax.segment-length]
    if (segment.size() > 63) {
      result =
          handle_error("handle.syntax.segment-length", input, "segment longer than 63 characters");
      return;
    }
    // [handle.syntax.segment-chars] Letters, digits and hyphens only: this
    // also excludes whitespace, NUL, '@', '_' and every control character.
    for (char c : segment) {
      if (!ascii::is_alnum(c) && c != '-') {
        result = handle_error("handle.syntax.segment-chars", input,
                              "segments may only contain ASCII letters, digits and hyphens");
        return;
      }
    }
    // [handle.syntax.segment-hyphen]
    if (segment.front() == '-' || segment.back() == '-') {
      result = handle_error("handle.syntax.segment-hyphen", input,
                            "a segment may not start or end with a hyphen");
    }
  });
  if (!result.ok()) return result;
  if (segments < 2) {
    return handle_error("handle.syntax.segments", input, "at least two segments are required");
  }
  // [handle.syntax.tld-not-digit] Also what makes IPv4 addresses invalid.
  if (ascii::is_digit(last.front())) {
    return handle_error("handle.syntax.tld-not-digit", input,
                        "the last segment (TLD) may not start with a digit");
  }
  // [handle.syntax.reserved-tld-passes] Reserved TLDs are deliberately not
  // checked here; see check_handle_usable.
  return {};
}

Result<std::string> parse_handle(std::string_view input) {
  if (auto status = validate_handle(input); !status.ok()) return status.error();
  return normalize_handle(input);
}

// [handle.normalize.lowercase]
std::string normalize_handle(std::string_view handle) { return ascii::lowercase(handle); }

bool has_disallowed_tld(std::string_view handle) {
  std::string_view tld = last_segment(handle);
  for (std::string_view bad : kDisallowedTlds) {
    if (ascii::equals_ignore_case(tld, bad)) return true;
  }
  return false;
}

Status check_handle_usable(std::string_view input, HandleUsePolicy policy) {
  if (auto status = validate_handle(input); !status.ok()) return status;
  std::string handle = normalize_handle(input);
  // [handle.invalid-value] handle.invalid is a marker, never a real handle.
  if (handle == kInvalidHandle) {
    return handle_error("handle.invalid-value", input,
                        "handle.invalid marks an account without a verified handle");
  }
  // [handle.disallowed-tld]
  if (has_disallowed_tld(handle)) {
    return handle_error("handle.disallowed-tld", input,
                        "the TLD ." + std::string(last_segment(handle)) +
                            " is disallowed for registration and resolution");
  }
  // [handle.test-tld] .test is for development and testing setups only.
  if (!policy.allow_test_tld && last_segment(handle) == "test") {
    return handle_error("handle.test-tld", input, "the .test TLD is only allowed in development");
  }
  // [handle.practical-length] "_atproto." + handle must fit in 253 characters.
  if (handle.size() > kHandleMaxRegistrableLength) {
    return handle_error("handle.practical-length", input,
                        "longer than 244 characters, so the _atproto DNS name would not fit");
  }
  return {};
}

}  // namespace atproto::syntax
