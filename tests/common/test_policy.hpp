// Shared by the unit tests: a policy from YAML text, failing the test (with the
// loader's file:line:col message) if it does not load.
#pragma once

#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>

#include "config/policy_loader.hpp"

namespace sgfw::testing {

inline policy::Policy load(std::string_view text) {
  auto r = config::load_policy_text(text, "t.yaml");
  BOOST_REQUIRE_MESSAGE(r.has_value(), (r ? std::string() : r.error().message));
  return std::move(r).value();
}

}  // namespace sgfw::testing
