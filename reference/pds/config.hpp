// Settings of atproto-pds: every one has a flag (and an ATPROTO_PDS_*
// environment variable), listed by `atproto-pds --help`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace atproto::pds {

struct PdsConfig {
  std::string host = "127.0.0.1";  // listen address
  std::uint16_t port = 2583;
  std::string data_dir;    // pds.sqlite, blobs/, the server's keys
  std::string plc_url;     // the did:plc directory accounts are created at
  // The URL clients and other services reach this PDS at: the
  // serviceEndpoint written into DID documents. Default http://localhost:<port>.
  std::string public_url;
  // The service's hostname; its DID is did:web:<hostname>. Default "localhost".
  std::string hostname;
  // Handle suffixes offered to new accounts, each starting with '.'.
  std::vector<std::string> handle_domains = {".test"};
  bool invite_required = false;
  std::string admin_password;  // "" disables the admin routes
  // Outbound fetches (PLC directory, did:web, handles, proxying) may reach
  // loopback and private addresses: tests and local setups only.
  bool allow_private_addresses = false;
  std::string lexicon_dir;  // the official lexicons (tools/fetch-lexicons)
  std::size_t max_blob_bytes = 5'000'000;
  std::size_t max_request_bytes = 5'000'000;  // bodies other than blobs and imports
  std::size_t max_import_bytes = 100'000'000;
  int access_token_seconds = 2 * 60 * 60;
  int refresh_token_seconds = 90 * 24 * 60 * 60;
  // Firehose events older than this many hours are no longer replayed: a
  // cursor before the window gets an OutdatedCursor #info, then the window.
  int event_retention_hours = 72;
  int threads = 4;
  // true: every acknowledged write is synced to disk before the answer
  // (survives a machine crash; costs one fsync per write). false: written to
  // the operating system before the answer (survives kill -9 of the server,
  // not a power loss), several times faster on slow disks.
  bool fsync_each_write = true;
};

}  // namespace atproto::pds
