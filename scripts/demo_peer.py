#!/usr/bin/env python3
"""Tiny TCP peer for the demo: `serve PORT...` accepts and closes connections on the
given ports until killed; `connect HOST PORT [TIMEOUT]` exits 0 if the handshake
completes within TIMEOUT seconds (default 1.5), 1 otherwise."""
import selectors
import socket
import sys


def serve(ports):
    sel = selectors.DefaultSelector()
    for p in ports:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", int(p)))
        s.listen(64)
        sel.register(s, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            conn, _ = key.fileobj.accept()
            conn.close()


def connect(host, port, timeout):
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return 0
    except OSError:
        return 1


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "serve":
        serve(sys.argv[2:])
    elif len(sys.argv) in (4, 5) and sys.argv[1] == "connect":
        sys.exit(connect(sys.argv[2], sys.argv[3], float(sys.argv[4]) if len(sys.argv) == 5 else 1.5))
    else:
        sys.exit(__doc__)
