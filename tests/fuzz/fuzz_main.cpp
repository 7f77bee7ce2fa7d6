// libFuzzer main of one target (docs/fuzzing.md): SGFW_FUZZ_ENTRY names the entry in
// entries/entries.hpp. Built only with -Dfuzz=true (clang).
#include <cstddef>
#include <cstdint>

#include "entries/entries.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
#ifdef SGFW_FUZZ_NEEDS_EAL
  sgfw::fuzz::control_init();
#endif
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return sgfw::fuzz::SGFW_FUZZ_ENTRY(data, size);
}
