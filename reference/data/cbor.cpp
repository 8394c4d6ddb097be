// Canonical DRISL-CBOR encoder and strict decoder.
// Spec: https://atproto.com/specs/data-model#data-types and
// https://atproto.com/specs/data-model#link-and-cid-formats
#include "atproto/data/cbor.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <string_view>

#include "utf8.hpp"

namespace atproto::data {
namespace {

constexpr std::uint8_t kMajorUnsigned = 0;
constexpr std::uint8_t kMajorNegative = 1;
constexpr std::uint8_t kMajorBytes = 2;
constexpr std::uint8_t kMajorText = 3;
constexpr std::uint8_t kMajorArray = 4;
constexpr std::uint8_t kMajorMap = 5;
constexpr std::uint8_t kMajorTag = 6;
constexpr std::uint8_t kMajorSimple = 7;

constexpr std::uint64_t kTagCid = 42;
constexpr auto kInt64Max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

// Canonical map key order: shorter keys first, then bytewise.
bool key_less(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return a.size() < b.size();
  return a < b;  // std::string_view compares as unsigned bytes (char_traits<char>)
}

// ---------------------------------------------------------------------------
// Encoder

class Encoder {
 public:
  std::vector<std::uint8_t> out;

  // [data.cbor.int-shortest] [data.cbor.length-shortest] Every head uses the
  // smallest form that holds its argument.
  void head(std::uint8_t major, std::uint64_t arg) {
    auto m = static_cast<std::uint8_t>(major << 5);
    if (arg < 24) {
      out.push_back(static_cast<std::uint8_t>(m | arg));
    } else if (arg <= 0xff) {
      out.push_back(m | 24);
      put_be(arg, 1);
    } else if (arg <= 0xffff) {
      out.push_back(m | 25);
      put_be(arg, 2);
    } else if (arg <= 0xffffffff) {
      out.push_back(m | 26);
      put_be(arg, 4);
    } else {
      out.push_back(m | 27);
      put_be(arg, 8);
    }
  }

  Status value(const Value& v) {
    switch (v.kind()) {
      case Kind::kNull:
        out.push_back(0xf6);
        return {};
      case Kind::kBool:
        out.push_back(v.as_bool() ? 0xf5 : 0xf4);
        return {};
      case Kind::kInteger: {
        std::int64_t i = v.as_integer();
        if (i >= 0) {
          head(kMajorUnsigned, static_cast<std::uint64_t>(i));
        } else {
          head(kMajorNegative, static_cast<std::uint64_t>(-(i + 1)));
        }
        return {};
      }
      case Kind::kString:
        return text(v.as_string());
      case Kind::kBytes:
        head(kMajorBytes, v.as_bytes().size());
        out.insert(out.end(), v.as_bytes().begin(), v.as_bytes().end());
        return {};
      case Kind::kLink: {
        // [data.cbor.cid-link] Tag 42 over 0x00 followed by the binary CID.
        head(kMajorTag, kTagCid);
        head(kMajorBytes, kCidBinarySize + 1);
        out.push_back(0x00);
        v.as_link().append_bytes(out);
        return {};
      }
      case Kind::kArray:
        head(kMajorArray, v.as_array().size());
        for (const Value& item : v.as_array()) {
          if (auto s = value(item); !s) return s;
        }
        return {};
      case Kind::kMap: {
        // [data.cbor.map-key-order] Keys sorted by length, then bytewise.
        std::vector<const Map::value_type*> entries;
        entries.reserve(v.as_map().size());
        for (const auto& entry : v.as_map()) entries.push_back(&entry);
        std::sort(entries.begin(), entries.end(),
                  [](const auto* a, const auto* b) { return key_less(a->first, b->first); });
        head(kMajorMap, entries.size());
        for (const auto* entry : entries) {
          if (auto s = text(entry->first); !s) return s;
          if (auto s = value(entry->second); !s) return s;
        }
        return {};
      }
    }
    return {};
  }

 private:
  void put_be(std::uint64_t arg, int size) {
    for (int i = size - 1; i >= 0; --i) {
      out.push_back(static_cast<std::uint8_t>(arg >> (8 * i)));
    }
  }

  Status text(const std::string& s) {
    // [data.model.utf8] Text strings hold valid UTF-8 only.
    if (!utf8::is_valid(s)) {
      return make_error("data.model.utf8", "string is not valid UTF-8; cannot encode");
    }
    head(kMajorText, s.size());
    out.insert(out.end(), s.begin(), s.end());
    return {};
  }
};

// ---------------------------------------------------------------------------
// Decoder

struct Head {
  std::uint8_t major = 0;
  std::uint8_t info = 0;  // additional information (low 5 bits)
  std::uint64_t arg = 0;
};

class Decoder {
 public:
  Decoder(std::span<const std::uint8_t> in, const DecodeLimits& limits)
      : in_(in), limits_(limits) {}

  // The first item; with `consumed` set, what follows it is the caller's
  // (the body after a frame header) and its length goes there.
  Result<Value> top(std::size_t* consumed = nullptr) {
    // [data.limits.size] Refuse oversized input before reading any of it.
    if (in_.size() > limits_.max_input_bytes) {
      return make_error("data.limits.size", "input of " + std::to_string(in_.size()) +
                                                " bytes exceeds the limit of " +
                                                std::to_string(limits_.max_input_bytes));
    }
    auto v = item(0);
    if (!v) return v;
    if (consumed != nullptr) {
      *consumed = pos_;
      return v;
    }
    // [data.cbor.trailing-bytes] A block is exactly one data item.
    if (pos_ != in_.size()) {
      return error("data.cbor.trailing-bytes",
                   std::to_string(in_.size() - pos_) + " bytes follow the data item");
    }
    return v;
  }

 private:
  std::span<const std::uint8_t> in_;
  const DecodeLimits& limits_;
  std::size_t pos_ = 0;
  std::size_t items_ = 0;

  std::size_t remaining() const { return in_.size() - pos_; }

  Error error(const char* code, const std::string& what) const {
    return make_error(code, "CBOR at offset " + std::to_string(pos_) + ": " + what);
  }

  Error truncated() const {
    // [data.cbor.truncated] The input may not end inside an item.
    return error("data.cbor.truncated", "input ends inside a data item");
  }

  // Reads one head (initial byte and argument) with the checks that apply to
  // every major type: reserved values, indefinite lengths, floats and simple
  // values, and shortest form.
  Result<Head> head() {
    if (remaining() == 0) return truncated();
    std::uint8_t initial = in_[pos_];
    Head h;
    h.major = static_cast<std::uint8_t>(initial >> 5);
    h.info = static_cast<std::uint8_t>(initial & 0x1f);
    if (h.major == kMajorSimple && h.info >= 28 && h.info <= 30) {
      // [data.cbor.well-formed] Additional information 28-30 is reserved for
      // every major type, simple values included.
      return error("data.cbor.well-formed", "reserved additional information value");
    }
    if (h.major == kMajorSimple) {
      // [data.model.no-floats] No half (0xf9), single (0xfa) or double (0xfb) floats.
      if (h.info >= 25 && h.info <= 27) {
        return error("data.model.no-floats", "floating-point numbers are not allowed");
      }
      // [data.cbor.indefinite-length] A "break" only ends indefinite items.
      if (h.info == 31) {
        return error("data.cbor.indefinite-length",
                     "stray break byte 0xff (indefinite lengths are not allowed)");
      }
      // [data.cbor.simple-values] Only false (20), true (21) and null (22).
      if (h.info < 20 || h.info > 22) {
        return error("data.cbor.simple-values",
                     h.info == 23 ? "undefined is not allowed"
                                  : "simple values other than false, true, null are not allowed");
      }
      ++pos_;
      h.arg = h.info;
      return h;
    }
    if (h.info >= 28 && h.info <= 30) {
      // [data.cbor.well-formed] Additional information 28-30 is reserved.
      return error("data.cbor.well-formed", "reserved additional information value");
    }
    if (h.info == 31) {
      if (h.major >= kMajorBytes && h.major <= kMajorMap) {
        // [data.cbor.indefinite-length] Only definite lengths.
        return error("data.cbor.indefinite-length", "indefinite-length items are not allowed");
      }
      // [data.cbor.well-formed] Integers and tags have no indefinite form.
      return error("data.cbor.well-formed", "additional information 31 on an integer or tag");
    }
    ++pos_;
    if (h.info < 24) {
      h.arg = h.info;
      return h;
    }
    std::size_t size = std::size_t{1} << (h.info - 24);  // 1, 2, 4 or 8
    if (remaining() < size) return truncated();
    for (std::size_t i = 0; i < size; ++i) h.arg = (h.arg << 8) | in_[pos_++];
    // Shortest form: the argument would not fit the next smaller head.
    std::uint64_t smallest = h.info == 24 ? 24 : (std::uint64_t{1} << (8 * (size / 2)));
    if (h.arg < smallest) {
      if (h.major == kMajorUnsigned || h.major == kMajorNegative) {
        // [data.cbor.int-shortest]
        return error("data.cbor.int-shortest", "integer is not in its shortest encoding");
      }
      // [data.cbor.length-shortest]
      return error("data.cbor.length-shortest",
                   "length or tag number is not in its shortest encoding");
    }
    return h;
  }

  // The text string's bytes, checked and consumed; a view into the input.
  Result<std::string_view> text_body(const Head& h) {
    if (h.arg > remaining()) return truncated();
    std::string_view s(reinterpret_cast<const char*>(in_.data() + pos_),
                       static_cast<std::size_t>(h.arg));
    // [data.model.utf8] Text strings must be valid UTF-8.
    if (!utf8::is_valid(s)) return error("data.model.utf8", "text string is not valid UTF-8");
    pos_ += s.size();
    return s;
  }

  Result<Value> item(std::size_t depth) {
    // [data.limits.size] Bound the number of decoded items (and so memory).
    if (++items_ > limits_.max_items) {
      return error("data.limits.size",
                   "more than " + std::to_string(limits_.max_items) + " data items");
    }
    auto h = head();
    if (!h) return h.error();
    switch (h->major) {
      case kMajorUnsigned:
        // [data.model.int64] Integers are signed 64-bit.
        if (h->arg > kInt64Max) {
          return error("data.model.int64", "integer above the signed 64-bit range");
        }
        return Value(static_cast<std::int64_t>(h->arg));
      case kMajorNegative:
        // [data.model.int64] The value is -1 - arg, which must be >= INT64_MIN.
        if (h->arg > kInt64Max) {
          return error("data.model.int64", "integer below the signed 64-bit range");
        }
        return Value(-1 - static_cast<std::int64_t>(h->arg));
      case kMajorBytes: {
        if (h->arg > remaining()) return truncated();
        auto start = in_.begin() + static_cast<std::ptrdiff_t>(pos_);
        Bytes b(start, start + static_cast<std::ptrdiff_t>(h->arg));
        pos_ += b.size();
        return Value(std::move(b));
      }
      case kMajorText: {
        auto s = text_body(*h);
        if (!s) return s.error();
        return Value(std::string(*s));
      }
      case kMajorArray:
        return array(*h, depth + 1);
      case kMajorMap:
        return map(*h, depth + 1);
      case kMajorTag:
        return tag(*h);
      default:  // kMajorSimple: head() let through only false, true, null.
        if (h->arg == 20) return Value(false);
        if (h->arg == 21) return Value(true);
        return Value(nullptr);
    }
  }

  Status check_depth(std::size_t depth) const {
    // [data.limits.depth] Refuse deep nesting before recursing.
    if (depth > limits_.max_depth) {
      return error("data.limits.depth",
                   "nesting deeper than " + std::to_string(limits_.max_depth) + " levels");
    }
    return {};
  }

  Result<Value> array(const Head& h, std::size_t depth) {
    if (auto s = check_depth(depth); !s) return s.error();
    // Every item takes at least one byte: a larger count cannot be satisfied,
    // and checking first avoids a huge allocation.
    if (h.arg > remaining()) return truncated();
    Array a;
    a.reserve(static_cast<std::size_t>(h.arg));
    for (std::uint64_t i = 0; i < h.arg; ++i) {
      auto v = item(depth);
      if (!v) return v;
      a.push_back(std::move(v).value());
    }
    return Value(std::move(a));
  }

  Result<Value> map(const Head& h, std::size_t depth) {
    if (auto s = check_depth(depth); !s) return s.error();
    if (h.arg > remaining() / 2) return truncated();
    Map m;
    std::string_view previous;
    for (std::uint64_t i = 0; i < h.arg; ++i) {
      auto key_head = head();
      if (!key_head) return key_head.error();
      // [data.cbor.map-key-string] Map keys are text strings.
      if (key_head->major != kMajorText) {
        return error("data.cbor.map-key-string", "map key is not a text string");
      }
      auto key = text_body(*key_head);
      if (!key) return key.error();
      // Keys must strictly ascend; one comparison settles the common case,
      // and only a failure needs the second to tell which rule broke.
      if (i > 0 && !key_less(previous, *key)) {
        // [data.cbor.map-key-unique] No key appears twice.
        if (*key == previous) {
          return error("data.cbor.map-key-unique",
                       "duplicate map key \"" + std::string(*key) + "\"");
        }
        // [data.cbor.map-key-order] Keys ascend by length, then bytewise.
        return error("data.cbor.map-key-order", "map keys are not sorted by length then bytewise");
      }
      auto v = item(depth);
      if (!v) return v;
      previous = *key;
      m.emplace_hint(m.end(), std::string(*key), std::move(v).value());
    }
    return Value(std::move(m));
  }

  Result<Value> tag(const Head& h) {
    // [data.cbor.tag-42-only] The only tag is 42 (CID).
    if (h.arg != kTagCid) {
      return error("data.cbor.tag-42-only",
                   "tag " + std::to_string(h.arg) + " is not allowed (only 42, for CIDs)");
    }
    if (remaining() > 0 && (in_[pos_] >> 5) != kMajorBytes) {
      return error("data.cbor.cid-link", "tag 42 must wrap a byte string");
    }
    auto content = head();
    if (!content) return content.error();
    if (content->arg > remaining()) return truncated();
    auto bytes = in_.subspan(pos_, static_cast<std::size_t>(content->arg));
    // [data.cbor.cid-link] The byte string is 0x00 followed by a binary CID.
    if (bytes.empty() || bytes[0] != 0x00) {
      return error("data.cbor.cid-link", "tag 42 byte string must start with 0x00");
    }
    auto cid = Cid::from_bytes(bytes.subspan(1));
    if (!cid) return error(cid.error().code.c_str(), "tag 42: " + cid.error().message);
    pos_ += bytes.size();
    return Value(std::move(cid).value());
  }
};

}  // namespace

Result<std::vector<std::uint8_t>> encode_cbor(const Value& value) {
  Encoder encoder;
  if (auto s = encoder.value(value); !s) return s.error();
  return std::move(encoder.out);
}

Result<Value> decode_cbor(std::span<const std::uint8_t> bytes, const DecodeLimits& limits) {
  return Decoder(bytes, limits).top();
}

Result<Value> decode_cbor_prefix(std::span<const std::uint8_t> bytes, std::size_t& consumed,
                                 const DecodeLimits& limits) {
  return Decoder(bytes, limits).top(&consumed);
}

Result<Cid> cid_of(const Value& value) {
  auto bytes = encode_cbor(value);
  if (!bytes) return bytes.error();
  return Cid::compute(Codec::kDagCbor, *bytes);
}

}  // namespace atproto::data
