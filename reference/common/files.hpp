// Small file-system and clock helpers shared by the services' storage code.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace atproto {

// fsync of a folder, so that a file created or renamed in it survives a
// power cut (POSIX makes the name durable only through its folder).
inline bool sync_directory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

// Wall-clock milliseconds since the Unix epoch (stored times, retention).
inline std::int64_t unix_time_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace atproto
