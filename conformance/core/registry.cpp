// The registry of suites and profiles: what --suite, --profile, --help,
// --list-suites and the docs' suite table are generated from.
#include <algorithm>
#include <set>

#include "suites.hpp"

namespace atproto::conformance {

const std::vector<SuiteInfo>& suite_registry() {
  static const std::vector<SuiteInfo> kSuites = {
      {"syntax",
       "identifier and string-format syntax: handles, DIDs, NSIDs, AT URIs, TIDs, "
       "record keys, datetimes, language tags, CIDs, AT identifiers, URIs",
       ""},
      {"data",
       "the data model: strict DRISL (DAG-CBOR) both ways, CIDs of blocks, the atproto "
       "JSON form ($link, $bytes, blobs), record rules",
       ""},
      {"car",
       "CARv1 files: framing, header, blessed block CIDs that match their bytes, the "
       "commit block present",
       ""},
      {"crypto", "signatures on P-256 and secp256k1 (strict, low-S, compact) and did:key parsing",
       ""},
      {"mst", "Merkle Search Tree key depths, root CIDs and commit proofs", ""},
      {"repo", "signed repository exports: commit, signature, MST structure, records", ""},
      {"lexicon", "Lexicon documents, records and query parameters validated against Lexicons", ""},
      {"plc",
       "did:plc audit logs: operations, signatures, rotation-key authority, the 72-hour "
       "recovery window, tombstones, limits, and the DID document a valid log resolves to (none "
       "for a tombstoned DID)",
       ""},
      {"interop",
       "replays the fixtures of bluesky-social/atproto-interop-tests and the audit logs of "
       "did-method-plc, graded by decided reviews",
       "--interop-tests DIR or --plc-interop-tests DIR"},
      {"plc-directory",
       "a running did:plc directory driven over HTTP: create, update, rotate, recover, "
       "tombstone, rejections, audit log and export",
       "--plc-directory URL"},
      {"pds",
       "a running PDS driven over XRPC and its firehose: accounts, sessions, auth errors, record "
       "writes and reads, repository exports and proofs, blobs, bad requests, identity, commit "
       "events and cursors (--read-only checks an existing account without writing)",
       "--pds URL"},
      {"relay",
       "a running relay fed by PDS hosts the runner plays on loopback: valid chains forwarded "
       "under its own seq, each checklist rule's invalid event dropped, broken chains resynced "
       "with getRepo (and what arrives during the fetch forwarded after it), a malformed frame "
       "ending the upstream connection and unknown frame types skipped, #account and #identity, "
       "replay by cursor, and what its sync queries answer",
       "--relay URL --plc URL"},
  };
  return kSuites;
}

const std::vector<std::string>& suite_names() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (const auto& s : suite_registry()) names.push_back(s.name);
    return names;
  }();
  return kNames;
}

namespace {

// The vector folder a suite reads (mst shares vectors/repo with repo).
std::string vector_folder(const std::string& suite) { return suite == "mst" ? "repo" : suite; }

// Every vector of the suite's folder is either a case of the suite or, when
// no adapter operation can carry it, a case reported skipped with the
// reason: nothing is dropped without a word. A file none of whose vectors
// the suite sends is the suite's to report only when no other suite reads
// that folder.
Status account_for_vectors(const std::string& name, const SuiteSources& sources,
                           const Catalog& catalog, std::vector<Case>& cases) {
  if (name == "interop") return {};
  const std::string folder = vector_folder(name);
  bool shared =
      std::count_if(suite_registry().begin(), suite_registry().end(), [&](const SuiteInfo& s) {
        return s.needs.empty() && vector_folder(s.name) == folder;
      }) > 1;
  std::set<std::string> ids;
  for (const auto& c : cases) ids.insert(c.id);
  std::vector<Case> extra;
  auto read = for_each_vector_file(
      sources.vectors_dir + "/" + folder, true, [&](const json& doc) -> Status {
        std::vector<const json*> missing;
        std::size_t sent = 0;
        if (!doc.contains("cases") || !doc["cases"].is_array()) return {};
        for (const auto& v : doc["cases"]) {
          if (ids.count(name + ".vector." + v.value("id", ""))) {
            ++sent;
          } else {
            missing.push_back(&v);
          }
        }
        if (missing.empty() || (sent == 0 && shared)) return {};
        const std::string what = doc.value("operation", "") +
                                 (doc.contains("type") ? " (" + doc.value("type", "") + ")" : "");
        const std::string reason =
            sent == 0 ? "vectors/" + folder + " " + what +
                            ": no adapter-protocol operation carries this check; the reference's "
                            "unit tests run it"
                      : "vectors/" + folder + " " + what +
                            ": this vector's input has no form the operation can carry (bytes "
                            "that are not text, or a check of its own); the reference's unit tests "
                            "run it";
        for (const json* v : missing) {
          Case c;
          c.id = name + ".vector." + v->value("id", "");
          c.suite = name;
          c.kind = CaseKind::kVector;
          c.requirements = string_list(v->value("requirements", json::array()));
          c.level = strongest_level(catalog, c.requirements);
          c.description = "not run: " + reason;
          c.not_run_reason = reason;
          extra.push_back(std::move(c));
        }
        return {};
      });
  if (!read) return read;
  for (auto& c : extra) cases.push_back(std::move(c));
  return {};
}

Result<std::vector<Case>> build_registered_suite(const std::string& name,
                                                 const SuiteSources& sources,
                                                 const Catalog& catalog) {
  if (name == "syntax") return build_syntax_suite(sources, catalog);
  if (name == "data") return build_data_suite(sources, catalog);
  if (name == "car") return build_car_suite(sources, catalog);
  if (name == "crypto") return build_crypto_suite(sources, catalog);
  if (name == "mst") return build_mst_suite(sources, catalog);
  if (name == "repo") return build_repo_suite(sources, catalog);
  if (name == "lexicon") return build_lexicon_suite(sources, catalog);
  if (name == "plc") return build_plc_suite(sources, catalog);
  if (name == "interop") return build_interop_suite(sources);
  return make_error("conformance.suite", "unknown suite " + name);
}

}  // namespace

Result<std::vector<Case>> build_suite(const std::string& name, const SuiteSources& sources,
                                      const Catalog& catalog) {
  auto built = build_registered_suite(name, sources, catalog);
  if (!built) return built;
  std::vector<Case> cases = std::move(built).value();
  if (auto st = account_for_vectors(name, sources, catalog, cases); !st) return st.error();
  return cases;
}

const std::vector<ProfileInfo>& profile_registry() {
  static const std::vector<ProfileInfo> kProfiles = {
      {"atproto", "every rule: what an atproto implementation must do (the default)"},
      {"codec",
       "codec-level rules only (DRISL/DAG-CBOR, CIDs, CAR framing) through data/encode, "
       "data/decode and car/read, for generic IPLD libraries; leaves out atproto's record rules "
       "(top-level object, $type, blobs, the commit root) and cases whose reference verdicts "
       "apply them"},
  };
  return kProfiles;
}

bool is_record_rule(const std::string& requirement_id) {
  // Rules atproto adds on top of the codec: what a record is, and what a
  // repository CAR must hold. Everything else under data.* and car.* is a
  // rule of DRISL, CIDs, the JSON mapping or CAR framing.
  static const char* const kRecordRules[] = {
      "data.model.record-object",
      "data.model.type-field",
      "data.model.dollar-reserved",
      "data.model.ignore-unknown-dollar",
      "data.blob.",
      "car.roots.commit-included",
      "car.header.first-root-commit",
      "car.export.",
      "car.import.",
  };
  return std::any_of(std::begin(kRecordRules), std::end(kRecordRules), [&](const char* rule) {
    std::string_view r(rule);
    return r.back() == '.' ? requirement_id.rfind(r, 0) == 0 : requirement_id == r;
  });
}

bool in_profile(const std::string& profile, const Case& c) {
  if (profile != "codec") return true;
  static const std::vector<std::string> kCodecOperations = {"data/encode", "data/decode",
                                                            "car/read"};
  if (std::find(kCodecOperations.begin(), kCodecOperations.end(), c.operation) ==
      kCodecOperations.end()) {
    return false;
  }
  if (c.oracle_applies_record_rules || c.requirements.empty()) return false;
  return std::none_of(c.requirements.begin(), c.requirements.end(), is_record_rule);
}

}  // namespace atproto::conformance
