// A pipeline scenario rig: the real dataplane::Pipeline, the daemon's connection and
// fragment tables of both families (daemon/flow_tables.hpp), RCU publisher and control plane, with loopback ring ports (net_ring) instead
// of NICs, so a test sends crafted frames into a named port and reads back exactly what
// left on every port, with control over time and policy generations. Test code only;
// one rig at a time per process (the ports are shared).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/daemon_config.hpp"
#include "control/control_plane.hpp"
#include "daemon/flow_tables.hpp"
#include "daemon/live_dataplane.hpp"
#include "core/drop_reason.hpp"
#include "dataplane/pipeline.hpp"
#include "flow/flow_table.hpp"
#include "frames.hpp"
#include "runtime/publisher.hpp"

namespace sgfw::scenario {

// Ports of every rig: three VM ports and the uplink (net_ring0..3).
inline const std::vector<std::string> kPorts = {"vm-a", "vm-b", "vm-c", "uplink"};

struct Out {
  std::string port;
  Bytes frame;
};

struct RigOptions {
  config::FlowConfig flows;  // capacity, quotas, keep_established, tcp_loose, timeouts
  config::Limits limits;
  // acl_max_size for the control plane's changes; the rig's first snapshot is built
  // without a cap, so a cap too small for any context still gives a running policy.
  size_t acl_max_size = 0;
};

class Rig {
 public:
  explicit Rig(const std::string& policy_yaml, RigOptions options = {});
  ~Rig();
  Rig(const Rig&) = delete;
  Rig& operator=(const Rig&) = delete;

  // Sends the frames as one burst into `port`, at the rig's current time; returns every
  // frame that left (on any port), in order of ports then transmission.
  std::vector<Out> send(const std::string& port, const std::vector<Bytes>& frames);
  std::vector<Out> send(const std::string& port, const Bytes& frame) { return send(port, std::vector<Bytes>{frame}); }
  // True iff exactly one frame left, on `to`, byte for byte the one sent.
  bool passes(const std::string& from, const Bytes& frame, const std::string& to);

  void advance(double seconds);  // moves the rig's clock (TSC) forward
  void sync_clock();             // sets the rig's clock to the real TSC (for control-thread expiry)
  uint64_t now() const { return now_; }

  // Drops by reason over every port, and on one port.
  uint64_t drops(core::DropReason r) const;
  uint64_t port_drops(const std::string& port, core::DropReason r) const;

  control::ControlPlane& control() { return *control_; }
  flow::FlowTable& flows() { return *tables_.connections; }
  flow::FlowTable& fragments() { return *tables_.fragments; }
  flow::FlowTable6& flows6() { return *tables_.connections6; }
  flow::FlowTable6& fragments6() { return *tables_.fragments6; }
  runtime::Publisher& publisher() { return *publisher_; }
  dataplane::Pipeline& pipeline() { return *pipeline_; }
  const std::string& policy_path() const { return policy_path_; }
  const config::DaemonConfig& config() const { return cfg_; }

 private:
  uint16_t port_index(const std::string& name) const;

  config::DaemonConfig cfg_;
  std::string dir_, policy_path_;
  uint64_t now_ = 0;
  std::unique_ptr<runtime::Publisher> publisher_;
  daemon::FlowTables tables_;
  std::vector<runtime::PortCounters> port_counters_;
  std::vector<std::vector<runtime::PortCounters>> view_counters_;
  std::vector<dataplane::WorkerStats> worker_stats_;
  std::unique_ptr<daemon::LiveDataplane> dataplane_access_;
  std::unique_ptr<control::ControlPlane> control_;
  std::unique_ptr<dataplane::Pipeline> pipeline_;
};

// Global fixture: the EAL with the four ring ports and an mbuf pool.
struct RigEal {
  RigEal();
  ~RigEal();
};

}  // namespace sgfw::scenario
