// Suite builders. Each returns the cases of one suite; cases are built
// once per run and carry stable ids.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "atproto/common/hex.hpp"  // hex_encode, hex_decode: the vector files write bytes as hex
#include "atproto/common/result.hpp"
#include "atproto/crypto/keys.hpp"
#include "model.hpp"

namespace atproto::conformance {

struct SuiteSources {
  std::string vectors_dir;            // the project's vectors/ folder
  std::string interop_tests_dir;      // a checkout of atproto-interop-tests, or ""
  std::string plc_interop_tests_dir;  // a checkout of did-method-plc, or ""
  std::string interop_reviews_file;   // conformance/interop-reviews.json, or ""
};

// The suites this runner knows, in run order (registry.cpp).
struct SuiteInfo {
  std::string name;
  std::string summary;  // one line for --help, --list-suites and the docs
  std::string needs;    // an option the suite cannot run without, or ""
};
const std::vector<SuiteInfo>& suite_registry();
const std::vector<std::string>& suite_names();

// Profiles select the rules a run checks (--profile).
struct ProfileInfo {
  std::string name;
  std::string summary;
};
const std::vector<ProfileInfo>& profile_registry();
// Whether a requirement is one of atproto's record rules rather than a rule
// of the codec (DRISL, CID, CAR).
bool is_record_rule(const std::string& requirement_id);
// Whether the case belongs to the profile ("atproto": every case).
bool in_profile(const std::string& profile, const Case& c);

// Cases of one suite, or an error when its sources cannot be read.
Result<std::vector<Case>> build_suite(const std::string& name, const SuiteSources& sources,
                                      const Catalog& catalog);

// Shared helpers for suites.
// Hands every *.json document of a vector folder, in file-name order, to
// `each`, stopping at the first error `each` returns; an unreadable file is
// an error naming it. A missing folder is an error unless `optional`.
Status for_each_vector_file(const std::string& dir, bool optional,
                            const std::function<Status(const json& doc)>& each);
// The error of a vector file that cannot be used ("conformance.vectors").
Error bad_vector(const std::string& message);
// The strings of a JSON array (anything else is skipped).
std::vector<std::string> string_list(const json& array);
// A short, stable hex digest (FNV-1a) for case ids derived from values.
std::string stable_hash_hex(const std::string& s, std::size_t digits);
Level strongest_level(const Catalog& catalog, const std::vector<std::string>& requirements);

// The "syntax" suite: vectors/syntax, RapidCheck properties and
// differential fuzzing of the syntax/validate operation.
Result<std::vector<Case>> build_syntax_suite(const SuiteSources& sources, const Catalog& catalog);

// The "data" suite: vectors/data (data/encode, data/decode), RapidCheck
// properties over generated records and differential fuzzing of CBOR.
Result<std::vector<Case>> build_data_suite(const SuiteSources& sources, const Catalog& catalog);

// The "car" suite: vectors/car (car/read), RapidCheck properties over
// generated CAR files and their one-byte mutations, and differential
// fuzzing of mutated CAR files.
Result<std::vector<Case>> build_car_suite(const SuiteSources& sources, const Catalog& catalog);

// The "crypto" suite: vectors/crypto (crypto/verify, crypto/parse-key),
// RapidCheck properties over reference-signed then mutated signatures and
// damaged did:keys, and differential fuzzing of the vectors' inputs.
Result<std::vector<Case>> build_crypto_suite(const SuiteSources& sources, const Catalog& catalog);

// The "mst" suite: vectors/repo key depths, roots and commit proofs
// (mst/key-height, mst/root, mst/proof) and properties over generated key sets
// and commits. The "repo" suite: vectors/repo/verify.json (repo/verify) and a
// property over generated repository exports and their one-byte corruptions.
Result<std::vector<Case>> build_mst_suite(const SuiteSources& sources, const Catalog& catalog);
Result<std::vector<Case>> build_repo_suite(const SuiteSources& sources, const Catalog& catalog);

// The "lexicon" suite: vectors/lexicon (lexicon/validate-schema, -record,
// -params), properties over records generated from the example Lexicons
// (valid, and with one constraint broken) and differential fuzzing of mutated
// records and documents.
Result<std::vector<Case>> build_lexicon_suite(const SuiteSources& sources, const Catalog& catalog);

// The "plc" suite: vectors/plc/audit-log.json (plc/validate-log: verdict
// and DID document), and properties over logs the reference signs at random
// (valid, and with one damage) where the target must agree with the reference.
Result<std::vector<Case>> build_plc_suite(const SuiteSources& sources, const Catalog& catalog);

// The "interop" suite: the official atproto-interop-tests files, replayed
// through the same operations.
Result<std::vector<Case>> build_interop_suite(const SuiteSources& sources);

}  // namespace atproto::conformance
