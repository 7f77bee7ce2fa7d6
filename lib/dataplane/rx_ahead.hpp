// Receive-ahead for one (port, rx queue) of a worker (docs/design/packet-path.md "Receiving
// ahead"): a burst that filled is held until the queue's next poll and judged then,
// with the burst received at that poll passed along so that the pipeline fetches its
// frames while it judges the held one. A burst that did not fill is judged at once:
// under light load nothing waits. Bursts leave in the order they came, each whole.
//
// Thread-safety: one RxAhead per (worker, rx queue), used by that worker only. No
// allocation, no exceptions. It never reads the packets; `rx` and `judge` do.
#pragma once

#include <cstdint>

struct rte_mbuf;

namespace sgfw::dataplane {

// What one poll did: packets received, packets judged (a poll that received nothing
// may still judge the burst held before it: the worker counts that loop as busy).
struct Polled {
  uint16_t received = 0;
  uint16_t judged = 0;
};

template <uint16_t Burst>
class RxAhead {
 public:
  // One poll. rx(bufs, Burst) -> how many packets it wrote to bufs (<= Burst);
  // judge(pkts, n, next, next_n) judges n > 0 packets; next/next_n are the packets it
  // will be given next (next_n may be 0).
  template <class Rx, class Judge>
  Polled poll(Rx&& rx, Judge&& judge) {
    rte_mbuf** fresh = bufs_[cur_ ^ 1];
    const uint16_t n = rx(fresh, Burst);
    Polled did{n, held_};
    if (held_ != 0) {
      judge(bufs_[cur_], held_, static_cast<rte_mbuf* const*>(fresh), n);
      held_ = 0;
    }
    if (n == Burst) {
      cur_ ^= 1;
      held_ = n;
    } else if (n != 0) {
      judge(fresh, n, static_cast<rte_mbuf* const*>(nullptr), uint16_t{0});
      did.judged = static_cast<uint16_t>(did.judged + n);
    }
    return did;
  }

  // Judges the held burst, if any (the worker's last act before it stops).
  template <class Judge>
  void drain(Judge&& judge) {
    if (held_ == 0) return;
    judge(bufs_[cur_], held_, static_cast<rte_mbuf* const*>(nullptr), uint16_t{0});
    held_ = 0;
  }

  [[nodiscard]] uint16_t held() const { return held_; }

 private:
  rte_mbuf* bufs_[2][Burst] = {};
  uint16_t held_ = 0;  // packets held in bufs_[cur_]
  uint8_t cur_ = 0;
};

}  // namespace sgfw::dataplane
