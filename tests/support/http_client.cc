#include "support/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace tally::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct HttpClient::Impl {
  std::string host;
  std::uint16_t port;
  net::io_context ioc;
  tcp::socket socket{ioc};
  beast::flat_buffer buffer;
  bool connected = false;

  core::Status Connect() {
    beast::error_code ec;
    socket = tcp::socket(ioc);
    socket.connect(tcp::endpoint(net::ip::make_address(host), port), ec);
    if (ec) return std::unexpected(core::Error::Unavailable("connect: " + ec.message()));
    socket.set_option(tcp::no_delay(true), ec);
    buffer.clear();
    connected = true;
    return core::OkStatus();
  }
};

HttpClient::HttpClient(std::string host, std::uint16_t port) : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
}

HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

core::Result<ClientResponse> HttpClient::Request(const std::string& method, const std::string& target,
                                                 const std::string& body, const std::string& content_type,
                                                 const std::map<std::string, std::string>& extra_headers) {
  http::request<http::string_body> req(http::string_to_verb(method), target, 11);
  req.set(http::field::host, impl_->host);
  req.keep_alive(true);
  if (!bearer_.empty()) req.set(http::field::authorization, "Bearer " + bearer_);
  for (const auto& [k, v] : extra_headers) req.set(k, v);
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    req.set(http::field::content_type, content_type);
    req.body() = body;
    req.prepare_payload();
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool fresh = !impl_->connected;
    if (!impl_->connected) TALLY_RETURN_IF_ERROR(impl_->Connect());
    beast::error_code ec;
    http::write(impl_->socket, req, ec);
    http::response<http::string_body> res;
    if (!ec) {
      http::response_parser<http::string_body> parser;
      parser.body_limit(1ULL << 30);
      parser.skip(method == "HEAD");  // a HEAD answer announces a length but sends no body
      http::read(impl_->socket, impl_->buffer, parser, ec);
      if (!ec) res = parser.release();
    }
    if (ec) {
      impl_->connected = false;
      // A reused keep-alive connection may have been closed by the server
      // while idle: retry once on a new one. Mid-request drops are reported.
      if (!fresh && attempt == 0 && (ec == http::error::end_of_stream || ec == net::error::connection_reset ||
                                     ec == net::error::broken_pipe)) {
        continue;
      }
      return std::unexpected(core::Error::Unavailable("request: " + ec.message()));
    }
    ClientResponse out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& f : res) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.headers[name] = std::string(f.value());
    }
    out.body = std::move(res.body());
    if (!res.keep_alive()) {
      beast::error_code ignored;
      impl_->socket.close(ignored);
      impl_->connected = false;
    }
    return out;
  }
  return std::unexpected(core::Error::Unavailable("request failed twice"));
}

}  // namespace tally::testing
