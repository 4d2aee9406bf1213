#!/usr/bin/env python3
"""The notes' file server: after the first request chunk, send FILE, close.

Usage: file_server.py HOST PORT FILE
The request's content does not matter (the notes send "Hello server!").
"""
import socket
import sys


def main():
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, port))
    srv.listen(5)
    print("Server listening....", flush=True)
    while True:
        conn, peer = srv.accept()
        print("Got connection from", peer, flush=True)
        request = conn.recv(1024)
        print("Server received", repr(request), flush=True)
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1024), b""):
                conn.sendall(block)
        print("Done sending", flush=True)
        # The end of the file is the end of the connection.
        conn.close()


if __name__ == "__main__":
    main()
