#pragma once
// Buffers the decided transitions of finished attempts and applies them in one transaction per
// batch. While a batch commits the next one fills, so batches grow with load. A failed commit
// keeps the batch and retries it with backoff: a completion is never dropped.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/strand.hpp>
#include <vector>

#include "runtime/core.hpp"

namespace spool::runtime {

struct finished_attempt {
  jobs::completion completion;
  std::string queue;
  std::string kind;
};

class completer {
 public:
  explicit completer(core& c);
  void submit(finished_attempt f);  // any thread
  // Returns once everything submitted so far is committed.
  boost::asio::awaitable<void> drain();

 private:
  boost::asio::awaitable<void> flush();
  core& core_;
  boost::asio::strand<boost::asio::any_io_executor> strand_;
  std::vector<finished_attempt> buffer_;  // strand only
  bool flushing_ = false;                 // strand only
};

}  // namespace spool::runtime
