#include "flow/conn_state.hpp"

namespace sgfw::flow {

const char* to_string(ConnState s) {
  switch (s) {
    case ConnState::kFree: return "free";
    case ConnState::kTcpSynSent: return "syn-sent";
    case ConnState::kTcpSynRecv: return "syn-recv";
    case ConnState::kTcpEstablished: return "established";
    case ConnState::kTcpFinWait: return "fin-wait";
    case ConnState::kTcpClosing: return "closing";
    case ConnState::kTcpTimeWait: return "time-wait";
    case ConnState::kTcpClosed: return "closed";
    case ConnState::kUdpOneWay: return "udp-one-way";
    case ConnState::kUdpTwoWay: return "udp-two-way";
    case ConnState::kIcmpEcho: return "icmp-echo";
    case ConnState::kIcmpEchoReplied: return "icmp-echo-replied";
    case ConnState::kOtherOneWay: return "one-way";
    case ConnState::kOtherTwoWay: return "two-way";
    case ConnState::kDead: return "dead";
    case ConnState::kFragmentTrain: return "fragment-train";
    case ConnState::kTcpLooseOpen: return "picked-up";
    case ConnState::kTcpLooseClosing: return "picked-up-closing";
  }
  return "?";
}

namespace tcp {

ConnState next(ConnState s, uint8_t f, bool from_orig) {
  if (f & kRst) return ConnState::kTcpClosed;
  bool syn = f & kSyn, ack = f & kAck, fin = f & kFin;
  switch (s) {
    case ConnState::kTcpSynSent:
      if (!from_orig && syn && ack) return ConnState::kTcpSynRecv;
      return s;  // retransmitted SYNs and anything else keep it half-open
    case ConnState::kTcpSynRecv:
      if (from_orig && ack && !syn) return fin ? ConnState::kTcpFinWait : ConnState::kTcpEstablished;
      return s;
    case ConnState::kTcpEstablished:
      return fin ? ConnState::kTcpFinWait : s;
    case ConnState::kTcpFinWait:
      return fin ? ConnState::kTcpClosing : s;  // a FIN (either side; a repeat is harmless)
    case ConnState::kTcpClosing:
      return (ack && !fin) ? ConnState::kTcpTimeWait : s;
    case ConnState::kTcpLooseOpen:  // answered: established (a FIN in the answer: closing)
      if (from_orig) return fin ? ConnState::kTcpLooseClosing : s;
      return fin ? ConnState::kTcpFinWait : ConnState::kTcpEstablished;
    case ConnState::kTcpLooseClosing:
      if (from_orig) return s;
      return fin ? ConnState::kTcpClosing : ConnState::kTcpFinWait;
    default:
      return s;
  }
}

ConnState loose_pickup(uint8_t f) {
  if (f & kRst) return ConnState::kFree;
  if (f & kFin) return ConnState::kTcpLooseClosing;
  return ConnState::kTcpLooseOpen;
}

}  // namespace tcp

bool is_established(ConnState s) {
  switch (s) {
    case ConnState::kTcpEstablished:
    case ConnState::kTcpFinWait:
    case ConnState::kTcpClosing:
    case ConnState::kUdpTwoWay:
    case ConnState::kIcmpEchoReplied:
    case ConnState::kOtherTwoWay:
      return true;
    default:
      return false;
  }
}

bool is_tcp_reusable(ConnState s) {
  return s == ConnState::kTcpTimeWait || s == ConnState::kTcpClosed || s == ConnState::kDead;
}

}  // namespace sgfw::flow
