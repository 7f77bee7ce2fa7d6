// ServiceWatchdog (docs/packaging.md, "Watchdog"): WATCHDOG=1 goes to systemd at each
// half interval only while every worker's loop counter advanced since the last check;
// a stuck worker withholds it (said once on standard error) and a recovered one resumes
// it. The test plays systemd: NOTIFY_SOCKET names an abstract datagram socket it reads,
// WATCHDOG_USEC and WATCHDOG_PID are set as a unit with WatchdogSec= sets them, and the
// workers' counters are a vector the test moves.
#define BOOST_TEST_MODULE service_watchdog
#include <boost/test/unit_test.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/service_notify.hpp"

using sgfw::daemon::ServiceWatchdog;
using namespace std::chrono_literals;

namespace {

// systemd's end of the protocol, and the environment it gives a Type=notify service.
class FakeSystemd {
 public:
  explicit FakeSystemd(const std::string& watchdog_usec) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    BOOST_REQUIRE(fd_ >= 0);
    const std::string name = "sgfw-test-watchdog-" + std::to_string(::getpid());
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    name.copy(a.sun_path + 1, name.size());  // abstract: sun_path[0] == 0
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    BOOST_REQUIRE(::bind(fd_, reinterpret_cast<const sockaddr*>(&a), len) == 0);
    ::setenv("NOTIFY_SOCKET", ("@" + name).c_str(), 1);
    ::setenv("WATCHDOG_USEC", watchdog_usec.c_str(), 1);
    ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  }
  ~FakeSystemd() {
    ::close(fd_);
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
  }
  FakeSystemd(const FakeSystemd&) = delete;
  FakeSystemd& operator=(const FakeSystemd&) = delete;

  // Every message received since the last call.
  std::vector<std::string> messages() {
    std::vector<std::string> out;
    char buf[512];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n < 0) break;
      out.emplace_back(buf, static_cast<size_t>(n));
    }
    return out;
  }

 private:
  int fd_ = -1;
};

// Standard error while it lives.
class CaptureStderr {
 public:
  CaptureStderr() : old_(std::cerr.rdbuf(text_.rdbuf())) {}
  ~CaptureStderr() { std::cerr.rdbuf(old_); }
  std::string text() const { return text_.str(); }

 private:
  std::ostringstream text_;
  std::streambuf* old_;
};

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

BOOST_AUTO_TEST_CASE(pings_only_while_every_worker_advances) {
  FakeSystemd systemd("2000000");  // WatchdogSec=2s: a check every second
  std::vector<uint64_t> loops = {10, 20, 30};
  auto wd = ServiceWatchdog::from_environment([&loops] { return loops; });
  BOOST_REQUIRE(wd != nullptr);
  BOOST_TEST(wd->period().count() == 1000000);
  CaptureStderr err;
  const auto t0 = ServiceWatchdog::Clock::now();
  auto advance = [&loops](std::vector<size_t> workers) {
    for (size_t w : workers) loops[w] += 7;
  };

  // Before the first half interval: no check, whatever the workers do.
  advance({0, 1, 2});
  wd->tick(t0 + 500ms);
  BOOST_TEST(systemd.messages().empty());
  // Every worker advanced: one ping.
  wd->tick(t0 + 1100ms);
  BOOST_TEST(systemd.messages() == std::vector<std::string>{"WATCHDOG=1"});
  BOOST_TEST(wd->pings() == 1u);
  // Worker 1 stuck for two checks: no ping, and one line saying which worker.
  advance({0, 2});
  wd->tick(t0 + 2200ms);
  advance({0, 2});
  wd->tick(t0 + 3300ms);
  BOOST_TEST(systemd.messages().empty());
  BOOST_TEST(wd->pings() == 1u);
  BOOST_TEST(count(err.text(), "sgfwd: worker 1 made no progress in 1000 ms: WATCHDOG=1 withheld") == 1u);
  // Worker 1 moves again: pings resume, said once.
  advance({0, 1, 2});
  wd->tick(t0 + 4400ms);
  BOOST_TEST(systemd.messages() == std::vector<std::string>{"WATCHDOG=1"});
  BOOST_TEST(count(err.text(), "every worker makes progress again: WATCHDOG=1 resumed") == 1u);
  // The last worker stuck (not only the first one found): withheld again.
  advance({0, 1});
  wd->tick(t0 + 5500ms);
  BOOST_TEST(systemd.messages().empty());
  BOOST_TEST(count(err.text(), "sgfwd: worker 2 made no progress") == 1u);
  // Every worker stuck (a stuck control thread would stop the checks themselves).
  wd->tick(t0 + 6600ms);
  BOOST_TEST(systemd.messages().empty());
  BOOST_TEST(wd->pings() == 2u);
}

BOOST_AUTO_TEST_CASE(a_worker_counter_that_goes_missing_counts_as_stuck) {
  FakeSystemd systemd("2000000");
  std::vector<uint64_t> loops = {1, 2};
  auto wd = ServiceWatchdog::from_environment([&loops] { return loops; });
  BOOST_REQUIRE(wd != nullptr);
  CaptureStderr err;
  const auto t0 = ServiceWatchdog::Clock::now();
  // A third worker that was not there at the previous check has no progress to show.
  loops = {5, 6, 7};
  wd->tick(t0 + 1100ms);
  BOOST_TEST(systemd.messages().empty());
  BOOST_TEST(count(err.text(), "sgfwd: worker 2 made no progress") == 1u);
  loops = {9, 9, 9};
  wd->tick(t0 + 2200ms);
  BOOST_TEST(systemd.messages() == std::vector<std::string>{"WATCHDOG=1"});
}

BOOST_AUTO_TEST_CASE(no_watchdog_unless_systemd_asks_this_process) {
  {
    FakeSystemd systemd("2000000");
    ::unsetenv("WATCHDOG_USEC");
    BOOST_TEST((ServiceWatchdog::from_environment([] { return std::vector<uint64_t>{}; }) == nullptr));
  }
  {
    FakeSystemd systemd("2000000");
    ::setenv("WATCHDOG_PID", std::to_string(::getpid() + 1).c_str(), 1);  // another process's
    BOOST_TEST((ServiceWatchdog::from_environment([] { return std::vector<uint64_t>{}; }) == nullptr));
  }
  {
    FakeSystemd systemd("0");
    BOOST_TEST((ServiceWatchdog::from_environment([] { return std::vector<uint64_t>{}; }) == nullptr));
  }
}
