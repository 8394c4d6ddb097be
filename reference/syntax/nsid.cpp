// NSID syntax, normalization and glob patterns.
// Spec: https://atproto.com/specs/nsid
#include "atproto/syntax/nsid.hpp"

#include "ascii.hpp"

namespace atproto::syntax {
namespace {

Error nsid_error(std::string code, std::string_view input, std::string_view why) {
  return make_error(std::move(code),
                    "invalid NSID " + ascii::quote(input) + ": " + std::string(why));
}

// An authority segment: 1-63 letters, digits and hyphens, no hyphen at
// either end. `first` is the reversed TLD, which may not start with a digit.
Status check_authority_segment(std::string_view input, std::string_view segment, bool first) {
  // [nsid.authority.segment-length]
  if (segment.size() > kNsidSegmentMaxLength) {
    return nsid_error("nsid.authority.segment-length", input,
                      "authority segment longer than 63 characters");
  }
  // [nsid.authority.chars]
  for (char c : segment) {
    if (!ascii::is_alnum(c) && c != '-') {
      return nsid_error("nsid.authority.chars", input,
                        "authority segments may only contain ASCII letters, digits and hyphens");
    }
  }
  if (segment.front() == '-' || segment.back() == '-') {
    return nsid_error("nsid.authority.chars", input,
                      "authority segments may not start or end with a hyphen");
  }
  // [nsid.authority.tld-not-digit]
  if (first && ascii::is_digit(segment.front())) {
    return nsid_error("nsid.authority.tld-not-digit", input,
                      "the first segment may not start with a digit");
  }
  return {};
}

std::vector<std::string_view> split_segments(std::string_view input) {
  std::vector<std::string_view> out;
  ascii::split(input, '.', [&](std::string_view s) { out.push_back(s); });
  return out;
}

}  // namespace

std::string Nsid::authority_domain() const {
  std::string out;
  for (std::size_t i = segments.size() - 1; i-- > 0;) {
    out += segments[i];
    if (i != 0) out += '.';
  }
  return out;
}

std::string Nsid::to_string() const {
  std::string out;
  for (const auto& s : segments) {
    if (!out.empty()) out += '.';
    out += s;
  }
  return out;
}

Status validate_nsid(std::string_view input) {
  // [nsid.syntax.ascii]
  if (!ascii::all_ascii(input)) {
    return nsid_error("nsid.syntax.ascii", input, "only ASCII characters are allowed");
  }
  // [nsid.syntax.max-length]
  if (input.size() > kNsidMaxLength) {
    return nsid_error("nsid.syntax.max-length", input, "longer than 317 characters");
  }
  // [nsid.syntax.segments]
  std::vector<std::string_view> segments = split_segments(input);
  for (std::string_view s : segments) {
    if (s.empty()) {
      return nsid_error("nsid.syntax.segments", input,
                        "empty segment (leading, trailing or doubled period)");
    }
  }
  if (segments.size() < 3) {
    return nsid_error(
        "nsid.syntax.segments", input,
        "at least three segments (authority of two or more, then a name) are required");
  }
  // [nsid.authority.max-length] Everything before the last period.
  std::size_t authority_length = input.rfind('.');
  if (authority_length > kNsidAuthorityMaxLength) {
    return nsid_error("nsid.authority.max-length", input,
                      "the domain authority is longer than 253 characters");
  }
  for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
    if (auto status = check_authority_segment(input, segments[i], i == 0); !status.ok()) {
      return status;
    }
  }
  std::string_view name = segments.back();
  // [nsid.name.length]
  if (name.size() > kNsidSegmentMaxLength) {
    return nsid_error("nsid.name.length", input, "the name is longer than 63 characters");
  }
  // [nsid.name.chars] Letters and digits only, no leading digit.
  for (char c : name) {
    if (!ascii::is_alnum(c)) {
      return nsid_error("nsid.name.chars", input,
                        "the name may only contain ASCII letters and digits");
    }
  }
  if (ascii::is_digit(name.front())) {
    return nsid_error("nsid.name.chars", input, "the name may not start with a digit");
  }
  return {};
}

Result<Nsid> parse_nsid(std::string_view input) {
  if (auto status = validate_nsid(input); !status.ok()) return status.error();
  Nsid nsid;
  for (std::string_view s : split_segments(input)) nsid.segments.emplace_back(s);
  return nsid;
}

std::string normalize_nsid(std::string_view valid_nsid) {
  // [nsid.authority.normalize] [nsid.name.case-sensitive]
  std::size_t last_dot = valid_nsid.rfind('.');
  if (last_dot == std::string_view::npos) return std::string(valid_nsid);
  return ascii::lowercase(valid_nsid.substr(0, last_dot)) +
         std::string(valid_nsid.substr(last_dot));
}

Status validate_nsid_glob(std::string_view input) {
  // [nsid.glob]
  if (input == "*") return {};
  std::size_t star = input.find('*');
  if (star == std::string_view::npos) {
    if (auto status = validate_nsid(input); !status.ok()) {
      return nsid_error("nsid.glob", input, "not an NSID pattern (" + status.error().code + ")");
    }
    return {};
  }
  if (star != input.size() - 1) {
    return nsid_error("nsid.glob", input, "'*' may appear only once, as the last character");
  }
  if (star < 2 || input[star - 1] != '.') {
    return nsid_error("nsid.glob", input, "'*' must follow a period or stand alone");
  }
  if (!ascii::all_ascii(input) || input.size() > kNsidMaxLength) {
    return nsid_error("nsid.glob", input, "not an ASCII NSID prefix of at most 317 characters");
  }
  std::vector<std::string_view> segments = split_segments(input.substr(0, star - 1));
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (segments[i].empty()) return nsid_error("nsid.glob", input, "empty segment");
    if (auto status = check_authority_segment(input, segments[i], i == 0); !status.ok()) {
      return nsid_error("nsid.glob", input, "bad prefix segment (" + status.error().code + ")");
    }
  }
  return {};
}

bool nsid_glob_matches(std::string_view pattern, std::string_view nsid) {
  if (!validate_nsid_glob(pattern).ok() || !validate_nsid(nsid).ok()) return false;
  if (pattern == "*") return true;
  if (pattern.back() != '*') return pattern == nsid;
  std::string_view prefix = pattern.substr(0, pattern.size() - 1);  // keeps the '.'
  return nsid.size() > prefix.size() && nsid.substr(0, prefix.size()) == prefix;
}

}  // namespace atproto::syntax
