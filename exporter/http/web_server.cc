// HTTP endpoints: routing, the landing page, /metrics, health and /tree.
#include "http/web_server.h"

#include <CivetServer.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>

#include "base/listen_address.h"
#include "base/logging.h"
#include "base/namespace_type.h"
#include "http/basic_auth.h"
#include "http/gzip.h"
#include "http/tree_page.h"
#include "http/tree_query.h"
#include "metrics/text_format.h"
#include "ns/tree_view.h"

namespace nsexp {

namespace {

// zlib level of /metrics responses: the fastest, which already makes the
// text ten or more times smaller (it repeats label names on every line).
constexpr int kGzipLevel = 1;

// Bytes reserved per namespace for the first /metrics text (see TextOf()):
// the default families write about 260.
constexpr std::size_t kFirstBodyPerNamespace = 320;

// CivetWeb reports a bind failure only through its log callback; keep the
// last message so that Start() can say why.
std::mutex g_civet_log_mu;
std::string g_civet_last_error;

int CivetLog(const mg_connection*, const char* message) {
  {
    std::lock_guard<std::mutex> lock(g_civet_log_mu);
    std::string m = message != nullptr ? message : "";
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
    // Keep the first message of a failed start, which says why (e.g.
    // "cannot bind to 127.0.0.1:19101: 98 (Address already in use)"); later
    // ones repeat or follow from it.
    if (g_civet_last_error.empty()) g_civet_last_error = m;
  }
  Log(LogLevel::kDebug, "civetweb", {{"detail", message ? message : ""}});
  return 1;  // handled: keep CivetWeb from printing it itself
}

// CivetWeb's external_ssl_ctx callback: at start (*ssl_ctx null) it hands
// CivetWeb the context that WebServer made (in the CallbackContext passed as
// the CivetServer's user context); at stop it says 1 so that CivetWeb leaves
// freeing it to WebServer.
int ExternalSslCtx(void** ssl_ctx, void* user_data) {
  if (*ssl_ctx == nullptr) {
    const auto* server = static_cast<const CivetServer*>(user_data);
    *ssl_ctx = WebServer::CallbackContextOf(server)->ssl_ctx;
  }
  return 1;
}

// CivetWeb's init_thread callback: every thread it starts (master, workers,
// timer) runs the configured thread_start first.
void* InitThread(const mg_context* ctx, int) {
  const auto* server = static_cast<const CivetServer*>(mg_get_user_data(ctx));
  const auto* context = WebServer::CallbackContextOf(server);
  if (context->thread_start) context->thread_start();
  return nullptr;
}

bool IsHead(mg_connection* conn) {
  const mg_request_info* ri = mg_get_request_info(conn);
  return ri != nullptr && ri->request_method != nullptr &&
         std::strcmp(ri->request_method, "HEAD") == 0;
}

void Send(mg_connection* conn, int status, const char* reason,
          const char* content_type, const std::string& body,
          const char* extra_headers = "") {
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
            "%s\r\n",
            status, reason, content_type, body.size(), extra_headers);
  if (IsHead(conn)) return;
  mg_write(conn, body.data(), body.size());
}

// False when the kernel cannot make an IPv6 socket (built without IPv6, or
// booted with ipv6.disable=1).
bool KernelHasIpv6() {
  const int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  close(fd);
  return true;
}

// Stands for the Content-Security-Policy nonce in a cached tree page; each
// response gets its own nonce in its place.
constexpr const char* kNoncePlaceholder = "NSEXP-NONCE-PLACEHOLDER";

}  // namespace

Status ListenAddressToCivet(const std::string& address, std::string* out) {
  ListenAddress parsed;
  Status s = ParseListenAddress(address, &parsed);
  if (!s.ok()) return s;
  const std::string port = std::to_string(parsed.port);
  if (parsed.host.empty() || parsed.host == "[::]") {
    // Every address, IPv6 and IPv4 (one socket without IPV6_V6ONLY), as
    // Go's net.Listen does for ":port" and "[::]:port"; Start() falls back
    // to IPv4 alone where the kernel has no IPv6.
    *out = "+" + port;
  } else {
    *out = parsed.host + ":" + port;
  }
  return Status::Ok();
}

// One handler for every URI: authentication, exact routes, 404 for the
// rest, GET/HEAD only.
class WebServer::Router : public CivetHandler {
 public:
  Router(WebOptions options, std::shared_ptr<const NamespaceCollector> c,
         std::unique_ptr<BasicAuth> auth)
      : options_(std::move(options)), collector_(std::move(c)) {
    SetAccess(std::move(auth), options_.extra_headers);
  }

  // Replaces the authentication (null: none) and the extra headers from the
  // next request on; requests in flight keep what they started with.
  void SetAccess(std::unique_ptr<BasicAuth> auth,
                 const std::map<std::string, std::string>& extra_headers) {
    auto next = std::make_shared<Access>();
    next->auth = std::move(auth);
    for (const auto& [name, value] : extra_headers) {
      if (name == "X-Content-Type-Options") continue;  // Send() always sets it
      next->headers += name + ": " + value + "\r\n";
    }
    std::lock_guard<std::mutex> lock(access_mu_);
    access_ = std::move(next);
  }

  bool handleGet(CivetServer*, mg_connection* conn) override {
    Guarded(conn);
    return true;
  }
  bool handleHead(CivetServer*, mg_connection* conn) override {
    Guarded(conn);
    return true;
  }

  // Refuses new requests (503) from now on, then waits until the requests
  // in flight have answered or "timeout" passes. True when none is left.
  bool Drain(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(flight_mu_);
    draining_ = true;
    return idle_.wait_for(lock, timeout, [this] { return in_flight_ == 0; });
  }
  bool handlePost(CivetServer*, mg_connection* conn) override {
    return MethodNotAllowed(conn);
  }
  bool handlePut(CivetServer*, mg_connection* conn) override {
    return MethodNotAllowed(conn);
  }
  bool handleDelete(CivetServer*, mg_connection* conn) override {
    return MethodNotAllowed(conn);
  }
  bool handlePatch(CivetServer*, mg_connection* conn) override {
    return MethodNotAllowed(conn);
  }
  bool handleOptions(CivetServer*, mg_connection* conn) override {
    return MethodNotAllowed(conn);
  }

 private:
  bool MethodNotAllowed(mg_connection* conn) {
    Reply(conn, 405, "Method Not Allowed", "text/plain; charset=utf-8",
          "method not allowed\n", "Allow: GET, HEAD\r\n");
    return true;
  }

  // Send() with the configured extra headers.
  void Reply(mg_connection* conn, int status, const char* reason,
             const char* content_type, const std::string& body,
             const std::string& extra = "") {
    Send(conn, status, reason, content_type, body,
         (access()->headers + extra).c_str());
  }

  // True when the request may proceed; otherwise a 401 has been sent.
  // /-/healthy stays open so that liveness probes need no secret.
  bool Authorized(mg_connection* conn, const std::string& path) {
    const std::shared_ptr<const Access> access = this->access();
    if (access->auth == nullptr || path == "/-/healthy") return true;
    const char* header = mg_get_header(conn, "Authorization");
    if (access->auth->Check(header != nullptr ? header : "")) return true;
    Reply(conn, 401, "Unauthorized", "text/plain; charset=utf-8",
          "Unauthorized\n",
          "WWW-Authenticate: Basic realm=\"linux_namespace_exporter\"\r\n");
    return false;
  }

  // Counts the request in flight for Drain(), or refuses it once draining.
  void Guarded(mg_connection* conn) {
    {
      std::lock_guard<std::mutex> lock(flight_mu_);
      if (draining_) {
        Reply(conn, 503, "Service Unavailable", "text/plain; charset=utf-8",
              "shutting down\n", "Connection: close\r\n");
        return;
      }
      ++in_flight_;
    }
    Route(conn);
    std::lock_guard<std::mutex> lock(flight_mu_);
    if (--in_flight_ == 0) idle_.notify_all();
  }

  void Route(mg_connection* conn) {
    const mg_request_info* ri = mg_get_request_info(conn);
    const std::string path =
        ri != nullptr && ri->local_uri != nullptr ? ri->local_uri : "";
    try {
      if (!Authorized(conn, path)) return;
      if (path == options_.telemetry_path) {
        Metrics(conn);
      } else if (path == "/") {
        Landing(conn);
      } else if (path == "/-/healthy" || path == "/-/ready") {
        Reply(conn, 200, "OK", "text/plain; charset=utf-8", "OK\n");
      } else if (path == "/tree") {
        Tree(conn);
      } else {
        Reply(conn, 404, "Not Found", "text/plain; charset=utf-8",
              "not found\n");
      }
    } catch (const std::exception& e) {
      Log(LogLevel::kError, "request failed",
          {{"path", path}, {"err", e.what()}});
      Reply(conn, 500, "Internal Server Error", "text/plain; charset=utf-8",
            "internal error\n");
    }
  }

  // The namespace series of "shared" as text, and in *generation the
  // collection it shows. Scrapes that share a collection share its text
  // too: written once, by the first of them, while the others wait here. A
  // scrape whose collection is older than the cached text (it was slow to
  // get here) serves the newer text: fresher data, and no writing and
  // compressing the same collections again as slow and fast scrapes
  // alternate.
  std::shared_ptr<const std::string> TextOf(
      const NamespaceCollector::SharedResult& shared,
      std::uint64_t* generation) {
    std::lock_guard<std::mutex> lock(body_mu_);
    if (body_ && body_generation_ >= shared.generation) {
      *generation = body_generation_;
      return body_;
    }
    // The last text's memory can hold the new one: it is dropped first
    // (scrapes still sending it hold their own reference), and its size,
    // plus an eighth, is reserved at once.
    DropCachedTextLocked();
    const NamespaceCollector::Collection& snap = *shared.collection;
    // The first text has no last size: it gets room for the series of
    // every namespace (about 260 bytes each with the default families).
    // Only what is written becomes resident; growing by doubling instead
    // would copy, with old and new buffer resident at once.
    const std::size_t hint =
        body_hint_ > 0 ? body_hint_
                       : kFirstBodyPerNamespace * snap.graph.namespaces.size();
    auto text = std::make_shared<std::string>();
    text->reserve(hint);
    if (snap.ok) {
      AppendNamespaceText(snap.graph, snap.limits, snap.metrics, text.get());
    }
    // A late scrape, after a newer collection dropped the cache, does not
    // bring an older text back into it.
    if (shared.generation >= body_generation_) {
      body_ = text;
      body_generation_ = shared.generation;
    }
    return text;
  }

  // The one scrape path: the namespace series written straight from the
  // shared collection's graph, then the exporter's own metrics (long-lived
  // prometheus-cpp counters and gauges, and process_*) as they stand now.
  void Metrics(mg_connection* conn) {
    // A new collection makes the cached text stale: it is dropped as the
    // collection starts (scrapes sending it keep their references), so the
    // walk does not peak with the last text beside it.
    const NamespaceCollector::SharedResult shared =
        collector_->CollectShared([this] { DropCachedText(); });
    std::uint64_t generation = shared.generation;
    const std::shared_ptr<const std::string> body = TextOf(shared, &generation);
    std::string fresh;
    AppendTextFormat(collector_->SelfFamilies(), &fresh);
    const std::string headers = access()->headers;
    const char* accept = mg_get_header(conn, "Accept-Encoding");
    if (accept != nullptr && AcceptsGzip(accept)) {
      const std::shared_ptr<const GzipPrefix> prefix =
          GzipBody(body, generation);
      std::string tail;
      if (prefix && GzipFinish(*prefix, fresh, kGzipLevel, &tail).ok()) {
        mg_printf(conn,
                  "HTTP/1.1 200 OK\r\n"
                  "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                  "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n"
                  "Content-Length: %zu\r\nCache-Control: no-store\r\n"
                  "X-Content-Type-Options: nosniff\r\n%s\r\n",
                  prefix->bytes.size() + tail.size(), headers.c_str());
        if (IsHead(conn)) return;
        mg_write(conn, prefix->bytes.data(), prefix->bytes.size());
        mg_write(conn, tail.data(), tail.size());
        return;
      }
      // zlib failed (out of memory): the identity body below is correct.
    }
    mg_printf(conn,
              "HTTP/1.1 200 OK\r\n"
              "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
              "Vary: Accept-Encoding\r\n"
              "Content-Length: %zu\r\nCache-Control: no-store\r\n"
              "X-Content-Type-Options: nosniff\r\n%s\r\n",
              body->size() + fresh.size(), headers.c_str());
    if (IsHead(conn)) return;
    mg_write(conn, body->data(), body->size());
    mg_write(conn, fresh.data(), fresh.size());
  }

  // Forgets the cached text, keeping its size as the hint for the next.
  // The gzip body (about a tenth of the text) stays: a late scrape of the
  // last collection that asks for gzip is served it without compressing
  // that collection a second time.
  void DropCachedText() {
    std::lock_guard<std::mutex> lock(body_mu_);
    DropCachedTextLocked();
  }

  // REQUIRES: body_mu_ held.
  void DropCachedTextLocked() {
    if (body_) body_hint_ = body_->size() + body_->size() / 8;
    body_.reset();
  }

  // The gzip prefix of "body", the text of collection "generation":
  // compressed once per collection, by the first scraper that asks for
  // gzip, while scrapers of the same collection wait. Null when zlib fails.
  std::shared_ptr<const GzipPrefix> GzipBody(
      const std::shared_ptr<const std::string>& body,
      std::uint64_t generation) {
    std::lock_guard<std::mutex> lock(gzip_mu_);
    // Newer is as good (see Metrics()): a late scrape never recompresses.
    if (gzip_ && gzip_generation_ >= generation) return gzip_;
    const auto start = std::chrono::steady_clock::now();
    auto prefix = std::make_shared<GzipPrefix>();
    if (!GzipStart(*body, kGzipLevel, prefix.get()).ok()) return nullptr;
    const std::chrono::duration<double> took =
        std::chrono::steady_clock::now() - start;
    if (generation >= gzip_generation_) {  // as for the text, never older
      gzip_ = prefix;
      gzip_generation_ = generation;
    }
    Log(LogLevel::kDebug, "compressed the metrics body",
        {{"generation", std::to_string(generation)},
         {"bytes", std::to_string(body->size())},
         {"gzip_bytes", std::to_string(prefix->bytes.size())},
         {"seconds", std::to_string(took.count())}});
    return prefix;
  }

  void Landing(mg_connection* conn) {
    const std::string m = HtmlEscape(options_.telemetry_path);
    std::string body =
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        "<title>Linux namespace exporter</title></head><body>\n"
        "<h1>Linux namespace exporter</h1>\n<p>Version " +
        HtmlEscape(options_.version) +
        "</p>\n<ul>\n"
        "<li><a href=\"" +
        m +
        "\">Metrics</a></li>\n"
        "<li><a href=\"/tree?format=html\">Namespace tree</a> "
        "(<a href=\"/tree?type=user&amp;format=html\">user</a>, "
        "<a href=\"/tree?type=net&amp;format=html\">net</a>; "
        "<a href=\"/tree?format=text\">text</a>, "
        "<a href=\"/tree?format=json\">JSON</a>)</li>\n"
        "<li><a href=\"/-/healthy\">Health</a></li>\n"
        "<li><a href=\"/-/ready\">Readiness</a></li>\n"
        "</ul>\n</body></html>\n";
    Reply(conn, 200, "OK", "text/html; charset=utf-8", body);
  }

  void Tree(mg_connection* conn) {
    const mg_request_info* ri = mg_get_request_info(conn);
    const char* accept = mg_get_header(conn, "Accept");
    TreeQuery query;
    Status s =
        ParseTreeQuery(ri->query_string != nullptr ? ri->query_string : "",
                       accept != nullptr ? accept : "", &query);
    if (!s.ok()) {
      Reply(conn, 400, "Bad Request", "text/plain; charset=utf-8",
            s.message() + "\n");
      return;
    }
    const NamespaceType type = query.type;
    const TreeBodyFormat format = query.format;
    std::shared_ptr<const std::string> body;
    s = TreeBody(type, format, &body);
    if (!s.ok()) {
      Reply(conn, 500, "Internal Server Error", "text/plain; charset=utf-8",
            s.ToString() + "\n");
      return;
    }
    // The three formats are one resource: caches must key on Accept.
    const std::string vary = "Vary: Accept\r\n";
    if (format == TreeBodyFormat::kHtml) {
      // The cached page names kNoncePlaceholder where the nonce goes: in
      // the <style> tag, before anything from the system, and in the
      // <script> tag, after all of it.
      std::string nonce;
      s = TreePageNonce(&nonce);
      if (!s.ok()) {
        Reply(conn, 500, "Internal Server Error", "text/plain; charset=utf-8",
              s.ToString() + "\n");
        return;
      }
      std::string page = *body;
      const std::size_t last = page.rfind(kNoncePlaceholder);
      const std::size_t first = page.find(kNoncePlaceholder);
      const std::size_t len = std::strlen(kNoncePlaceholder);
      if (last != std::string::npos) page.replace(last, len, nonce);
      if (first != std::string::npos && first != last) {
        page.replace(first, len, nonce);
      }
      Reply(conn, 200, "OK", "text/html; charset=utf-8", page,
            vary + "Content-Security-Policy: " +
                TreePageContentSecurityPolicy(nonce) + "\r\n");
    } else {
      Reply(conn, 200, "OK",
            format == TreeBodyFormat::kJson ? "application/json"
                                            : "text/plain; charset=utf-8",
            *body, vary);
    }
  }

  // The tree of "type" as "format", from the collector's shared tree graph:
  // rendered once per graph, type and format (rendering reads every
  // member's status), one rendering at a time, so that a flood of /tree
  // requests costs at most one discovery per SharedTreeSnapshot() interval
  // and one core.
  Status TreeBody(NamespaceType type, TreeBodyFormat format,
                  std::shared_ptr<const std::string>* out) {
    std::shared_ptr<const NamespaceGraph> graph;
    Status s = collector_->SharedTreeSnapshot(&graph);
    if (!s.ok()) return s;
    std::lock_guard<std::mutex> lock(tree_mu_);
    if (graph != tree_graph_) {
      tree_graph_ = graph;
      tree_bodies_.clear();
    }
    auto& body =
        tree_bodies_[{static_cast<int>(type), static_cast<int>(format)}];
    if (!body) {
      const TreeModel model = BuildTreeModel(collector_->procfs(), *graph, type,
                                             ContainerClassifier());
      std::string text;
      switch (format) {
        case TreeBodyFormat::kText:
          text = RenderTreeText(model, TreeColor::kNever);
          break;
        case TreeBodyFormat::kJson:
          text = RenderTreeJson(model);
          break;
        case TreeBodyFormat::kHtml: {
          TreePageOptions page;
          page.nonce = kNoncePlaceholder;
          page.version = options_.version;
          text = RenderTreePage(model, page);
          break;
        }
      }
      body = std::make_shared<const std::string>(std::move(text));
    }
    *out = body;
    return Status::Ok();
  }

  // What a request is checked against and answered with; replaced whole.
  struct Access {
    std::unique_ptr<BasicAuth> auth;  // null: no authentication
    std::string headers;              // extra header lines, "\r\n"-terminated
  };

  std::shared_ptr<const Access> access() const {
    std::lock_guard<std::mutex> lock(access_mu_);
    return access_;
  }

  std::mutex tree_mu_;
  std::shared_ptr<const NamespaceGraph> tree_graph_;  // guarded by tree_mu_
  // (type, format) -> body rendered from tree_graph_; guarded by tree_mu_.
  std::map<std::pair<int, int>, std::shared_ptr<const std::string>>
      tree_bodies_;
  std::mutex body_mu_;
  std::shared_ptr<const std::string> body_;  // guarded by body_mu_
  std::uint64_t body_generation_ = 0;        // guarded by body_mu_
  std::size_t body_hint_ = 0;  // bytes to reserve; guarded by body_mu_
  std::mutex gzip_mu_;
  std::shared_ptr<const GzipPrefix> gzip_;  // guarded by gzip_mu_
  std::uint64_t gzip_generation_ = 0;       // guarded by gzip_mu_
  std::mutex flight_mu_;
  std::condition_variable idle_;
  int in_flight_ = 0;      // guarded by flight_mu_
  bool draining_ = false;  // guarded by flight_mu_
  const WebOptions options_;
  std::shared_ptr<const NamespaceCollector> collector_;
  mutable std::mutex access_mu_;
  std::shared_ptr<const Access> access_;  // guarded by access_mu_
};

namespace {

// CivetWeb's options for "options": the listening ports (IPv4 only when
// the kernel has no IPv6; TLS-only with a TLS configuration), the worker
// pool, timeouts and request limits.
Status CivetOptionsFor(const WebOptions& options,
                       std::vector<std::string>* out) {
  std::string ports;
  Status s = ListenAddressToCivet(options.listen_address, &ports);
  if (!s.ok()) return s;
  s = CheckTelemetryPath(options.telemetry_path);
  if (!s.ok()) return s;
  if (ports[0] == '+' && !KernelHasIpv6()) {
    Log(LogLevel::kInfo, "no IPv6 in this kernel: listening on IPv4 only",
        {{"address", options.listen_address}});
    ports.erase(0, 1);
  }
  // "s": the port speaks TLS only; plain HTTP to it fails the handshake.
  if (options.tls) ports += 's';
  *out = {
      "listening_ports",
      ports,
      "num_threads",
      std::to_string(options.worker_threads),
      "request_timeout_ms",
      std::to_string(options.request_timeout_ms),
      "enable_keep_alive",
      "yes",
      "keep_alive_timeout_ms",
      std::to_string(options.keep_alive_timeout_ms),
      "max_request_size",
      "16384",
      "enable_directory_listing",
      "no",
  };
  return Status::Ok();
}

}  // namespace

Status WebServer::Start(const WebOptions& options,
                        std::shared_ptr<const NamespaceCollector> collector,
                        std::unique_ptr<WebServer>* out) {
  std::vector<std::string> civet_options;
  Status s = CivetOptionsFor(options, &civet_options);
  if (!s.ok()) return s;
  CivetCallbacks callbacks;
  callbacks.log_message = &CivetLog;
  std::unique_ptr<BasicAuth> auth;
  if (!options.basic_auth_users.empty()) {
    s = BasicAuth::Create(options.basic_auth_users, &auth);
    if (!s.ok()) return s;
  }
  std::unique_ptr<WebServer> server(new WebServer());
  if (options.tls) {
    s = ReloadingSslContext::Create(*options.tls, options.tls_reload_observer,
                                    &server->tls_);
    if (!s.ok()) return s;
    callbacks.external_ssl_ctx = &ExternalSslCtx;
    server->callback_context_.ssl_ctx = server->tls_->base();
  }
  server->callback_context_.thread_start = options.thread_start;
  callbacks.init_thread = &InitThread;
  server->router_ =
      std::make_unique<Router>(options, std::move(collector), std::move(auth));
  {
    std::lock_guard<std::mutex> lock(g_civet_log_mu);
    g_civet_last_error.clear();
  }
  try {
    server->server_ = std::make_unique<CivetServer>(civet_options, &callbacks,
                                                    &server->callback_context_);
  } catch (const std::exception& e) {
    std::string why;
    {
      std::lock_guard<std::mutex> lock(g_civet_log_mu);
      why = g_civet_last_error;
    }
    return Status::Unavailable("cannot listen on " + options.listen_address +
                               ": " + (why.empty() ? e.what() : why));
  }
  server->server_->addHandler("**", server->router_.get());
  {
    std::lock_guard<std::mutex> lock(g_civet_log_mu);
    g_civet_last_error.clear();
  }
  *out = std::move(server);
  return Status::Ok();
}

const WebServer::CallbackContext* WebServer::CallbackContextOf(
    const CivetServer* server) {
  return static_cast<const CallbackContext*>(server->getUserContext());
}

Status WebServer::Reload(const WebOptions& options) {
  if (options.tls.has_value() != (tls_ != nullptr)) {
    return Status::Unsupported(
        "turning TLS on or off takes effect at the next start");
  }
  std::unique_ptr<BasicAuth> auth;
  if (!options.basic_auth_users.empty()) {
    Status s = BasicAuth::Create(options.basic_auth_users, &auth);
    if (!s.ok()) return s;
  }
  if (tls_ != nullptr) {
    Status s = tls_->Replace(*options.tls);
    if (!s.ok()) return s;
  }
  router_->SetAccess(std::move(auth), options.extra_headers);
  return Status::Ok();
}

bool WebServer::Shutdown(std::chrono::milliseconds timeout) {
  if (!server_) return true;
  // CivetWeb's stop abandons responses not yet written, so let the requests
  // in flight finish first; requests arriving meanwhile get 503.
  const bool drained = router_->Drain(timeout);
  server_->close();
  server_.reset();
  return drained;
}

WebServer::~WebServer() { Shutdown(std::chrono::seconds(4)); }

std::vector<int> WebServer::ports() const {
  return server_->getListeningPorts();
}

}  // namespace nsexp
