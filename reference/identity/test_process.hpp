// Test helpers for the network tests: real servers from Debian packages
// (dnsmasq, openssl s_server) run as child processes, stopped and reaped
// when the test ends, and free loopback ports for them.
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace atproto::identity::testing {

class ChildProcess {
 public:
  // argv[0] is looked up on PATH unless it holds a '/'.
  explicit ChildProcess(std::vector<std::string> argv) {
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    if (posix_spawnp(&pid_, args[0], nullptr, nullptr, args.data(), environ) != 0) pid_ = 0;
  }
  ~ChildProcess() {
    if (pid_ == 0) return;
    kill(pid_, SIGTERM);
    int status;
    waitpid(pid_, &status, 0);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  bool started() const { return pid_ != 0; }
  // True once the child has ended (it is then reaped here).
  bool exited() {
    if (pid_ == 0) return true;
    int status;
    if (waitpid(pid_, &status, WNOHANG) != pid_) return false;
    pid_ = 0;
    return true;
  }

 private:
  pid_t pid_ = 0;
};

// A port that was free on 127.0.0.1 a moment ago (UDP or TCP).
template <typename Protocol>
std::uint16_t free_port() {
  boost::asio::io_context ioc;
  typename Protocol::socket s(
      ioc, typename Protocol::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return s.local_endpoint().port();
}

// A port free on 127.0.0.1 for both UDP and TCP a moment ago (a DNS server
// binds both).
inline std::uint16_t free_udp_and_tcp_port() {
  for (;;) {
    std::uint16_t port = free_port<boost::asio::ip::udp>();
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor acceptor(ioc);
    boost::system::error_code ec;
    acceptor.open(boost::asio::ip::tcp::v4(), ec);
    if (!ec) acceptor.bind({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
    if (!ec) return port;
  }
}

// A server run as a child process on a port picked while free. Tests run in
// parallel, so another process can take the port before the child binds it:
// the child then exits (or never answers), and start_on_free_port tries again
// on another port. Each attempt waits up to 15 s for `ready(port)`, less if
// the child exits first.
struct PortServer {
  std::unique_ptr<ChildProcess> process;
  std::uint16_t port = 0;
  bool ready() const { return process != nullptr; }
};

inline PortServer start_on_free_port(
    const std::function<std::uint16_t()>& pick_port,
    const std::function<std::vector<std::string>(std::uint16_t)>& argv_for,
    const std::function<bool(std::uint16_t)>& ready, int attempts = 5) {
  for (int attempt = 0; attempt < attempts; ++attempt) {
    std::uint16_t port = pick_port();
    auto process = std::make_unique<ChildProcess>(argv_for(port));
    if (!process->started()) return {};
    for (int i = 0; i < 300 && !process->exited(); ++i) {
      if (ready(port)) return {std::move(process), port};
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return {};
}

}  // namespace atproto::identity::testing
