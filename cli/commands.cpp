#include "cli/commands.hpp"

#include "runtime/nodes.hpp"
#include "runtime/periodic_view.hpp"
#include "runtime/queue_view.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <algorithm>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <thread>

#include "cli/print.hpp"
#include "runtime/limits_view.hpp"
#include "cli/service_notify.hpp"
#include "http/api.hpp"
#include "http/server.hpp"
#include "jobs/json.hpp"
#include "kinds/ai/inference_metrics.hpp"
#include "kinds/ai/kinds.hpp"
#include "kinds/ai/routes.hpp"
#include "kinds/ai/schema.hpp"
#include "kinds/diagnostic.hpp"
#include "jobs/unique.hpp"
#include "persistence/database_url.hpp"
#include "jobs/validation.hpp"
#include "kinds/http/http_kinds.hpp"
#include "runtime/log.hpp"
#include "runtime/runtime.hpp"
#include "runtime/spawn.hpp"

namespace spool::cli {
namespace asio = boost::asio;

namespace {

// The tables of the kinds built into this binary, migrated by every command with the store's own.
std::vector<store::schema> builtin_schemas() { return {kinds::ai::schema()}; }

std::unique_ptr<store::store> open_store(const config::settings& s) {
  auto st = store::open(s.db, {.schemas = builtin_schemas()});
  st->migrate();
  return st;
}

// The kinds this binary can run (`spool run` registers the diagnostic ones on request): what an
// enqueue is checked against, and where a job's policy comes from.
jobs::registry binary_kinds(const config::settings& s) {
  jobs::registry kinds;
  kinds::register_diagnostic(kinds);
  kinds::ai::register_kinds(kinds, nullptr, s);  // handlers never run here: no services needed
  kinds::http::register_http_kinds(kinds, s, std::nullopt, std::getenv);
  return kinds;
}

// The read-only commands open the database as it is: they never create a SQLite file nor
// migrate (a mistyped --db would otherwise leave an empty database behind, and a read-only
// PostgreSQL role could not list jobs). A missing or unmigrated database is one line, exit 1.
std::string not_ready(const std::string& what) {
  return what + ": run `spool migrate` (or `spool run`, which migrates) first";
}

template <class F>
auto read_store(const config::settings& s, F f) {
  const auto where = store::locate(s.db);
  if (where.backend == store::backend::sqlite && !std::filesystem::exists(where.shown))
    throw store::store_error(not_ready("no database at " + where.shown));
  auto st = store::open(s.db, {.schemas = builtin_schemas(), .migrate_on_use = false});
  try {
    return f(*st);
  } catch (const store::store_error& e) {
    if (std::string_view(e.what()).find("is not migrated") != std::string_view::npos)
      throw store::store_error(not_ready(where.shown + " is not migrated"));
    throw;
  }
}

}  // namespace

int run(const config::settings& s) {
  log::configure(s.log_format, s.log_level);
  jobs::registry kinds;
  if (s.diagnostic_kinds) kinds::register_diagnostic(kinds);

  const int threads = runtime::io_threads(s);
  asio::io_context ioc(threads);
  // The AI kinds are built in; their backend runs on the runtime's io_context.
  std::shared_ptr<kinds::ai::services> ai;
  try {
    ai = kinds::ai::make_services(ioc.get_executor(), s);
  } catch (const std::invalid_argument& e) {
    throw config::config_error(e.what());
  }
  kinds::ai::register_kinds(kinds, ai, s);
  // The admin endpoint's address as bound (port 0 picks one), for the HTTP kinds' progress_url;
  // set before the io_context runs, so before any request is made.
  std::string admin_base;
  kinds::http::register_http_kinds(kinds, s, ioc.get_executor(), std::getenv, [&admin_base] { return admin_base; });
  // Constructed first: a refused setting (such as a `kinds` entry for no kind) is the only line.
  runtime::runtime rt(ioc.get_executor(), s, std::move(kinds), builtin_schemas());
  log::info("inference_backend").kv("backend", ai->backend->name())
      .kv("note", s.inference.backend == "local" ? "built-in stand-in, not a model" : s.inference.url);
  spool::runtime::stats_of(rt).add_source(kinds::ai::render_inference_metrics);
  // systemd (Type=notify): READY=1, STOPPING=1, WATCHDOG=1; nothing outside a service.
  const auto notifier = service_notifier::from_environment(ioc.get_executor());

  // First signal: graceful shutdown. Second: cancel in-flight jobs at once.
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  int received = 0;
  std::function<void()> arm = [&] {
    signals.async_wait([&](boost::system::error_code ec, int sig) {
      if (ec) return;
      if (++received == 1) {
        log::info("signal_received").kv("signal", sig).kv("action", "graceful shutdown");
        notifier->stopping();
        rt.stop();
        arm();
      } else {
        log::warn("signal_received").kv("signal", sig).kv("action", "cancel in-flight jobs now");
        rt.stop_now();
      }
    });
  };
  arm();

  // The admin endpoint serves through shutdown (so /readyz can say 503) and stops after it.
  http::api admin(rt, {.token = s.admin_token,
                       .protect_metrics = s.metrics_require_token,
                       .session_ttl = std::chrono::seconds(static_cast<long>(s.http_session_ttl_s))});
  kinds::ai::add_routes(admin.routes(), *ai);
  std::unique_ptr<http::server> server;
  if (s.http != "off") {
    http::server_options o;
    try {
      o = http::parse_listen(s.http);
    } catch (const std::invalid_argument& e) {
      throw config::config_error(s.where("http") + ": " + e.what());
    }
    o.max_body = s.http_max_body;
    o.max_connections = s.http_max_connections;
    o.timeout = std::chrono::milliseconds(static_cast<long>(s.http_timeout_s * 1000));
    try {
      server = std::make_unique<http::server>(ioc.get_executor(), o, admin);
    } catch (const boost::system::system_error& e) {
      throw std::runtime_error("cannot listen on " + s.http + " (" + s.where("http") +
                               "): " + e.code().message() +
                               "; choose another with --http HOST:PORT or SPOOL_HTTP, or turn it off "
                               "with --http off");
    }
    asio::co_spawn(ioc, server->run(), runtime::log_escape("http_server"));
    admin_base = kinds::http::admin_base_url(o.address, server->port());
  }
  // The store is open (the runtime's constructor opened and migrated it) and the admin endpoint
  // listens (the server binds and listens in its constructor): ready, once the io_context runs.
  asio::post(ioc, [&] {
    notifier->ready();
    notifier->start_watchdog();
  });

  bool failed = false;
  asio::co_spawn(ioc, rt.run(), [&](std::exception_ptr e) {
    if (e) {
      failed = true;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log::error("runtime_failed").kv("error", ex.what());
      }
    }
    notifier->stopping();
    notifier->stop_watchdog();
    signals.cancel();
    if (server) server->stop();
    ioc.stop();  // a handler that ignored cancellation must not keep the process alive
  });

  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
  return failed ? 1 : 0;
}

int config_check(const config::settings& s) {
  config::validate(s);
  if (s.http != "off") {
    try {
      (void)http::parse_listen(s.http);
    } catch (const std::invalid_argument& e) {
      throw config::config_error(s.where("http") + ": " + e.what());
    }
  }
  std::string queues;
  for (auto& [name, concurrency] : s.queues)
    queues += (queues.empty() ? "" : ",") + name + "=" + std::to_string(concurrency);
  std::cout << "config ok: db " << store::locate(s.db).shown << ", admin endpoint " << s.http
            << ", queues " << queues << "\n";
  return 0;
}

int enqueue(const config::settings& s, const enqueue_args& a) {
  jobs::new_job j;
  j.kind = a.kind;
  j.payload = a.payload;
  j.queue = a.queue;
  j.priority = a.priority;
  if (a.max_attempts) {
    if (jobs::check_max_attempts(*a.max_attempts))
      throw usage_error("--max-attempts must be 1..1000, not " + std::to_string(*a.max_attempts));
    j.max_attempts = *a.max_attempts;
  }
  j.unique_key = a.unique_key;
  if (a.run_at && a.delay_s) throw usage_error("--run-at and --delay exclude each other");
  j.depends_on = a.depends_on;
  j.on_parent_failure = a.run_on_parent_failure ? jobs::parent_failure::run : jobs::parent_failure::cancel;
  if (!j.depends_on.empty() && (a.run_at || a.delay_s))
    throw usage_error("a job that depends on others is due when they have completed: give no --run-at or --delay");
  if (a.run_at) {
    j.run_at = jobs::parse_rfc3339(*a.run_at);
    if (!j.run_at) throw usage_error("--run-at: '" + *a.run_at + "' is not an RFC 3339 time");
  }
  if (a.delay_s) {
    if (!(*a.delay_s >= 0) || !std::isfinite(*a.delay_s))
      throw usage_error("--delay must be a number of seconds >= 0");
    j.run_at = jobs::now() + std::chrono::duration_cast<jobs::duration>(
                                 std::chrono::duration<double>(*a.delay_s));
  }
  if (a.unique_states) {
    auto bits = jobs::parse_unique_states(*a.unique_states);
    if (!bits)
      throw usage_error("--unique-states: a comma-separated list of scheduled, available, running, retrying");
    j.unique_states = *bits;
  }
  if (a.unique_for_s) {
    if (!(*a.unique_for_s >= 0) || !std::isfinite(*a.unique_for_s))
      throw usage_error("--unique-for must be a number of seconds >= 0");
    j.unique_for = std::chrono::duration_cast<jobs::duration>(std::chrono::duration<double>(*a.unique_for_s));
  }
  if (a.unique_args) {
    if (j.unique_key) throw usage_error("--unique-key and --unique-args exclude each other");
    boost::system::error_code ec;
    boost::json::parse(j.payload, ec);
    if (ec) throw usage_error("--payload is not valid JSON: " + ec.message());
    j.unique_key = jobs::args_key(j.kind, j.queue, j.payload);
  }
  std::vector<std::string> queues;
  for (auto& [q, _] : s.queues) queues.push_back(q);
  const auto no = jobs::admit(j, binary_kinds(s), queues);
  const bool unknown_here = no && no->code == "unknown_kind";  // an embedding node may still run it
  if (no && !unknown_here) throw usage_error(no->message);

  auto st = open_store(s);
  if (!a.force && !s.allow_unknown_kinds) {
    // Refused when nodes are running and none runs the kind: the job would only be retried until
    // it dead-letters. With no live node at all (enqueue first, start workers later) nothing can
    // be told yet, and only the binary's own kinds pass.
    const auto now = jobs::now();
    const auto ttl = std::chrono::duration_cast<jobs::duration>(std::chrono::duration<double>(s.leader_ttl_s));
    const auto all = st->nodes(now);
    const bool any_live = std::any_of(all.begin(), all.end(), [&](auto& n) { return now - n.heartbeat_at < ttl; });
    const auto served = runtime::served_kinds(all, now, ttl);
    if (any_live && !std::binary_search(served.begin(), served.end(), j.kind)) {
      std::string names;
      for (auto& k : served) names += (names.empty() ? "" : ", ") + k;
      std::cerr << "spool: kind '" << j.kind << "' is run by no live node (served: "
                << (names.empty() ? "none" : names)
                << "); pass --force or set allow_unknown_kinds to enqueue it anyway\n";
      return 1;
    }
    if (!any_live && unknown_here) throw usage_error(no->message);
  }
  jobs::enqueue_result result;
  try {
    result = st->insert(std::span(&j, 1), jobs::now()).front();
  } catch (const store::dependency_error& e) {
    throw usage_error(e.what());
  }
  std::cout << result.id << "\n";
  if (result.duplicate) {
    std::cerr << "spool: unique key '" << *j.unique_key << "' is held by job " << result.id
              << "; nothing enqueued\n";
    if (a.error_on_conflict) return 3;
  }
  return 0;
}

int jobs_list(const config::settings& s, const store::list_filter& f, bool json) {
  const auto now = jobs::now();
  // The list carries each job's error history and result (store::list reads them per page).
  auto list = read_store(s, [&](store::store& st) { return st.list(f, now); });
  if (!json) {
    print_table(std::cout, list);
    return 0;
  }
  // As GET /api/v1/jobs: a full page names the cursor of the next one (pass it to --cursor).
  std::optional<jobs::job_id> next;
  if (static_cast<int>(list.size()) == f.limit && !list.empty()) next = list.back().id;
  print_json(std::cout, list, next);
  return 0;
}

int jobs_show(const config::settings& s, jobs::job_id id, bool json) {
  std::optional<std::string> held;
  auto j = read_store(s, [&](store::store& st) {
    const auto now = jobs::now();
    auto found = st.get(id, now);
    if (found) held = runtime::held_back(st, *found, runtime::limits_of(s), now);
    return found;
  });
  if (!j) {
    std::cerr << "spool: job " << id << " not found (it may have been pruned after its retention)\n";
    return 1;
  }
  const int limit = j->max_attempts > 0 ? j->max_attempts
                                        : binary_kinds(s).effective(j->kind, s).retry.max_attempts;
  json ? print_json(std::cout, *j, held) : print_job(std::cout, *j, limit, held);
  return 0;
}

int jobs_cancel(const config::settings& s, jobs::job_id id) {
  switch (open_store(s)->cancel(id, jobs::now())) {
    case store::cancel_result::cancelled:
      std::cout << "job " << id << " cancelled\n";
      return 0;
    case store::cancel_result::requested:
      std::cout << "job " << id << " is running: cancel requested\n";
      return 0;
    case store::cancel_result::already_final:
      std::cerr << "spool: job " << id << " already finished\n";
      return 1;
    case store::cancel_result::not_found:
      break;
  }
  std::cerr << "spool: job " << id << " not found\n";
  return 1;
}

int jobs_retry(const config::settings& s, jobs::job_id id) {
  switch (open_store(s)->retry_now(id, jobs::now())) {
    case store::retry_result::moved:
      std::cout << "job " << id << " is due now\n";
      return 0;
    case store::retry_result::not_waiting:
      std::cerr << "spool: job " << id << " is not scheduled or retrying\n";
      return 1;
    case store::retry_result::not_found:
      break;
  }
  std::cerr << "spool: job " << id << " not found\n";
  return 1;
}

int dlq_list(const config::settings& s, int limit, bool json) {
  store::list_filter f;
  f.state = jobs::state::dead;
  f.limit = limit;
  return jobs_list(s, f, json);
}

int dlq_requeue(const config::settings& s, std::optional<jobs::job_id> id) {
  store::dead_filter which;
  which.id = id;
  auto n = open_store(s)->requeue_dead(which, jobs::now());
  if (id && n == 0) {
    std::cerr << "spool: job " << *id << " is not in the dead-letter queue\n";
    return 1;
  }
  std::cout << "requeued " << n << " job" << (n == 1 ? "" : "s") << "\n";
  return 0;
}

int dlq_purge(const config::settings& s, std::optional<jobs::job_id> id) {
  store::dead_filter which;
  which.id = id;
  auto n = open_store(s)->purge_dead(which);
  if (id && n == 0) {
    std::cerr << "spool: job " << *id << " is not in the dead-letter queue\n";
    return 1;
  }
  std::cout << "purged " << n << " job" << (n == 1 ? "" : "s") << "\n";
  return 0;
}

int stats(const config::settings& s, bool json) {
  const auto limits = runtime::limits_of(s);
  auto [counts, use] = read_store(s, [&](store::store& st) {
    const auto now = jobs::now();
    return std::pair{st.count(now), st.limit_usage(limits, now)};
  });
  json ? print_stats_json(std::cout, counts, use) : print_stats(std::cout, counts, use);
  return 0;
}

int periodic_list(const config::settings& s, bool json) {
  auto rows = read_store(s, [](store::store& st) { return st.periodic_rows(); });
  const auto all = runtime::periodic_to_json(s.periodic, rows, jobs::now());
  if (json) {
    std::cout << jobs::to_text(all) << "\n";
    return 0;
  }
  if (all.empty()) {
    std::cout << "no periodic jobs configured (the \"periodic\" key of the config file)\n";
    return 0;
  }
  auto text = [](const boost::json::value& v) -> std::string {
    if (v.is_null()) return "-";
    if (v.is_string()) return std::string(v.get_string());
    return boost::json::serialize(v);
  };
  std::cout << fmt::format("{:<20} {:<16} {:<16} {:<20} {:<10} {:<28} {:<28} {}\n", "NAME", "CRON", "TIMEZONE",
                           "KIND", "QUEUE", "NEXT_RUN", "LAST_RUN", "LAST_JOB");
  for (const auto& v : all) {
    const auto& o = v.as_object();
    std::cout << fmt::format("{:<20} {:<16} {:<16} {:<20} {:<10} {:<28} {:<28} {}\n", text(o.at("name")),
                             text(o.at("cron")), text(o.at("timezone")), text(o.at("kind")),
                             text(o.at("queue")), text(o.at("next_run")), text(o.at("last_run")),
                             text(o.at("last_job_id")));
  }
  return 0;
}

int nodes(const config::settings& s, bool json) {
  const auto now = jobs::now();
  auto all = read_store(s, [&](store::store& st) { return st.nodes(now); });
  const auto ttl = std::chrono::duration_cast<jobs::duration>(
      std::chrono::duration<double>(s.leader_ttl_s));
  if (json) {
    boost::json::array out;
    for (auto& n : all) out.push_back(runtime::to_json(n, now, ttl));
    std::cout << jobs::to_text(boost::json::object{{"nodes", out}}) << "\n";
    return 0;
  }
  std::cout << fmt::format("{:<40} {:>8} {:>7} {:>6} {:>15}  {:<20} {}\n", "NODE", "PID", "LEADER", "ALIVE",
                           "HEARTBEAT_AGO_S", "QUEUES", "KINDS");
  for (auto& n : all) {
    std::string queues, kinds;
    for (auto& q : n.queues) queues += (queues.empty() ? "" : ",") + q;
    for (auto& k : n.kinds) kinds += (kinds.empty() ? "" : ",") + k;
    std::cout << fmt::format("{:<40} {:>8} {:>7} {:>6} {:>15.1f}  {:<20} {}\n", n.id, n.pid,
                             n.leader ? "yes" : "", now - n.heartbeat_at < ttl ? "yes" : "no",
                             std::chrono::duration<double>(now - n.heartbeat_at).count(), queues, kinds);
  }
  return 0;
}

int kinds(const config::settings& s, bool json) {
  auto all = jobs::kinds_to_json(binary_kinds(s), s);
  if (json) {
    std::cout << jobs::to_text(boost::json::object{{"kinds", all}}) << "\n";
    return 0;
  }
  std::cout << fmt::format("{:<22} {:>12} {:>12} {:>12} {:>7} {:>10} {:>12} {:>16}  {}\n", "KIND",
                           "MAX_ATTEMPTS", "RETRY_BASE_S", "RETRY_CAP_S", "JITTER", "TIMEOUT_S",
                           "MAX_SNOOZES", "MAX_SNOOZE_TOTAL_S", "PAYLOAD_CHECKED");
  for (auto& v : all) {
    auto& k = v.as_object();
    std::cout << fmt::format("{:<22} {:>12} {:>12g} {:>12g} {:>7g} {:>10g} {:>12} {:>16g}  {}\n",
                             k.at("kind").as_string().c_str(), k.at("max_attempts").as_int64(),
                             k.at("retry_base_s").as_double(), k.at("retry_cap_s").as_double(),
                             k.at("retry_jitter").as_double(), k.at("timeout_s").as_double(),
                             k.at("max_snoozes").as_int64(), k.at("max_snooze_total_s").as_double(),
                             k.at("payload_checked").as_bool() ? "yes" : "no");
  }
  std::cout << "(the diagnostic kinds noop, sleep, fail, abort, throw, hang, hog and block run only "
               "with --diagnostic-kinds)\n";
  return 0;
}

int migrate(const config::settings& s) {
  auto st = store::open(s.db, {.schemas = builtin_schemas()});
  const int n = st->migrate();
  std::cout << "applied " << n << " migration" << (n == 1 ? "" : "s") << "\n";
  return 0;
}

}  // namespace spool::cli

namespace spool::cli {

int queues_list(const config::settings& s, bool json) {
  const auto now = jobs::now();
  auto read = [&](store::store& st) {
    return std::tuple{st.count(now), st.paused_queues(), st.nodes(now)};
  };
  const auto [counts, paused, nodes] = read_store(s, read);
  const auto ttl = std::chrono::duration_cast<jobs::duration>(std::chrono::duration<double>(s.leader_ttl_s));
  std::map<std::string, int> served_by;
  for (auto& n : nodes)
    if (now - n.heartbeat_at < ttl)
      for (auto& q : n.queues) ++served_by[q];
  std::vector<std::string> served;
  for (auto& [q, _] : served_by) served.push_back(q);
  auto all = runtime::queues_to_json(counts, paused, served, now);
  for (auto& [name, o] : all) o["served_by"] = served_by[name];
  if (json) {
    boost::json::array out;
    for (auto& [_, o] : all) out.push_back(o);
    std::cout << jobs::to_text(boost::json::object{{"queues", out}}) << "\n";
    return 0;
  }
  std::cout << fmt::format("{:<16}", "QUEUE");
  for (auto& [state, _] : counts.states) std::cout << fmt::format("{:>11}", state);
  std::cout << fmt::format("{:>10}  {:<7} {}\n", "SERVED_BY", "PAUSED", "PAUSED_SINCE");
  for (auto& [name, o] : all) {
    std::cout << fmt::format("{:<16}", name);
    for (auto& [state, _] : counts.states)
      std::cout << fmt::format("{:>11}", o.at("counts").at(state).as_int64());
    const bool p = o.at("paused").as_bool();
    std::cout << fmt::format("{:>10}  {:<7} {}\n", served_by[name], p ? "yes" : "no",
                             p ? o.at("paused_since").as_string().c_str() : "-");
  }
  return 0;
}

int queues_pause(const config::settings& s, const std::string& queue, bool paused) {
  if (!config::valid_name(queue))
    throw usage_error("'" + queue + "' is not a queue name (1-64 characters of A-Z a-z 0-9 _ - . :)");
  open_store(s)->set_paused(queue, paused, jobs::now());
  std::cout << "queue " << queue << (paused ? " paused" : " resumed")
            << ": every node applies it within its poll interval\n";
  return 0;
}

}  // namespace spool::cli
