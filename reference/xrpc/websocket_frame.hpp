// The WebSocket frame header (RFC 6455 section 5.2), read and written by
// the client and the server side themselves once the opening handshake is
// done: both move many small messages, and cutting them out of (or
// gathering them into) large buffers saves a system call per message.
// Internal to the xrpc layer.
// https://atproto.com/specs/event-stream#streaming-wire-protocol-v0
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace atproto::xrpc::ws_frame {

constexpr std::uint8_t kContinuation = 0x0, kText = 0x1, kBinary = 0x2, kClose = 0x8, kPing = 0x9,
                       kPong = 0xA;
constexpr std::size_t kMaxHeaderBytes = 14;

struct Header {
  bool fin = false;
  bool rsv = false;  // any of the three reserved bits (no extension is negotiated)
  std::uint8_t opcode = 0;
  bool masked = false;
  std::uint8_t mask[4] = {0, 0, 0, 0};
  std::uint64_t length = 0;  // of the payload
  std::size_t size = 0;      // of the header
  bool control() const { return (opcode & 0x8) != 0; }
  // RFC 6455 sections 5.2 and 5.5: a known opcode; a control frame whole
  // and at most 125 bytes.
  bool well_formed() const {
    if (rsv) return false;
    if (control()) return opcode <= kPong && fin && length <= 125;
    return opcode <= kBinary;
  }
};

// The header at the start of `bytes`, or nullopt with `need` set to the
// bytes the header takes when they are not all there yet.
inline std::optional<Header> parse_header(std::span<const std::uint8_t> bytes, std::size_t& need) {
  need = 2;
  if (bytes.size() < 2) return std::nullopt;
  Header h;
  h.fin = (bytes[0] & 0x80) != 0;
  h.rsv = (bytes[0] & 0x70) != 0;
  h.opcode = bytes[0] & 0x0F;
  h.masked = (bytes[1] & 0x80) != 0;
  std::uint64_t length = bytes[1] & 0x7F;
  std::size_t extended = length == 126 ? 2 : length == 127 ? 8 : 0;
  need = 2 + extended + (h.masked ? 4 : 0);
  if (bytes.size() < need) return std::nullopt;
  if (extended > 0) {
    length = 0;
    for (std::size_t i = 0; i < extended; ++i) length = length << 8 | bytes[2 + i];
  }
  if (h.masked) {
    for (std::size_t i = 0; i < 4; ++i) h.mask[i] = bytes[2 + extended + i];
  }
  h.length = length;
  h.size = need;
  return h;
}

// Writes a final frame's header for a payload of `length` bytes into `out`
// (kMaxHeaderBytes of room), masked when `mask` is given; returns its size.
inline std::size_t write_header(std::uint8_t* out, std::uint8_t opcode, std::uint64_t length,
                                const std::uint8_t* mask = nullptr) {
  std::size_t n = 0;
  out[n++] = static_cast<std::uint8_t>(0x80 | opcode);
  const std::uint8_t mask_bit = mask ? 0x80 : 0x00;
  if (length < 126) {
    out[n++] = static_cast<std::uint8_t>(mask_bit | length);
  } else if (length <= 0xFFFF) {
    out[n++] = static_cast<std::uint8_t>(mask_bit | 126);
    out[n++] = static_cast<std::uint8_t>(length >> 8);
    out[n++] = static_cast<std::uint8_t>(length);
  } else {
    out[n++] = static_cast<std::uint8_t>(mask_bit | 127);
    for (int shift = 56; shift >= 0; shift -= 8)
      out[n++] = static_cast<std::uint8_t>(length >> shift);
  }
  if (mask) {
    for (int i = 0; i < 4; ++i) out[n++] = mask[i];
  }
  return n;
}

// A close code a peer may send (RFC 6455 section 7.4).
inline bool valid_close_code(std::uint16_t code) {
  if (code >= 3000 && code <= 4999) return true;
  return code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006;
}

}  // namespace atproto::xrpc::ws_frame
