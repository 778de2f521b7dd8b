// Where the openai backend sends its requests (kinds/ai/http_endpoint.hpp): the URL a user
// configures, read into host, port, target and TLS, or refused saying why.
#include <boost/test/unit_test.hpp>

#include "kinds/ai/http_endpoint.hpp"
#include "tests/kinds/support/reason_of.hpp"

using namespace spool::kinds::ai;
using spool::test::reason_of;

namespace {

http_endpoint endpoint(std::string_view url) {
  auto ep = parse_endpoint(url);
  if (auto* why = std::get_if<std::string>(&ep)) BOOST_FAIL(*why);
  return std::get<http_endpoint>(ep);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(endpoint_parsing)

BOOST_AUTO_TEST_CASE(a_root_url_and_an_api_base_reach_the_same_resource) {
  auto root = endpoint("http://127.0.0.1:8080");
  BOOST_TEST(!root.tls);
  BOOST_TEST(root.host == "127.0.0.1");
  BOOST_TEST(root.port == "8080");
  BOOST_TEST(root.target == "/v1/chat/completions");
  BOOST_TEST(root.host_header == "127.0.0.1:8080");
  BOOST_TEST(endpoint("http://localhost:11434/v1").target == "/v1/chat/completions");
  BOOST_TEST(endpoint("http://localhost:11434/v1/").target == "/v1/chat/completions");
  BOOST_TEST(endpoint("https://example.com/openai/v1").target == "/openai/v1/chat/completions");
  BOOST_TEST(endpoint("https://example.com/proxy").target == "/proxy/v1/chat/completions");
}

BOOST_AUTO_TEST_CASE(default_ports_and_ipv6) {
  BOOST_TEST(endpoint("http://example.com").port == "80");
  auto tls = endpoint("https://example.com");
  BOOST_TEST(tls.tls);
  BOOST_TEST(tls.port == "443");
  auto v6 = endpoint("http://[::1]:9000/");
  BOOST_TEST(v6.host == "::1");
  BOOST_TEST(v6.port == "9000");
  BOOST_TEST(v6.host_header == "[::1]:9000");
}

BOOST_AUTO_TEST_CASE(unusable_urls_say_why) {
  BOOST_TEST(reason_of(parse_endpoint("ftp://x")).find("not an http:// or https:// URL") != std::string::npos);
  BOOST_TEST(reason_of(parse_endpoint("http://user:pw@x")).find("user info") != std::string::npos);
  BOOST_TEST(reason_of(parse_endpoint("http://x/v1?key=1")).find("query") != std::string::npos);
  BOOST_TEST(reason_of(parse_endpoint("http://x:99999")).find("bad port") != std::string::npos);
  BOOST_TEST(reason_of(parse_endpoint("http://:80")).find("names no host") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
