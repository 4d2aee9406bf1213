#!/usr/bin/env python3
"""The notes' chat client: stdin lines go to the room, the room goes to stdout.

Usage: chat_client.py HOST PORT [--linger SECONDS]
Works with pipes as well as a terminal. Exits 0 when the server closes the
connection ("Disconnected from chat server"), or when stdin ends, after
reading what still arrives for --linger seconds (default 1).
"""
import select
import socket
import sys
import time


def main():
    if len(sys.argv) < 3:
        sys.exit("Usage : python chat_client.py hostname port")
    host, port = sys.argv[1], int(sys.argv[2])
    linger = 1.0
    if len(sys.argv) > 4 and sys.argv[3] == "--linger":
        linger = float(sys.argv[4])
    try:
        conn = socket.create_connection((host, port), timeout=5)
    except OSError:
        sys.exit("Unable to connect")
    conn.settimeout(None)
    print("Connected to remote host. You can start sending messages", flush=True)
    watched = [sys.stdin, conn]
    stdin_closed = None  # when stdin ended; the linger counts from there
    while True:
        wait = None
        if stdin_closed is not None:
            wait = max(0.0, stdin_closed + linger - time.time())
        readable, _, _ = select.select(watched, [], [], wait)
        if not readable and stdin_closed is not None:
            return 0
        for src in readable:
            if src is conn:
                data = conn.recv(4096)
                if not data:
                    print("\nDisconnected from chat server", flush=True)
                    return 0
                sys.stdout.buffer.write(data)
                sys.stdout.flush()
                continue
            line = sys.stdin.readline()
            if line:
                conn.sendall(line.encode())
            else:
                watched.remove(sys.stdin)
                stdin_closed = time.time()


if __name__ == "__main__":
    sys.exit(main())
