// A catalog of loaded Lexicon documents and the resolution of references
// between them.
// Spec: https://atproto.com/specs/lexicon#ref and #union
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "atproto/common/result.hpp"
#include "atproto/lexicon/schema.hpp"

namespace atproto::lexicon {

// One variant of a union: the `$type` value data uses for it (the NSID alone
// for a `main` def, `nsid#name` otherwise) and the def, or nullptr when the
// catalog does not hold it.
struct UnionVariant {
  std::string type;
  const TypeDef* def = nullptr;
};

class Catalog {
 public:
  Catalog() = default;
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;
  Catalog(Catalog&&) = default;
  Catalog& operator=(Catalog&&) = default;

  // Adds a parsed document. Refs may point at documents added later; they
  // are linked as the documents arrive. A second document with the same id
  // is refused (lex.catalog.duplicate-id).
  Status add(LexiconDoc doc);
  // parse_lexicon + add.
  Status add_json(const nlohmann::json& document);

  // The document with this NSID, or nullptr.
  const LexiconDoc* document(std::string_view nsid) const;
  // A def by its fully qualified name `nsid#name`, or nullptr.
  const TypeDef* def(std::string_view qualified) const;
  // A def by reference text relative to a document (`#name`, `nsid`,
  // `nsid#name`), or nullptr.
  const TypeDef* find(std::string_view ref, std::string_view base_id) const;

  // The target of a ref node, or nullptr when it is not loaded.
  const TypeDef* ref_target(const TypeDef& ref_node) const;
  // The variants of a union node, in schema order.
  const std::vector<UnionVariant>& union_variants(const TypeDef& union_node) const;

  // Checks that every ref and union variant of every loaded document
  // resolves, and points at a kind of def it may point at:
  //   lex.schema.ref-resolves   a ref names a def the catalog does not hold
  //   lex.schema.ref-target     a ref points at a token or a primary type
  //                             other than record
  //   lex.schema.union-variant  a union variant that is not an object or
  //                             a record
  // The message starts with `<nsid>#<path>`.
  Status check_references() const;

  std::size_t size() const { return documents_.size(); }
  std::vector<std::string> ids() const;

 private:
  void link(const LexiconDoc& doc);
  void link_node(const TypeDef& node);
  void relink_pending();

  std::map<std::string, LexiconDoc, std::less<>> documents_;
  // Hashed: records and refs name a def on every validation, and a search
  // through a tree of every loaded def compared a dozen long names.
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::unordered_map<std::string, const TypeDef*, NameHash, std::equal_to<>> defs_;
  std::unordered_map<const TypeDef*, const TypeDef*> ref_targets_;
  std::unordered_map<const TypeDef*, std::vector<UnionVariant>> union_variants_;
  std::vector<const TypeDef*> pending_;  // ref/union nodes with a missing target
};

// Calls `visit(node, path)` for every type node under a def, depth first
// (the def itself included). Paths read like the document's JSON paths.
void for_each_node(const TypeDef& def, const std::string& path,
                   const std::function<void(const TypeDef&, const std::string&)>& visit);

}  // namespace atproto::lexicon
