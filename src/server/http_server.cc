#include "server/http_server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace tally::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Router& router, const HttpServerOptions& options,
          const std::atomic<bool>& draining)
      : stream_(std::move(socket)), router_(router), options_(options), draining_(draining) {}

  // Server shutdown: a connection waiting for its next request closes now;
  // one in the middle of a request finishes it, answers, then closes.
  void Drain() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (self->idle_) self->stream_.socket().cancel();
    });
  }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
  }

 private:
  void ReadHeader() {
    if (draining_) return Close();
    idle_ = true;
    parser_.emplace();
    parser_->body_limit(static_cast<std::uint64_t>(options_.max_body_bytes));
    stream_.expires_after(options_.idle_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    idle_ = false;
    // Beast reports a Content-Length past the body limit as soon as the header is parsed.
    if (ec == http::error::body_limit) return RejectTooLarge();
    if (ec == http::error::header_limit) return RejectMalformed(431, "request headers are too large");
    if (ec && ec.category() == beast::error_code(http::error::bad_method).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      return RejectMalformed(400, "malformed HTTP request: " + ec.message());
    }
    if (ec) return Close();
    head_ = parser_->get().method() == http::verb::head;
    auto length = parser_->content_length();
    if (length && *length > static_cast<std::uint64_t>(options_.max_body_bytes)) {
      return RejectTooLarge();
    }
    auto& req = parser_->get();
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, req.version());
      http::async_write(stream_, *cont, [self = shared_from_this(), cont](beast::error_code ec, size_t) {
        if (ec) return self->Close();
        self->ReadBody();
      });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    stream_.expires_after(options_.idle_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
  }

  void OnBody(beast::error_code ec) {
    if (ec == http::error::body_limit) return RejectTooLarge();
    if (ec) return Close();
    stream_.expires_never();  // the handler may wait for a commit; no read is pending
    http::request<http::string_body> req = parser_->release();
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    HttpRequest hreq;
    hreq.method = std::string(req.method_string());
    ParseTarget(req.target(), &hreq);
    for (const auto& field : req) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      hreq.headers.emplace(std::move(name), std::string(field.value()));
    }
    hreq.body = std::move(req.body());
    router_.Dispatch(std::move(hreq), [self = shared_from_this()](HttpResponse resp) {
      net::post(self->stream_.get_executor(),
                [self, resp = std::move(resp)]() mutable { self->Write(std::move(resp)); });
    });
  }

  void RejectMalformed(int status, const std::string& why) {
    keep_alive_ = false;
    lingering_ = true;
    HttpResponse resp = ErrorResponse(core::Error::InvalidArgument(why));
    resp.status = status;
    Write(std::move(resp));
  }

  void RejectTooLarge() {
    keep_alive_ = false;  // the rest of the body is still on the wire
    lingering_ = true;
    Write(ErrorResponse(core::Error::TooLarge(fmt::format(
        "request body exceeds the limit of {} bytes (server.max_body_bytes)", options_.max_body_bytes))));
  }

  void Write(HttpResponse resp) {
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(resp.status),
                                                                   version_ ? version_ : 11);
    res->set(http::field::server, "tally");
    res->set(http::field::content_type, resp.content_type);
    for (auto& [k, v] : resp.headers) res->set(k, v);
    res->body() = std::move(resp.body);
    res->keep_alive(keep_alive_ && !draining_);
    if (head_) {
      // HEAD: the headers a GET would send, and no body on the wire.
      res->content_length(res->body().size());
      res->body().clear();
    } else {
      res->prepare_payload();
    }
    stream_.expires_after(options_.idle_timeout);
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, size_t) {
      if (ec) return self->Close();
      if (self->lingering_) return self->LingeringClose();
      if (!self->keep_alive_ || self->draining_) return self->Close();
      self->ReadHeader();
    });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  // After refusing a request whose body is still arriving, closing at once
  // would reset the connection and the client might never read the answer.
  // So: stop sending, discard what still comes for a short while, then close.
  void LingeringClose() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(std::chrono::seconds(5));
    Discard();
  }

  void Discard() {
    discard_.resize(64 * 1024);
    stream_.async_read_some(net::buffer(discard_), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) {
        self->stream_.close();
        return;
      }
      self->Discard();
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Router& router_;
  const HttpServerOptions& options_;
  const std::atomic<bool>& draining_;
  bool keep_alive_ = true;
  bool lingering_ = false;
  bool idle_ = false;  // waiting for the next request's header
  bool head_ = false;
  unsigned version_ = 11;
  std::vector<char> discard_;
};

}  // namespace

struct HttpServer::Impl {
  Impl(Router& r, HttpServerOptions o)
      : router(r), options(std::move(o)), ioc(options.io_threads), acceptor(ioc),
        blocking(static_cast<size_t>(options.blocking_threads)) {}

  void Accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == net::error::operation_aborted || draining) return;
        // Out of file descriptors and the like: retrying at once would spin
        // an I/O thread at 100%; back off briefly instead.
        spdlog::warn("accept failed: {}; retrying in 100 ms", ec.message());
        accept_backoff.expires_after(std::chrono::milliseconds(100));
        accept_backoff.async_wait([this](beast::error_code wait_ec) {
          if (!wait_ec && acceptor.is_open()) Accept();
        });
        return;
      }
      socket.set_option(tcp::no_delay(true), ec);
      auto session = std::make_shared<Session>(std::move(socket), router, options, draining);
      {
        std::lock_guard lock(sessions_mu);
        std::erase_if(sessions, [](const std::weak_ptr<Session>& w) { return w.expired(); });
        sessions.push_back(session);
      }
      session->Start();
      if (acceptor.is_open()) Accept();
    });
  }

  Router& router;
  HttpServerOptions options;
  net::io_context ioc;
  tcp::acceptor acceptor;
  net::thread_pool blocking;
  std::vector<std::thread> threads;
  net::steady_timer accept_backoff{ioc};
  std::atomic<bool> draining = false;
  std::mutex sessions_mu;
  std::vector<std::weak_ptr<Session>> sessions;  // guarded by sessions_mu
  bool stopped = false;
};

core::Status ParseListen(const std::string& listen, HttpServerOptions* options) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size()) {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("listen address '{}' must be host:port, e.g. 127.0.0.1:8787", listen)));
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = 0;
  try {
    size_t used = 0;
    port = std::stoi(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1) port = -1;
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535) {
    return std::unexpected(core::Error::InvalidArgument(fmt::format("listen address '{}' has a bad port", listen)));
  }
  options->host = host.empty() ? "127.0.0.1" : host;
  options->port = static_cast<std::uint16_t>(port);
  return core::OkStatus();
}

HttpServer::HttpServer(Router& router, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(router, std::move(options))) {}

HttpServer::~HttpServer() { Stop(); }

core::Result<std::uint16_t> HttpServer::Start() {
  beast::error_code ec;
  auto address = net::ip::make_address(impl_->options.host, ec);
  if (ec) {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("listen host '{}' is not an IP address", impl_->options.host)));
  }
  tcp::endpoint endpoint(address, impl_->options.port);
  auto& acc = impl_->acceptor;
  acc.open(endpoint.protocol(), ec);
  if (!ec) acc.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(endpoint, ec);
  if (!ec) acc.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return std::unexpected(core::Error::Unavailable(
        fmt::format("cannot listen on {}:{}: {}", impl_->options.host, impl_->options.port, ec.message())));
  }
  std::uint16_t port = acc.local_endpoint().port();
  impl_->Accept();
  for (int i = 0; i < impl_->options.io_threads; ++i) {
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  }
  return port;
}

void HttpServer::RunBlocking(std::function<void()> fn) { net::post(impl_->blocking, std::move(fn)); }

void HttpServer::Stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  impl_->draining = true;
  net::post(impl_->ioc, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
    impl_->accept_backoff.cancel();
  });
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(impl_->sessions_mu);
    for (auto& w : impl_->sessions) {
      if (auto s = w.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->Drain();
  live.clear();
  // Let answers already produced (e.g. for batches the pipeline committed on
  // its way down) reach their clients; a client that stops reading cannot
  // hold shutdown for longer than the grace period.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    bool any = false;
    {
      std::lock_guard lock(impl_->sessions_mu);
      for (auto& w : impl_->sessions) any |= !w.expired();
    }
    if (!any) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->blocking.join();
}

}  // namespace tally::server
