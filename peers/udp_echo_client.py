#!/usr/bin/env python3
"""UDP echo client: COUNT datagrams of varied sizes, each must come back.

Usage: udp_echo_client.py HOST PORT [COUNT]   (default 20)
Each datagram is tried up to 3 times (2 s each). Prints "OK/COUNT datagrams
echoed"; exit status 1 unless all were.
"""
import os
import socket
import sys


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.settimeout(2)
    echoed = 0
    for i in range(count):
        # Sizes 1..1400 bytes, spread out so both tiny and near-MTU ones occur.
        payload = os.urandom(1 + (i * 97) % 1400)
        for _attempt in range(3):
            sock.sendto(payload, (host, port))
            try:
                reply, _ = sock.recvfrom(65535)
            except socket.timeout:
                continue
            if reply == payload:
                echoed += 1
                break
    print("%d/%d datagrams echoed" % (echoed, count))
    if echoed != count:
        sys.exit(1)


if __name__ == "__main__":
    main()
