// The tape decoder of cbor_view.hpp. It applies the rules of the strict
// decoder in cbor.cpp in the same order, so both fail alike on the same
// input; it differs in how it reads (pointers and one switch on the initial
// byte's major type) and in what it builds (tape entries, no allocations).
// Spec: https://atproto.com/specs/data-model#data-types and
// https://atproto.com/specs/data-model#link-and-cid-formats
#include "atproto/data/cbor_view.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <string>

#include "utf8.hpp"

namespace atproto::data {

Cid ValueView::as_link() const {
  // A blessed binary CID: 0x01, codec, 0x12, 0x20, then the 32-byte digest.
  Digest digest;
  std::memcpy(digest.data(), e_->data + 4, kSha256Size);
  return Cid(static_cast<Codec>(e_->data[1]), digest);
}

std::optional<ValueView> MapView::find(std::string_view key) const {
  // The decoder enforced the canonical key order (shorter first, then
  // bytewise), so the scan stops at the first key that sorts after `key`.
  for (const TapeEntry* e = first_; e != end_; e = ValueView(e + 1).next()) {
    if (e->length < key.size()) continue;
    if (e->length > key.size()) break;
    if (key.empty()) return ValueView(e + 1);
    if (e->data[0] != static_cast<std::uint8_t>(key[0])) {
      if (e->data[0] > static_cast<std::uint8_t>(key[0])) break;
      continue;
    }
    const int order = std::memcmp(e->data, key.data(), key.size());
    if (order == 0) return ValueView(e + 1);
    if (order > 0) break;
  }
  return std::nullopt;
}

namespace {

constexpr auto kMaxInt64 = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

class TapeDecoder {
 public:
  TapeDecoder(std::span<const std::uint8_t> in, std::vector<TapeEntry>& tape,
              const DecodeLimits& limits)
      : start_(in.data()),
        p_(in.data()),
        end_(in.data() + in.size()),
        tape_(tape),
        limits_(limits) {}

  // `consumed`: decode the first item only and say where it ends (a
  // prefix decode); null: the input must be exactly one item.
  Status run(std::size_t* consumed = nullptr) {
    if (!top(consumed)) return std::move(error_);
    return {};
  }

 private:
  const std::uint8_t* start_;
  const std::uint8_t* p_;
  const std::uint8_t* end_;
  std::vector<TapeEntry>& tape_;
  const DecodeLimits& limits_;
  std::size_t items_ = 0;
  // The first failure; the hot path returns plain bools and never builds
  // an Error (two strings) unless one is needed.
  Error error_;

  bool top(std::size_t* consumed) {
    const auto size = static_cast<std::size_t>(end_ - start_);
    // [data.limits.size] Oversized input is refused unread.
    if (size > limits_.max_input_bytes) {
      error_ = make_error("data.limits.size", "input of " + std::to_string(size) +
                                                  " bytes exceeds the limit of " +
                                                  std::to_string(limits_.max_input_bytes));
      return false;
    }
    if (size > std::numeric_limits<std::uint32_t>::max()) {
      error_ = make_error("data.limits.size", "input of " + std::to_string(size) +
                                                  " bytes is too large for a CBOR tape");
      return false;
    }
    if (!item(0)) return false;
    if (consumed != nullptr) {
      *consumed = static_cast<std::size_t>(p_ - start_);
      return true;
    }
    // [data.cbor.trailing-bytes] Exactly one item.
    if (p_ != end_) {
      return fail("data.cbor.trailing-bytes",
                  std::to_string(end_ - p_) + " bytes follow the data item");
    }
    return true;
  }

  std::size_t left() const { return static_cast<std::size_t>(end_ - p_); }

  // Records the failure at the current offset; always false.
  [[gnu::cold]] bool fail(const char* code, const std::string& what) {
    error_ = make_error(code, "CBOR at offset " + std::to_string(p_ - start_) + ": " + what);
    return false;
  }
  [[gnu::cold]] bool truncated() {
    return fail("data.cbor.truncated", "input ends inside a data item");
  }

  // [data.cbor.well-formed] [data.model.no-floats] [data.cbor.indefinite-length]
  // [data.cbor.simple-values] Of major type 7 only false, true and null
  // pass; the rest fail with the rule they break.
  [[gnu::noinline]] bool check_simple(std::uint8_t info) {
    if (info >= 28 && info <= 30) {
      return fail("data.cbor.well-formed", "reserved additional information value");
    }
    if (info >= 25 && info <= 27) {
      return fail("data.model.no-floats", "floating-point numbers are not allowed");
    }
    if (info == 31) {
      return fail("data.cbor.indefinite-length",
                  "stray break byte 0xff (indefinite lengths are not allowed)");
    }
    if (info < 20 || info > 22) {
      return fail("data.cbor.simple-values",
                  info == 23 ? "undefined is not allowed"
                             : "simple values other than false, true, null are not allowed");
    }
    return true;
  }

  // Reads the argument of a head of major type 0-6 whose initial byte is at
  // p_, leaving p_ after the head. [data.cbor.int-shortest]
  // [data.cbor.length-shortest] Only the shortest form is accepted.
  [[gnu::always_inline]] bool argument(std::uint8_t major, std::uint8_t info, std::uint64_t& arg) {
    if (info < 24) {
      ++p_;
      arg = info;
      return true;
    }
    return long_argument(major, info, arg);
  }

  // argument() for additional information 24 and up.
  [[gnu::noinline]] bool long_argument(std::uint8_t major, std::uint8_t info, std::uint64_t& arg) {
    if (info >= 28) {
      if (info != 31) {
        return fail("data.cbor.well-formed", "reserved additional information value");
      }
      if (major >= 2 && major <= 5) {
        return fail("data.cbor.indefinite-length", "indefinite-length items are not allowed");
      }
      return fail("data.cbor.well-formed", "additional information 31 on an integer or tag");
    }
    ++p_;
    const unsigned width = 1U << (info - 24);
    if (left() < width) return truncated();
    std::uint64_t v = 0;
    std::uint64_t least = 24;
    switch (width) {
      case 1:
        v = p_[0];
        break;
      case 2:
        v = (std::uint64_t{p_[0]} << 8) | p_[1];
        least = 0x100;
        break;
      case 4:
        for (unsigned i = 0; i < 4; ++i) v = (v << 8) | p_[i];
        least = 0x10000;
        break;
      default:
        for (unsigned i = 0; i < 8; ++i) v = (v << 8) | p_[i];
        least = 0x100000000;
        break;
    }
    p_ += width;
    if (v < least) {
      return major <= 1 ? fail("data.cbor.int-shortest", "integer is not in its shortest encoding")
                        : fail("data.cbor.length-shortest",
                               "length or tag number is not in its shortest encoding");
    }
    arg = v;
    return true;
  }

  // A full head: the simple-value checks for major type 7, else argument().
  [[gnu::always_inline]] bool head(std::uint8_t& major, std::uint64_t& arg) {
    if (p_ == end_) return truncated();
    const std::uint8_t ib = *p_;
    major = static_cast<std::uint8_t>(ib >> 5);
    const auto info = static_cast<std::uint8_t>(ib & 0x1f);
    if (major == 7) {
      if (!check_simple(info)) return false;
      ++p_;
      arg = info;
      return true;
    }
    return argument(major, info, arg);
  }

  // True when `s` is all ASCII, which is valid UTF-8 with no further
  // checks: most keys and record text. Reads whole words, even past a
  // short string's end when the input continues there (masked off).
  bool ascii(std::string_view s) const {
    constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;
    const char* p = s.data();
    const std::size_t n = s.size();
    std::uint64_t word = 0;
    if (n < 8) {
      if (end_ - reinterpret_cast<const std::uint8_t*>(p) < 8) {
        std::uint64_t bits = 0;
        for (std::size_t i = 0; i < n; ++i) bits |= static_cast<unsigned char>(p[i]);
        return (bits & 0x80) == 0;
      }
      std::memcpy(&word, p, 8);
      if (n == 0) return true;
      const std::uint64_t keep = ~std::uint64_t{0} >> (64 - 8 * n);
      word &= std::endian::native == std::endian::little ? keep : ~(~std::uint64_t{0} >> (8 * n));
      return (word & kHighBits) == 0;
    }
    std::uint64_t bits = 0;
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      std::memcpy(&word, p + i, 8);
      bits |= word;
    }
    if (i < n) {  // the last, partial word: the final eight bytes again
      std::memcpy(&word, p + n - 8, 8);
      bits |= word;
    }
    return (bits & kHighBits) == 0;
  }

  void push(Kind kind, std::uint32_t length, std::int64_t integer) {
    TapeEntry& e = tape_.emplace_back();
    e.kind = kind;
    e.length = length;
    e.integer = integer;
  }
  void push_data(Kind kind, std::uint32_t length, const std::uint8_t* data) {
    TapeEntry& e = tape_.emplace_back();
    e.kind = kind;
    e.length = length;
    e.data = data;
  }

  // [data.model.utf8] A text string of `length` bytes at p_, validated.
  bool text(std::uint64_t length) {
    if (length > left()) return truncated();
    std::string_view s(reinterpret_cast<const char*>(p_), static_cast<std::size_t>(length));
    if (!ascii(s) && !utf8::is_valid(s)) {
      return fail("data.model.utf8", "text string is not valid UTF-8");
    }
    push_data(Kind::kString, static_cast<std::uint32_t>(length), p_);
    p_ += length;
    return true;
  }

  // Inlined into the container loops, so scalars cost no call; array() and
  // map() stay out of line.
  [[gnu::always_inline]] bool item(std::size_t depth) {
    // [data.limits.size] At most max_items items.
    if (++items_ > limits_.max_items) {
      return fail("data.limits.size",
                  "more than " + std::to_string(limits_.max_items) + " data items");
    }
    std::uint8_t major = 0;
    std::uint64_t arg = 0;
    if (!head(major, arg)) return false;
    switch (major) {
      case 0:
        // [data.model.int64]
        if (arg > kMaxInt64)
          return fail("data.model.int64", "integer above the signed 64-bit range");
        push(Kind::kInteger, 0, static_cast<std::int64_t>(arg));
        return true;
      case 1:
        if (arg > kMaxInt64)
          return fail("data.model.int64", "integer below the signed 64-bit range");
        push(Kind::kInteger, 0, -1 - static_cast<std::int64_t>(arg));
        return true;
      case 2:
        if (arg > left()) return truncated();
        push_data(Kind::kBytes, static_cast<std::uint32_t>(arg), p_);
        p_ += arg;
        return true;
      case 3:
        return text(arg);
      case 4:
        return array(arg, depth + 1);
      case 5:
        return map(arg, depth + 1);
      case 6:
        return link(arg);
      default:
        if (arg == 22) {
          push(Kind::kNull, 0, 0);
        } else {
          push(Kind::kBool, 0, arg == 21 ? 1 : 0);
        }
        return true;
    }
  }

  bool deeper(std::size_t depth) {
    // [data.limits.depth]
    if (depth > limits_.max_depth) {
      return fail("data.limits.depth",
                  "nesting deeper than " + std::to_string(limits_.max_depth) + " levels");
    }
    return true;
  }

  [[gnu::noinline]] bool array(std::uint64_t count, std::size_t depth) {
    if (!deeper(depth)) return false;
    if (count > left()) return truncated();  // each item is at least a byte
    const std::size_t at = tape_.size();
    push(Kind::kArray, static_cast<std::uint32_t>(count), 0);
    for (std::uint64_t i = 0; i < count; ++i) {
      if (!item(depth)) return false;
    }
    tape_[at].span = tape_.size() - at;
    return true;
  }

  [[gnu::noinline]] bool map(std::uint64_t count, std::size_t depth) {
    if (!deeper(depth)) return false;
    if (count > left() / 2) return truncated();  // each entry is at least two bytes
    const std::size_t at = tape_.size();
    push(Kind::kMap, static_cast<std::uint32_t>(count), 0);
    const std::uint8_t* prev = nullptr;
    std::size_t prev_size = 0;
    for (std::uint64_t i = 0; i < count; ++i) {
      std::uint8_t major = 0;
      std::uint64_t size = 0;
      if (!head(major, size)) return false;
      // [data.cbor.map-key-string]
      if (major != 3) return fail("data.cbor.map-key-string", "map key is not a text string");
      const std::uint8_t* key = p_;
      if (!text(size)) return false;
      if (prev != nullptr) {
        // Length first, then bytes: [data.cbor.map-key-order]; equal keys
        // break [data.cbor.map-key-unique].
        int order = size == prev_size ? std::memcmp(prev, key, size) : (prev_size < size ? -1 : 1);
        if (order >= 0) {
          if (order == 0) {
            return fail("data.cbor.map-key-unique",
                        "duplicate map key \"" +
                            std::string(reinterpret_cast<const char*>(key), size) + "\"");
          }
          return fail("data.cbor.map-key-order", "map keys are not sorted by length then bytewise");
        }
      }
      prev = key;
      prev_size = static_cast<std::size_t>(size);
      if (!item(depth)) return false;
    }
    tape_[at].span = tape_.size() - at;
    return true;
  }

  [[gnu::noinline]] bool link(std::uint64_t tag) {
    // [data.cbor.tag-42-only]
    if (tag != 42) {
      return fail("data.cbor.tag-42-only",
                  "tag " + std::to_string(tag) + " is not allowed (only 42, for CIDs)");
    }
    // [data.cbor.cid-link] A byte string: 0x00, then a binary CID.
    if (p_ != end_ && (*p_ >> 5) != 2) {
      return fail("data.cbor.cid-link", "tag 42 must wrap a byte string");
    }
    std::uint8_t major = 0;
    std::uint64_t size = 0;
    if (!head(major, size)) return false;
    if (size > left()) return truncated();
    if (size == 0 || *p_ != 0x00) {
      return fail("data.cbor.cid-link", "tag 42 byte string must start with 0x00");
    }
    const std::uint8_t* cid = p_ + 1;
    const auto cid_size = static_cast<std::size_t>(size - 1);
    // The one form a blessed CID has (cid.hpp) passes at once; anything
    // else goes to Cid::from_bytes for its verdict and error.
    const bool blessed = cid_size == kCidBinarySize && cid[0] == 0x01 &&
                         (cid[1] == static_cast<std::uint8_t>(Codec::kDagCbor) ||
                          cid[1] == static_cast<std::uint8_t>(Codec::kRaw)) &&
                         cid[2] == kHashSha256 && cid[3] == kSha256Size;
    if (!blessed) {
      auto parsed = Cid::from_bytes({cid, cid_size});
      if (!parsed) return fail(parsed.error().code.c_str(), "tag 42: " + parsed.error().message);
    }
    push_data(Kind::kLink, static_cast<std::uint32_t>(cid_size), cid);
    p_ += size;
    return true;
  }
};

}  // namespace

Status decode_cbor_view(std::span<const std::uint8_t> bytes, CborTape& tape,
                        const DecodeLimits& limits) {
  tape.entries().clear();
  return TapeDecoder(bytes, tape.entries(), limits).run();
}

Status decode_cbor_view_prefix(std::span<const std::uint8_t> bytes, CborTape& tape,
                               std::size_t& consumed, const DecodeLimits& limits) {
  tape.entries().clear();
  return TapeDecoder(bytes, tape.entries(), limits).run(&consumed);
}

Value to_value(ValueView view) {
  switch (view.kind()) {
    case Kind::kNull:
      return Value(nullptr);
    case Kind::kBool:
      return Value(view.as_bool());
    case Kind::kInteger:
      return Value(view.as_integer());
    case Kind::kString:
      return Value(std::string(view.as_string()));
    case Kind::kBytes: {
      auto b = view.as_bytes();
      return Value(Bytes(b.begin(), b.end()));
    }
    case Kind::kLink:
      return Value(view.as_link());
    case Kind::kArray: {
      Array a;
      a.reserve(view.as_array().size());
      for (ValueView item : view.as_array()) a.push_back(to_value(item));
      return Value(std::move(a));
    }
    case Kind::kMap: {
      Map m;
      for (auto [key, item] : view.as_map()) m.emplace(std::string(key), to_value(item));
      return Value(std::move(m));
    }
  }
  return Value(nullptr);
}

}  // namespace atproto::data
