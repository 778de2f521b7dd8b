#pragma once
#include <string>

namespace spool::cli {

// `spool --version`: Spool's version, the git commit and build type it was built from, and the
// SQLite and libpq versions it runs with.
std::string version_text();

}  // namespace spool::cli
