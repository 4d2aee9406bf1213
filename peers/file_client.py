#!/usr/bin/env python3
"""The notes' file client: send a request, save everything up to EOF.

Usage: file_client.py HOST PORT OUTFILE [REQUEST]   (default "Hello server!")
"""
import socket
import sys


def main():
    host, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    request = sys.argv[4] if len(sys.argv) > 4 else "Hello server!"
    conn = socket.create_connection((host, port), timeout=30)
    conn.send(request.encode())
    total = 0
    with open(out, "wb") as f:
        for data in iter(lambda: conn.recv(65536), b""):
            f.write(data)
            total += len(data)
    conn.close()
    print("Successfully get the file (%d bytes)" % total)


if __name__ == "__main__":
    main()
