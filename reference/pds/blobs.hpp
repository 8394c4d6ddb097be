// Blobs on the PDS: files under <data>/blobs/, metadata and the references
// from records in the shared database. An uploaded blob stays temporary
// until a record references it; temporary blobs older than an hour and
// blobs no record references any more are collected.
// https://atproto.com/specs/blob
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "atproto/common/result.hpp"
#include "atproto/data/cid.hpp"
#include "atproto/pds/context.hpp"

namespace atproto::pds {

class Blobs {
 public:
  explicit Blobs(PdsContext& context);
  Status init_schema();
  // In the caller's transaction: forget every blob of `did` and delete its
  // files after the commit (deleteAccount).
  Status delete_account_in_tx(const std::string& did);

 private:
  PdsContext& context_;
};

}  // namespace atproto::pds
