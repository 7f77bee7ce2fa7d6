#include "daemon/log_service.hpp"

#include <rte_cycles.h>

#include <chrono>
#include <iostream>

#include "logs/end_records.hpp"

namespace sgfw::daemon {

namespace {
// Records in flight between the workers and the writer: at 50 ms between drains, room
// for 320k records per second (docs/logs.md, "Hand-off"). 120 bytes each: 1.9 MiB.
constexpr unsigned kRingSize = 1u << 14;
}  // namespace

class LogService::ControlNames final : public logs::Names {
 public:
  explicit ControlNames(const control::ControlPlane& c) : c_(c) {}
  const std::string* vm(uint32_t id) const override { return c_.vm_name(id); }
  const std::string* rule(uint64_t generation, uint32_t index) const override {
    return c_.rule_label(generation, index);
  }

 private:
  const control::ControlPlane& c_;
};

core::Expected<std::unique_ptr<LogService>> LogService::create(const config::DaemonConfig& cfg, FlowTables& tables,
                                                               dataplane::FlowContext& flows) {
  if (!cfg.logs.enabled()) return std::unique_ptr<LogService>();
  std::unique_ptr<LogService> s(new LogService());
  s->cfg_ = cfg.logs;
  auto ring = logs::LogRing::create("sgfw-logs", kRingSize);
  if (!ring) return core::make_error("logs: " + ring.error().message);
  s->ring_ = std::move(*ring);
  s->tables_ = &tables;
  flows.log = s->ring_.get();
  flows.log_connections = !cfg.logs.connections.empty();
  flows.log_drops = !cfg.logs.drops.empty();
  if (flows.log_connections) {
    logs::install_end_hook(*tables.connections, s->ring_.get());
    logs::install_end_hook(*tables.connections6, s->ring_.get());
  }
  return s;
}

core::Status LogService::attach(const control::ControlPlane& control) {
  names_ = std::make_unique<ControlNames>(control);
  logs::LogWriterOptions o;
  o.connections = cfg_.connections;
  o.drops = cfg_.drops;
  o.rate_limit_per_s = cfg_.rate_limit_per_s;
  o.time.tsc_hz = rte_get_tsc_hz();
  o.time.tsc0 = rte_rdtsc();
  o.time.unix_ns0 = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  auto w = logs::LogWriter::open(o, ring_.get(), names_.get());
  if (!w) return core::make_error(w.error().message);
  writer_ = std::move(*w);
  return {};
}

void LogService::drain() {
  if (writer_) writer_->drain(rte_rdtsc());
}

void LogService::reopen() {
  if (!writer_) return;
  writer_->drain(rte_rdtsc());  // what was handed over before the signal goes to the old files
  if (auto st = writer_->reopen(); !st) std::cerr << "sgfwd: logs: " << st.error().message << "\n";
  else std::cout << "sgfwd: logs reopened" << std::endl;
}

LogService::~LogService() {
  if (tables_) {  // no end record after the writer is gone
    logs::install_end_hook(*tables_->connections, nullptr);
    logs::install_end_hook(*tables_->connections6, nullptr);
  }
  drain();
}

}  // namespace sgfw::daemon
