#include "server/http_server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
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
  Session(tcp::socket socket, Router& router, const HttpServerOptions& options)
      : stream_(std::move(socket)), router_(router), options_(options) {}

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
  }

 private:
  void ReadHeader() {
    parser_.emplace();
    parser_->body_limit(static_cast<std::uint64_t>(options_.max_body_bytes));
    stream_.expires_after(options_.idle_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    // Beast reports a Content-Length past the body limit as soon as the header is parsed.
    if (ec == http::error::body_limit) return RejectTooLarge();
    if (ec) return Close();
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
    res->keep_alive(keep_alive_);
    res->prepare_payload();
    stream_.expires_after(options_.idle_timeout);
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, size_t) {
      if (ec) return self->Close();
      if (self->lingering_) return self->LingeringClose();
      if (!self->keep_alive_) return self->Close();
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
  bool keep_alive_ = true;
  bool lingering_ = false;
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
        if (ec == net::error::operation_aborted) return;
        spdlog::warn("accept failed: {}", ec.message());
      } else {
        socket.set_option(tcp::no_delay(true), ec);
        std::make_shared<Session>(std::move(socket), router, options)->Start();
      }
      if (acceptor.is_open()) Accept();
    });
  }

  Router& router;
  HttpServerOptions options;
  net::io_context ioc;
  tcp::acceptor acceptor;
  net::thread_pool blocking;
  std::vector<std::thread> threads;
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
  net::post(impl_->ioc, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
  });
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->blocking.join();
}

}  // namespace tally::server
