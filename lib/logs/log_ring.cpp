#include "logs/log_ring.hpp"

#include <rte_errno.h>
#include <rte_lcore.h>

namespace sgfw::logs {

core::Expected<std::unique_ptr<LogRing>> LogRing::create(const std::string& name, unsigned size) {
  if (size == 0 || (size & (size - 1)) != 0)
    return core::make_error("log ring size " + std::to_string(size) + " is not a power of two");
  std::unique_ptr<LogRing> r(new LogRing());
  // Exact size (the usable count is the size asked for), single consumer.
  rte_ring* ring = rte_ring_create_elem(name.c_str(), sizeof(Record), size, SOCKET_ID_ANY,
                                        RING_F_SC_DEQ | RING_F_EXACT_SZ);
  if (ring == nullptr)
    return core::make_error("cannot create the log ring '" + name + "': " + rte_strerror(rte_errno));
  r->ring_.reset(ring);
  return r;
}

}  // namespace sgfw::logs
