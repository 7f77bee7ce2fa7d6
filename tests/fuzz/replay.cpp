// Replays every file of the given directories through one fuzz target's entry
// (docs/fuzzing.md): the committed seed corpus and every regression input found by
// the fuzzers run in the normal suites, without libFuzzer. Usage: replay TARGET DIR...
// A crash or a violated property aborts (the test fails); a missing directory is
// skipped; zero files in all of them is a failure (the test would prove nothing).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "entries/entries.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s TARGET DIR...\n", argv[0]);
    return 2;
  }
  bool needs_eal = false;
  auto entry = sgfw::fuzz::entry_by_name(argv[1], &needs_eal);
  if (!entry) {
    std::fprintf(stderr, "unknown target %s\n", argv[1]);
    return 2;
  }
  if (needs_eal) sgfw::fuzz::control_init();
  size_t n = 0;
  for (int i = 2; i < argc; ++i) {
    std::error_code ec;
    if (!std::filesystem::is_directory(argv[i], ec)) continue;
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(argv[i]))
      if (e.is_regular_file()) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::fprintf(stderr, "%s\n", f.c_str());
      entry(reinterpret_cast<const uint8_t*>(data.data()), data.size());
      ++n;
    }
  }
  std::printf("%s: %zu inputs replayed\n", argv[1], n);
  return n ? 0 : 1;
}
