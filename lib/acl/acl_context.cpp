#include "acl/acl_context.hpp"

#include <rte_errno.h>
#include <rte_memory.h>

#include <cstring>
#include <vector>

namespace sgfw::acl {

const AlgorithmName kAlgorithms[] = {
    {RTE_ACL_CLASSIFY_SCALAR, "scalar"},       {RTE_ACL_CLASSIFY_SSE, "sse"},
    {RTE_ACL_CLASSIFY_AVX2, "avx2"},           {RTE_ACL_CLASSIFY_NEON, "neon"},
    {RTE_ACL_CLASSIFY_ALTIVEC, "altivec"},     {RTE_ACL_CLASSIFY_AVX512X16, "avx512x16"},
    {RTE_ACL_CLASSIFY_AVX512X32, "avx512x32"},
};
const size_t kAlgorithmCount = sizeof(kAlgorithms) / sizeof(kAlgorithms[0]);

const char* algorithm_name(ClassifyAlg alg) {
  for (const auto& a : kAlgorithms)
    if (a.alg == alg) return a.name;
  return "default";
}

int32_t priority_of(uint32_t rule_id) {
  return static_cast<int32_t>(RTE_ACL_MAX_PRIORITY - static_cast<int64_t>(rule_id));
}

namespace {

AclRule to_acl_rule(const compiler::AclRuleSpec& s) {
  AclRule r;
  std::memset(&r, 0, sizeof(r));
  r.data.category_mask = 1;
  r.data.priority = priority_of(s.rule_id);
  r.data.userdata = s.rule_id + 1;
  r.field[kFieldProto].value.u8 = s.proto;
  r.field[kFieldProto].mask_range.u8 = s.proto_mask;
  r.field[kFieldRemoteAddr].value.u32 = s.remote_addr;
  r.field[kFieldRemoteAddr].mask_range.u32 = s.remote_prefix;
  r.field[kFieldRemoteClass].value.u32 = s.class_lo;
  r.field[kFieldRemoteClass].mask_range.u32 = s.class_hi;
  r.field[kFieldSport].value.u16 = 0;
  r.field[kFieldSport].mask_range.u16 = 0xffff;
  r.field[kFieldDport].value.u16 = s.port_lo;
  r.field[kFieldDport].mask_range.u16 = s.port_hi;
  return r;
}

AclRule6 to_acl_rule(const compiler::AclRuleSpec6& s) {
  AclRule6 r;
  std::memset(&r, 0, sizeof(r));
  r.data.category_mask = 1;
  r.data.priority = priority_of(s.rule_id);
  r.data.userdata = s.rule_id + 1;
  r.field[kField6Proto].value.u8 = s.proto;
  r.field[kField6Proto].mask_range.u8 = s.proto_mask;
  for (uint32_t w = 0; w < 4; ++w) {  // host-order words, each with its share of the prefix
    const auto& b = s.remote_addr.bytes;
    r.field[kField6Remote0 + w].value.u32 = uint32_t{b[4 * w]} << 24 | uint32_t{b[4 * w + 1]} << 16 |
                                            uint32_t{b[4 * w + 2]} << 8 | b[4 * w + 3];
    int bits = static_cast<int>(s.remote_prefix) - static_cast<int>(32 * w);
    r.field[kField6Remote0 + w].mask_range.u32 = static_cast<uint32_t>(bits < 0 ? 0 : bits > 32 ? 32 : bits);
  }
  r.field[kField6RemoteClass].value.u32 = s.class_lo;
  r.field[kField6RemoteClass].mask_range.u32 = s.class_hi;
  r.field[kField6Sport].value.u16 = 0;
  r.field[kField6Sport].mask_range.u16 = 0xffff;
  r.field[kField6Dport].value.u16 = s.port_lo;
  r.field[kField6Dport].mask_range.u16 = s.port_hi;
  return r;
}

std::string errno_text(int err) {
  return std::string(rte_strerror(err < 0 ? -err : err));
}

}  // namespace

namespace {

template <typename Image, typename Rule, size_t kFields>
core::Expected<AclContext> build_context(const Image& image, const std::string& name, const BuildOptions& options,
                                         const rte_acl_field_def (&defs)[kFields]) {
  if (image.rules.empty()) return core::make_error("rte_acl: empty rule image for " + name);
  if (name.size() >= RTE_ACL_NAMESIZE) return core::make_error("rte_acl: context name too long: " + name);
  if (rte_acl_find_existing(name.c_str()) != nullptr)
    return core::make_error("rte_acl: context name in use: " + name);

  rte_acl_param param{};
  param.name = name.c_str();
  param.socket_id = SOCKET_ID_ANY;
  param.rule_size = RTE_ACL_RULE_SZ(kFields);
  param.max_rule_num = static_cast<uint32_t>(image.rules.size());
  rte_acl_ctx* raw = rte_acl_create(&param);
  if (raw == nullptr) return core::make_error("rte_acl_create(" + name + "): " + errno_text(rte_errno));
  AclContext ctx = AclContext::adopt(raw);

  std::vector<Rule> rules;
  rules.reserve(image.rules.size());
  for (const auto& s : image.rules) rules.push_back(to_acl_rule(s));
  int rc = rte_acl_add_rules(raw, reinterpret_cast<const rte_acl_rule*>(rules.data()),
                             static_cast<uint32_t>(rules.size()));
  if (rc != 0) return core::make_error("rte_acl_add_rules(" + name + "): " + errno_text(rc));

  rte_acl_config cfg{};
  cfg.num_categories = 1;
  cfg.num_fields = kFields;
  std::memcpy(cfg.defs, defs, sizeof(defs));
  cfg.max_size = options.max_size;
  rc = rte_acl_build(raw, &cfg);
  if (rc != 0) {
    std::string why = rc == -ERANGE ? "memory cap exceeded (-ERANGE)" : errno_text(rc);
    return core::make_error("rte_acl_build(" + name + ", " + std::to_string(rules.size()) +
                            " rules): " + why);
  }
  if (options.algorithm != RTE_ACL_CLASSIFY_DEFAULT) {
    rc = rte_acl_set_ctx_classify(raw, options.algorithm);
    if (rc != 0)
      return core::make_error(std::string("rte_acl: classify method ") +
                              algorithm_name(options.algorithm) + " not supported here");
  }
  return ctx;
}

}  // namespace

core::Expected<AclContext> AclContext::build(const compiler::RuleImage& image, const std::string& name,
                                             const BuildOptions& options) {
  return build_context<compiler::RuleImage, AclRule>(image, name, options, kAclFieldDefs);
}

core::Expected<AclContext> AclContext::build(const compiler::RuleImage6& image, const std::string& name,
                                             const BuildOptions& options) {
  return build_context<compiler::RuleImage6, AclRule6>(image, name, options, kAclFieldDefs6);
}

}  // namespace sgfw::acl
