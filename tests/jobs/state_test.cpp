// Job states: which waiting state a job is in, and their names.
#include <boost/test/unit_test.hpp>

#include "jobs/state.hpp"
#include "tests/support/printers.hpp"

using namespace spool::jobs;

BOOST_AUTO_TEST_SUITE(states)

BOOST_AUTO_TEST_CASE(waiting_states_follow_due_time_and_attempts) {
  BOOST_TEST(ready_state(true, 0) == state::available);
  BOOST_TEST(ready_state(true, 3) == state::available);
  BOOST_TEST(ready_state(false, 0) == state::scheduled);
  BOOST_TEST(ready_state(false, 2) == state::retrying);
  for (auto s : {state::scheduled, state::available, state::running, state::retrying,
                 state::completed, state::cancelled, state::dead})
    BOOST_TEST((parse_state(to_string(s)) == s));
  BOOST_TEST(!parse_state("bogus"));
}

BOOST_AUTO_TEST_SUITE_END()
