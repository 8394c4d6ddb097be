#include "atproto/repo/commit.hpp"

#include <array>
#include <string_view>

#include "atproto/data/cbor.hpp"
#include "atproto/data/cbor_view.hpp"
#include "atproto/syntax/did.hpp"
#include "atproto/syntax/tid.hpp"

namespace atproto::repo {

using data::Cid;
using data::Value;

data::Value unsigned_commit_value(const Commit& c) {
  // [repo.commit.fields] prev is written even when null.
  return data::Map{{"did", c.did},
                   {"version", c.version},
                   {"data", c.data},
                   {"rev", c.rev},
                   {"prev", c.prev ? Value(*c.prev) : Value(nullptr)}};
}

data::Value commit_value(const Commit& c) {
  Value v = unsigned_commit_value(c);
  v.as_map().emplace("sig", data::Bytes(c.sig));
  return v;
}

std::vector<std::uint8_t> encode_commit(const Commit& c) {
  // Only a string that is not UTF-8 can fail, and did/rev are validated
  // ASCII by the time a commit is encoded; fall back to empty on misuse.
  auto bytes = data::encode_cbor(commit_value(c));
  return bytes.ok() ? std::move(bytes).value() : std::vector<std::uint8_t>{};
}

namespace {

Error fields_error(const std::string& what) {
  return make_error("repo.commit.fields", "commit: " + what);
}

// The checks of decode_commit on a decoded block; only the six fields are
// copied out of the tape.
Result<Commit> commit_from_tape(const data::CborTape& tape) {
  const data::ValueView value = tape.root();
  if (!value.is_map()) return fields_error("not a map");
  const auto m = value.as_map();
  // [repo.commit.fields] Exactly the six fields of version 3. The strict
  // decoder enforced the canonical key order (shorter keys first, then
  // bytewise), so a commit's fields come in this order, read in one pass;
  // any other map is looked at field by field to name what is wrong.
  static constexpr std::array<std::string_view, 6> kCanonicalOrder{"did",  "rev",  "sig",
                                                                   "data", "prev", "version"};
  std::array<data::ValueView, 6> fields{value, value, value, value, value, value};
  std::size_t matched = 0;
  if (m.size() == kCanonicalOrder.size()) {
    for (const auto& [key, field] : m) {
      if (key != kCanonicalOrder[matched]) break;
      fields[matched++] = field;
    }
  }
  if (matched != kCanonicalOrder.size()) {
    for (const char* name : {"did", "version", "data", "rev", "prev", "sig"}) {
      if (!m.count(name)) return fields_error(std::string("missing field ") + name);
    }
    return fields_error("fields besides did, version, data, rev, prev, sig");
  }
  const auto& [did, rev, sig, data_link, prev, version] = fields;
  if (!did.is_string() || !version.is_integer() || !data_link.is_link() || !rev.is_string() ||
      !(prev.is_null() || prev.is_link()) || !sig.is_bytes()) {
    return fields_error("a field has the wrong type");
  }
  if (data_link.as_link().codec() != data::Codec::kDagCbor ||
      (prev.is_link() && prev.as_link().codec() != data::Codec::kDagCbor)) {
    return fields_error("data and prev must link to dag-cbor blocks");
  }
  // [repo.commit.version]
  if (version.as_integer() != kRepoVersion) {
    return make_error("repo.commit.version",
                      "commit version is " + std::to_string(version.as_integer()) + ", not 3");
  }
  // [repo.commit.rev]
  if (auto st = syntax::validate_tid(rev.as_string()); !st.ok()) {
    return make_error("repo.commit.rev", "commit rev is not a TID: " + st.error().message);
  }
  // [repo.commit.did]
  if (auto st = syntax::validate_did(did.as_string()); !st.ok()) {
    return make_error("repo.commit.did", "commit did is not a DID: " + st.error().message);
  }
  Commit c{std::string(did.as_string()),
           data_link.as_link(),
           std::string(rev.as_string()),
           prev.is_link() ? std::optional<Cid>(prev.as_link()) : std::nullopt,
           data::Bytes(sig.as_bytes().begin(), sig.as_bytes().end()),
           version.as_integer()};
  return c;
}

// The thread's tape for commit blocks: its room (13 entries for the six
// fields) is kept from block to block.
data::CborTape& commit_tape() {
  thread_local data::CborTape tape;
  return tape;
}

Error signature_error(const crypto::PublicKey& key, const Error& why) {
  return make_error("repo.commit.signature", "commit signature does not verify with " +
                                                 key.did_key() + " (" + why.code + ": " +
                                                 why.message + ")");
}

}  // namespace

Result<Commit> decode_commit(std::span<const std::uint8_t> bytes) {
  data::CborTape& tape = commit_tape();
  if (auto st = data::decode_cbor_view(bytes, tape); !st.ok()) return st.error();
  return commit_from_tape(tape);
}

Result<SignedCommit> decode_signed_commit(std::span<const std::uint8_t> bytes) {
  data::CborTape& tape = commit_tape();
  if (auto st = data::decode_cbor_view(bytes, tape); !st.ok()) return st.error();
  auto commit = commit_from_tape(tape);
  if (!commit.ok()) return commit.error();
  SignedCommit out{std::move(commit).value(), {}};
  // [repo.commit.signature] The signed bytes are the commit without `sig`.
  // The block passed strict decoding, so it is one canonical map of exactly
  // six entries (head 0xa6) and its `sig` entry is the key's one-byte text
  // head (0x63), "sig" and the byte string, contiguous: cutting that entry
  // and writing the head as five entries (0xa5) gives the canonical
  // encoding of the unsigned commit, byte for byte.
  const std::uint8_t* cut_begin = nullptr;
  const std::uint8_t* cut_end = nullptr;
  for (const auto& [key, value] : tape.root().as_map()) {
    if (key != "sig") continue;
    cut_begin = reinterpret_cast<const std::uint8_t*>(key.data()) - 1;
    cut_end = value.as_bytes().data() + value.as_bytes().size();
  }
  const std::uint8_t* const begin = bytes.data();
  const std::uint8_t* const end = begin + bytes.size();
  if (cut_begin != nullptr && bytes.front() == 0xa6 && cut_begin > begin && *cut_begin == 0x63 &&
      cut_end <= end) {
    thread_local data::Bytes unsigned_bytes;
    unsigned_bytes.clear();
    unsigned_bytes.push_back(0xa5);
    unsigned_bytes.insert(unsigned_bytes.end(), begin + 1, cut_begin);
    unsigned_bytes.insert(unsigned_bytes.end(), cut_end, end);
    out.unsigned_digest = data::sha256(unsigned_bytes);
  } else {
    // Not reachable for a block decode_commit accepts (the tests check the
    // two ways agree); encoding the fields again is always right.
    auto encoded = data::encode_cbor(unsigned_commit_value(out.commit));
    if (!encoded.ok()) return encoded.error();
    out.unsigned_digest = data::sha256(*encoded);
  }
  return out;
}

void sign_commit(Commit& commit, const crypto::PrivateKey& key) {
  // [repo.commit.signature] Sign the unsigned commit's canonical bytes.
  auto bytes = data::encode_cbor(unsigned_commit_value(commit));
  auto sig = key.sign(bytes.ok() ? *bytes : std::vector<std::uint8_t>{});
  commit.sig.assign(sig.begin(), sig.end());
}

Status verify_commit_signature(const Commit& commit, const crypto::PublicKey& key) {
  auto bytes = data::encode_cbor(unsigned_commit_value(commit));
  if (!bytes.ok()) return bytes.error();
  if (auto st = key.verify(*bytes, commit.sig); !st.ok()) return signature_error(key, st.error());
  return {};
}

Status verify_commit_signature(const Commit& commit, const data::Digest& unsigned_digest,
                               const crypto::PublicKey& key) {
  // [repo.commit.signature] [crypto.sig.sha256] The digest is already taken.
  if (auto st = key.verify_digest(unsigned_digest, commit.sig); !st.ok()) {
    return signature_error(key, st.error());
  }
  return {};
}

Result<std::string> next_rev(std::string_view previous, std::string_view candidate) {
  // [repo.commit.rev-increases]
  if (previous.empty() || candidate > previous) return std::string(candidate);
  auto n = syntax::tid_to_integer(previous);
  if (!n.ok()) return n.error();
  return syntax::tid_from_integer(*n + 1);
}

}  // namespace atproto::repo
