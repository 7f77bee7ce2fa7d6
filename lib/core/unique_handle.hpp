// One RAII owner for C objects freed by a C function (DPDK's rte_acl_ctx, rte_hash,
// rte_ring, rte_malloc'd memory, ...): std::unique_ptr with a stateless deleter, so
// owners are movable, not copyable, and free exactly once. Thread-safety: as
// std::unique_ptr (one owner; the owned object's own rules apply to its use).
#pragma once

#include <memory>

namespace sgfw::core {

template <auto Free>
struct FreeWith {
  template <typename T>
  void operator()(T* p) const noexcept {
    Free(p);
  }
};

// UniqueHandle<rte_hash, rte_hash_free> h(rte_hash_create(...));
template <typename T, auto Free>
using UniqueHandle = std::unique_ptr<T, FreeWith<Free>>;

}  // namespace sgfw::core
