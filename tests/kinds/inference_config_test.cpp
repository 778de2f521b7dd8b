#include <boost/test/unit_test.hpp>
#include <map>

#include "config/config.hpp"

using namespace spool::config;

namespace {
bool names(const config_error& e, std::string_view key) {
  return std::string(e.what()).find(key) != std::string::npos;
}
auto env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* n) -> const char* {
    auto it = vars.find(n);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}
}  // namespace

BOOST_AUTO_TEST_SUITE(inference_config)

BOOST_AUTO_TEST_CASE(defaults_are_the_local_backend_and_a_ten_second_debounce) {
  settings s;
  BOOST_TEST(s.inference.backend == "local");
  BOOST_TEST(s.profiles.debounce_s == 10.0);
  validate(s);  // no model server, no model name: still valid
}

BOOST_AUTO_TEST_CASE(the_sections_load_from_json_and_env) {
  settings s;
  apply_json(s, R"({"inference":{"backend":"openai","url":"https://llm.example/v1","model":"qwen",
                    "api_key":"k1","timeout_s":30,"max_concurrency":8,"ca_file":"/etc/ca.pem"},
                    "profiles":{"debounce_s":2.5,"latest_n":20}})", "file");
  BOOST_TEST(s.inference.backend == "openai");
  BOOST_TEST(s.inference.url == "https://llm.example/v1");
  BOOST_TEST(s.inference.model == "qwen");
  BOOST_TEST(*s.inference.api_key == "k1");
  BOOST_TEST(*s.inference.ca_file == "/etc/ca.pem");
  BOOST_TEST(s.inference.timeout_s == 30.0);
  BOOST_TEST(s.inference.max_concurrency == 8);
  BOOST_TEST(s.profiles.debounce_s == 2.5);
  BOOST_TEST(s.profiles.latest_n == 20);
  apply_env(s, env_of({{"SPOOL_INFERENCE_API_KEY", "from-env"},
                       {"SPOOL_INFERENCE_MODEL", "llama3.2"},
                       {"SPOOL_PROFILES_DEBOUNCE_S", "0.5"}}));
  BOOST_TEST(*s.inference.api_key == "from-env");
  BOOST_TEST(s.inference.model == "llama3.2");
  BOOST_TEST(s.profiles.debounce_s == 0.5);
  validate(s);
}

BOOST_AUTO_TEST_CASE(unknown_keys_and_bad_values_name_the_key) {
  settings s;
  BOOST_CHECK_EXCEPTION(apply_json(s, R"({"inference":{"modle":"x"}})", "f"), config_error,
                        [](auto& e) { return names(e, "inference.modle") && names(e, "unknown key"); });
  BOOST_CHECK_EXCEPTION(apply_json(s, R"({"profiles":{"debounce":1}})", "f"), config_error,
                        [](auto& e) { return names(e, "profiles.debounce") && names(e, "unknown key"); });
  BOOST_CHECK_EXCEPTION(apply_json(s, R"({"inference":{"timeout_s":"long"}})", "f"), config_error,
                        [](auto& e) { return names(e, "inference.timeout_s"); });
  BOOST_CHECK_EXCEPTION(apply_env(s, env_of({{"SPOOL_INFERENCE_MAX_CONCURRENCY", "lots"}})),
                        config_error, [](auto& e) { return names(e, "SPOOL_INFERENCE_MAX_CONCURRENCY"); });
  auto invalid = [](auto change, std::string_view key) {
    settings v;
    change(v);
    BOOST_CHECK_EXCEPTION(validate(v), config_error, [key](auto& e) { return names(e, key); });
  };
  invalid([](settings& v) { v.inference.backend = "gpt"; }, "inference.backend");
  invalid([](settings& v) { v.inference.backend = "openai"; }, "inference.url");
  invalid([](settings& v) {
    v.inference.backend = "openai";
    v.inference.url = "http://127.0.0.1:8081";
  }, "inference.model");
  invalid([](settings& v) {
    v.inference.backend = "openai";
    v.inference.model = "m";
    v.inference.url = "ftp://x";
  }, "inference.url");
  invalid([](settings& v) { v.inference.max_concurrency = 0; }, "inference.max_concurrency");
  invalid([](settings& v) { v.inference.timeout_s = 0; }, "inference.timeout_s");
  invalid([](settings& v) { v.profiles.latest_n = 0; }, "profiles.latest_n");
  invalid([](settings& v) { v.profiles.debounce_s = -1; }, "profiles.debounce_s");
}

BOOST_AUTO_TEST_SUITE_END()
