#!/usr/bin/env python3
"""TCP echo client: sends NBYTES random bytes and checks every one comes back.

Usage: echo_client.py HOST PORT [NBYTES]   (default 100000)
Prints "echoed N bytes intact" and exits 0, or exits 1 on a mismatch.
"""
import os
import socket
import sys
import threading


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
    sent = os.urandom(size)
    conn = socket.create_connection((host, port), timeout=30)

    def writer():
        conn.sendall(sent)
        conn.shutdown(socket.SHUT_WR)

    # Writing on its own thread: a server that echoes while we still send
    # would otherwise deadlock once both directions' windows are full.
    t = threading.Thread(target=writer)
    t.start()
    back = bytearray()
    while len(back) < size:
        chunk = conn.recv(65536)
        if not chunk:
            break
        back += chunk
    t.join()
    conn.close()
    if back != sent:
        sys.exit("echo mismatch: sent %d bytes, got %d back" % (size, len(back)))
    print("echoed %d bytes intact" % size)


if __name__ == "__main__":
    main()
