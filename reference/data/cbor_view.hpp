// DRISL-CBOR decoding without an owning tree: the fast path beside
// decode_cbor (cbor.hpp), for the callers that read a lot of data (MST
// nodes, commits, CAR headers, records under verification).
// Spec: https://atproto.com/specs/data-model#data-types
//
// decode_cbor_view checks exactly the rules decode_cbor checks, in the same
// order, and fails with the same error codes and messages (cbor.hpp lists
// them); tests run both decoders on generated, mutated and vector inputs and
// require the same verdict and, after to_value, the same value.
//
// Instead of a tree of owning Values it fills a flat tape: one 16-byte entry
// per data item in document order, a container followed by its items (a
// map by key, value, key, value...). Strings, byte strings and CIDs are views
// into the input, so the input must outlive the tape and every view of it.
// A CborTape reused across decodes keeps its capacity: steady-state decoding
// allocates nothing.
//
// One limit differs from decode_cbor: the tape records lengths in 32 bits,
// so inputs of 4 GiB or more are refused with data.limits.size even when
// DecodeLimits::max_input_bytes would allow them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "atproto/common/result.hpp"
#include "atproto/data/cbor.hpp"
#include "atproto/data/cid.hpp"
#include "atproto/data/value.hpp"

namespace atproto::data {

// One decoded data item. `length` is the byte length of a string, byte
// string or binary CID, or the item count of an array or map; `span` is the
// number of tape entries a container occupies, itself included.
struct TapeEntry {
  Kind kind;
  std::uint32_t length;
  union {
    std::int64_t integer;      // kInteger; kBool as 0 or 1
    const std::uint8_t* data;  // kString, kBytes, kLink (the binary CID)
    std::uint64_t span;        // kArray, kMap
  };
};

class ArrayView;
class MapView;

// A data model value on a tape: the same kinds and accessors as Value,
// but strings, byte strings and containers are views. Cheap to copy.
class ValueView {
 public:
  explicit ValueView(const TapeEntry* entry) : e_(entry) {}

  Kind kind() const { return e_->kind; }
  bool is_null() const { return kind() == Kind::kNull; }
  bool is_bool() const { return kind() == Kind::kBool; }
  bool is_integer() const { return kind() == Kind::kInteger; }
  bool is_string() const { return kind() == Kind::kString; }
  bool is_bytes() const { return kind() == Kind::kBytes; }
  bool is_link() const { return kind() == Kind::kLink; }
  bool is_array() const { return kind() == Kind::kArray; }
  bool is_map() const { return kind() == Kind::kMap; }

  // Accessors; like Value's, each is only for values of its kind.
  bool as_bool() const { return e_->integer != 0; }
  std::int64_t as_integer() const { return e_->integer; }
  std::string_view as_string() const {
    return {reinterpret_cast<const char*>(e_->data), e_->length};
  }
  std::span<const std::uint8_t> as_bytes() const { return {e_->data, e_->length}; }
  // The binary CID (a blessed one: the decoder checked it).
  std::span<const std::uint8_t> link_bytes() const { return {e_->data, e_->length}; }
  Cid as_link() const;
  ArrayView as_array() const;
  MapView as_map() const;

  // The value under `key` if this is a map holding it.
  std::optional<ValueView> find(std::string_view key) const;

  // The entry after this value and everything inside it.
  const TapeEntry* next() const {
    return (kind() == Kind::kArray || kind() == Kind::kMap) ? e_ + e_->span : e_ + 1;
  }
  const TapeEntry* entry() const { return e_; }

 private:
  const TapeEntry* e_;
};

// The items of an array, in order.
class ArrayView {
 public:
  class iterator {
   public:
    explicit iterator(const TapeEntry* e) : e_(e) {}
    ValueView operator*() const;
    iterator& operator++();
    friend bool operator==(const iterator& a, const iterator& b) { return a.e_ == b.e_; }

   private:
    const TapeEntry* e_;
  };

  ArrayView(const TapeEntry* first, const TapeEntry* end, std::size_t size)
      : first_(first), end_(end), size_(size) {}
  iterator begin() const { return iterator(first_); }
  iterator end() const { return iterator(end_); }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  const TapeEntry* first_;
  const TapeEntry* end_;
  std::size_t size_;
};

// The entries of a map, in the canonical key order of the input.
class MapView {
 public:
  class iterator {
   public:
    explicit iterator(const TapeEntry* e) : e_(e) {}
    std::pair<std::string_view, ValueView> operator*() const;
    iterator& operator++();
    friend bool operator==(const iterator& a, const iterator& b) { return a.e_ == b.e_; }

   private:
    const TapeEntry* e_;  // the key entry
  };

  MapView(const TapeEntry* first, const TapeEntry* end, std::size_t size)
      : first_(first), end_(end), size_(size) {}
  iterator begin() const { return iterator(first_); }
  iterator end() const { return iterator(end_); }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // The value under `key`, if present.
  std::optional<ValueView> find(std::string_view key) const;
  bool contains(std::string_view key) const { return find(key).has_value(); }
  // As std::map's: 1 or 0, and the value of a key known to be there
  // (std::bad_optional_access otherwise, a programming error).
  std::size_t count(std::string_view key) const { return contains(key) ? 1 : 0; }
  ValueView at(std::string_view key) const;

 private:
  const TapeEntry* first_;
  const TapeEntry* end_;
  std::size_t size_;
};

inline ArrayView ValueView::as_array() const { return {e_ + 1, e_ + e_->span, e_->length}; }
inline MapView ValueView::as_map() const { return {e_ + 1, e_ + e_->span, e_->length}; }
inline std::optional<ValueView> ValueView::find(std::string_view key) const {
  if (!is_map()) return std::nullopt;
  return as_map().find(key);
}
inline ValueView MapView::at(std::string_view key) const { return find(key).value(); }
inline ValueView ArrayView::iterator::operator*() const { return ValueView(e_); }
inline ArrayView::iterator& ArrayView::iterator::operator++() {
  e_ = ValueView(e_).next();
  return *this;
}
inline std::pair<std::string_view, ValueView> MapView::iterator::operator*() const {
  return {ValueView(e_).as_string(), ValueView(e_ + 1)};
}
inline MapView::iterator& MapView::iterator::operator++() {
  e_ = ValueView(e_ + 1).next();
  return *this;
}

// The entries of one decode. Reuse one tape for many decodes to keep its
// memory; root() is valid until the next decode into it.
class CborTape {
 public:
  ValueView root() const { return ValueView(entries_.data()); }
  std::size_t size() const { return entries_.size(); }
  std::vector<TapeEntry>& entries() { return entries_; }

 private:
  std::vector<TapeEntry> entries_;
};

// Strict decoding of exactly one DRISL-CBOR item onto `tape` (cleared first);
// the same rules, codes and messages as decode_cbor. On failure the tape's
// contents are unspecified.
Status decode_cbor_view(std::span<const std::uint8_t> bytes, CborTape& tape,
                        const DecodeLimits& limits = {});
// The same for the first item of `bytes` only, as decode_cbor_prefix:
// `consumed` is set to its length and bytes after it are left alone.
Status decode_cbor_view_prefix(std::span<const std::uint8_t> bytes, CborTape& tape,
                               std::size_t& consumed, const DecodeLimits& limits = {});

// The owning Value a view stands for (what decode_cbor returns for the same
// input).
Value to_value(ValueView view);

}  // namespace atproto::data
