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

 private:
  pid_t pid_ = 0;
};

// Polls `ready` every 50 ms, at most 100 times (5 s); true once it holds.
template <typename F>
bool wait_until(F ready) {
  for (int i = 0; i < 100; ++i) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// A port that was free on 127.0.0.1 a moment ago (UDP or TCP).
template <typename Protocol>
std::uint16_t free_port() {
  boost::asio::io_context ioc;
  typename Protocol::socket s(
      ioc, typename Protocol::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return s.local_endpoint().port();
}

}  // namespace atproto::identity::testing
