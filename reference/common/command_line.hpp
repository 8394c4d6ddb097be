// The command line of the project's servers (atproto-pds, atproto-relay,
// atproto-plc): one table of options per program, from which the flags, the
// environment variables (PREFIX_FLAG_NAME) and the --help text all come, so
// that the three can never disagree. Plus the stop-signal handling they share.
#pragma once

#include <pthread.h>
#include <signal.h>

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace atproto::command_line {

// One setting of a program's Config.
template <typename Config>
struct Option {
  const char* name;   // the flag without its leading "--"
  const char* value;  // the value's name in --help; nullptr for a switch
  std::string help;   // may hold '\n' for more lines
  // Reads the value ("" for a switch) into the config; false when the value
  // is not acceptable.
  std::function<bool(Config&, const std::string&)> set;
  // The default shown in --help (from a default-constructed Config); empty
  // to show none.
  std::function<std::string(const Config&)> show = nullptr;
  bool required = false;  // must come from the flag or the environment
};

// An integer in [min, max], written in decimal with no sign or spaces.
template <typename T>
bool parse_integer(const std::string& text, T min, T max, T& out) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min ||
      value > max) {
    return false;
  }
  out = value;
  return true;
}

template <typename Config, typename T>
Option<Config> integer(const char* name, const char* value, std::string help, T Config::*field,
                       std::type_identity_t<T> min, std::type_identity_t<T> max) {
  return {name, value, std::move(help),
          [=](Config& c, const std::string& v) { return parse_integer(v, min, max, c.*field); },
          [=](const Config& c) { return std::to_string(c.*field); }};
}

// A non-empty text, unless allow_empty.
template <typename Config>
Option<Config> text(const char* name, const char* value, std::string help,
                    std::string Config::*field, bool allow_empty = false) {
  return {name, value, std::move(help),
          [=](Config& c, const std::string& v) {
            if (v.empty() && !allow_empty) return false;
            c.*field = v;
            return true;
          },
          [=](const Config& c) { return c.*field; }};
}

// true/false (also 1/0, yes/no).
template <typename Config>
Option<Config> boolean(const char* name, std::string help, bool Config::*field) {
  return {name, "true|false", std::move(help),
          [=](Config& c, const std::string& v) {
            if (v == "true" || v == "1" || v == "yes") {
              c.*field = true;
            } else if (v == "false" || v == "0" || v == "no") {
              c.*field = false;
            } else {
              return false;
            }
            return true;
          },
          [=](const Config& c) { return std::string(c.*field ? "true" : "false"); }};
}

// A switch: present means true.
template <typename Config>
Option<Config> enable(const char* name, std::string help, bool Config::*field) {
  return {name, nullptr, std::move(help), [=](Config& c, const std::string&) {
            c.*field = true;
            return true;
          }};
}

// A repeatable value, each one appended.
template <typename Config>
Option<Config> each(const char* name, const char* value, std::string help,
                    std::vector<std::string> Config::*field) {
  return {name, value, std::move(help), [=](Config& c, const std::string& v) {
            if (v.empty()) return false;
            (c.*field).push_back(v);
            return true;
          }};
}

struct Program {
  const char* name;        // "atproto-relay"
  const char* version;     // "0.1.0"
  const char* synopsis;    // "--port P --data DIR [options]"
  const char* about;       // paragraphs after the synopsis line
  const char* env_prefix;  // "ATPROTO_RELAY_"
};

// PREFIX + the flag in upper case with '_' for '-'.
inline std::string env_name(const Program& program, const char* flag) {
  std::string out = program.env_prefix;
  for (const char* p = flag; *p; ++p) {
    out += *p == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(*p)));
  }
  return out;
}

template <typename Config>
std::string usage(const Program& program, const std::vector<Option<Config>>& options) {
  const Config defaults{};
  constexpr std::size_t kColumn = 32;
  const std::string indent(kColumn, ' ');
  std::string out = std::string("usage: ") + program.name + " " + program.synopsis + "\n\n" +
                    program.about + "\n";
  for (const auto& o : options) {
    std::string head = std::string("  --") + o.name + (o.value ? std::string(" ") + o.value : "");
    // A long flag gets its help on the next line.
    head = head.size() + 2 > kColumn ? head + "\n" + indent
                                     : head + std::string(kColumn - head.size(), ' ');
    std::string help = o.help;
    for (std::size_t pos = 0; (pos = help.find('\n', pos)) != std::string::npos; ++pos) {
      help.insert(pos + 1, indent);
    }
    std::string shown = o.show && !o.required ? o.show(defaults) : "";
    std::string note = o.required ? "required; " : shown.empty() ? "" : "default " + shown + "; ";
    out += head + help + "\n" + indent + "(" + note + "env " + env_name(program, o.name) + ")\n";
  }
  out +=
      "  --version                     print the version and exit\n"
      "  -h, --help                    this text\n";
  return out;
}

// Reads the environment, then the arguments (flags win) into config.
// Returns nothing when the program should go on, or the exit status it
// should end with: 0 after --help or --version, 2 (with the reason and the
// usage on stderr) for a bad command line.
template <typename Config>
std::optional<int> parse(const Program& program, const std::vector<Option<Config>>& options,
                         int argc, char** argv, Config& config) {
  auto fail = [&](const std::string& message) {
    std::cerr << program.name << ": " << message << "\n\n" << usage(program, options);
    return std::optional<int>(2);
  };
  std::vector<bool> given(options.size(), false);
  for (std::size_t k = 0; k < options.size(); ++k) {
    const auto& o = options[k];
    const char* v = std::getenv(env_name(program, o.name).c_str());
    if (!v) continue;
    if (!o.set(config, o.value ? v : "")) return fail("bad value in " + env_name(program, o.name));
    given[k] = true;
  }
  std::vector<std::string> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << usage(program, options);
      return 0;
    }
    if (a == "--version") {
      std::cout << program.name << " " << program.version << "\n";
      return 0;
    }
    std::size_t k = 0;
    while (k < options.size() && a != std::string("--") + options[k].name) ++k;
    if (k == options.size()) return fail("unknown argument " + a);
    const auto& o = options[k];
    std::string value;
    if (o.value) {
      if (i + 1 >= args.size()) return fail(a + " needs " + o.value);
      value = args[++i];
    }
    if (!o.set(config, value)) return fail("bad value for " + a + ": " + value);
    given[k] = true;
  }
  for (std::size_t k = 0; k < options.size(); ++k) {
    if (options[k].required && !given[k]) {
      return fail(std::string("--") + options[k].name + " is required");
    }
  }
  return std::nullopt;
}

// SIGTERM and SIGINT, taken by wait() rather than by a handler. Construct it
// before any thread starts: the signals are blocked in the constructing
// thread and so in every thread started after it, and no server thread is
// interrupted by one.
class StopSignals {
 public:
  StopSignals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  }
  // Blocks until one arrives; returns its number.
  int wait() {
    int signal = 0;
    sigwait(&set_, &signal);
    return signal;
  }

 private:
  sigset_t set_;
};

}  // namespace atproto::command_line
