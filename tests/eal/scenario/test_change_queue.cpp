// The change queue on its own (docs/control.md, "Changes"): a build that throws
// (std::bad_alloc while building a large policy) finishes as a refused change with a
// clear error, and the queue goes on with the next change; nothing escapes to the
// control thread's loop.
#define BOOST_TEST_MODULE change_queue
#include <boost/test/unit_test.hpp>

#include <poll.h>

#include <new>
#include <optional>
#include <stdexcept>
#include <string>

#include "control/change_queue.hpp"

using namespace sgfw;
using namespace sgfw::control;

namespace {

// Waits (up to 10 s) for the build in flight to finish; none if it never does.
std::optional<FinishedChange> wait_finished(ChangeQueue& q) {
  for (int i = 0; i < 1000; ++i) {
    if (auto f = q.finished()) return f;
    pollfd p{q.wake_fd(), POLLIN, 0};
    (void)poll(&p, 1, 10);
  }
  return std::nullopt;
}

ChangeJob job_for(const std::string& vm) {
  ChangeJob j;
  j.request.kind = ChangeRequest::Kind::kSetGroups;
  j.request.vm = vm;
  return j;
}

ChangeBase no_base(const ChangeRequest&) { return ChangeBase{}; }

}  // namespace

BOOST_AUTO_TEST_CASE(a_build_that_runs_out_of_memory_is_refused_and_the_next_change_runs) {
  int builds = 0;
  ChangeQueue q(no_base, [&builds](const ChangeRequest& r, const ChangeBase&) -> core::Expected<PreparedChange> {
    ++builds;
    if (r.vm == "first") throw std::bad_alloc();
    return core::make_error("built " + r.vm);
  });
  q.submit(job_for("first"));
  q.submit(job_for("second"));
  BOOST_TEST(q.building());
  BOOST_TEST(q.waiting() == 1U);

  auto first = wait_finished(q);  // threw std::bad_alloc out of finished() before
  BOOST_REQUIRE(first.has_value());
  BOOST_TEST(first->job.request.vm == "first");
  BOOST_REQUIRE(!first->result.has_value());
  BOOST_TEST(first->result.error().message.find("out of memory") != std::string::npos);
  BOOST_TEST(!q.building());

  q.start_next();
  auto second = wait_finished(q);
  BOOST_REQUIRE(second.has_value());
  BOOST_TEST(second->job.request.vm == "second");
  BOOST_REQUIRE(!second->result.has_value());
  BOOST_TEST(second->result.error().message == "built second");
  BOOST_TEST(builds == 2);
  BOOST_TEST(q.waiting() == 0U);
  BOOST_TEST(!q.finished().has_value());
}

BOOST_AUTO_TEST_CASE(any_other_exception_of_a_build_is_named_in_the_refusal) {
  ChangeQueue q(no_base, [](const ChangeRequest&, const ChangeBase&) -> core::Expected<PreparedChange> {
    throw std::length_error("vector::_M_default_append");
  });
  q.submit(job_for("a"));
  auto f = wait_finished(q);
  BOOST_REQUIRE(f.has_value());
  BOOST_REQUIRE(!f->result.has_value());
  BOOST_TEST(f->result.error().message.find("internal error") != std::string::npos);
  BOOST_TEST(f->result.error().message.find("vector::_M_default_append") != std::string::npos);
  BOOST_TEST(!q.building());
}
