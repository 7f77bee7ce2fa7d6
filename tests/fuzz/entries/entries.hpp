// The fuzz targets' entry logic (docs/fuzzing.md), shared by the libFuzzer mains
// (clang, -Dfuzz=true) and the replay test that the normal suites run on every corpus
// and regression file. Each entry takes one input, must never crash, and calls
// std::abort() when the code under test behaves wrongly (a property the target checks,
// e.g. a written policy that does not load back equal). Not thread-safe (the control
// target keeps one daemon state per process).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sgfw::fuzz {

// config::load_policy_text on the input.
int policy_loader(const uint8_t* data, size_t size);
// config::load_daemon_config_text on the input.
int daemon_config(const uint8_t* data, size_t size);
// load -> policy::write_policy_yaml -> load: equal, and writing again gives the same text.
int policy_writer(const uint8_t* data, size_t size);
// packet::parse, packet::parse_icmp_error_inner and parse_icmp6_error_inner on an
// exactly sized copy of the frame.
int packet_parser(const uint8_t* data, size_t size);
// control::parse_journal on the input; what parses, written again, parses back equal.
int journal(const uint8_t* data, size_t size);
// fleet::decode_policy on one etcd value among valid keys (byte 0: the key's kind);
// a decoded policy encodes and decodes back equal.
int etcd_value(const uint8_t* data, size_t size);
// follow::membership_only on a batch of etcd events (byte-coded lines) against a small
// valid key map: what it accepts is exactly a pure securityGroups change of known VMs.
int follow_batch(const uint8_t* data, size_t size);
// follow::parse_copy_header on the input; a parsed header written again parses back equal.
int persisted_copy(const uint8_t* data, size_t size);
// Both YAML event sources of config::load_one_document (yaml_sources.hpp): libyaml's
// tree equals yaml-cpp's wherever libyaml vouches, and never accepts what yaml-cpp
// rejects.
int yaml_sources(const uint8_t* data, size_t size);
// control::ControlPlane::handle on the input's first line against a real snapshot and
// publisher (EAL initialised once by control_init; the policy is persisted to a file
// under /dev/shm). The reply must be one JSON object line with a boolean "ok".
void control_init();
int control_request(const uint8_t* data, size_t size);

// The entry by target name (nullptr: unknown); needs_eal tells whether control_init
// must run first.
using Entry = int (*)(const uint8_t*, size_t);
Entry entry_by_name(std::string_view name, bool* needs_eal);

}  // namespace sgfw::fuzz
