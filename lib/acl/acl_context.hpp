// One built rte_acl context (RAII). Built on the control path from a
// compiler::RuleImage; classify() is data-path safe: lock-free, no allocation, callable
// from many lcores at once on the same context (rte_acl contexts are read-only once
// built).
#pragma once

#include <rte_acl.h>

#include <cstdint>
#include <string>

#include "acl/acl_layout.hpp"
#include "compiler/rule_image.hpp"
#include "core/expected.hpp"
#include "core/unique_handle.hpp"

namespace sgfw::acl {

// The enum type (its name is hidden in C++ by the function of the same name).
using ClassifyAlg = enum rte_acl_classify_alg;

struct BuildOptions {
  size_t max_size = 0;  // rte_acl_config.max_size: 0 = no cap; beyond it build fails (-ERANGE)
  ClassifyAlg algorithm = RTE_ACL_CLASSIFY_DEFAULT;
};

class AclContext {
 public:
  AclContext() = default;  // movable, not copyable (owns the context)

  // Builds a context named `name` (must be unique in the process: rte_acl_create
  // returns an existing context for a reused name, so this fails on a name in use).
  // Errors: empty image, name in use, rte_acl errors (memory cap: -ERANGE) as text.
  [[nodiscard]] static core::Expected<AclContext> build(const compiler::RuleImage& image,
                                                       const std::string& name,
                                                       const BuildOptions& options);
  // The same for an IPv6 image (AclKey6 keys).
  [[nodiscard]] static core::Expected<AclContext> build(const compiler::RuleImage6& image,
                                                       const std::string& name,
                                                       const BuildOptions& options);

  // Classifies n keys; results[i] = deciding rule_id + 1, or kNoMatch.
  // Data path: no allocation, thread-safe. Returns 0 or a negative errno.
  int classify(const uint8_t** keys, uint32_t* results, uint32_t n) const {
    return rte_acl_classify(ctx_.get(), keys, results, n, 1);
  }

  // Switches the classify method; -ENOTSUP where the CPU (or the EAL's SIMD width
  // limit) does not allow it. Control path: not while another thread classifies.
  [[nodiscard]] int set_algorithm(ClassifyAlg alg) { return rte_acl_set_ctx_classify(ctx_.get(), alg); }

  [[nodiscard]] const rte_acl_ctx* raw() const { return ctx_.get(); }

  // Takes ownership of a created context (the builders' helper).
  [[nodiscard]] static AclContext adopt(rte_acl_ctx* ctx) { return AclContext(ctx); }

 private:
  explicit AclContext(rte_acl_ctx* ctx) : ctx_(ctx) {}
  core::UniqueHandle<rte_acl_ctx, rte_acl_free> ctx_;
};

// rte_acl rule priority of a rule id: decreasing with the id, so the first rule in
// deciding order wins.
[[nodiscard]] int32_t priority_of(uint32_t rule_id);

// Every classify method and its name ("scalar", "sse", "avx2", "avx512x16", ...).
struct AlgorithmName {
  ClassifyAlg alg;
  const char* name;
};
extern const AlgorithmName kAlgorithms[];
extern const size_t kAlgorithmCount;
[[nodiscard]] const char* algorithm_name(ClassifyAlg alg);

}  // namespace sgfw::acl
