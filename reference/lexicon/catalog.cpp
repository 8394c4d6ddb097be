// The catalog of loaded Lexicon documents.
// Spec: https://atproto.com/specs/lexicon#ref and #union
#include "atproto/lexicon/catalog.hpp"

#include <algorithm>
#include <utility>

namespace atproto::lexicon {

namespace {

// The `$type` value for a qualified name: `#main` is left out, since data
// must name a main def by its NSID alone.
std::string type_for(const std::string& qualified) {
  constexpr std::string_view kMain = "#main";
  if (qualified.size() > kMain.size() &&
      qualified.compare(qualified.size() - kMain.size(), kMain.size(), kMain) == 0) {
    return qualified.substr(0, qualified.size() - kMain.size());
  }
  return qualified;
}

const std::vector<UnionVariant> kNoVariants;

}  // namespace

void for_each_node(const TypeDef& def, const std::string& path,
                   const std::function<void(const TypeDef&, const std::string&)>& visit) {
  visit(def, path);
  if (def.items) for_each_node(*def.items, path + ".items", visit);
  for (const auto& p : def.properties) {
    for_each_node(*p.schema, path + ".properties." + p.name, visit);
  }
  if (def.record) for_each_node(*def.record, path + ".record", visit);
  if (def.parameters) for_each_node(*def.parameters, path + ".parameters", visit);
  if (def.input && def.input->schema) {
    for_each_node(*def.input->schema, path + ".input.schema", visit);
  }
  if (def.output && def.output->schema) {
    for_each_node(*def.output->schema, path + ".output.schema", visit);
  }
  if (def.message && def.message->schema) {
    for_each_node(*def.message->schema, path + ".message.schema", visit);
  }
}

Status Catalog::add(LexiconDoc doc) {
  // [lex.catalog.duplicate-id] One document per NSID.
  if (documents_.count(doc.id)) {
    return make_error("lex.catalog.duplicate-id", doc.id + ": already loaded");
  }
  std::string id = doc.id;
  auto [it, inserted] = documents_.emplace(id, std::move(doc));
  (void)inserted;
  for (const auto& [name, def] : it->second.defs) {
    defs_.emplace(id + "#" + name, def.get());
  }
  relink_pending();
  link(it->second);
  return {};
}

Status Catalog::add_json(const nlohmann::json& document) {
  auto doc = parse_lexicon(document);
  if (!doc) return doc.error();
  return add(std::move(doc).value());
}

const LexiconDoc* Catalog::document(std::string_view nsid) const {
  auto it = documents_.find(nsid);
  return it == documents_.end() ? nullptr : &it->second;
}

const TypeDef* Catalog::def(std::string_view qualified) const {
  auto it = defs_.find(qualified);
  return it == defs_.end() ? nullptr : it->second;
}

const TypeDef* Catalog::find(std::string_view ref, std::string_view base_id) const {
  auto q = qualify_ref(ref, base_id);
  if (!q) return nullptr;
  return def(q.value());
}

const TypeDef* Catalog::ref_target(const TypeDef& ref_node) const {
  auto it = ref_targets_.find(&ref_node);
  if (it != ref_targets_.end()) return it->second;
  // A node from outside the catalog: resolve by name.
  return find(ref_node.ref, ref_node.lexicon_id);
}

const std::vector<UnionVariant>& Catalog::union_variants(const TypeDef& union_node) const {
  auto it = union_variants_.find(&union_node);
  return it == union_variants_.end() ? kNoVariants : it->second;
}

void Catalog::link_node(const TypeDef& node) {
  bool missing = false;
  if (node.type == Type::kRef) {
    const TypeDef* target = find(node.ref, node.lexicon_id);
    ref_targets_[&node] = target;
    missing = target == nullptr;
  } else if (node.type == Type::kUnion) {
    std::vector<UnionVariant> variants;
    for (const auto& ref : node.refs) {
      auto q = qualify_ref(ref, node.lexicon_id);
      if (!q) continue;  // parse_lexicon already refused it
      const TypeDef* target = def(q.value());
      missing = missing || target == nullptr;
      variants.push_back(UnionVariant{type_for(q.value()), target});
    }
    union_variants_[&node] = std::move(variants);
  }
  if (missing) pending_.push_back(&node);
}

void Catalog::link(const LexiconDoc& doc) {
  for (const auto& [name, def] : doc.defs) {
    for_each_node(*def, "", [&](const TypeDef& node, const std::string&) { link_node(node); });
  }
}

void Catalog::relink_pending() {
  std::vector<const TypeDef*> pending = std::move(pending_);
  pending_.clear();
  for (const TypeDef* node : pending) link_node(*node);
}

std::vector<std::string> Catalog::ids() const {
  std::vector<std::string> out;
  for (const auto& [id, doc] : documents_) out.push_back(id);
  return out;
}

Status Catalog::check_references() const {
  for (const auto& entry : documents_) {
    // Plain names, not structured bindings: the lambda below captures them.
    const std::string& id = entry.first;
    for (const auto& [name, def] : entry.second.defs) {
      Status result;
      for_each_node(*def, "defs." + name, [&](const TypeDef& node, const std::string& path) {
        if (!result) return;
        if (node.type == Type::kRef) {
          const TypeDef* target = ref_target(node);
          // [lex.schema.ref-resolves] Every reference names a loaded def.
          if (!target) {
            result = make_error("lex.schema.ref-resolves",
                                id + "#" + path + ": ref \"" + node.ref + "\" does not resolve");
            return;
          }
          // [lex.schema.ref-target] A ref never points at a token, nor at
          // an XRPC or permission-set def.
          if (target->type == Type::kToken ||
              (is_primary(target->type) && target->type != Type::kRecord)) {
            result = make_error("lex.schema.ref-target", id + "#" + path + ": ref \"" + node.ref +
                                                             "\" points at a " +
                                                             std::string(type_name(target->type)));
          }
        } else if (node.type == Type::kUnion) {
          const auto& variants = union_variants(node);
          for (std::size_t i = 0; i < variants.size(); ++i) {
            if (!variants[i].def) {
              result = make_error("lex.schema.ref-resolves",
                                  id + "#" + path + ".refs[" + std::to_string(i) + "]: \"" +
                                      node.refs[i] + "\" does not resolve");
              return;
            }
            // [lex.schema.union-variant] Union variants are objects or
            // records.
            Type t = variants[i].def->type;
            if (t != Type::kObject && t != Type::kRecord) {
              result = make_error("lex.schema.union-variant",
                                  id + "#" + path + ".refs[" + std::to_string(i) + "]: \"" +
                                      node.refs[i] + "\" is a " + std::string(type_name(t)) +
                                      ", not an object or record");
              return;
            }
          }
        }
      });
      if (!result) return result;
    }
  }
  return {};
}

}  // namespace atproto::lexicon
