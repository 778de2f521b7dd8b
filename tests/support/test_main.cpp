// The entry point of a test executable built from several files: each file holds its own cases,
// and spool_test(... MODULE name) in tests/CMakeLists.txt names the module.
#define BOOST_TEST_MODULE SPOOL_TEST_MODULE
#include <boost/test/unit_test.hpp>
