#pragma once
// What the two AI kinds share: the backend, the results store on its own thread, and the
// profile settings. Made once per runtime from the config; the handlers hold it by shared_ptr.
#include <boost/asio/any_io_executor.hpp>
#include <memory>

#include "config/config.hpp"
#include "jobs/job.hpp"
#include "kinds/ai/backend.hpp"
#include "kinds/ai/results_store.hpp"
#include "persistence/serial_executor.hpp"

namespace spool::kinds::ai {

struct services {
  std::shared_ptr<ai::backend> backend;
  // The kinds' own SOCI connection and thread: their reads and writes never wait behind the
  // runtime's claims on the jobs' connection, and never block an io_context thread.
  std::unique_ptr<store::serial_executor<results_store>> results;
  jobs::duration debounce{std::chrono::seconds(10)};
  int latest_n = 50;
};

// The backend the config names (inference.backend), on `ex` (the runtime's io_context), and the
// results store on `settings.db`. Throws std::invalid_argument / std::runtime_error for a backend
// that cannot be set up and store::store_error for a database that cannot be opened.
std::shared_ptr<services> make_services(boost::asio::any_io_executor ex,
                                        const config::settings& settings);

// The same with a backend of the caller's choosing (tests, embedders).
std::shared_ptr<services> make_services(std::shared_ptr<ai::backend> backend,
                                        const config::settings& settings);

}  // namespace spool::kinds::ai
