#include "fleet/push_plan.hpp"

#include "core/escape.hpp"

namespace sgfw::fleet {

namespace {

constexpr size_t kOverhead = 32;  // bytes of a request op besides its key and value (generous)

size_t bytes_of(const Write& w) { return w.key.size() + w.value.size() + kOverhead; }

}  // namespace

std::string push_marker_key(std::string_view prefix) { return std::string(prefix) + "meta/push"; }

core::Expected<PushPlan> plan_push(const StoredKeys& current, const KeyValues& wanted, std::string_view prefix,
                                   const PushLimits& limits) {
  if (auto st = check_prefix(prefix); !st) return core::make_error(st.error().message);
  if (limits.max_ops < 2 || limits.max_bytes < 1024)
    return core::make_error("push limits: at least 2 operations and 1 KiB per transaction");
  const std::string meta = std::string(prefix) + "meta/";
  const std::string marker = push_marker_key(prefix);
  if (auto it = current.find(marker); it != current.end())
    return core::make_error("a push is in progress: " + core::escape_for_log(marker, 300) + " exists (revision " +
                            std::to_string(it->second.mod_revision) + ")");
  PushPlan plan;
  std::vector<Write> writes;
  for (const auto& [key, value] : wanted) {
    if (key.compare(0, prefix.size(), prefix) != 0 || key.compare(0, meta.size(), meta) == 0)
      return core::make_error("key '" + core::escape_for_log(key, 300) + "': not a policy key under '" +
                              core::escape_for_log(prefix, 300) + "'");
    auto it = current.find(key);
    if (it != current.end() && it->second.value == value) {
      ++plan.unchanged;
      continue;
    }
    writes.push_back({Write::Type::kPut, key, value, it == current.end() ? 0 : it->second.mod_revision});
    ++plan.puts;
  }
  for (const auto& [key, stored] : current) {
    if (key.compare(0, meta.size(), meta) == 0 || wanted.count(key)) continue;
    writes.push_back({Write::Type::kDelete, key, {}, stored.mod_revision});
    ++plan.deletes;
  }
  std::vector<Write> step;
  size_t step_bytes = 0;
  for (auto& w : writes) {
    size_t b = bytes_of(w);
    if (b > limits.max_bytes)
      return core::make_error(core::escape_for_log(w.key, 300) + ": " + std::to_string(b) +
                              " bytes, more than the transaction limit of " + std::to_string(limits.max_bytes) +
                              " bytes");
    if (!step.empty() && (step.size() + 1 > limits.max_ops - 1 || step_bytes + b > limits.max_bytes)) {
      plan.steps.push_back(std::move(step));
      step.clear();
      step_bytes = 0;
    }
    step_bytes += b;
    step.push_back(std::move(w));
  }
  if (!step.empty()) plan.steps.push_back(std::move(step));
  return plan;
}

}  // namespace sgfw::fleet
