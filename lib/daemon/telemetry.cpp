#include "daemon/telemetry.hpp"

#include <rte_eal.h>
#include <rte_telemetry.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "daemon/control_handoff.hpp"

namespace sgfw::daemon {

namespace {

using Json = nlohmann::json;

constexpr auto kWait = std::chrono::milliseconds(2000);  // for the control thread, as GET /metrics

// Process-wide and never freed: DPDK keeps calling the callbacks until the process
// exits, also after the Telemetry object is gone (it then answers null at once).
std::atomic<ControlHandoff*> g_handoff{nullptr};

// Dictionary names may hold only [A-Za-z0-9_/]: drop reasons' '-' becomes '_'.
std::string key(std::string s) {
  for (char& c : s)
    if (c == '-') c = '_';
  return s;
}

uint64_t u64(const Json& v) { return v.is_number_unsigned() ? v.get<uint64_t>() : 0; }

// The control thread's rendering, parsed; null when it did not come in time.
Json fetch() {
  ControlHandoff* h = g_handoff.load();
  if (h == nullptr) return nullptr;
  std::optional<std::string> text = h->ask();
  if (!text) return nullptr;
  Json j = Json::parse(*text, nullptr, false);
  return j.is_discarded() ? Json(nullptr) : j;
}

void add_drops(rte_tel_data* d, const Json& drops) {
  for (const auto& [reason, n] : drops.items()) rte_tel_data_add_dict_u64(d, key(reason).c_str(), u64(n));
}

// The entry of `list` whose `field` is `name`, or null.
const Json* find(const Json& list, const char* field, const char* name) {
  if (name == nullptr) return nullptr;
  for (const auto& e : list)
    if (e.at(field).get<std::string>() == name) return &e;
  return nullptr;
}

int status_cb(const char*, const char*, rte_tel_data* d) {
  Json j = fetch();
  if (j.is_null()) return -EBUSY;
  const Json& st = j.at("status");
  const Json& f = st.at("flows");
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_u64(d, "generation", u64(st.at("generation")));
  rte_tel_data_add_dict_u64(d, "uptime_ms", static_cast<uint64_t>(st.at("uptime_s").get<double>() * 1000.0));
  rte_tel_data_add_dict_u64(d, "policy_load_duration_us",
                            static_cast<uint64_t>(j.at("load_seconds").get<double>() * 1e6));
  rte_tel_data_add_dict_u64(d, "connections_ipv4", u64(f.at("used_ipv4")));
  rte_tel_data_add_dict_u64(d, "connections_ipv6", u64(f.at("used_ipv6")));
  rte_tel_data_add_dict_u64(d, "connections_capacity", u64(f.at("capacity")));
  rte_tel_data_add_dict_u64(d, "half_open_reclaimed", u64(f.at("half_open_reclaimed")));
  rte_tel_data_add_dict_u64(d, "inbound_half_open_recycled", u64(f.at("inbound_half_open_recycled")));
  rte_tel_data_add_dict_u64(d, "ports", st.at("ports").size());
  rte_tel_data_add_dict_u64(d, "workers", st.at("workers").size());
  rte_tel_data_add_dict_u64(d, "local_vms", u64(st.at("compiled").at("vms")));
  return 0;
}

int stats_cb(const char*, const char*, rte_tel_data* d) {
  Json j = fetch();
  if (j.is_null()) return -EBUSY;
  const Json& s = j.at("stats");
  uint64_t rx = 0, tx = 0, dropped = 0, allowed = 0;
  Json drops = Json::object();
  for (const auto& p : s.at("ports")) {
    rx += u64(p.at("rx"));
    tx += u64(p.at("tx"));
    dropped += u64(p.at("dropped"));
    for (const auto& [reason, n] : p.at("drops").items()) drops[reason] = u64(drops.value(reason, Json(0))) + u64(n);
  }
  for (const auto& v : s.at("vms")) allowed += u64(v.at("allowed"));
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_u64(d, "generation", u64(s.at("generation")));
  rte_tel_data_add_dict_u64(d, "rx", rx);
  rte_tel_data_add_dict_u64(d, "tx", tx);
  rte_tel_data_add_dict_u64(d, "dropped", dropped);
  rte_tel_data_add_dict_u64(d, "vm_allowed", allowed);
  add_drops(d, drops);
  return 0;
}

// /sgfw/ports and /sgfw/vms: the names (an array: names may hold characters a
// dictionary key may not).
int names(rte_tel_data* d, const char* list, const char* field) {
  Json j = fetch();
  if (j.is_null()) return -EBUSY;
  rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
  for (const auto& e : j.at("stats").at(list)) rte_tel_data_add_array_string(d, e.at(field).get<std::string>().c_str());
  return 0;
}

int ports_cb(const char*, const char*, rte_tel_data* d) { return names(d, "ports", "name"); }
int vms_cb(const char*, const char*, rte_tel_data* d) { return names(d, "vms", "name"); }

int port_cb(const char*, const char* params, rte_tel_data* d) {
  if (params == nullptr || *params == '\0') return -EINVAL;
  Json j = fetch();
  if (j.is_null()) return -EBUSY;
  const Json* p = find(j.at("stats").at("ports"), "name", params);
  if (p == nullptr) return -ENOENT;
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_u64(d, "rx", u64(p->at("rx")));
  rte_tel_data_add_dict_u64(d, "tx", u64(p->at("tx")));
  rte_tel_data_add_dict_u64(d, "dropped", u64(p->at("dropped")));
  add_drops(d, p->at("drops"));
  return 0;
}

int vm_cb(const char*, const char* params, rte_tel_data* d) {
  if (params == nullptr || *params == '\0') return -EINVAL;
  Json j = fetch();
  if (j.is_null()) return -EBUSY;
  const Json* v = find(j.at("stats").at("vms"), "name", params);
  if (v == nullptr) return -ENOENT;
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_u64(d, "allowed", u64(v->at("allowed")));
  rte_tel_data_add_dict_u64(d, "dropped", u64(v->at("dropped")));
  add_drops(d, v->at("drops"));
  return 0;
}

// Parallel arrays (a dictionary may hold arrays, not dictionaries); an array holds at
// most RTE_TEL_MAX_ARRAY_ENTRIES values, the first ones.
int rules_cb(const char*, const char*, rte_tel_data* d) {
  Json j = fetch();
  if (j.is_null()) return -EBUSY;
  rte_tel_data* labels = rte_tel_data_alloc();
  rte_tel_data* hits = rte_tel_data_alloc();
  if (labels == nullptr || hits == nullptr) {
    rte_tel_data_free(labels);
    rte_tel_data_free(hits);
    return -ENOMEM;
  }
  rte_tel_data_start_array(labels, RTE_TEL_STRING_VAL);
  rte_tel_data_start_array(hits, RTE_TEL_U64_VAL);
  for (const auto& r : j.at("stats").at("rules")) {
    if (rte_tel_data_add_array_string(labels, r.at("rule").get<std::string>().c_str()) != 0) break;
    rte_tel_data_add_array_u64(hits, u64(r.at("hits")));
  }
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_container(d, "rule", labels, 0);
  rte_tel_data_add_dict_container(d, "hits", hits, 0);
  return 0;
}

int workers_cb(const char*, const char*, rte_tel_data* d) {
  Json j = fetch();
  if (j.is_null()) return -EBUSY;
  rte_tel_data_start_dict(d);
  for (const char* field : {"packets", "busy_cycles", "loops", "classify_cache_hits", "classify_cache_misses",
                            "classify_cache_bypassed"}) {
    rte_tel_data* a = rte_tel_data_alloc();
    if (a == nullptr) return -ENOMEM;
    rte_tel_data_start_array(a, RTE_TEL_U64_VAL);
    for (const auto& w : j.at("status").at("workers")) rte_tel_data_add_array_u64(a, u64(w.at(field)));
    rte_tel_data_add_dict_container(d, field, a, 0);
  }
  return 0;
}

// A callback never lets an exception (a malformed rendering) into DPDK's C code.
template <int (*F)(const char*, const char*, rte_tel_data*)>
int guarded(const char* cmd, const char* params, rte_tel_data* d) {
  try {
    return F(cmd, params, d);
  } catch (...) {
    return -EINVAL;
  }
}

struct Command {
  const char* name;
  telemetry_cb fn;
  const char* help;
};

const Command kCommands[] = {
    {"/sgfw/status", guarded<status_cb>, "sgfwd status: generation, connections, policy load. No parameters."},
    {"/sgfw/stats", guarded<stats_cb>, "sgfwd totals over all ports: rx, tx, dropped by reason. No parameters."},
    {"/sgfw/ports", guarded<ports_cb>, "Names of sgfwd's ports. No parameters."},
    {"/sgfw/port", guarded<port_cb>, "One port's counters. Parameter: the port name."},
    {"/sgfw/vms", guarded<vms_cb>, "Names of the local VMs. No parameters."},
    {"/sgfw/vm", guarded<vm_cb>, "One local VM's allowed and dropped packets by reason. Parameter: the VM name."},
    {"/sgfw/rules", guarded<rules_cb>, "Rules (group/rule) and the connections each admitted. No parameters."},
    {"/sgfw/workers", guarded<workers_cb>, "Per worker: packets, busy TSC cycles, loops. No parameters."},
};

}  // namespace

core::Expected<std::unique_ptr<Telemetry>> Telemetry::start() {
  if (g_handoff.load() != nullptr) return core::make_error("telemetry: commands already registered");
  auto h = ControlHandoff::create(kWait);
  if (!h) return core::make_error("telemetry: " + h.error().message);
  g_handoff.store(h->release());
  for (const auto& c : kCommands)
    if (int rc = rte_telemetry_register_cmd(c.name, c.fn, c.help); rc != 0)
      return core::make_error(std::string("telemetry: cannot register ") + c.name + ": " + std::strerror(-rc));
  return std::unique_ptr<Telemetry>(new Telemetry());
}

Telemetry::~Telemetry() {
  if (ControlHandoff* h = g_handoff.load()) h->close();
}

void Telemetry::serve_pending(const std::function<std::string()>& render) {
  if (ControlHandoff* h = g_handoff.load()) h->serve_pending(render);
}

std::string Telemetry::socket_path() {
  std::string path = std::string(rte_eal_get_runtime_dir()) + "/dpdk_telemetry.v2";
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) ? path : "";
}

}  // namespace sgfw::daemon
