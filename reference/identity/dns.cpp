#include "atproto/identity/dns.hpp"

#include <ares.h>
#include <arpa/nameser.h>
#include <sys/select.h>

#include <mutex>

namespace atproto::identity {

namespace {

void init_library() {
  static std::once_flag once;
  std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

struct Query {
  bool done = false;
  int status = ARES_SUCCESS;
  TxtLookup result;
  std::string parse_error;
};

void on_answer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
  auto& q = *static_cast<Query*>(arg);
  q.done = true;
  q.status = status;
  if (status != ARES_SUCCESS) return;
  ares_txt_ext* txt = nullptr;
  int parsed = ares_parse_txt_reply_ext(abuf, alen, &txt);
  if (parsed == ARES_ENODATA) return;
  if (parsed != ARES_SUCCESS) {
    q.status = parsed;
    return;
  }
  // A TXT record may hold several character-strings; they form one value.
  for (auto* t = txt; t != nullptr; t = t->next) {
    if (t->record_start || q.result.records.empty()) q.result.records.emplace_back();
    q.result.records.back().append(reinterpret_cast<const char*>(t->txt), t->length);
  }
  q.result.found = !q.result.records.empty();
  ares_free_data(txt);
}

}  // namespace

Result<TxtLookup> lookup_txt(std::string_view name, const DnsOptions& options) {
  init_library();
  ares_options opts{};
  opts.timeout = options.timeout_ms;
  opts.tries = options.tries;
  ares_channel channel = nullptr;
  if (ares_init_options(&channel, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) != ARES_SUCCESS) {
    return make_error("dns.config", "cannot initialise the DNS resolver");
  }
  struct Closer {
    ares_channel c;
    ~Closer() { ares_destroy(c); }
  } closer{channel};
  if (!options.server.empty() &&
      ares_set_servers_ports_csv(channel, options.server.c_str()) != ARES_SUCCESS) {
    return make_error("dns.config", "bad DNS server address: " + options.server);
  }
  Query q;
  std::string qname(name);
  ares_query(channel, qname.c_str(), ns_c_in, ns_t_txt, on_answer, &q);
  // c-ares enforces the per-try timeouts; the loop ends when the callback ran.
  while (!q.done) {
    fd_set readers, writers;
    FD_ZERO(&readers);
    FD_ZERO(&writers);
    int nfds = ares_fds(channel, &readers, &writers);
    if (nfds == 0) break;
    timeval tv{};
    timeval* tvp = ares_timeout(channel, nullptr, &tv);
    select(nfds, &readers, &writers, nullptr, tvp);
    ares_process(channel, &readers, &writers);
  }
  if (!q.done) return make_error("dns.error", "DNS query for " + qname + " did not complete");
  switch (q.status) {
    case ARES_SUCCESS:
      return q.result;
    case ARES_ENOTFOUND:  // NXDOMAIN
    case ARES_ENODATA:    // the name exists without TXT records
      return TxtLookup{};
    case ARES_ETIMEOUT:
      return make_error("dns.timeout", "DNS query for " + qname + " timed out");
    default:
      return make_error("dns.error",
                        "DNS query for " + qname + " failed: " + ares_strerror(q.status));
  }
}

}  // namespace atproto::identity
