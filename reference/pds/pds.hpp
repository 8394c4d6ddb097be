// atproto-pds: the composition of the parts (accounts, repositories, blobs,
// sequencer) behind one XRPC router and HttpServer.
#pragma once

#include <cstdint>
#include <memory>

#include "atproto/common/result.hpp"
#include "atproto/pds/config.hpp"

namespace atproto::pds {

struct PdsContext;

class Pds {
 public:
  // Opens (creating if needed) <data_dir>/pds.sqlite and the blob folder,
  // loads the lexicons and the server's keys.
  static Result<std::unique_ptr<Pds>> open(PdsConfig config);
  ~Pds();
  Result<std::uint16_t> start();  // listens on config.host:config.port
  void stop();                    // graceful
  // The parts, for tests and tools in the same process.
  PdsContext& context();

 private:
  Pds();
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace atproto::pds
