// Independent, deliberately naive predicates written from the spec's rule
// lists, used by the fuzz targets as differential oracles: the reference
// implementation's verdict must equal the oracle's on every input.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fuzz::oracle {

constexpr std::string_view kDigits = "0123456789";
constexpr std::string_view kLower = "abcdefghijklmnopqrstuvwxyz";
constexpr std::string_view kAlpha = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
constexpr std::string_view kAlnum =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
constexpr std::string_view kBase32Sortable = "234567abcdefghijklmnopqrstuvwxyz";
constexpr std::string_view kBase32Lower = "abcdefghijklmnopqrstuvwxyz234567";

inline bool in(std::string_view alphabet, char c) {
  return c != '\0' && alphabet.find(c) != std::string_view::npos;
}

inline bool all_in(std::string_view s, std::string_view alphabet) {
  return std::all_of(s.begin(), s.end(), [&](char c) { return in(alphabet, c); });
}

inline std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    std::size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

// [tid.syntax.length] [tid.syntax.charset] [tid.syntax.first-char]
inline bool is_tid(std::string_view s) {
  return s.size() == 13 && in("234567abcdefghij", s[0]) && all_in(s, kBase32Sortable);
}

// The base32-sortable number a 13-character TID spells, modulo 2^64.
inline std::uint64_t tid_value(std::string_view s) {
  std::uint64_t v = 0;
  for (char c : s) v = (v << 5) | static_cast<std::uint64_t>(kBase32Sortable.find(c));
  return v;
}

// [rkey.syntax.chars] [rkey.syntax.length] [rkey.syntax.not-dot]
inline bool is_record_key(std::string_view s) {
  if (s.empty() || s.size() > 512 || s == "." || s == "..") return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return in(kAlnum, c) || in(".-_:~", c); });
}

inline bool is_dns_label(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(), [](char c) { return in(kAlnum, c) || c == '-'; });
}

// [handle.syntax.*]
inline bool is_handle(std::string_view s) {
  if (s.size() > 253) return false;
  auto labels = split(s, '.');
  if (labels.size() < 2) return false;
  for (auto label : labels) {
    if (!is_dns_label(label)) return false;
  }
  return !in(kDigits, labels.back().front());
}

// [nsid.syntax.*] [nsid.authority.*] [nsid.name.*]
inline bool is_nsid(std::string_view s) {
  if (s.size() > 317) return false;
  auto segments = split(s, '.');
  if (segments.size() < 3) return false;
  if (s.size() - segments.back().size() - 1 > 253) return false;
  for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
    if (!is_dns_label(segments[i])) return false;
  }
  if (in(kDigits, segments.front().front())) return false;
  auto name = segments.back();
  return !name.empty() && name.size() <= 63 && in(kAlpha, name.front()) && all_in(name, kAlnum);
}

// [did.syntax.*]
inline bool is_did(std::string_view s) {
  if (s.size() > 2048 || s.substr(0, 4) != "did:") return false;
  std::size_t colon = s.find(':', 4);
  if (colon == std::string_view::npos || colon == 4) return false;
  if (!all_in(s.substr(4, colon - 4), kLower)) return false;
  std::string_view id = s.substr(colon + 1);
  if (id.empty() || id.back() == ':' || id.back() == '%') return false;
  return std::all_of(id.begin(), id.end(), [](char c) { return in(kAlnum, c) || in("._:%-", c); });
}

// [did.plc.syntax]
inline bool is_did_plc(std::string_view s) {
  return s.size() == 32 && s.substr(0, 8) == "did:plc:" && all_in(s.substr(8), kBase32Lower);
}

// Decodes unpadded lowercase RFC 4648 base32. Also reports whether the
// unused low bits of the last character are zero (canonical encoding).
struct Base32Decoded {
  std::vector<std::uint8_t> bytes;
  bool canonical = true;
};
inline std::optional<Base32Decoded> base32_decode(std::string_view s) {
  Base32Decoded out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : s) {
    if (!in(kBase32Lower, c)) return std::nullopt;
    buffer = ((buffer << 5) | static_cast<std::uint32_t>(kBase32Lower.find(c))) & 0xfffu;
    bits += 5;
    if (bits >= 8) {
      out.bytes.push_back(static_cast<std::uint8_t>(buffer >> (bits - 8)));
      bits -= 8;
    }
  }
  // A valid unpadded length leaves fewer than 5 spare bits.
  if (bits >= 5) return std::nullopt;
  out.canonical = (buffer & ((1u << bits) - 1u)) == 0;
  return out;
}

// [lex.format.cid]; nullopt when the answer hinges on non-zero padding bits,
// which the spec does not settle.
inline std::optional<bool> is_cid(std::string_view s) {
  if (s.empty() || s[0] != 'b') return false;
  auto decoded = base32_decode(s.substr(1));
  if (!decoded) return false;
  const auto& b = decoded->bytes;
  bool shape = b.size() == 36 && b[0] == 0x01 && (b[1] == 0x71 || b[1] == 0x55) && b[2] == 0x12 &&
               b[3] == 0x20;
  if (!shape) return false;
  if (!decoded->canonical) return std::nullopt;
  return true;
}

inline std::string base32_encode(const std::vector<std::uint8_t>& bytes) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::uint8_t byte : bytes) {
    buffer = ((buffer << 8) | byte) & 0xffffu;
    bits += 8;
    while (bits >= 5) {
      out += kBase32Lower[(buffer >> (bits - 5)) & 31u];
      bits -= 5;
    }
  }
  if (bits > 0) out += kBase32Lower[(buffer << (5 - bits)) & 31u];
  return out;
}

}  // namespace fuzz::oracle
