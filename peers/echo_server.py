#!/usr/bin/env python3
"""The notes' TCP echo server: serves one client at a time, forever.

Usage: echo_server.py HOST PORT
"""
import socket
import sys


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, port))
    srv.listen(1)
    while True:
        conn, peer = srv.accept()
        print("Connected by", peer, flush=True)
        with conn:
            # Echo until the client half-closes.
            for data in iter(lambda: conn.recv(1024), b""):
                conn.sendall(data)


if __name__ == "__main__":
    main()
