// Suite builders. Each returns the cases of one suite; cases are built
// once per run and carry stable ids.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

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

// Cases of one suite; `error` is set when its sources cannot be read.
std::vector<Case> build_suite(const std::string& name, const SuiteSources& sources,
                              const Catalog& catalog, std::string& error);

// Shared helpers for suites.
// Hands every *.json document of a vector folder, in file-name order, to
// `each`; returns "" or an error naming the unreadable file. A missing
// folder is an error unless `optional`.
std::string for_each_vector_file(const std::string& dir, bool optional,
                                 const std::function<void(const json& doc)>& each);
// The strings of a JSON array (anything else is skipped).
std::vector<std::string> string_list(const json& array);
// Lowercase hex of bytes, and back (nullopt for odd length or a character
// outside 0-9a-f): the vector files write binary inputs as lowercase hex.
std::string hex_of(std::span<const std::uint8_t> bytes);
std::optional<std::vector<std::uint8_t>> hex_decode(const std::string& hex);
// A short, stable hex digest (FNV-1a) for case ids derived from values.
std::string stable_hash_hex(const std::string& s, std::size_t digits);
Level strongest_level(const Catalog& catalog, const std::vector<std::string>& requirements);

// The "syntax" suite: vectors/syntax, RapidCheck properties and
// differential fuzzing of the syntax/validate operation.
std::vector<Case> build_syntax_suite(const SuiteSources& sources, const Catalog& catalog,
                                     std::string& error);

// The "data" suite: vectors/data (data/encode, data/decode), RapidCheck
// properties over generated records and differential fuzzing of CBOR.
std::vector<Case> build_data_suite(const SuiteSources& sources, const Catalog& catalog,
                                   std::string& error);

// The "car" suite: vectors/car (car/read), RapidCheck properties over
// generated CAR files and their one-byte mutations, and differential
// fuzzing of mutated CAR files.
std::vector<Case> build_car_suite(const SuiteSources& sources, const Catalog& catalog,
                                  std::string& error);

// The "crypto" suite: vectors/crypto (crypto/verify, crypto/parse-key),
// RapidCheck properties over reference-signed then mutated signatures and
// damaged did:keys, and differential fuzzing of the vectors' inputs.
std::vector<Case> build_crypto_suite(const SuiteSources& sources, const Catalog& catalog,
                                     std::string& error);

// The "mst" suite: vectors/repo key depths, roots and commit proofs
// (mst/key-height, mst/root, mst/proof) and properties over generated key sets
// and commits. The "repo" suite: vectors/repo/verify.json (repo/verify) and a
// property over generated repository exports and their one-byte corruptions.
std::vector<Case> build_mst_suite(const SuiteSources& sources, const Catalog& catalog,
                                  std::string& error);
std::vector<Case> build_repo_suite(const SuiteSources& sources, const Catalog& catalog,
                                   std::string& error);

// The "lexicon" suite: vectors/lexicon (lexicon/validate-schema, -record,
// -params), properties over records generated from the example Lexicons
// (valid, and with one constraint broken) and differential fuzzing of mutated
// records and documents.
std::vector<Case> build_lexicon_suite(const SuiteSources& sources, const Catalog& catalog,
                                      std::string& error);

// The "interop" suite: the official atproto-interop-tests files, replayed
// through the same operations.
std::vector<Case> build_interop_suite(const SuiteSources& sources, std::string& error);

}  // namespace atproto::conformance
