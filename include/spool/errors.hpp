#pragma once
// The exceptions Spool throws at an application (besides std::invalid_argument for a job that
// fails validation).
#include <stdexcept>

namespace spool::config {

// A setting out of range or of the wrong type; the message names the key.
struct config_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace spool::config

namespace spool::store {

// Every failure of the database (locked, full, gone, corrupt) surfaces as this, with a message
// that names the operation.
struct store_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// An enqueue refused as a whole, nothing stored: a job depends on a job that does not exist, or
// on a step of its batch that does not come before it.
struct dependency_error : store_error {
  using store_error::store_error;
};

}  // namespace spool::store
