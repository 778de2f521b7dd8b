#include <spool/spool.hpp>

int main() { return spool::config::settings{}.queues.empty() ? 1 : 0; }
