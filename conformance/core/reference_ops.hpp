// Building blocks of the reference's answers to adapter-protocol operations
// (docs/adapter-protocol.md). reference_target.cpp holds the dispatch table;
// each area keeps its handlers in reference_<area>_ops.cpp and declares them
// here, in its own section, so areas can be added without touching each other.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "atproto/common/result.hpp"
#include "target.hpp"

namespace atproto::conformance {

// A protocol answer with HTTP status `status` and JSON body `body`.
Response answer(int status, json body);
// 400 with {"error": why}: the request itself is malformed.
Response bad_request(const std::string& why);
// 200 with {"ok": false, "error": "<code>: <message>", "code": <code>}: the
// input was understood and rejected by the rule `error.code` names.
Response rejected(const Error& error);
// The protocol writes binary values as standard base64 with padding.
std::string padded_base64(std::span<const std::uint8_t> bytes);

// --- car (reference_car_ops.cpp)
Response car_read(const json& request);

// --- crypto (reference_crypto_ops.cpp)
Response crypto_verify(const json& request);
Response crypto_parse_key(const json& request);

// --- repo (reference_repo_ops.cpp)
Response mst_key_height(const json& request);
Response mst_root(const json& request);
Response mst_proof(const json& request);
Response repo_verify(const json& request);

// --- lexicon (reference_lexicon_ops.cpp)
Response lexicon_validate_schema(const json& request);
Response lexicon_validate_record(const json& request);
Response lexicon_validate_params(const json& request);

// --- plc (reference_plc_ops.cpp)
Response plc_validate_log(const json& request);

}  // namespace atproto::conformance
