#include "tests/e2e/sandbox.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/results_collector.hpp>
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <random>

namespace spool::e2e {

namespace fs = std::filesystem;

namespace {

bool current_test_passed() {
  namespace ut = boost::unit_test;
  return ut::results_collector.results(ut::framework::current_test_case().p_id).passed();
}

std::string joined(const std::vector<std::string>& args) {
  std::string s;
  for (auto& a : args) s += (s.empty() ? "" : " ") + a;
  return s;
}

}  // namespace

const std::string& spool_bin() {
  static const std::string path = [] {
    const char* other = std::getenv("SPOOL_E2E_BIN");
    return std::string(other && *other ? other : SPOOL_BIN);
  }();
  return path;
}

sandbox::sandbox() {
  std::string tmpl = (fs::temp_directory_path() / "spool-e2e-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  db_dir_ = dir_;
}

sandbox::~sandbox() {
  if (!current_test_passed()) {
    std::cerr << "e2e: keeping " << dir_.string() << " for inspection\n";
    return;
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void sandbox::write_config(const std::string& json_text) {
  config_ = dir_ / "config.json";
  std::ofstream(config_) << json_text;
}

spawn_options sandbox::capture(const std::string& name) {
  // A runtime's admin endpoint takes a free port, so that runtimes of parallel tests never collide.
  std::vector<std::string> env{"SPOOL_HTTP=127.0.0.1:0"};
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  return {dir_, dir_ / (name + ".out"), dir_ / (name + ".err"), env};
}

std::vector<std::string> sandbox::with_db(const std::vector<std::string>& args) const {
  std::vector<std::string> all{"--db", db_url()};
  if (!config_.empty()) all.insert(all.end(), {"--config", config_.string()});
  all.insert(all.end(), args.begin(), args.end());
  return all;
}

result sandbox::raw(const std::vector<std::string>& args, steady::duration timeout) {
  return e2e::run(spool_bin(), args, capture("cmd-" + std::to_string(++commands_)), timeout);
}

result sandbox::spool(const std::vector<std::string>& args, steady::duration timeout) {
  return raw(with_db(args), timeout);
}

std::string sandbox::spool_ok(const std::vector<std::string>& args) {
  auto r = spool(args);
  BOOST_REQUIRE_MESSAGE(r.status == 0, "spool " << joined(args) << ": " << describe(r.status)
                                                << "\nstderr: " << r.err);
  return r.out;
}

job_id sandbox::enqueue(const std::string& kind, const std::vector<std::string>& args) {
  std::vector<std::string> all{"enqueue", kind};
  all.insert(all.end(), args.begin(), args.end());
  const auto out = spool_ok(all);
  try {
    std::size_t used = 0;
    const job_id id = std::stoll(out, &used);
    if (id > 0 && out.substr(used) == "\n") return id;
  } catch (const std::exception&) {
  }
  BOOST_FAIL("spool " << joined(all) << " printed '" << out << "' instead of a job id");
  return 0;
}

json::object sandbox::show(job_id id) {
  const auto out = spool_ok({"jobs", "show", std::to_string(id), "--json"});
  boost::system::error_code ec;
  auto v = json::parse(out, ec);
  BOOST_REQUIRE_MESSAGE(!ec && v.is_object(), "jobs show " << id << " --json printed: " << out);
  return v.as_object();
}

json::object sandbox::wait_for_state(job_id id, const std::string& state, steady::duration timeout,
                                     boost::source_location where) {
  json::object job;
  wait_until(
      [&] {
        job = show(id);
        auto* st = job.if_contains("state");
        return st && st->is_string() && st->get_string() == state;
      },
      timeout,
      [&] {
        return "job " + std::to_string(id) + " never reached " + state + ": " +
               json::serialize(job) + "\n" + runtimes_text();
      },
      where);
  return job;
}

std::vector<json::object> sandbox::list(const std::vector<std::string>& args) {
  std::vector<std::string> all{"jobs", "list", "--json", "--limit", "100000"};
  all.insert(all.end(), args.begin(), args.end());
  const auto out = spool_ok(all);
  boost::system::error_code ec;
  auto v = json::parse(out, ec);
  BOOST_REQUIRE_MESSAGE(!ec && v.is_object() && v.as_object().contains("jobs"),
                        "spool " << joined(all) << " printed: " << out);
  std::vector<json::object> jobs;
  for (auto& j : v.at("jobs").as_array()) jobs.push_back(j.as_object());
  return jobs;
}

std::map<std::string, std::int64_t> sandbox::states() {
  const auto out = spool_ok({"stats", "--json"});
  boost::system::error_code ec;
  auto v = json::parse(out, ec);
  BOOST_REQUIRE_MESSAGE(!ec && v.is_object() && v.as_object().contains("states"),
                        "stats --json printed: " << out);
  std::map<std::string, std::int64_t> counts;
  for (auto& [state, n] : v.at("states").as_object())
    counts[std::string(state)] = n.to_number<std::int64_t>();
  return counts;
}

std::string sandbox::stats_text() {
  auto r = spool({"stats", "--json"});
  return r.status == 0 ? r.out.substr(0, r.out.find('\n')) : "(stats failed: " + r.err + ")";
}

std::shared_ptr<process> sandbox::start_runtime(const std::string& name,
                                                const std::vector<std::string>& args,
                                                bool diagnostic_kinds) {
  std::vector<std::string> all{"run", "--log-format", "json"};
  if (diagnostic_kinds) all.push_back("--diagnostic-kinds");
  all.insert(all.end(), args.begin(), args.end());
  auto p = std::make_shared<process>(spool_bin(), with_db(all), capture(name));
  runtimes_.emplace_back(name, p);
  return p;
}

std::string sandbox::runtimes_text() {
  std::string text;
  for (auto& [name, weak] : runtimes_) {
    auto p = weak.lock();
    if (!p) continue;
    const auto status = p->poll();
    text += "\n  " + name + ": " + (status ? describe(*status) : std::string("running")) + "; " +
            error_summary(p->err());
  }
  return text.empty() ? "no runtime" : "runtimes:" + text;
}

void sandbox::stop_runtime(process& p, steady::duration timeout) {
  if (!p.poll()) p.signal(SIGTERM);
  const auto status = p.wait_for(timeout);
  BOOST_REQUIRE_MESSAGE(status,
                        p.err_path().filename().string()
                            << ": the runtime did not stop within "
                            << std::chrono::duration_cast<std::chrono::seconds>(timeout).count()
                            << " s of SIGTERM; " << error_summary(p.err()));
  if (*status != 0) {
    const auto log = p.err();
    BOOST_FAIL("the runtime ended with " << describe(*status) << "\nstderr tail: "
                                         << log.substr(log.size() > 2000 ? log.size() - 2000 : 0));
  }
}

void sandbox::stop_runtimes(const std::vector<process*>& ps, steady::duration timeout) {
  for (auto* p : ps)
    if (!p->poll()) p->signal(SIGTERM);
  const auto deadline = steady::now() + timeout;
  for (auto* p : ps) {
    const auto status = p->wait_for(std::max(deadline - steady::now(), steady::duration::zero()));
    BOOST_TEST(status.has_value(),
               p->err_path().filename().string()
                   << ": the runtime did not stop within "
                   << std::chrono::duration_cast<std::chrono::seconds>(timeout).count()
                   << " s of SIGTERM; " << error_summary(p->err()));
    if (!status) {
      p->signal(SIGKILL);
      p->wait_for(5s);
    } else {
      BOOST_TEST(*status == 0, p->err_path().filename().string() << ": " << describe(*status));
    }
  }
}

std::vector<json::object> events(const std::string& log) {
  std::vector<json::object> out;
  std::size_t start = 0;
  for (;;) {
    const auto nl = log.find('\n', start);
    if (nl == std::string::npos) break;  // a partial last line
    const std::string_view line(log.data() + start, nl - start);
    start = nl + 1;
    if (!line.starts_with("{")) continue;
    boost::system::error_code ec;
    auto v = json::parse(line, ec);
    BOOST_REQUIRE_MESSAGE(!ec && v.is_object(), "a log line is not a JSON object: " << line);
    out.push_back(std::move(v.as_object()));
  }
  return out;
}

std::vector<json::object> events(const std::string& log, std::string_view event) {
  std::vector<json::object> out;
  for (auto& e : events(log))
    if (auto* name = e.if_contains("event");
        name && name->is_string() && name->get_string() == event)
      out.push_back(std::move(e));
  return out;
}

std::size_t count_events(const std::string& log, std::string_view event) {
  const std::string needle = "\"event\":\"" + std::string(event) + "\"";
  std::size_t n = 0;
  for (auto pos = log.find(needle); pos != std::string::npos; pos = log.find(needle, pos + 1)) ++n;
  return n;
}

std::string error_summary(const std::string& log) {
  std::size_t n = 0;
  std::string last;
  for (auto& e : events(log)) {
    auto* level = e.if_contains("level");
    if (!level || !level->is_string() || level->get_string() != "error") continue;
    ++n;
    last = json::serialize(e);
  }
  if (n == 0) return "no error lines";
  return std::to_string(n) + " error lines, the last: " + last;
}

std::int64_t time_us(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS.fraction Z, with 1 to 6 digits of fraction (logs print 3, jobs show 6).
  const std::string s(text);
  std::tm tm{};
  int consumed = 0;
  bool ok = std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%n", &tm.tm_year, &tm.tm_mon,
                        &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) == 6 &&
            consumed == 20;
  std::int64_t micros = 0;
  std::size_t i = 20, digits = 0;
  for (; ok && i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++digits)
    micros = micros * 10 + (s[i] - '0');
  ok = ok && digits >= 1 && digits <= 6 && i + 1 == s.size() && s[i] == 'Z';
  BOOST_REQUIRE_MESSAGE(ok, "'" << s << "' is not an RFC 3339 UTC time as spool prints it");
  for (; digits < 6; ++digits) micros *= 10;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(timegm(&tm)) * 1'000'000 + micros;
}

std::int64_t time_us(const json::value& v) {
  BOOST_REQUIRE_MESSAGE(v.is_string(), "expected a time string, got " << json::serialize(v));
  return time_us(std::string_view(v.get_string()));
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  const auto us = std::chrono::time_point_cast<std::chrono::microseconds>(t);
  const auto secs = std::chrono::floor<std::chrono::seconds>(us);
  const std::time_t tt = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[64];
  std::snprintf(out, sizeof out, "%s.%06lldZ", buf, static_cast<long long>((us - secs).count()));
  return out;
}

std::int64_t int_field(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  BOOST_REQUIRE_MESSAGE(v && (v->is_int64() || v->is_uint64()),
                        "field '" << key << "' is not an integer in " << json::serialize(o));
  return v->to_number<std::int64_t>();
}

std::string string_field(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  BOOST_REQUIRE_MESSAGE(v && v->is_string(),
                        "field '" << key << "' is not a string in " << json::serialize(o));
  return std::string(v->get_string());
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

std::uint64_t test_seed() {
  if (const char* s = std::getenv("SPOOL_E2E_SEED")) return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

}  // namespace spool::e2e
