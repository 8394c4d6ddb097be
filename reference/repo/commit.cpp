#include "atproto/repo/commit.hpp"

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

}  // namespace

Result<Commit> decode_commit(std::span<const std::uint8_t> bytes) {
  // The tape decoder: only the six fields are copied out. Room for them
  // (13 entries) from the start, so the tape does not grow by doubling.
  data::CborTape tape;
  tape.entries().reserve(16);
  if (auto st = data::decode_cbor_view(bytes, tape); !st.ok()) return st.error();
  const data::ValueView value = tape.root();
  if (!value.is_map()) return fields_error("not a map");
  const auto m = value.as_map();
  // [repo.commit.fields] Exactly the six fields of version 3.
  for (const char* name : {"did", "version", "data", "rev", "prev", "sig"}) {
    if (!m.count(name)) return fields_error(std::string("missing field ") + name);
  }
  if (m.size() != 6) return fields_error("fields besides did, version, data, rev, prev, sig");
  const auto did = m.at("did");
  const auto version = m.at("version");
  const auto data_link = m.at("data");
  const auto rev = m.at("rev");
  const auto prev = m.at("prev");
  const auto sig = m.at("sig");
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

void sign_commit(Commit& commit, const crypto::PrivateKey& key) {
  // [repo.commit.signature] Sign the unsigned commit's canonical bytes.
  auto bytes = data::encode_cbor(unsigned_commit_value(commit));
  auto sig = key.sign(bytes.ok() ? *bytes : std::vector<std::uint8_t>{});
  commit.sig.assign(sig.begin(), sig.end());
}

Status verify_commit_signature(const Commit& commit, const crypto::PublicKey& key) {
  auto bytes = data::encode_cbor(unsigned_commit_value(commit));
  if (!bytes.ok()) return bytes.error();
  if (auto st = key.verify(*bytes, commit.sig); !st.ok()) {
    return make_error("repo.commit.signature", "commit signature does not verify with " +
                                                   key.did_key() + " (" + st.error().code + ": " +
                                                   st.error().message + ")");
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
