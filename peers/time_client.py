#!/usr/bin/env python3
"""The notes' time client: read the server's reply until it closes, print it.

Usage: time_client.py HOST PORT
Exit status 1 unless the reply is exactly one ctime line ending in CRLF.
"""
import re
import socket
import sys

CTIME_LINE = re.compile(r"[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\r\n")


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    conn = socket.create_connection((host, port), timeout=10)
    reply = bytearray()
    # The server's close marks the end of the reply.
    for chunk in iter(lambda: conn.recv(1024), b""):
        reply += chunk
    conn.close()
    text = reply.decode("ascii")
    print("The time got from the server is %s" % text, end="")
    if not CTIME_LINE.fullmatch(text):
        sys.exit("not a ctime line: %r" % text)


if __name__ == "__main__":
    main()
