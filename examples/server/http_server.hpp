// The HTTP/1.1 layer of the demo server: Boost.Beast on Boost.Asio with C++20
// coroutines (one coroutine per connection), one io_context per thread.
//
//  - one acceptor (listen backlog SOMAXCONN) hands sockets round-robin to
//    the io_contexts; TCP_NODELAY on every connection, so a response written
//    in one piece (Beast gathers header and body into one writev) is never
//    held back by Nagle + delayed ACK on a kept-alive connection;
//  - keep-alive as the client asks (HTTP/1.1 default), Connection: close
//    after a protocol error, on shutdown, or when the handler asks;
//  - framing: a Transfer-Encoding that does not end in chunked, or an
//    HTTP/1.1 request without Host, is answered 400 and the connection closed;
//  - limits: header block (8 KiB: 431), body (16 KiB: 413; the largest real
//    body, a passkey registration, is well under it), connections,
//    connections per client address (an IPv4 address or an IPv6 /64; default
//    a quarter of them); when all are taken (or all of an address's), a
//    connection makes room for the newcomer: the one idle the longest, else
//    the one still reading a request that has sent the fewest bytes of it
//    (then the oldest); a connection whose request is being answered stays;
//  - timeouts: a new connection must send its first byte within
//    request_timeout; a kept-alive one may sit idle between requests for
//    idle_timeout; once the first byte of a request arrives, its headers
//    must arrive within header_timeout, the whole request within
//    request_timeout, and at min_bytes_per_second on average after a grace
//    of 2 s; a response must be taken within write_timeout. A slow-loris
//    client dripping bytes holds a socket for at most header_timeout, and
//    never a thread: a waiting connection is a suspended coroutine;
//  - addresses: an IPv4-mapped IPv6 peer (a dual-stack listener's IPv4
//    client) is reported and counted as its IPv4 address;
//  - request bodies live in a string whose allocator wipes every block it
//    frees; the body, the Authorization header and the connection's read
//    buffer are wiped after each request, a response body after it is sent;
//  - stop(): closes the acceptor, closes idle connections; a request still
//    arriving gets at most 1 s more; a request in flight is answered (with
//    Connection: close) before its connection ends.
//    The io_contexts then run out of work and their threads return.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <mfakit/crypto.hpp>

#include "client_network.hpp"
#include "log.hpp"

namespace mfakit_examples::web {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

/// Strings that are wiped when their memory is freed.
using secure_string = std::basic_string<char, std::char_traits<char>, mfakit::cleansing_allocator<char>>;
using secure_body = http::basic_string_body<char, std::char_traits<char>, mfakit::cleansing_allocator<char>>;
using request = http::request<secure_body>;

inline void wipe(secure_string& s) noexcept { mfakit::cleanse(s.data(), s.size()); }

/// What a handler answers.
struct reply {
  unsigned status = 200;
  std::string_view content_type = "application/json";
  secure_string body;
  std::int64_t retry_after = 0;   ///< > 0: a Retry-After header
  bool www_authenticate = false;  ///< WWW-Authenticate: Bearer
  std::string_view allow;         ///< non-empty: an Allow header (405)
  bool page = false;              ///< the demo page: a Content-Security-Policy
  bool close = false;             ///< end the connection after this reply
};

/// {"error": "..."} with a status.
[[nodiscard]] inline reply error_reply(unsigned status, std::string_view message) {
  reply r;
  r.status = status;
  r.body = R"({"error":")";
  for (char c : message) {
    if (c == '"' || c == '\\') r.body.push_back('\\');
    r.body.push_back(c);
  }
  r.body += "\"}";
  return r;
}

struct peer {
  std::string address;  ///< the client's IP address, as text
};

using handler_fn = std::function<net::awaitable<reply>(request&, const peer&)>;

struct limits {
  std::size_t header_bytes = 8 * 1024;
  std::size_t body_bytes = 16 * 1024;
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds request_timeout{10'000};
  std::chrono::milliseconds header_timeout{5'000};  ///< from a request's first byte to its last header byte
  std::size_t min_bytes_per_second = 256;           ///< a request's average, after the first 2 s; 0: none
  std::chrono::milliseconds write_timeout{10'000};
  std::size_t max_connections = 10'000;
  /// Per client address (socket peer); 0: max_connections / 4. Addresses in
  /// `unlimited` (trusted proxies) are not capped.
  std::size_t max_connections_per_address = 0;
  /// On stop(), what a request still arriving has left (at most).
  std::chrono::milliseconds shutdown_read_timeout{1'000};
  std::vector<net::ip::address> unlimited;
  bool access_log = true;
};

class server {
 public:
  /// Binds and listens at once (throws boost::system::system_error when it
  /// cannot); serving starts with start(). contexts[0] runs the acceptor.
  server(std::vector<net::io_context*> contexts, const tcp::endpoint& at, limits lim, handler_fn handler,
         line_logger& log)
      : lim_(std::move(lim)), handler_(std::move(handler)), log_(log), acceptor_(*contexts.at(0)) {
    if (lim_.max_connections_per_address == 0)
      lim_.max_connections_per_address = std::max<std::size_t>(1, lim_.max_connections / 4);
    for (auto* c : contexts) shards_.push_back(std::make_unique<shard>(c));
    acceptor_.open(at.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(at);
    acceptor_.listen(net::socket_base::max_listen_connections);
  }

  [[nodiscard]] tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
  [[nodiscard]] std::size_t connections() const noexcept { return live_.load(std::memory_order_relaxed); }
  [[nodiscard]] bool stopping() const noexcept { return stopping_.load(std::memory_order_acquire); }

  void start() { net::co_spawn(acceptor_.get_executor(), accept_loop(), net::detached); }

  /// Idle connections closed so far to make room for new ones.
  [[nodiscard]] std::size_t evicted() const noexcept { return evicted_.load(std::memory_order_relaxed); }

  /// Graceful stop; safe from any thread, more than once.
  void stop() {
    if (stopping_.exchange(true, std::memory_order_acq_rel)) return;
    net::post(acceptor_.get_executor(), [this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
    });
    for (auto& s : shards_) {
      net::post(*s->ctx, [this, sh = s.get()] {
        bool reading = false;
        for (connection* c : sh->live) {
          if (c->idle) c->stream.cancel();
          reading = reading || c->reading;
        }
        if (!reading) return;
        // a request still arriving gets at most shutdown_read_timeout more,
        // not the rest of its request timeout
        sh->shutdown_timer.expires_after(std::min(lim_.request_timeout, lim_.shutdown_read_timeout));
        sh->shutdown_timer.async_wait([sh](const boost::system::error_code& ec) {
          if (ec) return;
          for (connection* c : sh->live)
            if (c->reading) c->stream.cancel();
        });
      });
    }
  }

 private:
  /// Per client address: its connections, how many of them are idle.
  struct address_slot {
    std::size_t connections = 0;        ///< under per_address_mutex_
    std::size_t pending_evictions = 0;  ///< under per_address_mutex_
    std::atomic<std::size_t> idle{0};
    std::atomic<std::size_t> reading{0};
  };
  struct connection {
    explicit connection(tcp::socket s) : stream(std::move(s)) {}
    address_slot* slot = nullptr;  ///< its address's counters (null: an unlimited address)
    beast::tcp_stream stream;
    bool idle = false;
    bool reading = false;  ///< a request's first byte arrived, the request is not complete yet
    bool evicted = false;
    std::chrono::steady_clock::time_point idle_since;
    std::size_t progress = 0;  ///< bytes of the request being read so far
    std::chrono::steady_clock::time_point request_start;
  };
  /// Which connection makes room first: idle ones (the longest idle), then
  /// ones reading a request (the fewest bytes of it, then the oldest).
  struct victim_rank {
    int reading = 0;
    std::size_t progress = 0;
    std::chrono::steady_clock::time_point since;
    [[nodiscard]] bool operator<(const victim_rank& o) const {
      if (reading != o.reading) return reading < o.reading;
      if (progress != o.progress) return progress < o.progress;
      return since < o.since;
    }
  };
  [[nodiscard]] static victim_rank rank_of(const connection& c) {
    if (c.idle) return {0, 0, c.idle_since};
    return {1, c.progress, c.request_start};
  }
  [[nodiscard]] static bool evictable(const connection& c) { return (c.idle || c.reading) && !c.evicted; }
  /// One io_context and the connections it runs (touched only on its thread).
  struct shard {
    explicit shard(net::io_context* c) : ctx(c), shutdown_timer(*c) {}
    net::io_context* ctx;
    std::list<connection*> live;
    net::steady_timer shutdown_timer;
  };
  using read_buffer = beast::basic_flat_buffer<mfakit::cleansing_allocator<char>>;

  net::awaitable<void> accept_loop() {
    using net::as_tuple;
    std::size_t next = 0;
    while (!stopping()) {
      shard& target = *shards_[next++ % shards_.size()];
      auto [ec, socket] = co_await acceptor_.async_accept(target.ctx->get_executor(), as_tuple(net::use_awaitable));
      if (ec) {
        if (stopping() || ec == net::error::operation_aborted || ec == net::error::bad_descriptor) break;
        // out of file descriptors and the like: breathe, then go on
        net::steady_timer pause(acceptor_.get_executor(), std::chrono::milliseconds(20));
        co_await pause.async_wait(as_tuple(net::use_awaitable));
        continue;
      }
      boost::system::error_code ignored;
      const auto remote = socket.remote_endpoint(ignored);
      const auto remote_address = unmapped(remote.address());
      std::string addr = ignored ? std::string() : address_key(remote_address.to_string());
      // one address may not hold more than its share; at its cap, its own
      // connection idle the longest (or reading with the least progress)
      // makes room (if it has none, the newcomer goes)
      const admission adm = admit(addr, remote_address);
      if (!adm.ok) {
        socket.close(ignored);
        continue;
      }
      if (adm.evict) evict_oldest_idle(next % shards_.size(), adm.slot, addr);
      if (live_.load(std::memory_order_relaxed) >= lim_.max_connections) {
        // full: close the connection idle the longest (a kept-alive one, or
        // one that never sent a byte), else the one reading a request with
        // the least progress, to make room, rather than the newcomer
        std::size_t idle = idle_.load(std::memory_order_relaxed) + reading_.load(std::memory_order_relaxed);
        std::size_t pending = pending_evictions_.load(std::memory_order_relaxed);
        if (idle <= pending) {
          leave(addr);
          socket.close(ignored);
          continue;
        }
        pending_evictions_.fetch_add(1, std::memory_order_relaxed);
        evict_oldest_idle(next % shards_.size(), nullptr, {});
      }
      live_.fetch_add(1, std::memory_order_relaxed);
      net::co_spawn(*target.ctx, session(std::move(socket), target, std::move(addr), adm.slot), net::detached);
    }
  }

  /// Counts a new connection of `addr`. At the address's cap: admitted only
  /// if one of its connections is idle (evict: close the oldest of them).
  struct admission {
    bool ok = false;
    bool evict = false;
    address_slot* slot = nullptr;  ///< null: an unlimited address
  };
  admission admit(const std::string& addr, const net::ip::address& a) {
    if (std::find(lim_.unlimited.begin(), lim_.unlimited.end(), a) != lim_.unlimited.end()) return {true, false};
    const std::lock_guard lock(per_address_mutex_);
    address_slot& e = per_address_[addr];
    if (e.connections < lim_.max_connections_per_address) {
      ++e.connections;
      return {true, false, &e};
    }
    if (e.idle.load(std::memory_order_relaxed) + e.reading.load(std::memory_order_relaxed) <= e.pending_evictions)
      return {};
    ++e.pending_evictions;
    ++e.connections;
    return {true, true, &e};
  }
  void leave(const std::string& addr) {
    const std::lock_guard lock(per_address_mutex_);
    auto it = per_address_.find(addr);
    if (it == per_address_.end()) return;  // an unlimited address
    if (--it->second.connections == 0) per_address_.erase(it);
  }
  /// An eviction posted by the accept loop is done (found a victim or not).
  void eviction_done(const address_slot* only, const std::string& addr) {
    if (only == nullptr) {
      pending_evictions_.fetch_sub(1, std::memory_order_relaxed);
      return;
    }
    const std::lock_guard lock(per_address_mutex_);  // by name: the slot may be gone by now
    if (auto it = per_address_.find(addr); it != per_address_.end() && it->second.pending_evictions > 0)
      --it->second.pending_evictions;
  }

  /// Finds the connection idle the longest over all shards (of one address
  /// when `only` is set), visiting the shards one after another, each on its
  /// own thread, then closes it.
  void evict_oldest_idle(std::size_t first, const address_slot* only, std::string addr) {
    scan_idle(first, 0, shards_.size(), {}, only, std::move(addr));
  }

  [[nodiscard]] static connection* oldest_idle(shard& sh, const address_slot* only) {
    connection* victim = nullptr;
    for (connection* c : sh.live)
      if (evictable(*c) && (only == nullptr || c->slot == only) && (victim == nullptr || rank_of(*c) < rank_of(*victim)))
        victim = c;
    return victim;
  }

  void scan_idle(std::size_t i, std::size_t visited, std::size_t best, victim_rank best_rank, const address_slot* only,
                 std::string addr) {
    net::post(*shards_[i]->ctx, [this, i, visited, best, best_rank, only, addr = std::move(addr)]() mutable {
      std::size_t b = best;
      auto since = best_rank;
      if (connection* c = oldest_idle(*shards_[i], only);
          c != nullptr && (b == shards_.size() || rank_of(*c) < since)) {
        b = i;
        since = rank_of(*c);
      }
      if (visited + 1 < shards_.size())
        return scan_idle((i + 1) % shards_.size(), visited + 1, b, since, only, std::move(addr));
      if (b == shards_.size()) {  // nothing idle any more
        eviction_done(only, addr);
        return;
      }
      net::post(*shards_[b]->ctx, [this, b, only, addr = std::move(addr)] {
        eviction_done(only, addr);
        connection* victim = oldest_idle(*shards_[b], only);
        if (victim == nullptr) return;
        victim->evicted = true;
        evicted_.fetch_add(1, std::memory_order_relaxed);
        victim->stream.cancel();
      });
    });
  }

  /// Wipes a request's body and its Authorization field(s).
  static void wipe_request(request& req) noexcept {
    wipe(req.body());
    for (auto& f : req) {
      if (f.name() != http::field::authorization) continue;
      auto v = f.value();
      mfakit::cleanse(const_cast<char*>(v.data()), v.size());  // NOLINT(cppcoreguidelines-pro-type-const-cast)
    }
  }

  /// Wipes what the read buffer holds beyond unread (pipelined) bytes.
  static void wipe_free_space(read_buffer& b) {
    const std::size_t n = b.capacity() - b.size();
    if (n == 0) return;
    auto free = b.prepare(n);  // within capacity: moves unread bytes to the front, never allocates
    mfakit::cleanse(free.data(), free.size());
  }

  void log_request(const peer& p, std::string_view method, std::string_view target, unsigned status,
                   std::chrono::steady_clock::duration took) {
    if (!lim_.access_log) return;
    std::string line = "http ";
    append_log_escaped(line, method, 16);
    line.push_back(' ');
    append_log_escaped(line, target.substr(0, target.find('?')), 200);  // as sent, never decoded; no query
    line.push_back(' ');
    line += std::to_string(status);
    line += " peer=";
    append_log_escaped(line, p.address, 64);
    line += " us=";
    line += std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(took).count());
    line.push_back('\n');
    log_.write(line);
  }

  /// Writes the reply: the header block built here in one string (the only
  /// header values are ours), header and body in one gathered write.
  template <class Stream>
  net::awaitable<bool> send(Stream& stream, reply& r, unsigned version, bool keep_alive) {
    std::string head;
    head.reserve(512);
    head += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    head += std::to_string(r.status);
    head.push_back(' ');
    const auto reason = http::obsolete_reason(static_cast<http::status>(r.status));
    head.append(reason.data(), reason.size());
    head += "\r\nContent-Type: ";
    head += r.content_type;
    head +=
        "\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n"
        "X-Frame-Options: DENY\r\n";
    if (r.page)
      head +=
          "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; img-src data:; "
          "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'\r\n";
    if (r.retry_after > 0) head += "Retry-After: " + std::to_string(r.retry_after) + "\r\n";
    if (r.www_authenticate) head += "WWW-Authenticate: Bearer\r\n";
    if (!r.allow.empty()) {
      head += "Allow: ";
      head += r.allow;
      head += "\r\n";
    }
    if (!keep_alive && version != 10) head += "Connection: close\r\n";
    if (keep_alive && version == 10) head += "Connection: keep-alive\r\n";
    head += "Content-Length: " + std::to_string(r.body.size()) + "\r\n\r\n";
    stream.expires_after(lim_.write_timeout);
    const std::array<net::const_buffer, 2> parts{net::buffer(head), net::buffer(r.body.data(), r.body.size())};
    auto [ec, n] = co_await net::async_write(stream, parts, net::as_tuple(net::use_awaitable));
    wipe(r.body);
    co_return !ec;
  }

  net::awaitable<void> session(tcp::socket socket, shard& sh, std::string addr, address_slot* slot) {
    using net::as_tuple;
    connection c(std::move(socket));
    c.slot = slot;  // alive while this connection is counted in it
    auto self = sh.live.insert(sh.live.end(), &c);
    struct cleanup {
      server& s;
      shard& sh;
      std::list<connection*>::iterator it;
      const std::string& addr;
      cleanup(server& srv, shard& sd, std::list<connection*>::iterator i, const std::string& a)
          : s(srv), sh(sd), it(i), addr(a) {}
      cleanup(const cleanup&) = delete;
      cleanup& operator=(const cleanup&) = delete;
      ~cleanup() {
        sh.live.erase(it);
        s.leave(addr);
        s.live_.fetch_sub(1, std::memory_order_relaxed);
      }
    } guard{*this, sh, self, addr};

    boost::system::error_code ec;
    c.stream.socket().set_option(tcp::no_delay(true), ec);
    peer p;
    if (auto ep = c.stream.socket().remote_endpoint(ec); !ec) p.address = unmapped(ep.address()).to_string();
    read_buffer buffer(lim_.header_bytes + lim_.body_bytes + 16 * 1024);

    bool first = true;
    while (!stopping()) {
      if (buffer.size() == 0) {  // idle: wait for the first byte of the next request
        c.idle = true;
        c.idle_since = std::chrono::steady_clock::now();
        idle_.fetch_add(1, std::memory_order_relaxed);
        if (c.slot != nullptr) c.slot->idle.fetch_add(1, std::memory_order_relaxed);
        // a new connection gets the request timeout for its first byte, a
        // kept-alive one the (longer) idle timeout between requests
        c.stream.expires_after(first ? lim_.request_timeout : lim_.idle_timeout);
        auto [e, n] = co_await c.stream.async_read_some(buffer.prepare(4096), as_tuple(net::use_awaitable));
        idle_.fetch_sub(1, std::memory_order_relaxed);
        if (c.slot != nullptr) c.slot->idle.fetch_sub(1, std::memory_order_relaxed);
        c.idle = false;
        if (e || c.evicted) break;
        buffer.commit(n);
      }
      first = false;
      c.reading = true;
      c.progress = buffer.size();
      c.request_start = std::chrono::steady_clock::now();
      reading_.fetch_add(1, std::memory_order_relaxed);
      if (c.slot != nullptr) c.slot->reading.fetch_add(1, std::memory_order_relaxed);
      http::request_parser<secure_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(lim_.header_bytes));
      parser.body_limit(lim_.body_bytes);
      // the next byte is due by: the request's end (request_timeout), the
      // headers' end (header_timeout) while they arrive, and the time at
      // which the bytes so far fall below min_bytes_per_second
      const auto due = [&] {
        auto end = c.request_start + (stopping() ? std::min(lim_.request_timeout, lim_.shutdown_read_timeout)
                                                 : lim_.request_timeout);
        if (!parser.is_header_done()) end = std::min(end, c.request_start + lim_.header_timeout);
        if (lim_.min_bytes_per_second > 0) {
          const auto allowed = std::chrono::seconds(2) + std::chrono::milliseconds(
                                                             c.progress * 1000 / lim_.min_bytes_per_second);
          end = std::min(end, c.request_start + allowed);
        }
        return end;
      };
      boost::system::error_code e;
      std::size_t n = 0;
      // one read at a time, so the connection's progress is known (eviction)
      const auto read_some = [&]() -> net::awaitable<void> {
        const std::size_t before = buffer.size();
        c.stream.expires_at(due());
        std::tie(e, n) = co_await http::async_read_some(c.stream, buffer, parser, as_tuple(net::use_awaitable));
        c.progress += buffer.size() + n - before;  // read = left in the buffer + parsed - what was there
        if (!e && c.evicted) e = net::error::operation_aborted;
      };
      while (!e && !parser.is_header_done()) co_await read_some();
      if (!e) {
        const auto& head = parser.get();
        // RFC 9112 6.3: a Transfer-Encoding whose final coding is not chunked
        // leaves the length unknown: 400 and close (Beast would read no body
        // and parse the body's bytes as the next request: request smuggling)
        if (head.find(http::field::transfer_encoding) != head.end() && !parser.chunked())
          e = http::error::bad_transfer_encoding;
        // RFC 9112 3.2: an HTTP/1.1 request without Host is answered 400
        else if (head.version() >= 11 && head.find(http::field::host) == head.end())
          e = http::error::bad_field;
      }
      if (!e && !parser.is_done() && beast::iequals(parser.get()[http::field::expect], "100-continue")) {
        http::response<http::empty_body> cont{http::status::continue_, parser.get().version()};
        c.stream.expires_at(due());
        auto [we, wn] = co_await http::async_write(c.stream, cont, as_tuple(net::use_awaitable));
        e = we;
      }
      while (!e && !parser.is_done()) co_await read_some();
      reading_.fetch_sub(1, std::memory_order_relaxed);
      if (c.slot != nullptr) c.slot->reading.fetch_sub(1, std::memory_order_relaxed);
      c.reading = false;
      if (e) {
        // the request dies here: wipe what was read of it (a bearer token in
        // the parsed header fields, which no wiping allocator holds)
        wipe_request(parser.get());
        unsigned status = 0;
        if (e == http::error::body_limit) status = 413;
        else if (e == http::error::header_limit) status = 431;
        else if (e != http::error::end_of_stream && e != beast::error::timeout && e != net::error::operation_aborted &&
                 e != net::error::eof && e != net::error::connection_reset && e != http::error::partial_message)
          status = 400;
        if (e == beast::error::timeout) {
          std::string line = "http timeout peer=";
          append_log_escaped(line, p.address, 64);
          line += " phase=request\n";
          log_.write(line);
        }
        if (status != 0) {
          reply r = error_reply(status, status == 413 ? "Request body too large"
                                        : status == 431 ? "Request header fields too large"
                                                        : "Bad request");
          log_request(p, "-", "-", status, {});
          (void)co_await send(c.stream, r, 11, false);
        }
        break;
      }

      request& req = parser.get();
      const auto t0 = std::chrono::steady_clock::now();
      reply r;
      try {
        r = co_await handler_(req, p);
      } catch (...) {
        r = error_reply(500, "Internal error");
      }
      const bool keep = req.keep_alive() && !r.close && !stopping();
      const unsigned status = r.status;
      log_request(p, req.method_string(), req.target(), status, std::chrono::steady_clock::now() - t0);
      // wipe what the request carried: body, bearer token, raw bytes
      wipe_request(req);
      wipe_free_space(buffer);
      const bool sent = co_await send(c.stream, r, req.version(), keep);
      if (!sent || !keep) break;
    }
    c.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    c.stream.socket().close(ec);
  }

  limits lim_;
  handler_fn handler_;
  line_logger& log_;
  tcp::acceptor acceptor_;
  std::vector<std::unique_ptr<shard>> shards_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> live_{0};
  std::atomic<std::size_t> idle_{0};               ///< connections waiting for a request's first byte
  std::atomic<std::size_t> reading_{0};            ///< connections reading a request
  std::atomic<std::size_t> pending_evictions_{0};  ///< evictions posted, not yet done
  std::atomic<std::size_t> evicted_{0};
  std::mutex per_address_mutex_;
  std::unordered_map<std::string, address_slot> per_address_;  // node-based: a slot never moves
};

}  // namespace mfakit_examples::web
