#!/usr/bin/env python3
"""The notes' time server: every client gets one ctime line + CRLF, then EOF.

Usage: time_server.py HOST PORT
"""
import socket
import sys
import time


def listener(host, port, backlog):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    # Lets a test restart the server on the same port at once.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    return sock


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    srv = listener(host, port, 5)
    while True:
        conn, peer = srv.accept()
        print("Got a connection from %s" % str(peer), flush=True)
        line = time.ctime(time.time()) + "\r\n"
        conn.send(line.encode("ascii"))
        conn.close()


if __name__ == "__main__":
    main()
