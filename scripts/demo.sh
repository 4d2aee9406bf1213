#!/usr/bin/env bash
# Quick start: builds Minnow, creates a network namespace "minnow-demo" with a
# TAP device (Linux side 192.0.2.1 / 2001:db8::1), and runs `minnow serve` on
# it (192.0.2.2 / 2001:db8::2) in the foreground. Ctrl-C stops it and removes
# the namespace. Needs root (network namespaces and TAP devices).
# Nothing outside the namespace is touched.
set -euo pipefail
cd "$(dirname "$0")/.."
NS=${MINNOW_NS:-minnow-demo}
[ "$(id -u)" = 0 ] || { echo "demo.sh: needs root (creates a network namespace and a TAP device): sudo $0" >&2; exit 1; }
cargo build --release -q -p minnow-host
ip netns add "$NS"
FILES=$(mktemp -d)
cleanup() { ip netns del "$NS" 2>/dev/null || true; rm -rf "$FILES"; }
trap cleanup EXIT
ip -n "$NS" link set lo up
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
ip -n "$NS" tuntap add dev tap0 mode tap
ip -n "$NS" addr add 192.0.2.1/24 dev tap0
ip -n "$NS" addr add 2001:db8::1/64 dev tap0 nodad
ip -n "$NS" link set tap0 up
# A few files for the file server: the default one and a larger binary.
printf 'Hello from Minnow, the file server of the course notes.\n' > "$FILES/hello.txt"
head -c 1048576 /dev/urandom > "$FILES/random-1m.bin"
PEERS=$(cd ../shared/peers 2>/dev/null && pwd || echo ../shared/peers)
cat <<MSG
Minnow serves in namespace $NS at 192.0.2.2 and 2001:db8::2. In another shell:
  sudo ip netns exec $NS python3 $PEERS/time_client.py 192.0.2.2 9999
  sudo ip netns exec $NS python3 $PEERS/echo_client.py 192.0.2.2 12345 1000000
  sudo ip netns exec $NS python3 $PEERS/udp_echo_client.py 2001:db8::2 12345
  sudo ip netns exec $NS nc 192.0.2.2 13        # daytime
  sudo ip netns exec $NS python3 $PEERS/file_client.py 192.0.2.2 60000 out.bin "GET random-1m.bin"
  sudo ip netns exec $NS python3 $PEERS/chat_client.py 192.0.2.2 9009
Ctrl-C stops Minnow and removes the namespace.
MSG
ip netns exec "$NS" ./target/release/minnow serve --tap tap0 --daytime --rfc868 \
    --files "$FILES" --default hello.txt "$@" &
MINNOW_PID=$!
trap 'kill "$MINNOW_PID" 2>/dev/null' INT TERM
wait "$MINNOW_PID" || true
wait "$MINNOW_PID" 2>/dev/null || true
