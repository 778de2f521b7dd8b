// The AI kinds' plain logic, no I/O: one test executable, one file per idea.
#define BOOST_TEST_MODULE ai_units
#include <boost/test/unit_test.hpp>
