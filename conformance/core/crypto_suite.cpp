// The crypto suite: crypto/verify and crypto/parse-key vectors
// (vectors/crypto/verify.json, parse-key.json), RapidCheck properties over
// random keys and messages signed by the reference and then mutated (high-S
// twin, DER, truncation, bit flips, other keys, uncompressed keys, ...; the
// reference is the oracle), and differential fuzzing of the vectors' inputs.
#include <algorithm>
#include <optional>
#include <random>

#include "atproto/crypto/keys.hpp"
#include "atproto/crypto/test_generators.hpp"
#include "atproto/data/base64.hpp"
#include "atproto/data/multibase.hpp"
#include "engine.hpp"
#include "reference_ops.hpp"
#include "suites.hpp"

namespace atproto::conformance {
namespace {

using Bytes = std::vector<std::uint8_t>;
const std::string kVerify = "crypto/verify";
const std::string kParseKey = "crypto/parse-key";

json verify_request(const std::string& key, const Bytes& message, const Bytes& signature) {
  return json{{"publicKey", key},
              {"message", padded_base64(message)},
              {"signature", padded_base64(signature)}};
}

// What an answer says, reduced to what the protocol compares.
struct CryptoAnswer {
  bool accepted = false;  // verify: "valid"; parse-key: "ok"
  std::string algorithm;  // parse-key, when accepted
  std::string multibase;  // parse-key, when accepted
  std::string code;       // our error code, when the reference answered
};

std::optional<CryptoAnswer> read_answer(const std::string& operation, const Response& r,
                                        Verdict& v) {
  auto malformed = [&](const std::string& why) -> std::optional<CryptoAnswer> {
    v.state = Verdict::State::kAdapterError;
    v.message = why;
    return std::nullopt;
  };
  if (!engine::answered(r, v)) return std::nullopt;
  const json& b = r.body;
  const char* field = operation == kVerify ? "valid" : "ok";
  if (r.status != 200 || !b.is_object() || !b.contains(field) || !b[field].is_boolean()) {
    return malformed("the adapter did not answer with a result (HTTP " + std::to_string(r.status) +
                     ", expected 200 with {\"" + field + "\": bool, ...})");
  }
  CryptoAnswer a;
  a.accepted = b[field].get<bool>();
  a.code = b.value("code", "");
  if (operation == kParseKey && a.accepted) {
    if (!b.contains("algorithm") || !b["algorithm"].is_string() ||
        !b.contains("publicKeyMultibase") || !b["publicKeyMultibase"].is_string()) {
      return malformed(
          "an ok crypto/parse-key answer needs \"algorithm\" and "
          "\"publicKeyMultibase\" strings");
    }
    a.algorithm = b["algorithm"].get<std::string>();
    a.multibase = b["publicKeyMultibase"].get<std::string>();
  }
  return a;
}

std::string difference(const std::string& operation, const CryptoAnswer& got,
                       const CryptoAnswer& want) {
  if (got.accepted != want.accepted) {
    const std::string what = operation == kVerify ? "signature" : "did:key";
    return want.accepted ? "the " + what + " is valid, the adapter rejected it"
                         : "the " + what + " breaks " +
                               (want.code.empty() ? std::string("a rule") : want.code) +
                               ", the adapter accepted it";
  }
  if (operation == kParseKey && want.accepted) {
    if (got.algorithm != want.algorithm) {
      return "wrong algorithm: " + got.algorithm + ", expected " + want.algorithm;
    }
    if (got.multibase != want.multibase) {
      return "wrong publicKeyMultibase: " + got.multibase + ", expected " + want.multibase;
    }
  }
  return "";
}

CryptoAnswer oracle(const std::string& operation, const json& request) {
  Verdict scratch;
  return *read_answer(operation, reference_dispatch(operation, request), scratch);
}

json expected_json(const std::string& operation, const CryptoAnswer& want) {
  if (operation == kVerify) return json{{"valid", want.accepted}};
  json e{{"ok", want.accepted}};
  if (want.accepted) {
    e["algorithm"] = want.algorithm;
    e["publicKeyMultibase"] = want.multibase;
  }
  return e;
}

Verdict run_one(RunContext& ctx, const std::string& operation, const json& request,
                const CryptoAnswer& want) {
  Verdict v;
  v.operation = operation;
  v.sent = request;
  v.calls = 1;
  v.expected = expected_json(operation, want);
  Response r = ctx.target.call(operation, request);
  auto got = read_answer(operation, r, v);
  if (!got) return v;
  std::string diff = difference(operation, *got, want);
  if (!diff.empty()) {
    v.state = Verdict::State::kMismatch;
    v.message = diff;
  }
  return v;
}

Level level_at_stake(const Catalog& catalog, const CryptoAnswer& want) {
  return want.accepted || want.code.empty() ? Level::kMust : strongest_level(catalog, {want.code});
}

// A disagreement on a generated input, written in the vector file format.
json vector_for(const std::string& operation, const json& request, const CryptoAnswer& want,
                const std::string& how) {
  const std::string op = operation.substr(7);  // verify / parse-key
  json vector{
      {"id", "crypto." + op + ".found-" +
                 stable_hash_hex(request.dump(-1, ' ', false, json::error_handler_t::replace), 10)},
      {"requirements", want.accepted ? json::array() : json::array({want.code})}};
  if (operation == kVerify) {
    vector["public_key"] = request["publicKey"];
    vector["message_hex"] =
        hex_encode(*data::base64_decode(request["message"].get_ref<const std::string&>()));
    vector["signature_hex"] =
        hex_encode(*data::base64_decode(request["signature"].get_ref<const std::string&>()));
  } else {
    vector["input"] = request["didKey"];
  }
  vector["valid"] = want.accepted;
  if (!want.accepted) vector["error"] = want.code;
  vector["comment"] = "found by " + how + "; verdict from the reference";
  return vector;
}

// ---------------------------------------------------------------------------
// Vectors

struct CryptoVector {
  std::string id;
  std::string operation;
  json request;
  CryptoAnswer want;
  std::vector<std::string> requirements;
  std::string comment;
};

Status load_crypto_vectors(const std::string& dir, std::vector<CryptoVector>& out) {
  return for_each_vector_file(dir, /*optional=*/true, [&](const json& doc) -> Status {
    const std::string op = doc.value("operation", "");
    // verification-method and did-key have no adapter operation (the protocol
    // carries neither DID documents nor private keys).
    if (op != "verify" && op != "parse-key") return {};
    for (const auto& c : doc.value("cases", json::array())) {
      CryptoVector v;
      v.id = c.value("id", "");
      v.operation = "crypto/" + op;
      v.comment = c.value("comment", "");
      v.requirements = string_list(c.value("requirements", json::array()));
      v.want.accepted = c.value("valid", false);
      v.want.code = c.value("error", "");
      if (op == "verify") {
        auto message = hex_decode(c.value("message_hex", ""));
        auto signature = hex_decode(c.value("signature_hex", ""));
        if (!message || !signature) return bad_vector("bad hex in " + v.id);
        v.request = verify_request(c.value("public_key", ""), *message, *signature);
      } else {
        v.request = json{{"didKey", c.value("input", "")}};
        if (v.want.accepted) {
          v.want.algorithm = c.value("jwt_alg", "");
          v.want.multibase = c.value("public_key_multibase", "");
        }
      }
      out.push_back(std::move(v));
    }
    return {};
  });
}

Case crypto_vector_case(const CryptoVector& cv, const Catalog& catalog) {
  Case c;
  c.id = "crypto.vector." + cv.id;
  c.suite = "crypto";
  c.kind = CaseKind::kVector;
  c.requirements = cv.requirements;
  c.level = strongest_level(catalog, cv.requirements);
  c.operation = cv.operation;
  c.description = std::string(cv.want.accepted ? "accept" : "reject") + " via " + cv.operation +
                  (cv.comment.empty() ? "" : ": " + cv.comment);
  c.run = [cv](RunContext& ctx) { return run_one(ctx, cv.operation, cv.request, cv.want); };
  return c;
}

// ---------------------------------------------------------------------------
// Properties: inputs built from a generated description, so RapidCheck can
// shrink the description (smaller message, simpler mutation, ...).

// What the property does to a fresh, valid signature before sending it.
enum Mutation : int {
  kNone,
  kFlipMessageBit,
  kFlipSignatureBit,
  kHighSTwin,
  kDer,
  kTruncate,
  kAppendByte,
  kOtherKey,
  kUncompressedKey,
  kBareMultikey,
  kZeroR,
  kMutationCount,
};

struct VerifyInput {
  crypto::Curve curve = crypto::Curve::kK256;
  Bytes key;
  Bytes message;
  int mutation = kNone;
  std::size_t position = 0;
};

rc::Gen<VerifyInput> verify_input() {
  return rc::gen::mapcat(crypto::generators::curve(), [](crypto::Curve c) {
    return rc::gen::map(
        rc::gen::tuple(crypto::generators::private_key_bytes(c), crypto::generators::message(),
                       rc::gen::inRange<int>(0, kMutationCount),
                       rc::gen::inRange<std::size_t>(0, 1024)),
        [c](std::tuple<Bytes, Bytes, int, std::size_t> t) {
          VerifyInput in;
          in.curve = c;
          std::tie(in.key, in.message, in.mutation, in.position) = std::move(t);
          return in;
        });
  });
}

Bytes der_of(const std::array<std::uint8_t, 64>& sig) {
  auto integer = [](const std::uint8_t* p) {
    Bytes v(p, p + 32);
    while (v.size() > 1 && v[0] == 0 && v[1] < 0x80) v.erase(v.begin());
    if (v[0] >= 0x80) v.insert(v.begin(), 0);
    v.insert(v.begin(), static_cast<std::uint8_t>(v.size()));
    v.insert(v.begin(), 0x02);
    return v;
  };
  Bytes r = integer(sig.data()), s = integer(sig.data() + 32);
  Bytes out{0x30, static_cast<std::uint8_t>(r.size() + s.size())};
  out.insert(out.end(), r.begin(), r.end());
  out.insert(out.end(), s.begin(), s.end());
  return out;
}

json request_for(const VerifyInput& in) {
  auto key = crypto::PrivateKey::from_bytes(in.curve, in.key);
  const auto pub = key->public_key();
  auto sig = key->sign(in.message);
  Bytes message = in.message;
  Bytes signature(sig.begin(), sig.end());
  std::string key_text = pub.did_key();
  switch (in.mutation) {
    case kFlipMessageBit:
      if (message.empty()) {
        message.push_back(0);
      } else {
        message[in.position % message.size()] ^= static_cast<std::uint8_t>(1u << (in.position % 8));
      }
      break;
    case kFlipSignatureBit:
      signature[(in.position / 8) % 64] ^= static_cast<std::uint8_t>(1u << (in.position % 8));
      break;
    case kHighSTwin: {
      auto twin = crypto::high_s_twin(in.curve, sig);
      signature.assign(twin.begin(), twin.end());
      break;
    }
    case kDer:
      signature = der_of(sig);
      break;
    case kTruncate:
      signature.resize(in.position % 64);
      break;
    case kAppendByte:
      signature.push_back(static_cast<std::uint8_t>(in.position));
      break;
    case kOtherKey: {
      Bytes other = in.key;
      other[31] ^= static_cast<std::uint8_t>(1 + in.position % 255);
      auto other_key = crypto::PrivateKey::from_bytes(in.curve, other);
      if (other_key) key_text = other_key->public_key().did_key();
      break;
    }
    case kUncompressedKey: {
      Bytes prefixed;
      if (in.curve == crypto::Curve::kP256) {
        prefixed = {0x80, 0x24};
      } else {
        prefixed = {0xe7, 0x01};
      }
      const auto u = pub.uncompressed();
      prefixed.insert(prefixed.end(), u.begin(), u.end());
      key_text = "did:key:" + data::multibase_encode(data::Multibase::kBase58btc, prefixed);
      break;
    }
    case kBareMultikey:
      key_text = pub.multibase();
      break;
    case kZeroR:
      std::fill(signature.begin(), signature.begin() + 32, 0);
      break;
    default:
      break;
  }
  return verify_request(key_text, message, signature);
}

// A did:key of a generated key, possibly damaged: one character replaced,
// cut short, the prefix dropped, or the point given uncompressed.
struct KeyInput {
  crypto::Curve curve = crypto::Curve::kK256;
  Bytes key;
  int mutation = 0;
  std::size_t position = 0;
  char replacement = 'z';
};

rc::Gen<KeyInput> key_input() {
  return rc::gen::mapcat(crypto::generators::curve(), [](crypto::Curve c) {
    return rc::gen::map(
        rc::gen::tuple(crypto::generators::private_key_bytes(c), rc::gen::inRange<int>(0, 5),
                       rc::gen::inRange<std::size_t>(0, 128),
                       rc::gen::elementOf(std::string(
                           "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0OIl:"))),
        [c](std::tuple<Bytes, int, std::size_t, char> t) {
          KeyInput in;
          in.curve = c;
          std::tie(in.key, in.mutation, in.position, in.replacement) = std::move(t);
          return in;
        });
  });
}

json request_for(const KeyInput& in) {
  const auto pub = crypto::PrivateKey::from_bytes(in.curve, in.key)->public_key();
  std::string text = pub.did_key();
  switch (in.mutation) {
    case 1:
      text[in.position % text.size()] = in.replacement;
      break;
    case 2:
      text.resize(in.position % text.size());
      break;
    case 3: {
      Bytes prefixed = in.curve == crypto::Curve::kP256 ? Bytes{0x80, 0x24} : Bytes{0xe7, 0x01};
      const auto u = pub.uncompressed();
      prefixed.insert(prefixed.end(), u.begin(), u.end());
      text = "did:key:" + data::multibase_encode(data::Multibase::kBase58btc, prefixed);
      break;
    }
    case 4:
      text = pub.multibase();
      break;
    default:
      break;
  }
  return json{{"didKey", text}};
}

template <typename Input>
Case crypto_property_case(const std::string& id, const std::string& operation,
                          std::vector<std::string> requirements, const std::string& description,
                          rc::Gen<Input> generator, const Catalog& catalog) {
  Case c;
  c.id = id;
  c.suite = "crypto";
  c.kind = CaseKind::kProperty;
  c.requirements = std::move(requirements);
  c.level = Level::kMust;
  c.operation = operation;
  c.description = description;
  c.run = [operation, generator, id, &catalog](RunContext& ctx) {
    engine::Property<Input> property(generator);
    property.salt = std::hash<std::string>{}(id);
    property.check = [&](const Input& input) {
      json request = request_for(input);
      return run_one(ctx, operation, request, oracle(operation, request));
    };
    property.finish = [&](const Input&, Verdict v) {
      CryptoAnswer want = oracle(operation, v.sent);
      v.level = level_at_stake(catalog, want);
      v.suggested_vector = vector_for(operation, v.sent, want, "the " + id + " property");
      return v;
    };
    return engine::run_property(ctx, property);
  };
  return c;
}

// ---------------------------------------------------------------------------
// Differential fuzz: mutations of the vectors' requests.

const std::string kBase58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

void mutate_text(std::string& text, std::mt19937_64& rng) {
  std::size_t pos = text.empty() ? 0 : rng() % text.size();
  // Mostly base58 characters, so the mutant gets past the alphabet check.
  char c = rng() % 8 == 0 ? static_cast<char>(32 + rng() % 95) : kBase58[rng() % kBase58.size()];
  switch (rng() % 3) {
    case 0:
      if (!text.empty()) text[pos] = c;
      break;
    case 1:
      text.insert(text.begin() + static_cast<std::ptrdiff_t>(pos), c);
      break;
    default:
      if (!text.empty()) text.erase(text.begin() + static_cast<std::ptrdiff_t>(pos));
      break;
  }
}

json mutate(const std::string& operation, json request, std::mt19937_64& rng) {
  if (operation == kParseKey) {
    std::string text = request["didKey"];
    mutate_text(text, rng);
    request["didKey"] = text;
    return request;
  }
  const int field = static_cast<int>(rng() % 4);
  if (field == 0) {
    std::string text = request["publicKey"];
    mutate_text(text, rng);
    request["publicKey"] = text;
  } else {
    const char* name = field == 1 ? "message" : "signature";
    Bytes bytes = *data::base64_decode(request[name].get_ref<const std::string&>());
    engine::mutate_bytes(bytes, rng);
    request[name] = padded_base64(bytes);
  }
  return request;
}

Case crypto_fuzz_case(const std::string& operation, std::vector<json> seeds,
                      const Catalog& catalog) {
  Case c;
  c.id = "crypto.fuzz." + operation.substr(7);
  c.suite = "crypto";
  c.kind = CaseKind::kFuzz;
  c.requirements =
      operation == kVerify
          ? std::vector<std::string>{"crypto.sig.low-s", "crypto.sig.length", "crypto.sig.verify"}
          : std::vector<std::string>{"crypto.key.multicodec", "crypto.key.on-curve"};
  c.level = Level::kMust;
  c.operation = operation;
  c.description = "agree with the reference on mutated " + operation + " vector inputs";
  c.run = [operation, seeds = std::move(seeds), &catalog](RunContext& ctx) {
    engine::Fuzz<json> fuzz;
    fuzz.salt = std::hash<std::string>{}(operation);
    fuzz.has_seeds = !seeds.empty();
    fuzz.next = [&](std::mt19937_64& rng) {
      json request = seeds[rng() % seeds.size()];
      const int edits = 1 + static_cast<int>(rng() % 2);
      for (int e = 0; e < edits; ++e) request = mutate(operation, std::move(request), rng);
      return request;
    };
    fuzz.check = [&](const json& request) {
      return run_one(ctx, operation, request, oracle(operation, request));
    };
    fuzz.explain = [&](const json& request, Verdict v) {
      CryptoAnswer want = oracle(operation, request);
      return std::optional<engine::Finding>(
          engine::Finding{std::move(v), level_at_stake(catalog, want),
                          vector_for(operation, request, want, "differential fuzzing")});
    };
    return engine::run_fuzz(ctx, fuzz);
  };
  return c;
}

}  // namespace

Result<std::vector<Case>> build_crypto_suite(const SuiteSources& sources, const Catalog& catalog) {
  std::vector<CryptoVector> vectors;
  if (auto read = load_crypto_vectors(sources.vectors_dir + "/crypto", vectors); !read) {
    return read.error();
  }
  std::vector<Case> cases;
  std::vector<json> verify_seeds, key_seeds;
  for (const auto& v : vectors) {
    cases.push_back(crypto_vector_case(v, catalog));
    (v.operation == kVerify ? verify_seeds : key_seeds).push_back(v.request);
  }
  cases.push_back(crypto_property_case<VerifyInput>(
      "crypto.property.verify.generated", kVerify,
      {"crypto.sig.verify", "crypto.sig.low-s", "crypto.sig.der", "crypto.sig.length",
       "crypto.key.compressed"},
      "agree with the reference on crypto/verify of random keys and messages, signed by the "
      "reference and then mutated (bit flips, high-S twin, DER, truncation, other key, ...)",
      verify_input(), catalog));
  cases.push_back(crypto_property_case<KeyInput>(
      "crypto.property.parse-key.generated", kParseKey,
      {"crypto.did-key.prefix", "crypto.key.multicodec", "crypto.key.compressed",
       "crypto.key.on-curve"},
      "agree with the reference on crypto/parse-key of random keys' did:key, intact or damaged",
      key_input(), catalog));
  cases.push_back(crypto_fuzz_case(kVerify, std::move(verify_seeds), catalog));
  cases.push_back(crypto_fuzz_case(kParseKey, std::move(key_seeds), catalog));
  return cases;
}

}  // namespace atproto::conformance
