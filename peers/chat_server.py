#!/usr/bin/env python3
"""The notes' chat room, in Python 3: one select() loop, every line broadcast.

Usage: chat_server.py HOST PORT
Others see a newcomer as "[IP:PORT] entered our chatting room\\n", a message
as "\\r[('IP', PORT)] <bytes as received>", a leaver as
"Client (IP, PORT) is offline\\n".
"""
import select
import socket
import sys


def send_to_others(listener, origin, members, payload):
    for member in list(members):
        if member is listener or member is origin:
            continue
        try:
            member.send(payload)
        except OSError:
            # A member we cannot write to has gone: drop it quietly, as the notes do.
            member.close()
            members.remove(member)


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(10)
    members = [listener]
    # (ip, port) per member; IPv6 addresses have 4-tuples, the notes show two fields.
    names = {}
    print("Chat server started on port %s" % port, flush=True)
    while True:
        readable, _, _ = select.select(members, [], [])
        for sock in readable:
            if sock is listener:
                conn, addr = listener.accept()
                members.append(conn)
                names[conn] = addr[:2]
                print("Client (%s, %s) connected" % names[conn], flush=True)
                joined = "[%s:%s] entered our chatting room\n" % names[conn]
                send_to_others(listener, conn, members, joined.encode())
                continue
            try:
                data = sock.recv(4096)
            except OSError:
                data = b""
            if data:
                prefix = "\r[%s] " % (names[sock],)
                send_to_others(listener, sock, members, prefix.encode() + data)
                continue
            if sock in members:
                members.remove(sock)
            who = names.pop(sock, ("?", 0))
            sock.close()
            send_to_others(listener, sock, members, ("Client (%s, %s) is offline\n" % who).encode())


if __name__ == "__main__":
    main()
