// `explain --batch` input and error lines (docs/control.md): blank lines and lines
// starting with '#' hold no packet and are skipped; every other line keeps its line
// number so an error can name it and echo the input. Pure; thread-safe.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "explain/tuple_text.hpp"
#include "policy/model.hpp"

namespace sgfw::explain {

struct BatchLine {
  size_t number = 0;  // 1-based line number in the input
  std::string text;
};

// Every line of `in` that holds a packet (blank and '#' lines skipped).
[[nodiscard]] std::vector<BatchLine> read_batch(std::istream& in);

// {"error": "line N: MESSAGE (input: 'TEXT')", "line": N, "input": "TEXT"}
[[nodiscard]] std::string batch_error_json(const BatchLine& line, const std::string& message);

// VM name -> its addresses (tuple_text.hpp picks one), for explain's SRC and DST (the resolver borrows `policy`,
// which must outlive it).
[[nodiscard]] NameResolver vm_name_resolver(const policy::Policy& policy);

}  // namespace sgfw::explain
