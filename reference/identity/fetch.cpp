// Safe outbound HTTP(S): the host is resolved here, every address is vetted
// before any connection (and again at each redirect hop), and the connection
// goes to the vetted address, so a second lookup cannot swap it (DNS
// rebinding). One deadline covers the whole exchange, redirects included.
// https://atproto.com/specs/handle#https-well-known-method
// https://atproto.com/specs/did#didweb-in-at-protocol
#include "atproto/identity/fetch.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <chrono>
#include <functional>
#include <optional>

namespace atproto::identity {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && lowercase(s.substr(0, prefix.size())) == prefix;
}

bool in_v4(std::uint32_t a, std::uint32_t net, int bits) {
  std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
  return (a & mask) == (net & mask);
}

constexpr std::uint32_t v4(unsigned a, unsigned b, unsigned c, unsigned d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

bool public_v4(std::uint32_t a) {
  struct Range {
    std::uint32_t net;
    int bits;
  };
  // Special-purpose IPv4 ranges (RFC 6890 and successors): none of them is
  // a public web server.
  static constexpr std::array<Range, 15> kRefused = {{
      {v4(0, 0, 0, 0), 8},        // "this network", unspecified
      {v4(10, 0, 0, 0), 8},       // private
      {v4(100, 64, 0, 0), 10},    // carrier-grade NAT
      {v4(127, 0, 0, 0), 8},      // loopback
      {v4(169, 254, 0, 0), 16},   // link-local (cloud metadata services)
      {v4(172, 16, 0, 0), 12},    // private
      {v4(192, 0, 0, 0), 24},     // IETF protocol assignments
      {v4(192, 0, 2, 0), 24},     // documentation
      {v4(192, 88, 99, 0), 24},   // 6to4 relay anycast
      {v4(192, 168, 0, 0), 16},   // private
      {v4(198, 18, 0, 0), 15},    // benchmarking
      {v4(198, 51, 100, 0), 24},  // documentation
      {v4(203, 0, 113, 0), 24},   // documentation
      {v4(224, 0, 0, 0), 4},      // multicast
      {v4(240, 0, 0, 0), 4},      // reserved, broadcast
  }};
  return std::none_of(kRefused.begin(), kRefused.end(),
                      [a](const Range& r) { return in_v4(a, r.net, r.bits); });
}

std::uint32_t v4_at(const asio::ip::address_v6::bytes_type& b, std::size_t i) {
  return (std::uint32_t{b[i]} << 24) | (std::uint32_t{b[i + 1]} << 16) |
         (std::uint32_t{b[i + 2]} << 8) | std::uint32_t{b[i + 3]};
}

bool public_v6(const asio::ip::address_v6& address) {
  auto b = address.to_bytes();
  auto prefix_is = [&b](std::initializer_list<unsigned> bytes) {
    std::size_t i = 0;
    for (unsigned v : bytes)
      if (b[i++] != v) return false;
    return true;
  };
  // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d): judged by the
  // IPv4 address they carry.
  if (prefix_is({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff})) return public_v4(v4_at(b, 12));
  if (prefix_is({0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0})) return public_v4(v4_at(b, 12));
  // 6to4 (2002:a.b.c.d::/48) carries an IPv4 address too.
  if (prefix_is({0x20, 0x02})) return public_v4(v4_at(b, 2));
  // Only global unicast (2000::/3) is public; that rules out ::, ::1, the
  // IPv4-compatible ::/96, fc00::/7, fe80::/10, fec0::/10 and ff00::/8.
  if ((b[0] & 0xe0) != 0x20) return false;
  if (prefix_is({0x20, 0x01}) && b[2] == 0x0d && b[3] == 0xb8) return false;  // documentation
  if (prefix_is({0x20, 0x01}) && (b[2] & 0xfe) == 0x00) return false;  // 2001::/23 IETF, Teredo
  if (prefix_is({0x3f, 0xff}) && (b[2] & 0xf0) == 0x00) return false;  // 3fff::/20 documentation
  return true;
}

bool public_address(const asio::ip::address& a) {
  return a.is_v4() ? public_v4(a.to_v4().to_uint()) : public_v6(a.to_v6());
}

std::string url_of(const ParsedUrl& u) {
  bool v6 = u.host.find(':') != std::string::npos;
  std::string out = u.scheme + "://" + (v6 ? "[" + u.host + "]" : u.host);
  bool default_port =
      (u.scheme == "http" && u.port == 80) || (u.scheme == "https" && u.port == 443);
  if (!default_port) out += ":" + std::to_string(u.port);
  return out + u.target;
}

std::string host_header(const ParsedUrl& u) {
  std::string origin = url_of(u);
  return origin.substr(u.scheme.size() + 3, origin.size() - u.scheme.size() - 3 - u.target.size());
}

// Resolves a Location header against the URL it came from (RFC 3986 5.2,
// the forms servers send: absolute, scheme-relative, absolute-path, relative).
Result<ParsedUrl> resolve_location(const ParsedUrl& base, std::string_view location) {
  if (istarts_with(location, "http://") || istarts_with(location, "https://")) {
    return parse_url(location);
  }
  if (location.substr(0, 2) == "//") return parse_url(base.scheme + ":" + std::string(location));
  std::string origin = base.scheme + "://" + host_header(base);
  if (!location.empty() && location[0] == '/') return parse_url(origin + std::string(location));
  std::string dir = base.target.substr(0, base.target.find('?'));
  dir = dir.substr(0, dir.rfind('/') + 1);
  return parse_url(origin + dir + std::string(location));
}

struct Deadline {
  Clock::time_point at;
  bool passed() const { return Clock::now() >= at; }
};

// Runs the io_context until `done` or the deadline; on the deadline, calls
// cancel() (which closes the socket) and drains the aborted handlers.
Status wait(asio::io_context& ioc, const Deadline& deadline, const bool& done,
            const std::function<void()>& cancel) {
  ioc.restart();
  while (!done) {
    if (deadline.passed() || ioc.run_one_until(deadline.at) == 0) {
      if (done) break;
      cancel();
      ioc.restart();
      ioc.run();
      return make_error("fetch.timeout", "the exchange did not finish within the time limit");
    }
  }
  return {};
}

Result<std::vector<tcp::endpoint>> vetted_endpoints(asio::io_context& ioc, const ParsedUrl& url,
                                                    const FetchPolicy& policy,
                                                    const Deadline& deadline) {
  std::vector<tcp::endpoint> endpoints;
  beast::error_code ec;
  auto literal = asio::ip::make_address(url.host, ec);
  if (!ec) {
    endpoints.emplace_back(literal, url.port);
  } else {
    tcp::resolver resolver(ioc);
    bool done = false;
    beast::error_code resolve_ec;
    resolver.async_resolve(url.host, std::to_string(url.port),
                           [&](beast::error_code e, const tcp::resolver::results_type& results) {
                             resolve_ec = e;
                             for (const auto& entry : results)
                               endpoints.push_back(entry.endpoint());
                             done = true;
                           });
    auto waited = wait(ioc, deadline, done, [&] { resolver.cancel(); });
    if (!waited.ok()) return waited.error();
    if (resolve_ec || endpoints.empty()) {
      return make_error("fetch.dns", "cannot resolve " + url.host + ": " + resolve_ec.message());
    }
  }
  // [handle.resolve.no-internal-hosts] Every address is vetted, not just the first: a name that
  // mixes public and private answers is refused outright rather than half-trusted.
  for (const auto& e : endpoints) {
    auto text = e.address().to_string();
    bool allowed = policy.allow_private_addresses || public_address(e.address()) ||
                   std::find(policy.allowed_addresses.begin(), policy.allowed_addresses.end(),
                             text) != policy.allowed_addresses.end();
    if (!allowed) {
      return make_error("fetch.address-refused",
                        url.host + " resolves to " + text +
                            ", a private, loopback, link-local or reserved address");
    }
  }
  return endpoints;
}

struct Exchange {
  std::string method;
  std::string body;
  HeaderList headers;
};

Error read_error(const beast::error_code& ec) {
  if (ec == http::error::body_limit || ec == http::error::buffer_overflow ||
      ec == http::error::header_limit) {
    return make_error("fetch.too-large", "the response exceeds the size limit");
  }
  if (ec.category() == asio::error::get_ssl_category() ||
      ec == asio::ssl::error::stream_truncated) {
    return make_error("fetch.tls", "TLS error: " + ec.message());
  }
  return make_error("fetch.protocol", "bad HTTP response: " + ec.message());
}

template <typename Stream>
Result<HttpResult> exchange_on(asio::io_context& ioc, Stream& stream, tcp::socket& socket,
                               const ParsedUrl& url, const Exchange& ex, const FetchPolicy& policy,
                               const Deadline& deadline) {
  auto cancel = [&] {
    beast::error_code ignored;
    socket.close(ignored);
  };
  http::request<http::string_body> req;
  req.version(11);
  req.method_string(ex.method);
  req.target(url.target);
  bool has_host = false, has_agent = false;
  for (const auto& [k, v] : ex.headers) {
    has_host = has_host || lowercase(k) == "host";
    has_agent = has_agent || lowercase(k) == "user-agent";
    req.insert(k, v);
  }
  if (!has_host) req.set(http::field::host, host_header(url));
  if (!has_agent) req.set(http::field::user_agent, "atproto-cpp");
  req.set(http::field::connection, "close");
  req.body() = ex.body;
  if (!ex.body.empty() || ex.method == "POST" || ex.method == "PUT") req.prepare_payload();

  bool done = false;
  beast::error_code ec;
  http::async_write(stream, req, [&](beast::error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  if (auto w = wait(ioc, deadline, done, cancel); !w.ok()) return w.error();
  if (ec) return make_error("fetch.protocol", "cannot send the request: " + ec.message());

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  // The cap applies while reading: a body larger than the limit (announced
  // or streamed) stops the read as soon as it passes the limit.
  parser.body_limit(policy.max_response_bytes);
  parser.header_limit(64 * 1024);
  if (ex.method == "HEAD") parser.skip(true);
  done = false;
  http::async_read_header(stream, buffer, parser, [&](beast::error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  if (auto w = wait(ioc, deadline, done, cancel); !w.ok()) return w.error();
  if (ec) return read_error(ec);
  // Boost 1.74's parser does not apply body_limit to an announced
  // Content-Length of a response, so the announced length is checked here;
  // bodies without a length are capped by the parser as they arrive.
  if (auto length = parser.content_length(); length && *length > policy.max_response_bytes) {
    return read_error(http::error::body_limit);
  }
  if (!parser.is_done()) {
    done = false;
    http::async_read(stream, buffer, parser, [&](beast::error_code e, std::size_t) {
      ec = e;
      done = true;
    });
    if (auto w = wait(ioc, deadline, done, cancel); !w.ok()) return w.error();
    if (ec) return read_error(ec);
  }

  auto res = parser.release();
  HttpResult out;
  out.status = static_cast<int>(res.result_int());
  for (const auto& field : res) {
    auto name = field.name_string();
    out.headers.emplace_back(lowercase(std::string_view(name.data(), name.size())),
                             std::string(field.value()));
  }
  out.body = std::move(res.body());
  out.final_url = url_of(url);
  return out;
}

Result<HttpResult> fetch_once(const ParsedUrl& url, const Exchange& ex, const FetchPolicy& policy,
                              const Deadline& deadline) {
  asio::io_context ioc;
  auto endpoints = vetted_endpoints(ioc, url, policy, deadline);
  if (!endpoints.ok()) return endpoints.error();

  std::optional<ssl::context> tls;
  if (url.scheme == "https") {
    tls.emplace(ssl::context::tls_client);
    beast::error_code ec;
    tls->set_default_verify_paths(ec);
    if (!policy.extra_ca_file.empty()) {
      tls->load_verify_file(policy.extra_ca_file, ec);
      if (ec) return make_error("fetch.tls", "cannot load CA file " + policy.extra_ca_file);
    }
    tls->set_verify_mode(ssl::verify_peer);
  }

  tcp::socket socket(ioc);
  bool done = false;
  beast::error_code ec;
  // Connects to the vetted addresses only: no second name lookup.
  asio::async_connect(socket, endpoints.value(), [&](beast::error_code e, const tcp::endpoint&) {
    ec = e;
    done = true;
  });
  auto cancel = [&] {
    beast::error_code ignored;
    socket.close(ignored);
  };
  if (auto w = wait(ioc, deadline, done, cancel); !w.ok()) return w.error();
  if (ec) return make_error("fetch.connect", "cannot connect to " + url.host + ": " + ec.message());

  if (!tls) return exchange_on(ioc, socket, socket, url, ex, policy, deadline);

  ssl::stream<tcp::socket&> stream(socket, *tls);
  beast::error_code literal_ec;
  asio::ip::make_address(url.host, literal_ec);
  if (literal_ec && !SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str())) {
    return make_error("fetch.tls", "cannot set the TLS server name");
  }
  stream.set_verify_callback(ssl::host_name_verification(url.host));
  done = false;
  stream.async_handshake(ssl::stream_base::client, [&](beast::error_code e) {
    ec = e;
    done = true;
  });
  if (auto w = wait(ioc, deadline, done, cancel); !w.ok()) return w.error();
  if (ec) return make_error("fetch.tls", "TLS handshake with " + url.host + ": " + ec.message());
  return exchange_on(ioc, stream, socket, url, ex, policy, deadline);
}

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

bool is_public_address(std::string_view ip_literal) {
  beast::error_code ec;
  auto a = asio::ip::make_address(std::string(ip_literal), ec);
  return !ec && public_address(a);
}

Result<std::vector<std::string>> resolve_vetted(std::string_view host, std::uint16_t port,
                                                const FetchPolicy& policy, int timeout_ms) {
  asio::io_context ioc;
  ParsedUrl url;
  url.host = lowercase(host);
  url.port = port;
  Deadline deadline{Clock::now() + std::chrono::milliseconds(timeout_ms)};
  auto endpoints = vetted_endpoints(ioc, url, policy, deadline);
  if (!endpoints.ok()) return endpoints.error();
  std::vector<std::string> out;
  for (const auto& e : endpoints.value()) out.push_back(e.address().to_string());
  return out;
}

Result<ParsedUrl> parse_url(std::string_view url) {
  auto bad = [&](std::string why) {
    return make_error("fetch.url", "bad URL '" + std::string(url) + "': " + why);
  };
  for (char c : url) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return bad("control, space or non-ASCII character");
  }
  ParsedUrl out;
  std::string_view rest;
  if (istarts_with(url, "http://")) {
    out.scheme = "http";
    out.port = 80;
    rest = url.substr(7);
  } else if (istarts_with(url, "https://")) {
    out.scheme = "https";
    out.port = 443;
    rest = url.substr(8);
  } else {
    return bad("only http and https are fetched");
  }
  auto end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  std::string_view tail = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  if (authority.find('@') != std::string_view::npos) return bad("user info is not allowed");
  std::string_view host, port;
  if (!authority.empty() && authority[0] == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return bad("unclosed IPv6 bracket");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("junk after IPv6 address");
      port = after.substr(1);
      if (port.empty()) return bad("empty port");
    }
    beast::error_code ec;
    asio::ip::make_address_v6(std::string(host), ec);
    if (ec) return bad("bad IPv6 address");
  } else {
    auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return bad("empty port");
    }
    for (char c : host) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_')
        return bad("bad character in host");
    }
  }
  if (host.empty()) return bad("empty host");
  if (!port.empty()) {
    if (port.size() > 5) return bad("bad port");
    unsigned value = 0;
    for (char c : port) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return bad("bad port");
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return bad("port out of range");
    out.port = static_cast<std::uint16_t>(value);
  }
  out.host = lowercase(host);
  std::string_view target = tail.substr(0, tail.find('#'));
  out.target = target.empty() || target[0] != '/' ? "/" + std::string(target) : std::string(target);
  return out;
}

Result<HttpResult> http_request(std::string_view method, std::string_view url,
                                std::string_view body, const HeaderList& headers,
                                const FetchPolicy& policy) {
  Deadline deadline{Clock::now() + std::chrono::milliseconds(policy.timeout_ms)};
  auto current = parse_url(url);
  if (!current.ok()) return current.error();
  Exchange ex{std::string(method), std::string(body), headers};
  for (int hop = 0;; ++hop) {
    auto result = fetch_once(current.value(), ex, policy, deadline);
    if (!result.ok() || !is_redirect(result->status)) return result;
    std::optional<std::string> location;
    for (const auto& [k, v] : result->headers)
      if (k == "location") location = v;
    if (!location) return result;  // a 3xx without a target is the answer itself
    if (hop >= policy.max_redirects) {
      return make_error("fetch.redirects", "more than " + std::to_string(policy.max_redirects) +
                                               " redirects from " + std::string(url));
    }
    auto next = resolve_location(current.value(), *location);
    if (!next.ok()) return next.error();
    if (current->scheme == "https" && next->scheme == "http") {
      return make_error("fetch.redirects", "redirect from https to plain http refused");
    }
    // 303, and 301/302 after a POST, continue as a GET without the body, as
    // browsers and every HTTP client do.
    int status = result->status;
    if (status == 303 || ((status == 301 || status == 302) && ex.method == "POST")) {
      ex.method = "GET";
      ex.body.clear();
      std::erase_if(ex.headers, [](const auto& h) {
        auto name = lowercase(h.first);
        return name == "content-type" || name == "content-length";
      });
    }
    // Credentials and a caller-set Host do not follow a redirect to another host.
    if (next->host != current->host || next->port != current->port) {
      std::erase_if(ex.headers, [](const auto& h) {
        auto name = lowercase(h.first);
        return name == "authorization" || name == "cookie" || name == "host";
      });
    }
    current = std::move(next);
  }
}

}  // namespace atproto::identity
