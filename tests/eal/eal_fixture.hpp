// A Boost.Test global fixture that initialises the EAL once for an `eal` suite
// executable (no hugepages, no PCI, no shared config: no root needed).
#pragma once

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <memory>

#include "eal/eal_session.hpp"

struct EalFixture {
  EalFixture() {
    auto s = sgfw::eal::EalSession::init(sgfw::eal::offline_args("sgfw-test", 1024));
    if (!s) {
      BOOST_TEST_MESSAGE("EAL init failed: " << s.error().message);
      std::abort();
    }
    session = std::make_unique<sgfw::eal::EalSession>(std::move(*s));
  }
  std::unique_ptr<sgfw::eal::EalSession> session;
};
