// `spool`: the runtime binary and its operator commands. A thin client of the spool library.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/version.hpp"
#include "kinds/ai/commands.hpp"
#include "persistence/store.hpp"

namespace {

using spool::cli::usage_error;

// Settings: defaults < config file < environment < flags.
struct layered_settings {
  CLI::Option* db = nullptr;
  CLI::Option* config = nullptr;
  std::string db_value, config_value;

  spool::config::settings resolve() const {
    spool::config::settings s;
    std::string file = config->count() ? config_value : "";
    if (file.empty())
      if (const char* env = std::getenv("SPOOL_CONFIG")) file = env;
    if (!file.empty()) spool::config::apply_file(s, file);
    spool::config::apply_env(s, [](const char* name) { return std::getenv(name); });
    if (db->count()) s.db = db_value;
    return s;
  }
};

std::optional<spool::jobs::job_id> one_or_all(CLI::Option* id_opt, spool::jobs::job_id id, bool all) {
  if (all == (id_opt->count() > 0)) throw usage_error("give a job ID or --all (one of them)");
  return all ? std::nullopt : std::optional(id);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Spool: a durable background-job runtime", "spool"};
  app.require_subcommand(1);
  app.set_version_flag("--version", [] { return spool::cli::version_text(); });
  app.fallthrough();
  layered_settings layers;
  layers.db = app.add_option("--db", layers.db_value,
                             "Database URL: sqlite:PATH or postgresql://USER:PASSWORD@HOST:PORT/DB "
                             "(default sqlite:spool.db; env SPOOL_DB)");
  layers.config = app.add_option("--config", layers.config_value, "JSON config file (env SPOOL_CONFIG)");

  std::function<int()> action;

  // spool run
  auto* run = app.add_subcommand("run", "Run the job runtime until SIGTERM/SIGINT");
  int workers = 0;
  std::vector<std::string> queues;
  double grace = 0, lease = 0, poll = 0;
  std::string log_format, log_level, http_spec, admin_token;
  auto* o_workers = run->add_option("--workers", workers, "io_context threads (default: cores, less one on SQLite)");
  auto* o_queues = run->add_option("--queue", queues,
                                   "NAME=CONCURRENCY, repeatable; replaces the default queue set "
                                   "(default: default=100)");
  auto* o_grace = run->add_option("--grace", grace, "Seconds in-flight jobs may finish on shutdown (30)");
  auto* o_lease = run->add_option("--lease", lease, "Lease of a claimed job in seconds (30)");
  auto* o_poll = run->add_option("--poll", poll, "Fallback poll interval in seconds (1)");
  auto* o_fmt = run->add_option("--log-format", log_format, "text or json (text)");
  auto* o_lvl = run->add_option("--log-level", log_level, "debug, info, warn or error (info)");
  auto* o_http = run->add_option("--http", http_spec,
                                 "Admin endpoint HOST:PORT, or off (127.0.0.1:8080; env SPOOL_HTTP)");
  auto* o_token = run->add_option("--admin-token", admin_token,
                                  "Bearer token for the admin API (env SPOOL_ADMIN_TOKEN)");
  bool diag = false;
  auto* o_diag = run->add_flag("--diagnostic-kinds", diag,
                               "Register the noop, sleep, fail and abort kinds");
  run->callback([&] {
    action = [&] {
      auto s = layers.resolve();
      if (o_workers->count()) s.workers = workers;
      if (o_queues->count()) {
        s.queues.clear();
        for (auto& spec : queues) {
          auto [name, conc] = spool::config::parse_queue(spec);
          s.queues[name] = conc;
        }
      }
      if (o_grace->count()) s.grace_s = grace;
      if (o_lease->count()) s.lease_s = lease;
      if (o_poll->count()) s.poll_interval_s = poll;
      if (o_fmt->count()) s.log_format = log_format;
      if (o_lvl->count()) s.log_level = log_level;
      if (o_diag->count()) s.diagnostic_kinds = true;
      if (o_http->count()) s.http = http_spec;
      if (o_token->count()) s.admin_token = admin_token;
      spool::config::validate(s);
      return spool::cli::run(s);
    };
  });

  // spool enqueue
  auto* enq = app.add_subcommand("enqueue", "Enqueue a job durably and print its id");
  spool::cli::enqueue_args ea;
  double delay = 0;
  std::string run_at, unique_key;
  enq->add_option("kind", ea.kind, "Job kind")->required();
  enq->add_option("--payload", ea.payload, "JSON object ({})");
  enq->add_option("--queue", ea.queue, "Queue (default)");
  enq->add_option("--priority", ea.priority, "Lower runs first (0)");
  auto* o_run_at = enq->add_option("--run-at", run_at, "RFC 3339 time to run at");
  auto* o_delay = enq->add_option("--delay", delay, "Seconds from now to run at");
  enq->add_option("--max-attempts", ea.max_attempts, "Attempts before the dead-letter queue (kind default)");
  auto* o_key = enq->add_option("--unique-key", unique_key, "At most one pending job holds this key");
  enq->callback([&] {
    action = [&] {
      if (o_run_at->count()) ea.run_at = run_at;
      if (o_delay->count()) ea.delay_s = delay;
      if (o_key->count()) ea.unique_key = unique_key;
      return spool::cli::enqueue(layers.resolve(), ea);
    };
  });

  // spool jobs list|show|cancel
  auto* jobs = app.add_subcommand("jobs", "Inspect and cancel jobs");
  jobs->require_subcommand(1);
  auto* jl = jobs->add_subcommand("list", "List jobs, newest first");
  std::string state, kind, queue;
  int limit = 50;
  spool::jobs::job_id before = 0, id = 0;
  bool json = false;
  auto* o_state = jl->add_option("--state", state, "scheduled|available|running|retrying|completed|cancelled|dead");
  auto* o_kind = jl->add_option("--kind", kind, "Only this kind");
  auto* o_queue = jl->add_option("--queue", queue, "Only this queue");
  jl->add_option("--limit", limit, "At most this many (50)")->check(CLI::Range(1, 100000));
  auto* o_before = jl->add_option("--before", before, "Only ids below this one (paging)");
  jl->add_flag("--json", json, "JSON output");
  jl->callback([&] {
    action = [&] {
      spool::store::list_filter f;
      if (o_state->count()) {
        f.state = spool::jobs::parse_state(state);
        if (!f.state) throw usage_error("--state: unknown state '" + state + "'");
      }
      if (o_kind->count()) f.kind = kind;
      if (o_queue->count()) f.queue = queue;
      if (o_before->count()) f.before = before;
      f.limit = limit;
      return spool::cli::jobs_list(layers.resolve(), f, json);
    };
  });
  auto* js = jobs->add_subcommand("show", "Show one job with its error history");
  js->add_option("id", id, "Job id")->required();
  js->add_flag("--json", json, "JSON output");
  js->callback([&] { action = [&] { return spool::cli::jobs_show(layers.resolve(), id, json); }; });
  auto* jc = jobs->add_subcommand("cancel", "Cancel a waiting or running job");
  jc->add_option("id", id, "Job id")->required();
  jc->callback([&] { action = [&] { return spool::cli::jobs_cancel(layers.resolve(), id); }; });

  // spool dlq list|requeue|purge
  auto* dlq = app.add_subcommand("dlq", "The dead-letter queue");
  dlq->require_subcommand(1);
  auto* dl = dlq->add_subcommand("list", "List dead-lettered jobs");
  dl->add_option("--limit", limit, "At most this many (50)")->check(CLI::Range(1, 100000));
  dl->add_flag("--json", json, "JSON output");
  dl->callback([&] { action = [&] { return spool::cli::dlq_list(layers.resolve(), limit, json); }; });
  bool all = false;
  auto* dr = dlq->add_subcommand("requeue", "Run dead-lettered jobs again from attempt 1");
  auto* o_dr_id = dr->add_option("id", id, "Job id");
  dr->add_flag("--all", all, "Every dead-lettered job");
  dr->callback([&] {
    action = [&] { return spool::cli::dlq_requeue(layers.resolve(), one_or_all(o_dr_id, id, all)); };
  });
  auto* dp = dlq->add_subcommand("purge", "Delete dead-lettered jobs for good");
  auto* o_dp_id = dp->add_option("id", id, "Job id");
  dp->add_flag("--all", all, "Every dead-lettered job");
  dp->callback([&] {
    action = [&] { return spool::cli::dlq_purge(layers.resolve(), one_or_all(o_dp_id, id, all)); };
  });

  // Commands of the built-in kinds (spool activities show, spool profiles show).
  spool::kinds::ai::add_commands(app, [&] { return layers.resolve(); }, action);

  // spool stats | migrate
  auto* st = app.add_subcommand("stats", "Job counts per queue and state");
  st->add_flag("--json", json, "JSON output");
  st->callback([&] { action = [&] { return spool::cli::stats(layers.resolve(), json); }; });
  auto* nd = app.add_subcommand("nodes", "Runtime nodes sharing the database, and the leader");
  nd->add_flag("--json", json, "JSON output");
  nd->callback([&] { action = [&] { return spool::cli::nodes(layers.resolve(), json); }; });
  auto* mg = app.add_subcommand("migrate", "Apply database migrations");
  mg->callback([&] { action = [&] { return spool::cli::migrate(layers.resolve()); }; });

  for (auto* sub : {run, enq, jobs, jl, js, jc, dlq, dl, dr, dp, st, nd, mg})
    sub->fallthrough();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    std::cerr << "spool: " << e.what() << " (see --help)\n";
    return 2;
  }
  try {
    return action ? action() : 2;
  } catch (const usage_error& e) {
    std::cerr << "spool: " << e.what() << "\n";
    return 2;
  } catch (const spool::config::config_error& e) {
    std::cerr << "spool: config: " << e.what() << "\n";
    return 2;
  } catch (const spool::store::store_error& e) {
    std::cerr << "spool: database: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "spool: " << e.what() << "\n";
    return 1;
  }
}
