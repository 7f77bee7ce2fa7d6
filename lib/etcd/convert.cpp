#include "etcd/convert.hpp"

namespace sgfw::etcd::internal {

namespace {

void op_to_proto(const TxnOp& op, etcdserverpb::RequestOp& out) {
  if (op.type == TxnOp::Type::kPut) {
    auto* put = out.mutable_request_put();
    put->set_key(op.key);
    put->set_value(op.value);
  } else {
    auto* del = out.mutable_request_delete_range();
    del->set_key(op.key);
    if (!op.range_end.empty()) del->set_range_end(op.range_end);
  }
}

}  // namespace

KeyValue from_proto(const mvccpb::KeyValue& kv) {
  return KeyValue{kv.key(), kv.value(), kv.create_revision(), kv.mod_revision(), kv.version()};
}

Event from_proto(const mvccpb::Event& e) {
  Event out;
  out.type = e.type() == mvccpb::Event::DELETE ? Event::Type::kDelete : Event::Type::kPut;
  out.kv = from_proto(e.kv());
  return out;
}

void to_proto(const Txn& txn, etcdserverpb::TxnRequest& out) {
  for (const auto& c : txn.compares) {
    auto* cmp = out.add_compare();
    cmp->set_key(c.key);
    switch (c.result) {
      case Compare::Result::kEqual: cmp->set_result(etcdserverpb::Compare::EQUAL); break;
      case Compare::Result::kNotEqual: cmp->set_result(etcdserverpb::Compare::NOT_EQUAL); break;
      case Compare::Result::kGreater: cmp->set_result(etcdserverpb::Compare::GREATER); break;
      case Compare::Result::kLess: cmp->set_result(etcdserverpb::Compare::LESS); break;
    }
    if (c.target == Compare::Target::kModRevision) {
      cmp->set_target(etcdserverpb::Compare::MOD);
      cmp->set_mod_revision(c.operand);
    } else {
      cmp->set_target(etcdserverpb::Compare::VERSION);
      cmp->set_version(c.operand);
    }
  }
  for (const auto& op : txn.success) op_to_proto(op, *out.add_success());
  for (const auto& op : txn.failure) op_to_proto(op, *out.add_failure());
}

}  // namespace sgfw::etcd::internal
