#include <cstdio>
#include <cstdlib>
#include <string>

#include "config/daemon_config.hpp"
#include "config/policy_loader.hpp"
#include "entries.hpp"
#include "policy/policy_writer.hpp"

namespace sgfw::fuzz {

namespace {

std::string_view text_of(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

[[noreturn]] void wrong(const std::string& what) {
  std::fprintf(stderr, "fuzz property violated: %s\n", what.c_str());
  std::abort();
}

}  // namespace

int policy_loader(const uint8_t* data, size_t size) {
  auto p = config::load_policy_text(text_of(data, size), "fuzz.yaml");
  if (!p && p.error().message.rfind("fuzz.yaml:", 0) != 0) wrong("error without a location: " + p.error().message);
  return 0;
}

int daemon_config(const uint8_t* data, size_t size) {
  auto c = config::load_daemon_config_text(text_of(data, size), "fuzz.yaml");
  if (!c && c.error().message.rfind("fuzz.yaml:", 0) != 0) wrong("error without a location: " + c.error().message);
  return 0;
}

int policy_writer(const uint8_t* data, size_t size) {
  auto p = config::load_policy_text(text_of(data, size), "in.yaml");
  if (!p) return 0;
  std::string written = policy::write_policy_yaml(*p, "fuzz\nround trip");
  auto q = config::load_policy_text(written, "out.yaml");
  if (!q) wrong("written policy does not load: " + q.error().message + "\n" + written);
  std::string again = policy::write_policy_yaml(*q, "fuzz\nround trip");
  if (again != written) wrong("written policy does not load back equal:\n" + written + "\n----\n" + again);
  // Text equality covers every field the writer emits; the counts guard the rest.
  if (p->groups.size() != q->groups.size() || p->vms.size() != q->vms.size() ||
      p->subnets.size() != q->subnets.size())
    wrong("counts differ after a round trip");
  return 0;
}

}  // namespace sgfw::fuzz
