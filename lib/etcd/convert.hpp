// Internal to lib/etcd: generated protobuf messages <-> etcd/types.hpp values. Pure.
#pragma once

#include "etcd/types.hpp"
#include "rpc.pb.h"

namespace sgfw::etcd::internal {

[[nodiscard]] KeyValue from_proto(const mvccpb::KeyValue& kv);
[[nodiscard]] Event from_proto(const mvccpb::Event& e);
void to_proto(const Txn& txn, etcdserverpb::TxnRequest& out);

}  // namespace sgfw::etcd::internal
