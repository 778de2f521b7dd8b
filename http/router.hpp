#pragma once
// The admin API's routes: a table of method, path pattern and handler that the API's resources
// (http/routes/) and application layers (the kinds' own results) add to. Plain values in and out.
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "http/message.hpp"
#include "http/query.hpp"

namespace spool::runtime {
class runtime;
}

namespace spool::http {

// What a route's handler gets: the runtime, the request, and its parsed target.
struct exchange {
  runtime::runtime& rt;
  const request& req;
  const target& where;
  std::vector<std::string> params;  // the segments that matched the path's {name} segments, in order
};

using handler = std::function<boost::asio::awaitable<response>(const exchange&)>;

class router {
 public:
  // `path`: "/api/v1/jobs/{id}/cancel"; a "{name}" segment matches any one segment.
  void add(std::string method, std::string_view path, handler run);

  struct match {
    const handler* run;
    std::vector<std::string> params;
  };
  // The methods allowed on a path that has routes, none of them for the request's method: 405.
  struct wrong_method {
    std::string allow;  // "GET, POST"
  };
  struct no_route {};  // 404
  // Of the routes whose pattern fits, those with the fewest {params} win: a literal segment beats
  // a parameter ("jobs/batch" is not job "batch").
  std::variant<match, wrong_method, no_route> find(std::string_view method,
                                                   const std::vector<std::string>& segments) const;

  struct route {
    std::string method;
    std::string path;
    std::vector<std::string> pattern;  // segments; "{}" for a parameter
    handler run;
  };
  const std::vector<route>& routes() const { return routes_; }

 private:
  std::vector<route> routes_;
};

}  // namespace spool::http
