// The atproto data model: the values a record or message is made of.
// Spec: https://atproto.com/specs/data-model#data-types
//
// [data.model.null-distinct] A map field holding null, an absent field and
// false-y values (false, 0, empty array, empty map) are distinct values.
//
// Kinds: null, boolean, integer, string, bytes, cid-link, array, map. There
// are no floats [data.model.no-floats]. Integers are signed 64-bit
// [data.model.int64]; the spec advises keeping them within 53 bits so that
// JavaScript numbers hold them exactly, but that is advice for data authors,
// not a rule a decoder enforces (see kMaxSafeInteger). Map keys are always
// strings.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "atproto/data/cid.hpp"

namespace atproto::data {

class Value;

using Bytes = std::vector<std::uint8_t>;
using Array = std::vector<Value>;
// Keys in bytewise order here; the CBOR encoder applies the canonical
// length-first order itself.
using Map = std::map<std::string, Value>;

// The largest integer a JavaScript number represents exactly (2^53 - 1).
inline constexpr std::int64_t kMaxSafeInteger = (std::int64_t{1} << 53) - 1;

enum class Kind { kNull, kBool, kInteger, kString, kBytes, kLink, kArray, kMap };

const char* kind_name(Kind kind);

class Value {
 public:
  using Variant =
      std::variant<std::nullptr_t, bool, std::int64_t, std::string, Bytes, Cid, Array, Map>;

  Value() : v_(nullptr) {}
  Value(std::nullptr_t) : v_(nullptr) {}        // NOLINT: implicit
  Value(bool b) : v_(b) {}                      // NOLINT
  Value(std::int64_t i) : v_(i) {}              // NOLINT
  Value(int i) : v_(std::int64_t{i}) {}         // NOLINT
  Value(std::string s) : v_(std::move(s)) {}    // NOLINT
  Value(const char* s) : v_(std::string(s)) {}  // NOLINT
  Value(Bytes b) : v_(std::move(b)) {}          // NOLINT
  Value(Cid c) : v_(std::move(c)) {}            // NOLINT
  Value(Array a) : v_(std::move(a)) {}          // NOLINT
  Value(Map m) : v_(std::move(m)) {}            // NOLINT

  Kind kind() const { return static_cast<Kind>(v_.index()); }

  bool is_null() const { return kind() == Kind::kNull; }
  bool is_bool() const { return kind() == Kind::kBool; }
  bool is_integer() const { return kind() == Kind::kInteger; }
  bool is_string() const { return kind() == Kind::kString; }
  bool is_bytes() const { return kind() == Kind::kBytes; }
  bool is_link() const { return kind() == Kind::kLink; }
  bool is_array() const { return kind() == Kind::kArray; }
  bool is_map() const { return kind() == Kind::kMap; }

  // Accessors; calling the wrong one is a programming error (std::get throws).
  bool as_bool() const { return std::get<bool>(v_); }
  std::int64_t as_integer() const { return std::get<std::int64_t>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const Bytes& as_bytes() const { return std::get<Bytes>(v_); }
  const Cid& as_link() const { return std::get<Cid>(v_); }
  const Array& as_array() const { return std::get<Array>(v_); }
  Array& as_array() { return std::get<Array>(v_); }
  const Map& as_map() const { return std::get<Map>(v_); }
  Map& as_map() { return std::get<Map>(v_); }

  // The value under `key` if this is a map holding it, else nullptr.
  const Value* find(const std::string& key) const;

  const Variant& variant() const { return v_; }

  friend bool operator==(const Value& a, const Value& b) { return a.v_ == b.v_; }

 private:
  Variant v_;
};

}  // namespace atproto::data
