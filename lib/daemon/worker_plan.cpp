#include "daemon/worker_plan.hpp"

#include "capture/taps.hpp"

namespace sgfw::daemon {

// One setup per worker: its tx queue on every port, its counter blocks, and its share
// of the (port, rx queue) pairs, spread round-robin.
std::vector<dataplane::WorkerSetup> plan_workers(const std::vector<ports::PortRuntime>& ports,
                                                 std::vector<std::vector<runtime::PortCounters>>& port_counters,
                                                 std::vector<dataplane::WorkerStats>& stats,
                                                 runtime::Publisher* publisher, const dataplane::FlowContext& flows,
                                                 std::atomic<bool>* stop) {
  const unsigned nw = static_cast<unsigned>(stats.size());
  std::vector<dataplane::WorkerSetup> setups(nw);
  dataplane::TxTarget tx;
  tx.nports = static_cast<uint16_t>(ports.size());
  for (size_t p = 0; p < ports.size(); ++p) tx.dpdk_port[p] = ports[p].dpdk_port;
  for (unsigned w = 0; w < nw; ++w) {
    setups[w].index = w;
    setups[w].tx = tx;
    setups[w].tx.txq = static_cast<uint16_t>(w);
    setups[w].port_counters = port_counters[w].data();
    setups[w].stats = &stats[w];
    setups[w].publisher = publisher;
    setups[w].flows = flows;
    setups[w].stop = stop;
    setups[w].taps = &capture::process_taps();  // docs/capture.md
  }
  unsigned next = 0;
  for (size_t p = 0; p < ports.size(); ++p)
    for (uint16_t q = 0; q < ports[p].rx_queues; ++q) setups[next++ % nw].rx.emplace_back(static_cast<uint16_t>(p), q);
  return setups;
}

}  // namespace sgfw::daemon
