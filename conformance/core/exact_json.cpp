#include "exact_json.hpp"

#include <set>
#include <vector>

namespace atproto::conformance {
namespace {

// Starts every raw_json() string. NUL and SOH make a clash with a real
// value unlikely; raw_json_text() also checks that the rest is JSON.
constexpr std::string_view kRawPrefix{"\0\1raw-json:", 11};

bool is_integer_literal(std::string_view s) {
  if (!s.empty() && s.front() == '-') s.remove_prefix(1);
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Builds the value like nlohmann's DOM parser, except for the number_float
// event of an integer literal (one that does not fit 64 bits) and the
// bookkeeping of keys per object.
class ExactSax {
 public:
  ExactSax(json& root, BigNumbers numbers) : root_(root), numbers_(numbers) {}

  bool null() { return put(json(nullptr)); }
  bool boolean(bool b) { return put(json(b)); }
  bool number_integer(json::number_integer_t n) { return put(json(n)); }
  bool number_unsigned(json::number_unsigned_t n) { return put(json(n)); }
  bool number_float(json::number_float_t n, const std::string& text) {
    if (numbers_ == BigNumbers::kKeepText && is_integer_literal(text)) return put(raw_json(text));
    return put(json(n));
  }
  bool string(std::string& s) { return put(json(std::move(s))); }
  bool binary(json::binary_t& b) { return put(json::binary(std::move(b))); }
  bool start_object(std::size_t) {
    open_.push_back(place(json::object()));
    keys_.emplace_back();
    return true;
  }
  bool key(std::string& k) {
    if (!keys_.back().insert(k).second) duplicate_key = true;
    key_ = k;
    return true;
  }
  bool end_object() {
    open_.pop_back();
    keys_.pop_back();
    return true;
  }
  bool start_array(std::size_t) {
    open_.push_back(place(json::array()));
    return true;
  }
  bool end_array() {
    open_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const json::exception&) {
    failed = true;
    return false;
  }

  bool duplicate_key = false;
  bool failed = false;

 private:
  // Puts v where the parser is and returns where it went.
  json* place(json v) {
    if (open_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    json& parent = *open_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(v));
      return &parent.back();
    }
    json& slot = parent[key_];
    slot = std::move(v);
    return &slot;
  }
  bool put(json v) {
    place(std::move(v));
    return true;
  }

  json& root_;
  BigNumbers numbers_;
  std::vector<json*> open_;  // containers being filled, innermost last
  std::vector<std::set<std::string>> keys_;
  std::string key_;
};

void write(std::string& out, const json& j, int indent, int depth) {
  if (auto raw = raw_json_text(j)) {
    out += *raw;
    return;
  }
  auto newline = [&](int level) {
    if (indent < 0) return;
    out += '\n';
    out.append(static_cast<std::size_t>(indent * level), ' ');
  };
  if (j.is_object() && !j.empty()) {
    out += '{';
    bool first = true;
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!first) out += ',';
      first = false;
      newline(depth + 1);
      out += json(it.key()).dump(-1, ' ', false, json::error_handler_t::replace);
      out += indent < 0 ? ":" : ": ";
      write(out, it.value(), indent, depth + 1);
    }
    newline(depth);
    out += '}';
  } else if (j.is_array() && !j.empty()) {
    out += '[';
    bool first = true;
    for (const auto& e : j) {
      if (!first) out += ',';
      first = false;
      newline(depth + 1);
      write(out, e, indent, depth + 1);
    }
    newline(depth);
    out += ']';
  } else {
    out += j.dump(-1, ' ', false, json::error_handler_t::replace);
  }
}

bool plain_key(const std::string& key) {
  if (key.empty()) return false;
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '$';
    if (!ok) return false;
  }
  return true;
}

std::optional<std::string> difference_at(const json& got, const json& want,
                                         const std::string& path) {
  if (got == want) return std::nullopt;
  if (got.is_object() && want.is_object()) {
    std::set<std::string> keys;
    for (auto it = got.begin(); it != got.end(); ++it) keys.insert(it.key());
    for (auto it = want.begin(); it != want.end(); ++it) keys.insert(it.key());
    for (const auto& k : keys) {
      std::string at = plain_key(k) ? path + "." + k : path + "[" + dump_json(json(k)) + "]";
      if (!got.contains(k) || !want.contains(k)) return at;
      if (auto d = difference_at(got[k], want[k], at)) return d;
    }
    return path;
  }
  if (got.is_array() && want.is_array()) {
    std::size_t n = std::min(got.size(), want.size());
    for (std::size_t i = 0; i < n; ++i) {
      if (auto d = difference_at(got[i], want[i], path + "[" + std::to_string(i) + "]")) return d;
    }
    return path + "[" + std::to_string(n) + "]";
  }
  return path;
}

}  // namespace

json raw_json(std::string_view text) {
  std::string s(kRawPrefix);
  s += text;
  return json(std::move(s));
}

std::optional<std::string_view> raw_json_text(const json& j) {
  if (!j.is_string()) return std::nullopt;
  std::string_view s = j.get_ref<const std::string&>();
  if (s.substr(0, kRawPrefix.size()) != kRawPrefix) return std::nullopt;
  s.remove_prefix(kRawPrefix.size());
  if (!json::accept(s)) return std::nullopt;
  return s;
}

bool contains_raw_json(const json& j) {
  if (j.is_string()) return raw_json_text(j).has_value();
  if (j.is_structured()) {
    for (const auto& e : j) {
      if (contains_raw_json(e)) return true;
    }
  }
  return false;
}

ParsedJson parse_json(std::string_view text, BigNumbers numbers) {
  ParsedJson out;
  ExactSax sax(out.value, numbers);
  bool ok = false;
  try {
    ok = json::sax_parse(text, &sax) && !sax.failed;
  } catch (const json::exception&) {
    ok = false;
  }
  if (!ok) {
    out.value = json(json::value_t::discarded);
    return out;
  }
  out.duplicate_key = sax.duplicate_key;
  return out;
}

std::string dump_json(const json& j, int indent) {
  std::string out;
  write(out, j, indent, 0);
  return out;
}

std::optional<std::string> first_difference(const json& got, const json& want) {
  return difference_at(got, want, "$");
}

}  // namespace atproto::conformance
