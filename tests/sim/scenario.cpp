#include "tests/sim/scenario.hpp"

#include <filesystem>

#include <fmt/format.h>

#include "persistence/store.hpp"
#include "tests/sim/node.hpp"
#include "tests/sim/oracle.hpp"

namespace spool::sim {
namespace {

using namespace std::chrono_literals;

// A fixed start, so that a seed replays the same times.
const time_point start_of_time{std::chrono::seconds(1'900'000'000)};

double secs(duration d) { return std::chrono::duration<double>(d).count(); }

void remove_database(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"})
    std::filesystem::remove(path + suffix);
}

// A migrated, empty database, made once per directory and copied for each run: migrating is a
// good part of a small run's cost, and always the same.
void copy_empty_database(const std::string& dir, const std::string& to) {
  const auto empty = dir + "/empty.db";
  if (!std::filesystem::exists(empty)) {
    const auto making = empty + ".new";
    remove_database(making);
    {
      store::open("sqlite:" + making)->migrate();
    }  // closing the only connection checkpoints the WAL into the file
    std::filesystem::rename(making, empty);
  }
  std::filesystem::copy_file(empty, to);
}

struct shape {
  int nodes = 0;
  int jobs = 0;
  duration stormy_for{};  // then calm
};

shape draw_shape(world& w) {
  w.times.lease = w.span(3s, 12s);
  w.times.poll = w.span(1s, 3s);
  w.times.rescue_interval = w.span(w.times.lease / 3, w.times.lease);
  w.times.grace = w.span(500ms, 8s);
  for (const char* name : {"alpha", "beta"}) {
    kind_spec k{name, {}};
    auto& r = k.options.retry;
    r.base = w.span(20ms, 2s);
    r.cap = w.span(r.base, 10s);
    r.jitter = w.real(0, 0.9);
    r.max_attempts = w.between(1, 5);
    k.options.timeout = w.span(w.times.lease / 2, 3 * w.times.lease);
    w.kinds.push_back(k);
  }
  if (w.chance(0.8)) {  // one run in five has no faults at all
    w.faults.fail = w.real(0, 0.2);
    w.faults.reply_lost = w.real(0, 0.08);
    w.faults.crash_after = w.real(0, 0.02);
    w.faults.slow = w.real(0, 0.1);
    w.faults.hang = w.real(0, 0.03);
  }
  shape s;
  s.nodes = w.between(2, 3);
  s.stormy_for = w.span(8s, 30s);
  s.jobs = w.between(2, 8);
  return s;
}

void describe(world& w, std::uint64_t seed, const shape& s) {
  w.log.pin(
      fmt::format("seed {}: {} nodes, {} jobs, calm at {:.3f}s; lease {:.3f}s, poll {:.3f}s, "
                  "rescue every {:.3f}s, grace {:.3f}s",
                  seed, s.nodes, s.jobs, secs(s.stormy_for), secs(w.times.lease),
                  secs(w.times.poll), secs(w.times.rescue_interval), secs(w.times.grace)));
  w.log.pin(fmt::format(
      "faults: fail {:.3f}, reply lost {:.3f}, crash after a call {:.3f}, slow "
      "{:.3f}, hang {:.3f}",
      w.faults.fail, w.faults.reply_lost, w.faults.crash_after, w.faults.slow, w.faults.hang));
  for (const auto& k : w.kinds)
    w.log.pin(
        fmt::format("kind {}: retry base {:.3f}s cap {:.3f}s jitter {:.2f} max_attempts {}, "
                    "timeout {:.3f}s",
                    k.name, secs(k.options.retry.base), secs(k.options.retry.cap),
                    k.options.retry.jitter, k.options.retry.max_attempts, secs(k.options.timeout)));
}

jobs::new_job draw_job(world& w) {
  jobs::new_job j;
  j.kind = w.chance(0.5) ? "alpha" : "beta";
  j.priority = w.between(0, 2);
  if (w.chance(0.3)) j.run_at = w.now() + w.span(0s, 10s);
  constexpr int max_attempts[] = {0, 0, 1, 2, 3};  // 0: the kind's policy decides
  j.max_attempts = max_attempts[w.between(0, 4)];
  // A few keys shared by many jobs: the oracle checks that no two jobs hold one at a time.
  if (w.chance(0.25)) j.unique_key = "key-" + std::to_string(w.between(0, 3));
  return j;
}

// Some jobs wait for others: for jobs inserted before (which may have ended already, even dead
// or cancelled) or for earlier jobs of the same batch, and either share a parent's failure or
// run anyway. `known` are the jobs inserted so far.
void draw_dependencies(world& w, const std::vector<jobs::job_id>& known,
                       std::vector<jobs::new_job>& batch) {
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto& j = batch[i];
    if (!known.empty() && w.chance(0.25))
      for (int n = w.between(1, 2); n > 0; --n)
        j.depends_on.push_back(known[w.between(0, static_cast<int>(known.size()) - 1)]);
    if (i > 0 && w.chance(0.4)) j.needs.push_back(w.between(0, static_cast<int>(i) - 1));
    if (!j.depends_on.empty() || !j.needs.empty())
      j.on_parent_failure = w.chance(0.5) ? jobs::parent_failure::run : jobs::parent_failure::cancel;
  }
}

using node_list = std::vector<std::unique_ptr<node>>;

// Nodes boot at the start; in the storm they crash, lose the database for a while and shut down
// at random moments, and come back with a new identity sooner or (some of them) only at calm.
void add_nodes(world& w, node_list& nodes, const shape& s) {
  std::vector<int> concurrency;
  for (int i = 0; i < s.nodes; ++i) concurrency.push_back(w.between(1, 4));
  for (int i = 0; i < s.nodes; ++i)
    nodes.push_back(std::make_unique<node>(w, i + 1, concurrency[i]));
  for (auto& n : nodes) {
    node* self = n.get();
    auto boot = [self] {
      if (!self->up()) self->boot();
    };
    n->on_down = [&w, boot] {
      if (w.calm)
        w.events.after(w.span(100ms, 1s), boot);
      else if (w.chance(0.85))
        w.events.after(w.span(200ms, 15s), boot);
    };
    w.events.after(w.span(0ms, 500ms), boot);
    const int crashes = w.faults.crash_after > 0 ? w.between(0, 2) : 0;
    for (int i = 0; i < crashes; ++i)
      w.events.after(w.span(0s, s.stormy_for), [&w, self] {
        if (!w.calm) self->crash("killed");
      });
    const int outages = w.faults.fail > 0 ? w.between(0, 2) : 0;
    for (int i = 0; i < outages; ++i)
      w.events.after(w.span(0s, s.stormy_for), [&w, self] {
        if (!w.calm) self->cut_off(w.span(1s, 2 * w.times.lease));
      });
    const int shutdowns = w.between(0, 1);
    for (int i = 0; i < shutdowns; ++i)
      w.events.after(w.span(0s, s.stormy_for), [&w, self] {
        if (!w.calm) self->shut_down();
      });
  }
}

// Clients enqueue through any node that takes work, send again after a failure or a reply that
// does not come (its node died) a few times, then give up. Only a reply acknowledges a job.
struct clients {
  world& w;
  oracle& truth;
  node_list& nodes;
  int pending = 0;  // batches neither acknowledged nor given up

  void add(const shape& s) {
    for (int left = s.jobs; left > 0;) {
      const int size = w.between(1, std::min(3, left));
      left -= size;
      ++pending;
      w.events.after(w.span(0s, s.stormy_for * 6 / 10), [this, size] {
        std::vector<jobs::new_job> batch;
        for (int i = 0; i < size; ++i) batch.push_back(draw_job(w));
        draw_dependencies(w, truth.inserted_ids(), batch);
        send(std::move(batch), 0);
      });
    }
  }

  void send(std::vector<jobs::new_job> batch, int tries) {
    std::vector<node*> open;
    for (auto& n : nodes)
      if (n->accepting()) open.push_back(n.get());
    if (open.empty()) {
      w.events.after(500ms, [this, batch, tries] { send(batch, tries); });
      return;
    }
    auto* via = open[w.between(0, static_cast<int>(open.size()) - 1)];
    auto answered = std::make_shared<bool>(false);
    auto unanswered = [this, answered, batch, tries](const char* why) {
      if (*answered) return;
      *answered = true;
      if (tries < 3) {
        w.note(fmt::format("client: {}; sends its {} jobs again", why, batch.size()));
        w.events.after(200ms, [this, batch, tries] { send(batch, tries + 1); });
      } else {
        w.note(fmt::format("client: {}; gives up", why));
        --pending;
      }
    };
    via->enqueue(
        batch,
        [this, answered](const std::vector<store::insert_result>& r) {
          if (*answered) return;
          *answered = true;
          truth.acknowledged(r);
          --pending;
        },
        [unanswered] { unanswered("enqueue failed"); });
    w.events.after(3 * w.times.lease, [unanswered] { unanswered("no reply"); });
  }
};

// The end of the storm: no more faults or chaos, every node comes back.
void calm_at(world& w, node_list& nodes, duration when) {
  w.events.after(when, [&w, &nodes] {
    w.calm = true;
    w.faults = {};
    w.note("calm: no more faults; every node comes back; every job must now finish");
    for (auto& n : nodes) {
      node* self = n.get();
      if (!self->up())
        w.events.after(w.span(0ms, 500ms), [self] {
          if (!self->up()) self->boot();
        });
    }
  });
}

}  // namespace

run_result run_scenario(std::uint64_t seed, const std::string& dir) {
  run_result out;
  world w(seed, start_of_time);
  w.db_path = fmt::format("{}/sim-{}.db", dir, seed);
  const auto s = draw_shape(w);
  describe(w, seed, s);
  try {
    remove_database(w.db_path);
    copy_empty_database(dir, w.db_path);
    const auto reader = store::open("sqlite:" + w.db_path);
    reader->migrate();  // finds the schema in place: applies nothing
    oracle truth(w, *reader);
    w.truth = &truth;
    node_list nodes;
    clients users{w, truth, nodes};
    add_nodes(w, nodes, s);
    users.add(s);
    calm_at(w, nodes, s.stormy_for);

    // Every step is followed by the oracle's checks. Once calm, the run ends when every job
    // has finished; an hour of simulated calm without that is a lost job.
    const auto give_up = start_of_time + s.stormy_for + 1h;
    while (!w.events.empty()) {
      w.events.step();
      w.log.next_step();
      truth.check();
      if (w.calm && users.pending == 0 && truth.all_final()) break;
      if (w.now() > give_up) truth.require_final();
    }
    truth.check(true);
    truth.require_final();
    w.count("jobs", static_cast<std::int64_t>(truth.jobs()));
    w.truth = nullptr;
  } catch (const violation& v) {
    out.ok = false;
    out.failure = v.what();
  } catch (const std::exception& e) {
    out.ok = false;
    out.failure = std::string("unexpected exception: ") + e.what();
  }
  out.log_tail = w.log.tail();
  out.steps = w.log.steps();
  out.simulated_s = w.log.seconds(w.now());
  out.tally = w.tally;
  remove_database(w.db_path);
  return out;
}

}  // namespace spool::sim
