// subscribeRepos over a real WebSocket: the PDS's routes on an HttpServer,
// plain Beast clients on loopback. A consumer that never reads delays no
// other, and the cursor errors arrive as frames before the close.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>

#include "atproto/pds/repo_test_support.hpp"
#include "atproto/sync/events.hpp"
#include "atproto/xrpc/http_server.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace atproto;
using namespace atproto::pds;
using pds::testing::RepoFixture;
using namespace std::chrono_literals;

namespace {

const std::string kAlice = "did:plc:aliceaaaaaaaaaaaaaaaaaaa";

struct Consumer {
  asio::io_context ioc;
  websocket::stream<tcp::socket> ws{ioc};

  Consumer(std::uint16_t port, const std::string& query, int receive_buffer = 0) {
    ws.next_layer().open(tcp::v4());
    if (receive_buffer > 0)
      ws.next_layer().set_option(asio::socket_base::receive_buffer_size(receive_buffer));
    ws.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    ws.handshake("127.0.0.1", "/xrpc/com.atproto.sync.subscribeRepos" + query);
  }

  // Up to `n` messages, or fewer when the server closes; bounded by a
  // deadline after which the socket is shut so the read returns.
  std::vector<sync::Message> read(std::size_t n, std::chrono::milliseconds limit = 10s) {
    auto reading = std::async(std::launch::async, [&] {
      std::vector<sync::Message> out;
      beast::flat_buffer buffer;
      while (out.size() < n) {
        beast::error_code ec;
        buffer.clear();
        ws.read(buffer, ec);
        if (ec) break;
        auto* p = static_cast<const std::uint8_t*>(buffer.data().data());
        auto message = sync::decode_message(std::span(p, buffer.size()));
        if (!message.ok()) break;
        out.push_back(std::move(message).value());
      }
      return out;
    });
    if (reading.wait_for(limit) != std::future_status::ready) {
      beast::error_code ignored;
      ws.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
    }
    return reading.get();
  }
};

std::vector<std::int64_t> seqs(const std::vector<sync::Message>& messages) {
  std::vector<std::int64_t> out;
  for (const auto& m : messages) {
    if (const auto* e = std::get_if<sync::Event>(&m)) out.push_back(sync::event_seq(*e));
  }
  return out;
}

void write_posts(RepoFixture& f, int count) {
  static int serial = 1000;
  for (int i = 0; i < count; ++i, ++serial) {
    RecordWrite w;
    w.op = repo::WriteOp{repo::Action::kCreate, "app.bsky.feed.post",
                         "3kbbbbbbb" + std::to_string(serial),
                         data::Value(data::Map{{"$type", "app.bsky.feed.post"},
                                               {"text", std::string(2000, 'p')},
                                               {"createdAt", "2026-12-06T09:00:00.000Z"}})};
    auto written = f.repos->apply_writes(kAlice, {w}, std::nullopt);
    INFO((written.ok() ? "" : written.error().code + ": " + written.error().message));
    REQUIRE(written.ok());
  }
}

struct Served {
  RepoFixture f;
  xrpc::HttpServer server;
  std::uint16_t port = 0;
  Served() : server(xrpc::ServerOptions{}, f.router.handler()) {
    f.add_account(kAlice, "alice.test");
    port = server.start().value();
  }
  ~Served() {
    f.sequencer->stop();
    server.stop();
  }
};

}  // namespace

TEST_CASE(
    "pds subscribeRepos: a future cursor is an error frame, then the close "
    "[sync.stream.cursor-future] [sync.stream.close-after-error]",
    "[pds][subscribe]") {
  Served s;
  Consumer c(s.port, "?cursor=1000");
  auto got = c.read(5);
  REQUIRE(got.size() == 1);
  const auto* error = std::get_if<sync::ErrorFrame>(&got[0]);
  REQUIRE(error != nullptr);
  CHECK(error->error == "FutureCursor");
}

TEST_CASE("pds subscribeRepos: a consumer that never reads does not hold back one that does",
          "[pds][subscribe]") {
  Served s;
  Consumer stalled(s.port, "?cursor=0", 4096);
  Consumer reader(s.port, "?cursor=0");
  write_posts(s.f, 150);
  // Everything, in order, to the reader while the other reads nothing.
  auto got = reader.read(151);
  std::vector<std::int64_t> expected;
  for (std::int64_t i = 1; i <= 151; ++i) expected.push_back(i);
  CHECK(seqs(got) == expected);
  // The stalled one was not dropped: once it reads it gets the same.
  auto late = stalled.read(151);
  CHECK(seqs(late) == expected);
  // Live events reach both.
  write_posts(s.f, 1);
  CHECK(seqs(reader.read(1)) == std::vector<std::int64_t>{152});
  CHECK(seqs(stalled.read(1)) == std::vector<std::int64_t>{152});
}
