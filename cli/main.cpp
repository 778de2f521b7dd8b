// `spool`: the runtime binary and its operator commands. A thin client of the spool library.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/version.hpp"
#include "config/keys.hpp"
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
    if (db->count()) spool::config::apply_flag(s, *spool::config::find_flag("--db"), db_value);
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
  // The run flags come from the config key table, read as text through it, so that a bad value
  // is reported as the flag's (and a bad SPOOL_* value as the variable's).
  std::vector<std::pair<CLI::Option*, const spool::config::key_spec*>> run_flags;
  std::map<std::string, std::vector<std::string>> flag_values;
  bool diag = false;
  for (auto& key : spool::config::keys()) {
    if (key.flag.empty() || key.flag == "--db") continue;
    std::string help(key.help);
    if (!key.env.empty()) help += "; env " + std::string(key.env);
    CLI::Option* o = nullptr;
    if (key.value_name.empty()) {
      o = run->add_flag(std::string(key.flag), diag, help);
    } else {
      o = run->add_option(std::string(key.flag), flag_values[std::string(key.flag)], help)
              ->type_name(std::string(key.value_name));
      if (key.json != "queues") o->expected(1);
    }
    run_flags.emplace_back(o, &key);
  }
  run->footer("Also: --db URL and --config FILE (before or after `run`). Each setting is read from "
              "defaults, the config file, SPOOL_* variables, then these flags.");
  run->callback([&] {
    action = [&] {
      auto s = layers.resolve();
      for (auto& [o, key] : run_flags) {
        if (!o->count()) continue;
        std::string value = "true";
        if (!key->value_name.empty()) {
          value.clear();
          for (auto& v : flag_values[std::string(key->flag)]) value += (value.empty() ? "" : ",") + v;
        }
        spool::config::apply_flag(s, *key, value);
      }
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
  int max_attempts = 0;
  auto* o_max = enq->add_option("--max-attempts", max_attempts,
                                "Attempts before the dead-letter queue, 1..1000 (kind default)");
  auto* o_key = enq->add_option("--unique-key", unique_key,
                                "At most one job holds this key (while waiting or running)");
  enq->add_flag("--unique-args", ea.unique_args, "The unique key is derived from kind, queue and payload");
  std::string unique_states, on_conflict;
  double unique_for = 0;
  auto* o_ustates = enq->add_option("--unique-states", unique_states,
                                    "States that hold the key (scheduled,available,running,retrying)");
  auto* o_ufor = enq->add_option("--unique-for", unique_for, "Completed jobs hold the key S seconds more");
  enq->add_flag("--force", ea.force, "Enqueue even when no live node runs the kind");
  enq->add_option("--depends-on", ea.depends_on,
                  "Pending until job ID has completed (repeat for several); cancelled if one ends dead or cancelled");
  std::string on_parent_failure = "cancel";
  enq->add_option("--on-parent-failure", on_parent_failure,
                  "cancel (default) or run: what a parent that ends dead or cancelled does to this job")
      ->check(CLI::IsMember({"cancel", "run"}));
  enq->add_option("--on-conflict", on_conflict, "return (print the holder's id, exit 0) or error (exit 3)")
      ->check(CLI::IsMember({"return", "error"}));
  enq->callback([&] {
    action = [&] {
      if (o_run_at->count()) ea.run_at = run_at;
      if (o_delay->count()) ea.delay_s = delay;
      if (o_key->count()) ea.unique_key = unique_key;
      if (o_max->count()) ea.max_attempts = max_attempts;
      if (o_ustates->count()) ea.unique_states = unique_states;
      if (o_ufor->count()) ea.unique_for_s = unique_for;
      ea.error_on_conflict = on_conflict == "error";
      ea.run_on_parent_failure = on_parent_failure == "run";
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
  auto* o_state = jl->add_option("--state", state, "pending|scheduled|available|running|retrying|completed|cancelled|dead");
  auto* o_kind = jl->add_option("--kind", kind, "Only this kind");
  auto* o_queue = jl->add_option("--queue", queue, "Only this queue");
  std::string list_key;
  auto* o_lkey = jl->add_option("--unique-key", list_key, "Only jobs that carried this unique key");
  jl->add_option("--limit", limit, "At most this many (50)")->check(CLI::Range(1, 100000));
  auto* o_before = jl->add_option("--before,--cursor", before,
                                  "Only ids below this one: the next_cursor of --json (paging)");
  jl->add_flag("--json", json, "JSON output");
  jl->callback([&] {
    action = [&] {
      spool::store::list_filter f;
      if (o_state->count()) {
        f.state = spool::jobs::parse_state(state);
        if (!f.state)
          throw usage_error("--state: unknown state '" + state +
                            "' (one of scheduled, available, running, retrying, completed, "
                            "cancelled, dead)");
      }
      if (o_kind->count()) f.kind = kind;
      if (o_queue->count()) f.queue = queue;
      if (o_lkey->count()) f.unique_key = list_key;
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
  auto* jr = jobs->add_subcommand("retry", "Run a scheduled or retrying job now");
  jr->add_option("id", id, "Job id")->required();
  jr->callback([&] { action = [&] { return spool::cli::jobs_retry(layers.resolve(), id); }; });

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
  // spool queues list|pause|resume
  auto* qs = app.add_subcommand("queues", "Queues: counts and pause, for every node sharing the database");
  qs->require_subcommand(1);
  auto* ql = qs->add_subcommand("list", "Each queue with its counts, the live nodes serving it and its pause");
  ql->add_flag("--json", json, "JSON output");
  ql->callback([&] { action = [&] { return spool::cli::queues_list(layers.resolve(), json); }; });
  std::string queue_name;
  auto* qp = qs->add_subcommand("pause", "Stop every node claiming from the queue (running jobs finish)");
  qp->add_option("name", queue_name, "Queue")->required();
  qp->callback([&] { action = [&] { return spool::cli::queues_pause(layers.resolve(), queue_name, true); }; });
  auto* qr = qs->add_subcommand("resume", "Let every node claim from the queue again");
  qr->add_option("name", queue_name, "Queue")->required();
  qr->callback([&] { action = [&] { return spool::cli::queues_pause(layers.resolve(), queue_name, false); }; });
  auto* nd = app.add_subcommand("nodes", "Runtime nodes sharing the database, and the leader");
  nd->add_flag("--json", json, "JSON output");
  nd->callback([&] { action = [&] { return spool::cli::nodes(layers.resolve(), json); }; });
  auto* kd = app.add_subcommand("kinds", "The job kinds this binary runs, with their policies");
  kd->add_flag("--json", json, "JSON output");
  kd->callback([&] { action = [&] { return spool::cli::kinds(layers.resolve(), json); }; });
  auto* pe = app.add_subcommand("periodic", "Periodic jobs (the config file's \"periodic\" key)");
  pe->require_subcommand(1);
  auto* pl = pe->add_subcommand("list", "Each schedule with its next run, last run and last job");
  pl->add_flag("--json", json, "JSON output");
  pl->callback([&] { action = [&] { return spool::cli::periodic_list(layers.resolve(), json); }; });
  auto* mg = app.add_subcommand("migrate", "Apply database migrations");
  mg->callback([&] { action = [&] { return spool::cli::migrate(layers.resolve()); }; });

  // spool config check: what a package's /etc/spool/spool.json (or any config) amounts to.
  auto* cf = app.add_subcommand("config", "The configuration `spool run` would read");
  cf->require_subcommand(1);
  auto* cc = cf->add_subcommand("check", "Validate the config file, SPOOL_* variables and --db; "
                                         "open no database");
  cc->callback([&] { action = [&] { return spool::cli::config_check(layers.resolve()); }; });

  for (auto* sub : {run, enq, jobs, jl, js, jc, jr, dlq, dl, dr, dp, st, qs, ql, qp, qr, nd, kd, pe, pl, mg, cf, cc})
    sub->fallthrough();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    // The usage line of the innermost command the arguments reached goes with the error.
    const CLI::App* where = &app;
    std::string path = "spool";
    while (!where->get_subcommands().empty()) {
      where = where->get_subcommands().front();
      path += " " + where->get_name();
    }
    std::cerr << "spool: " << e.what() << "\n"
              << CLI::Formatter().make_usage(where, path) << "(see " << path << " --help)\n";
    return 2;
  }
  try {
    return action ? action() : 2;
  } catch (const usage_error& e) {
    std::cerr << "spool: " << e.what() << "\n";
    return 2;
  } catch (const spool::config::config_error& e) {
    std::cerr << "spool: " << e.what() << "\n";
    return 2;
  } catch (const spool::store::store_error& e) {
    std::cerr << "spool: database: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "spool: " << e.what() << "\n";
    return 1;
  }
}
