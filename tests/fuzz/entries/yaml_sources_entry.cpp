// Fuzz target yaml_sources (docs/fuzzing.md): libyaml and yaml-cpp, the two event
// sources of load_one_document, must agree on every text libyaml vouches for (same
// tree: kinds, scalars, marks), and libyaml must never accept what yaml-cpp rejects.
#include <cstdio>
#include <cstdlib>

#include "entries.hpp"
#include "yaml_compare.hpp"

namespace sgfw::fuzz {

int yaml_sources(const uint8_t* data, size_t size) {
  const YamlComparison c = compare_yaml_sources({reinterpret_cast<const char*>(data), size});
  if (c.agreement == YamlAgreement::kTreesDiffer || c.agreement == YamlAgreement::kOnlyLibyamlAccepts) {
    std::fprintf(stderr, "fuzz property violated: YAML sources disagree: %s\n", c.detail.c_str());
    std::abort();
  }
  return 0;
}

}  // namespace sgfw::fuzz
