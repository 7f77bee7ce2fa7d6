#include "runtime/publisher.hpp"

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_pause.h>

#include <ctime>

namespace sgfw::runtime {

Publisher::~Publisher() {
  if (qs_) rte_free(qs_);
}

core::Expected<std::unique_ptr<Publisher>> Publisher::create(unsigned workers, std::unique_ptr<Snapshot> first) {
  std::unique_ptr<Publisher> p(new Publisher());
  size_t sz = rte_rcu_qsbr_get_memsize(workers);
  p->qs_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("sgfw-rcu", sz, RTE_CACHE_LINE_SIZE));
  if (!p->qs_) return core::make_error("cannot allocate the RCU state");
  if (rte_rcu_qsbr_init(p->qs_, workers) != 0)
    return core::make_error(std::string("rte_rcu_qsbr_init: ") + rte_strerror(rte_errno));
  for (unsigned w = 0; w < workers; ++w) {
    if (rte_rcu_qsbr_thread_register(p->qs_, w) != 0)
      return core::make_error(std::string("rte_rcu_qsbr_thread_register: ") + rte_strerror(rte_errno));
  }
  p->owned_ = std::move(first);
  p->current_.store(p->owned_.get(), std::memory_order_release);
  return p;
}

// A worker on another CPU ends its burst within microseconds: spin that long. Then
// sleep between checks: the control thread may share its CPU with the worker it waits
// for (a small host, or threads the scheduler put together), and spinning there would
// hold that worker off for the rest of the time slice, milliseconds.
void Publisher::wait_for_workers(uint64_t token) const {
  constexpr int kSpins = 2000;  // rte_pause each: ~10-50 us
  for (int i = 0; i < kSpins; ++i) {
    if (rte_rcu_qsbr_check(qs_, token, false) == 1) return;
    rte_pause();
  }
  const timespec nap{0, 20 * 1000};
  while (rte_rcu_qsbr_check(qs_, token, false) != 1) nanosleep(&nap, nullptr);
}

std::unique_ptr<Snapshot> Publisher::publish(std::unique_ptr<Snapshot> next) {
  std::unique_ptr<Snapshot> old = std::move(owned_);
  owned_ = std::move(next);
  current_.store(owned_.get(), std::memory_order_release);
  // Every worker online now reports a quiescent state after this token only once it
  // has finished the burst that may have used `old`. Offline workers hold nothing.
  uint64_t token = rte_rcu_qsbr_start(qs_);
  wait_for_workers(token);
  return old;
}

}  // namespace sgfw::runtime
