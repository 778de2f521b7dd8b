#pragma once
// A throwaway certificate for 127.0.0.1 (self-signed, valid for an hour), to test https without
// any files or tools outside the test.
#include <string>

namespace spool::test {

struct pem_pair {
  std::string certificate;
  std::string private_key;
};

pem_pair self_signed_for_localhost();

}  // namespace spool::test
