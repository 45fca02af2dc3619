// The demo server's routes (router.hpp) and the demo page's.
#include "router.hpp"

#include <algorithm>
#include <array>

namespace demo_assets {
extern const std::string_view index_html;
extern const std::string_view app_js;
extern const std::string_view app_css;
}  // namespace demo_assets

namespace mfakit_examples::demo {

void router::add(web::http::verb method, std::string_view path, handler f) {
  auto it = std::find_if(routes_.begin(), routes_.end(), [&](const route& r) { return r.path == path; });
  if (it == routes_.end()) it = routes_.insert(routes_.end(), route{std::string(path), {}, {}});
  const auto name = web::http::to_string(method);
  if (!it->allow.empty()) it->allow += ", ";
  it->allow.append(name.data(), name.size());
  it->methods.emplace_back(method, std::move(f));
}

net::awaitable<reply> router::dispatch(request& req, const peer& p) const {
  const std::string_view target(req.target().data(), req.target().size());
  const std::string_view path = target.substr(0, target.find('?'));
  const auto it = std::find_if(routes_.begin(), routes_.end(), [&](const route& r) { return r.path == path; });
  if (it == routes_.end()) {
    for (const auto& [prefix, f] : prefixes_) {
      if (!path.starts_with(prefix)) continue;
      if (host_.settings.trusted_proxies.empty()) co_return co_await f(req, p);
      const peer client{host_.client_address(req, p)};
      co_return co_await f(req, client);
    }
    co_return web::error_reply(404, "Not found");
  }
  for (const auto& [method, f] : it->methods) {
    if (method != req.method()) continue;
    if (host_.settings.trusted_proxies.empty()) co_return co_await f(req, p);
    const peer client{host_.client_address(req, p)};
    co_return co_await f(req, client);
  }
  co_return not_allowed(it->allow);
}

void add_page_routes(router& r) {
  struct asset {
    std::string_view path, content_type;
    const std::string_view* body;
  };
  static constexpr std::array<asset, 3> assets{{
      {"/", "text/html; charset=utf-8", &demo_assets::index_html},
      {"/app.js", "text/javascript; charset=utf-8", &demo_assets::app_js},
      {"/app.css", "text/css; charset=utf-8", &demo_assets::app_css},
  }};
  for (const asset& a : assets) {
    r.get(a.path, [&a](request&, const peer&) -> net::awaitable<reply> {
      reply out = text_reply(200, *a.body);
      out.content_type = a.content_type;
      out.page = true;
      co_return out;
    });
  }
}

}  // namespace mfakit_examples::demo
