#!/usr/bin/env bash
# Quick start: builds Minnow and runs every service in a network namespace of
# its own, without root where the system allows user namespaces.
#
#   scripts/demo.sh [SERVE-OPTIONS]   build, create the namespace, serve (Ctrl-C stops)
#   scripts/demo.sh shell [CMD...]    a shell (or CMD) inside the running demo's namespace
#
# In the namespace: a bridge br0 (Linux side 192.0.2.1/24, 2001:db8::1/64)
# with two TAP devices: tap0 for `minnow serve` (192.0.2.2, 2001:db8::2) and
# tap1 for Minnow's clients, which the shell sets up through MINNOW_TAP=tap1,
# MINNOW_IP=192.0.2.3/24 and MINNOW_MAC, so `minnow time 192.0.2.2` needs no
# flags. The notes' programs (peers/) reach the server through br0, and
# smtp_sink.py (when python3 has aiosmtpd) takes mail on 192.0.2.1:2525.
# Nothing outside the namespace is touched; it goes away when the demo stops.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
. scripts/lib/netns.sh
NAME=demo

client_env() {
    export MINNOW_TAP=tap1 MINNOW_IP=192.0.2.3/24 MINNOW_MAC=02:00:00:00:00:03
    export PATH="$ROOT/target/release:$PATH"
}

if [ "${1:-}" = shell ]; then
    shift
    client_env
    if [ $# = 0 ]; then
        cd "$ROOT"
        export PS1='(minnow-demo) \w\$ '
        set -- bash --norc -i
    fi
    ns_join "$NAME" "$@"
fi

if [ "${MINNOW_NS_INSIDE:-}" != "$NAME" ]; then
    # Built as the invoking user, before any namespace: target/ stays theirs.
    command -v cargo >/dev/null || { echo "demo.sh: cargo not found (install Rust: https://rustup.rs)" >&2; exit 1; }
    for tool in ip python3; do
        command -v "$tool" >/dev/null || { echo "demo.sh: $tool not found; scripts/test.sh installs what is missing" >&2; exit 1; }
    done
    cargo build --release -q -p minnow-host
    ns_enter "$NAME" "$0" "$@"
fi

# From here on: root inside the namespace.
ns_register
FILES=$(mktemp -d "${TMPDIR:-/tmp}/minnow-demo-files.XXXXXX")
MAILDIR=
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    ns_unregister
    rm -rf "$FILES"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip link set lo up
for k in all default; do echo 0 > "/proc/sys/net/ipv6/conf/$k/accept_dad"; done
ip link add br0 type bridge
ip addr add 192.0.2.1/24 dev br0
ip addr add 2001:db8::1/64 dev br0 nodad
ip link set br0 up
for tap in tap0 tap1; do
    ip tuntap add dev "$tap" mode tap
    ip link set "$tap" master br0 up
done

# A few files for the file server: the default one and a larger binary.
printf 'Hello from Minnow, the file server of the course notes.\n' > "$FILES/hello.txt"
head -c 1048576 /dev/urandom > "$FILES/random-1m.bin"

if python3 -c 'import aiosmtpd' 2>/dev/null; then
    MAILDIR="$FILES/mail"
    python3 peers/smtp_sink.py 192.0.2.1 2525 "$MAILDIR" >/dev/null &
    PIDS+=($!)
fi

cat <<MSG

Minnow serves at 192.0.2.2 and 2001:db8::2 (tap0 on bridge br0, Linux side 192.0.2.1).
In another terminal, open a shell in the namespace:   scripts/demo.sh shell
(or run one command there: scripts/demo.sh shell minnow time 192.0.2.2). Then:

  Minnow's clients (tap1, 192.0.2.3; after \`cargo install --path host\` or from target/release):
    minnow time 192.0.2.2
    echo hello | minnow echo 192.0.2.2
    minnow get 192.0.2.2 random-1m.bin -o random-1m.bin
    minnow chat 192.0.2.2
  The notes' programs (Linux's stack, through br0):
    python3 peers/time_client.py 192.0.2.2 9999           # time, 9999/tcp
    nc 192.0.2.2 13                                        # daytime, 13/tcp
    nc 192.0.2.2 37 | xxd                                  # RFC 868 time, 37/tcp+udp
    python3 peers/echo_client.py 192.0.2.2 12345 1000000   # echo, 12345/tcp
    python3 peers/udp_echo_client.py 2001:db8::2 12345     # echo, 12345/udp
    python3 peers/file_client.py 192.0.2.2 60000 out.txt   # file, 60000/tcp (default file; or add "GET random-1m.bin")
    python3 peers/chat_client.py 192.0.2.2 9009            # chat, 9009/tcp: start two or three
MSG
if [ -n "$MAILDIR" ]; then
    cat <<MSG
  Mail: smtp_sink.py on 192.0.2.1:2525 keeps messages in $MAILDIR
    echo hi | minnow mail --server 192.0.2.1:2525 --from a@example.org --to b@example.org --subject test --text -
MSG
fi
echo "Ctrl-C stops Minnow and removes the namespace."
echo

"$ROOT/target/release/minnow" serve --tap tap0 --daytime --rfc868 \
    --files "$FILES" --default hello.txt "$@" &
PIDS+=($!)
wait "${PIDS[-1]}"
