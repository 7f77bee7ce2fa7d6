// Plain values of the etcd v3 client (docs/design/etcd-client.md): key-values, range
// results, transactions and watch updates, free of gRPC and protobuf types so users of
// lib/etcd never compile generated code. Thread-safety: plain value types.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sgfw::etcd {

// One key as etcd stores it (mvccpb.KeyValue). Keys and values are bytes.
struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
};

// A range read: every key at one revision (`revision`, the store's revision the read
// was served at).
struct RangeResult {
  std::vector<KeyValue> kvs;  // sorted by key (byte order)
  int64_t revision = 0;
};

// A transaction guard (etcdserverpb.Compare) on one key's mod_revision or version.
// A key that does not exist has mod_revision 0 and version 0, so {kVersion, kEqual, 0}
// means "the key is absent".
struct Compare {
  enum class Target : uint8_t { kModRevision, kVersion };
  enum class Result : uint8_t { kEqual, kNotEqual, kGreater, kLess };
  std::string key;
  Target target = Target::kModRevision;
  Result result = Result::kEqual;
  int64_t operand = 0;
};

// A write inside a transaction: put `key`=`value`, or delete `key` (and, with a non-empty
// `range_end`, every key in [key, range_end)).
struct TxnOp {
  enum class Type : uint8_t { kPut, kDelete };
  Type type = Type::kPut;
  std::string key;
  std::string value;      // kPut
  std::string range_end;  // kDelete; empty: the one key
};

// If every compare holds, `success` is applied, else `failure`; all at one revision.
struct Txn {
  std::vector<Compare> compares;
  std::vector<TxnOp> success;
  std::vector<TxnOp> failure;
};

struct TxnResult {
  bool succeeded = false;
  int64_t revision = 0;  // the store's revision after the transaction
};

struct DeleteResult {
  int64_t deleted = 0;
  int64_t revision = 0;
};

// One member's view (etcdserverpb.Maintenance/Status).
struct MemberStatus {
  uint64_t member_id = 0;
  uint64_t leader = 0;  // the leader's member id; 0: no leader
  uint64_t raft_term = 0;
  int64_t revision = 0;
  std::string version;
  [[nodiscard]] bool is_leader() const noexcept { return leader != 0 && leader == member_id; }
};

// A change seen by a watch (mvccpb.Event).
struct Event {
  enum class Type : uint8_t { kPut, kDelete };
  Type type = Type::kPut;
  KeyValue kv;  // kDelete: key and mod_revision (the deletion's revision) only
};

// What a watch reports to its callback, on the watch's own thread.
struct WatchUpdate {
  enum class Kind : uint8_t {
    kConnected,     // a stream is open on `endpoint` from revision `revision`
    kEvents,        // `events` (one WatchResponse), every revision new, ascending
    kDisconnected,  // the stream on `endpoint` broke (`detail`); reconnecting with backoff
    kCompacted,     // the next revision was compacted (`compact_revision`): reload; the watch ended
    kCanceled,      // the server canceled the watch (`detail`); the watch ended
  };
  Kind kind = Kind::kEvents;
  int64_t revision = 0;          // kEvents: the last event's revision; kConnected: the start revision
  int64_t compact_revision = 0;  // kCompacted
  std::vector<Event> events;     // kEvents
  std::string endpoint;          // kConnected, kDisconnected
  std::string detail;            // kDisconnected, kCanceled
};

}  // namespace sgfw::etcd
