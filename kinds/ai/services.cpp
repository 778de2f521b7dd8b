#include "kinds/ai/services.hpp"

#include "kinds/ai/local_backend.hpp"
#include "kinds/ai/model_backend.hpp"
#include "kinds/ai/openai_client.hpp"

namespace spool::kinds::ai {

namespace {

std::shared_ptr<ai::backend> backend_for(boost::asio::any_io_executor ex, const config::settings& s) {
  const auto& inf = s.inference;
  if (inf.backend != "openai") return std::make_shared<local_backend>();
  openai_options o;
  o.url = inf.url;
  o.model = inf.model;
  o.api_key = inf.api_key;
  o.ca_file = inf.ca_file;
  o.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(inf.timeout_s * 1000));
  o.max_concurrency = inf.max_concurrency;
  return std::make_shared<model_backend>(std::make_shared<openai_client>(std::move(ex), std::move(o)));
}

}  // namespace

std::shared_ptr<services> make_services(std::shared_ptr<ai::backend> backend,
                                        const config::settings& settings) {
  auto s = std::make_shared<services>();
  s->backend = std::move(backend);
  s->results = std::make_unique<store::serial_executor<results_store>>(
      [url = settings.db] { return results_store::open(url); });
  s->debounce = std::chrono::duration_cast<jobs::duration>(
      std::chrono::duration<double>(settings.profiles.debounce_s));
  s->latest_n = settings.profiles.latest_n;
  return s;
}

std::shared_ptr<services> make_services(boost::asio::any_io_executor ex,
                                        const config::settings& settings) {
  return make_services(backend_for(std::move(ex), settings), settings);
}

}  // namespace spool::kinds::ai
