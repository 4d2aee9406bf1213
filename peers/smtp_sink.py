#!/usr/bin/env python3
"""An SMTP server (aiosmtpd) that keeps every message it accepts, for tests.

Usage: smtp_sink.py HOST PORT MAILDIR [--tls-cert C --tls-key K]
                    [--auth USER:PASS] [--require-tls] [--require-auth]
                    [--reject-rcpt ADDR]...

Message n is stored as MAILDIR/nnnn.eml (the DATA bytes as received, CRLF
line ends) beside nnnn.json (mail_from, rcpt_tos, peer, tls, auth). Speaks
EHLO/HELO, PIPELINING, 8BITMIME, SMTPUTF8, SIZE, STARTTLS (with a
certificate), AUTH PLAIN and LOGIN (with --auth). --require-tls refuses MAIL
before STARTTLS, --require-auth before AUTH; --reject-rcpt answers 550 for
that address. Prints "ready" once listening; SIGTERM or SIGINT stops it.
Needs aiosmtpd (Debian: python3-aiosmtpd).
"""
import argparse
import asyncio
import json
import os
import signal
import ssl

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Maildir:
    """aiosmtpd handler: refuses the listed recipients, files every message."""

    def __init__(self, folder, refused):
        self.folder = folder
        self.refused = set(refused)
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        stem = os.path.join(self.folder, "%04d" % self.count)
        # original_content keeps the bytes exactly as sent (no decoding).
        body = envelope.original_content or envelope.content
        with open(stem + ".eml", "wb") as f:
            f.write(body)
        login = None
        if session.authenticated and session.login_data:
            login = session.login_data.decode()
        envelope_info = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "peer": list(session.peer[:2]) if session.peer else None,
            "tls": session.ssl is not None,
            "auth": login,
        }
        with open(stem + ".json", "w") as f:
            json.dump(envelope_info, f)
        return "250 2.0.0 Message accepted for delivery"


def parse_args():
    p = argparse.ArgumentParser(description="SMTP sink for Minnow's tests")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("maildir")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--auth", help="USER:PASS accepted for AUTH PLAIN/LOGIN")
    p.add_argument("--require-tls", action="store_true")
    p.add_argument("--require-auth", action="store_true")
    p.add_argument("--reject-rcpt", action="append", default=[])
    return p.parse_args()


def checker(credentials):
    """An aiosmtpd authenticator accepting exactly USER:PASS."""
    user, password = credentials.split(":", 1)

    def check(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = auth_data.login == user.encode() and auth_data.password == password.encode()
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    return check


def main():
    args = parse_args()
    os.makedirs(args.maildir, exist_ok=True)
    tls = None
    if args.tls_cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.tls_cert, args.tls_key)
    controller = Controller(
        Maildir(args.maildir, args.reject_rcpt),
        hostname=args.host,
        port=args.port,
        enable_SMTPUTF8=True,
        tls_context=tls,
        require_starttls=args.require_tls,
        # Credentials only over TLS whenever TLS is on offer.
        auth_require_tls=tls is not None,
        auth_required=args.require_auth,
        authenticator=checker(args.auth) if args.auth else None,
        data_size_limit=64 * 1024 * 1024,
    )
    controller.start()
    print("ready", flush=True)
    loop = asyncio.new_event_loop()
    stopped = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopped.set)
    loop.run_until_complete(stopped.wait())
    controller.stop()


if __name__ == "__main__":
    main()
