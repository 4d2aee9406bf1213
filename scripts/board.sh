#!/usr/bin/env bash
# Minnow as firmware: builds a board image and boots it in QEMU. Three boards:
#   mps2      QEMU mps2-an386: Arm Cortex-M4F + SMSC LAN9118 Ethernet (firmware-sim/mps2), the default
#   lm3s6965  QEMU lm3s6965evb: TI Stellaris LM3S6965, Cortex-M3 + its Ethernet MAC (firmware-sim/lm3s6965)
#   nucleo-f429zi  ST NUCLEO-F429ZI: STM32F429ZI + embassy-stm32's Ethernet (firmware-sim/nucleo-f429zi):
#             build-only, --build and --size (QEMU has no model of it; flash a
#             real board with probe-rs, see its src/main.rs; never run here)
# chosen with --board NAME (first) or MINNOW_BOARD=NAME.
#
#   scripts/board.sh              user networking: every service on 127.0.0.1
#   scripts/board.sh --tap        on a TAP device in a network namespace of its own
#   scripts/board.sh --shell [CMD] a shell (or CMD) inside the running --tap namespace
#   scripts/board.sh --size       size report: .text/.data/.bss, RAM, stack
#   scripts/board.sh --build      build only; prints the image's path
#   scripts/board.sh --board lm3s6965 --tap    the same on the other board
#
# User networking (default): the image asks QEMU's DHCP server for its address
# (10.0.2.15), sets its clock by SNTP from a small server this script runs on
# 127.0.0.1 (the guest sees it as 10.0.2.2), mails one message at boot to
# peers/smtp_sink.py on 127.0.0.1:2525 (MINNOW_SMTP_PORT; needs python3 with
# aiosmtpd; the message lands in a folder printed at start; mps2 only: the
# lm3s6965 image has no mail unless MINNOW_SMTP names a server, as mail's code
# does not fit its 128 KiB code budget), and QEMU
# forwards these ports, bound to 127.0.0.1 only, so the notes' clients reach
# every service: time 9999/tcp, echo 12345/tcp+udp, file 60000/tcp, chat 9009/tcp
# e.g. python3 peers/time_client.py 127.0.0.1 9999
#
# --tap: no root where user namespaces are allowed (see scripts/lib/netns.sh):
# a namespace with TAP device tap0 (Linux side 192.0.2.1/24, 2001:db8::1/64),
# an SNTP server and smtp_sink.py on 192.0.2.1, and the image booted there as
# 192.0.2.2/24 and 2001:db8::2/64. Nothing outside the namespace is touched;
# it goes away when QEMU stops (Ctrl-C).
#
# The addresses are built into the image: MINNOW_IPV4 (CIDR, dhcp or none),
# MINNOW_IPV6 (CIDR or none), MINNOW_GATEWAY, MINNOW_SNTP (IP[:PORT] or none),
# MINNOW_SMTP (IP[:PORT] or none: no mail), MINNOW_MAIL_FROM, MINNOW_MAIL_TO,
# MINNOW_PER_SOURCE; see firmware-sim/firmware/build.rs.
set -euo pipefail
# Every client of this script comes from the namespace's one Linux address:
# let it hold up to four connections per service (the image's own default
# is half a pool, one of the board's two file sockets).
export MINNOW_PER_SOURCE=${MINNOW_PER_SOURCE:-4}
cd "$(dirname "$0")/.."
ROOT=$(pwd)
if [ "${1:-}" = --board ]; then
    [ $# -ge 2 ] || { echo "board.sh: --board needs a name (mps2, lm3s6965, nucleo-f429zi)" >&2; exit 2; }
    export MINNOW_BOARD=$2
    shift 2
fi
# Each board: its crate, Rust target, QEMU machine and NIC model (none: a
# physical board, build-only), its test file, and its budgets for the size
# report.
case ${MINNOW_BOARD:=mps2} in
mps2)
    TARGET=thumbv7em-none-eabihf MACHINE=mps2-an386 NIC=lan9118 CHIP="mps2-an386"
    RANDOM_FILE=random-1m.bin RANDOM_LEN=$((1 << 20))
    ;;
lm3s6965)
    TARGET=thumbv7m-none-eabi MACHINE=lm3s6965evb NIC=stellaris CHIP="lm3s6965evb (LM3S6965)"
    RANDOM_FILE=random-64k.bin RANDOM_LEN=$((64 << 10))
    ;;
nucleo-f429zi)
    TARGET=thumbv7em-none-eabihf MACHINE= NIC= CHIP="NUCLEO-F429ZI (STM32F429ZI)"
    RANDOM_FILE= RANDOM_LEN=0
    ;;
*) echo "board.sh: unknown board ${MINNOW_BOARD} (mps2, lm3s6965, nucleo-f429zi)" >&2; exit 2 ;;
esac
export MINNOW_BOARD
FW="$ROOT/firmware-sim/$MINNOW_BOARD"
ELF="$FW/target/$TARGET/release/minnow-$MINNOW_BOARD"
PEERS="$ROOT/peers"
. "$ROOT/scripts/lib/netns.sh"
SNTP_PORT=${MINNOW_SNTP_PORT:-12300}
SMTP_PORT=${MINNOW_SMTP_PORT:-2525}

usage() { sed -n '2,40p' "$0" | sed 's/^# \{0,1\}//'; }

# A physical board boots on its own hardware, never in QEMU: only --build
# and --size apply to it.
qemu_only() {
    [ -z "$MACHINE" ] || return 0
    echo "board.sh: $MINNOW_BOARD is a physical board, build-only: QEMU models neither the" \
        "STM32F429ZI nor its Ethernet, so it cannot boot here ($1); use --build or --size," \
        "and flash a real board with probe-rs (firmware-sim/$MINNOW_BOARD/src/main.rs says how)" >&2
    exit 2
}

mode=user
case "${1:-}" in
    "") ;;
    --tap) mode=tap; shift ;;
    --shell) shift; qemu_only --shell; ns_join board "${@:-bash}" ;;
    --size) mode=size; shift ;;
    --build) mode=build; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "board.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
esac

case $mode in user) qemu_only "user networking" ;; tap) qemu_only --tap ;; esac

need() { command -v "$1" >/dev/null || { echo "board.sh: $1 not found; $2" >&2; exit 1; }; }

build() {
    [ -z "$MACHINE" ] || need qemu-system-arm "install it: apt-get install qemu-system-arm"
    rustup target list --installed 2>/dev/null | grep -qx "$TARGET" ||
        rustup target add "$TARGET"
    # MINNOW_IPV6=slaac needs the image's SLAAC code (its `slaac` feature).
    local features=()
    [ "${MINNOW_IPV6:-}" = slaac ] && features=(--features slaac)
    (cd "$FW" && cargo build --release --locked -q "${features[@]}")
}

# A tiny SNTP server (RFC 4330 replies with the host's clock): args HOST PORT.
SNTP_PY='
import socket, struct, sys, time
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
OFF = 2208988800
def ts(t):
    return struct.pack("!II", int(t) + OFF, int((t % 1) * 2**32))
while True:
    req, addr = s.recvfrom(512)
    if len(req) < 48:
        continue
    now = time.time()
    hdr = struct.pack("!BBbb", (0 << 6) | (4 << 3) | 4, 1, 4, -20) + b"\0" * 8 + b"LOCL"
    s.sendto(hdr + ts(now) + req[40:48] + ts(now) + ts(time.time()), addr)
'
SNTP_PID=
SMTP_PID=
stop_sntp() {
    if [ -n "$SNTP_PID" ]; then kill "$SNTP_PID" 2>/dev/null || true; fi
    if [ -n "$SMTP_PID" ]; then kill "$SMTP_PID" 2>/dev/null || true; fi
}

# The SMTP server the board mails at boot: smtp_sink.py (aiosmtpd), when
# python3 has aiosmtpd and MINNOW_SMTP was not given. Sets MINNOW_SMTP to
# $1 (the address the guest uses) and MAILDIR; the server starts with
# start_smtp COMMAND... HOST.
MAILDIR=
want_smtp() {
    if [ -n "${MINNOW_SMTP:-}" ]; then return; fi
    if [ "$MINNOW_BOARD" = lm3s6965 ]; then
        echo "board.sh: no mail at boot on lm3s6965 (over its code budget; MINNOW_SMTP=IP[:PORT] builds it in)" >&2
        export MINNOW_SMTP=none
        return
    fi
    if [ -f "$PEERS/smtp_sink.py" ] && python3 -c 'import aiosmtpd' 2>/dev/null; then
        export MINNOW_SMTP=$1
        MAILDIR=$(mktemp -d "${TMPDIR:-/tmp}/minnow-board-mail.XXXXXX")
    else
        echo "board.sh: no mail at boot (needs python3 with aiosmtpd, or MINNOW_SMTP)" >&2
        export MINNOW_SMTP=none
    fi
}
start_smtp() {
    [ -n "$MAILDIR" ] || return 0
    local host=${*: -1}
    "$@" "$SMTP_PORT" "$MAILDIR" >"$MAILDIR.log" &
    SMTP_PID=$!
    # The board mails as soon as its clock is set: the sink must listen by then.
    for _ in $(seq 100); do
        grep -q ready "$MAILDIR.log" 2>/dev/null && break
        kill -0 "$SMTP_PID" 2>/dev/null || break
        sleep 0.1
    done
    rm -f "$MAILDIR.log"
    echo "smtp_sink.py on $host:$SMTP_PORT stores the board's mail in $MAILDIR"
}

# QEMU runs as a child the script waits for, so a SIGTERM to the script (not
# only Ctrl-C, which reaches the whole process group) stops QEMU too.
run_qemu() {
    "$@" &
    QEMU_PID=$!
    trap 'kill "$QEMU_PID" 2>/dev/null || true' INT TERM
    wait "$QEMU_PID" || true
    wait "$QEMU_PID" 2>/dev/null || true
}

QEMU=(qemu-system-arm -M "$MACHINE" -display none -monitor none -serial stdio -kernel "$ELF")

case $mode in
build)
    build
    echo "$ELF"
    ;;
user)
    export MINNOW_IPV4=${MINNOW_IPV4:-dhcp} MINNOW_IPV6=${MINNOW_IPV6:-none}
    export MINNOW_SNTP=${MINNOW_SNTP:-10.0.2.2:$SNTP_PORT}
    want_smtp "10.0.2.2:$SMTP_PORT"
    build
    trap stop_sntp EXIT
    python3 -c "$SNTP_PY" 127.0.0.1 "$SNTP_PORT" &
    SNTP_PID=$!
    start_smtp python3 "$PEERS/smtp_sink.py" 127.0.0.1
    fwd=hostfwd=tcp:127.0.0.1:9999-:9999,hostfwd=tcp:127.0.0.1:12345-:12345
    fwd=$fwd,hostfwd=udp:127.0.0.1:12345-:12345,hostfwd=tcp:127.0.0.1:60000-:60000
    fwd=$fwd,hostfwd=tcp:127.0.0.1:9009-:9009
    cat <<MSG
Minnow boots on $CHIP with QEMU user networking; its services are on 127.0.0.1:
  python3 $PEERS/time_client.py 127.0.0.1 9999
  python3 $PEERS/echo_client.py 127.0.0.1 12345 1000000
  python3 $PEERS/udp_echo_client.py 127.0.0.1 12345
  python3 $PEERS/file_client.py 127.0.0.1 60000 out.bin 'GET $RANDOM_FILE'
  python3 $PEERS/chat_client.py 127.0.0.1 9009
Ctrl-C stops QEMU.
MSG
    run_qemu "${QEMU[@]}" -nic "user,model=$NIC,$fwd" "$@"
    ;;
tap)
    if [ "${MINNOW_NS_INSIDE:-}" != board ]; then
        export MINNOW_IPV4=${MINNOW_IPV4:-192.0.2.2/24} MINNOW_IPV6=${MINNOW_IPV6:-2001:db8::2/64}
        export MINNOW_SNTP=${MINNOW_SNTP:-192.0.2.1}
        want_smtp "192.0.2.1:$SMTP_PORT"
        # Built as the invoking user, before any namespace: target/ stays theirs.
        build
        export MINNOW_BOARD_MAILDIR=$MAILDIR
        ns_enter board "$0" --tap "$@"
    fi
    # From here on: root inside the namespace.
    MAILDIR=${MINNOW_BOARD_MAILDIR:-}
    ns_register
    cleanup() {
        stop_sntp
        ns_unregister
    }
    trap cleanup EXIT
    ip link set lo up
    for k in all default; do echo 0 > "/proc/sys/net/ipv6/conf/$k/accept_dad"; done
    ip tuntap add dev tap0 mode tap
    ip addr add 192.0.2.1/24 dev tap0
    ip addr add 2001:db8::1/64 dev tap0 nodad
    ip link set tap0 up
    python3 -c "$SNTP_PY" 192.0.2.1 123 &
    SNTP_PID=$!
    start_smtp python3 "$PEERS/smtp_sink.py" 192.0.2.1
    cat <<MSG
Minnow boots on $CHIP at 192.0.2.2 and 2001:db8::2. In another shell:
  scripts/board.sh --shell        # a shell in the namespace, or run one command there:
  scripts/board.sh --shell python3 peers/time_client.py 192.0.2.2 9999
  scripts/board.sh --shell python3 peers/echo_client.py 2001:db8::2 12345 1000000
  scripts/board.sh --shell python3 peers/file_client.py 192.0.2.2 60000 out.bin 'GET $RANDOM_FILE'
  scripts/board.sh --shell python3 peers/chat_client.py 192.0.2.2 9009
Ctrl-C stops QEMU and removes the namespace.
MSG
    run_qemu "${QEMU[@]}" -nic "tap,ifname=tap0,script=no,downscript=no,model=$NIC" "$@"
    ;;
size)
    # The user-networking image (DHCP + SNTP: every feature in).
    export MINNOW_IPV4=${MINNOW_IPV4:-dhcp} MINNOW_IPV6=${MINNOW_IPV6:-none}
    export MINNOW_SNTP=${MINNOW_SNTP:-10.0.2.2:$SNTP_PORT}
    if [ -z "$MACHINE" ]; then
        # A physical board: the image as a LAN would have it (DHCP, SNTP, the
        # boot mail), its servers' addresses only built in, no live run.
        export MINNOW_SMTP=${MINNOW_SMTP:-10.0.2.2:$SMTP_PORT}
        build
    else
        want_smtp "10.0.2.2:$SMTP_PORT"
        build
        trap 'stop_sntp; [ -z "$MAILDIR" ] || rm -rf "$MAILDIR"' EXIT
        python3 -c "$SNTP_PY" 127.0.0.1 "$SNTP_PORT" &
        SNTP_PID=$!
        start_smtp python3 "$PEERS/smtp_sink.py" 127.0.0.1
    fi
    MINNOW_FW_DIR="$FW" MINNOW_TARGET="$TARGET" MINNOW_MACHINE="$MACHINE" MINNOW_NIC="$NIC" \
        MINNOW_RANDOM_FILE="$RANDOM_FILE" MINNOW_RANDOM_LEN="$RANDOM_LEN" python3 - "$ELF" "$PEERS" <<'PY'
# Size report: sections, RAM and flash budgets, .text by owner, and (QEMU
# boards) a live run that measures the stack's high-water mark and reads the
# image's own RAM figures.
import os, re, shutil, socket, subprocess, sys, tempfile, time

elf, peers = sys.argv[1], sys.argv[2]
board, target = os.environ["MINNOW_BOARD"], os.environ["MINNOW_TARGET"]
machine, nic = os.environ["MINNOW_MACHINE"], os.environ["MINNOW_NIC"]
random_file, FILES = os.environ["MINNOW_RANDOM_FILE"], int(os.environ["MINNOW_RANDOM_LEN"])
# The budgets: mps2's .text target; the LM3S6965's code budget (.text +
# .rodata without the served files) and its flash, which the linker enforces;
# the RAM the statics (and, on the QEMU boards, the stack) may take.
TEXT_TARGET = {"mps2": 96 << 10}.get(board)
CODE_TARGET = {"lm3s6965": 128 << 10}.get(board)
FLASH = {"mps2": 4 << 20, "lm3s6965": 256 << 10, "nucleo-f429zi": 2 << 20}[board]
RAM_TARGET = {"nucleo-f429zi": 192 << 10}.get(board, 64 << 10)
tool = shutil.which("llvm-size") or shutil.which("arm-none-eabi-size")
if not tool:
    sys.exit("board.sh --size: needs llvm-size or arm-none-eabi-size (apt-get install binutils-arm-none-eabi)")
print(subprocess.run([tool, elf], capture_output=True, text=True, check=True).stdout.rstrip())
sec = {}
for line in subprocess.run([tool, "-A", elf], capture_output=True, text=True, check=True).stdout.splitlines():
    f = line.split()
    if len(f) == 3 and f[0].startswith(".") and f[1].isdigit():
        sec[f[0]] = int(f[1])
nm = shutil.which("llvm-nm") or shutil.which("arm-none-eabi-nm")
syms = subprocess.run([nm, elf], capture_output=True, text=True).stdout if nm else ""
top = re.search(r"^([0-9a-f]+) A _stack_start$", syms, re.M)
bottom = re.search(r"^([0-9a-f]+) A _stack_end$", syms, re.M)
STACK_TOP = int(top.group(1), 16) if top else 0x20002A00
# memory.x: the stack is the bottom of RAM (QEMU boards) or a memory of its
# own (the STM32F429's CCM).
STACK_BOTTOM = int(bottom.group(1), 16) if bottom else 0x20000000
STACK = STACK_TOP - STACK_BOTTOM
STACK_IN_RAM = STACK_BOTTOM == 0x20000000
text = sec.get(".text", 0) + sec.get(".vector_table", 0)
rodata = sec.get(".rodata", 0)
data, bss = sec.get(".data", 0), sec.get(".bss", 0)
ram = data + bss + (STACK if STACK_IN_RAM else 0)
kib = lambda n: "%.1f KiB" % (n / 1024)
print()
print("| section | bytes | |")
print("| --- | ---: | --- |")
target_note = lambda t: "" if t is None else " (target <= %d KiB)" % (t >> 10)
print("| .text (code + vector table) | %d | %s%s |" % (text, kib(text), target_note(TEXT_TARGET)))
if random_file:
    print("| .rodata | %d | %s, of which the file table's %s (%s); %s without it |" % (rodata, kib(rodata), random_file, kib(FILES), kib(rodata - FILES)))
    print("| .text + .rodata without %s | %d | %s%s |" % (random_file, text + rodata - FILES, kib(text + rodata - FILES), target_note(CODE_TARGET)))
else:
    print("| .rodata | %d | %s (no test file) |" % (rodata, kib(rodata)))
print("| .data | %d | %s (RAM, initialised from flash) |" % (data, kib(data)))
print("| .bss | %d | %s (RAM) |" % (bss, kib(bss)))
if STACK_IN_RAM:
    print("| stack | %d | %s (reserved by memory.x) |" % (STACK, kib(STACK)))
    print("| RAM in all | %d | %s (target <= %d KiB; the linker enforces it) |" % (ram, kib(ram), RAM_TARGET >> 10))
else:
    print("| RAM in all (.data + .bss) | %d | %s of %s (the linker enforces it) |" % (ram, kib(ram), kib(RAM_TARGET)))
    print("| stack | %d | %s, a memory of its own at %#x (reserved by memory.x) |" % (STACK, kib(STACK), STACK_BOTTOM))
print("| flash in all (.text + .rodata + .data's initial values) | %d | %s of %s (the linker enforces it) |" % (text + rodata + data, kib(text + rodata + data), kib(FLASH)))

# Each service's exact .text cost: the image rebuilt without it
# (MINNOW_SERVICES and the Cargo features, see build.rs) in a separate target folder.
fw = os.environ["MINNOW_FW_DIR"]
def code_with(services):
    """(.text, .rodata without the test file) of the image with `services`."""
    env = dict(os.environ, MINNOW_SERVICES=",".join(services) or "none",
               CARGO_TARGET_DIR=os.path.join(fw, "target", "size-variants"))
    if "mail" in services and env.get("MINNOW_SMTP", "none") == "none":
        env["MINNOW_SMTP"] = "10.0.2.2:2525"  # only built, never booted
    # The services left out are compiled out too (the board's Cargo features).
    features = ",".join(s for s in services if s != "mail")
    subprocess.run(["cargo", "build", "--release", "--locked", "-q", "--no-default-features",
                    "--features", features], cwd=fw, env=env, check=True)
    out = subprocess.run([tool, "-A", os.path.join(fw, "target", "size-variants", target, "release", "minnow-" + board)],
                         capture_output=True, text=True, check=True).stdout
    size = lambda s: int(re.search(r"^\%s\s+(\d+)" % s, out, re.M).group(1))
    return size(".text"), size(".rodata") - FILES
MAIL = os.environ.get("MINNOW_SMTP", "none") != "none"
ALL = ["time", "echo", "file", "chat"] + (["mail"] if MAIL else [])
full = code_with(ALL)
print()
print("| service | .text it adds | .rodata it adds | (image rebuilt without it) |")
print("| --- | ---: | ---: | --- |")
for svc, what in (("time", "time (ctime server; the SNTP client is in every image with MINNOW_SNTP)"),
                  ("echo", "echo (TCP + UDP)"), ("file", "file transfer"), ("chat", "chat room"),
                  ("mail", "mail at boot (MIME composer + SMTP client, plain SMTP)")):
    if svc in ALL:
        less = code_with([x for x in ALL if x != svc])
        print("| %s | %d | %d | |" % (what, full[0] - less[0], full[1] - less[1]))
    elif svc == "mail":
        more = code_with(ALL + ["mail"])
        print("| %s | %d | %d | not in this image (MINNOW_SMTP): built with it, .text + .rodata without %s is %d |"
              % (what, more[0] - full[0], more[1] - full[1], random_file, more[0] + more[1] + 1024))
base = code_with([])
print("| base: no service (smoltcp, DHCP, SNTP client, driver, clock, log, panic) | %d | %d | |" % base)
print("| the image (without the vector table%s) | %d | %d | |" % (random_file and " and " + random_file, full[0], full[1]))
if not machine:
    print()
    print("(no live run: %s is a physical board that QEMU does not model; its stack's" % board)
    print(" high-water mark and boot-time RAM lines come from a board, over its UART)")
    sys.exit(0)

# Live run: user networking on free ports, a little of every service, then
# the stack's high-water mark read through QEMU's monitor (cortex-m-rt's
# paint-stack fills the stack with 0xCCCCCCCC at reset, so the lowest word
# that lost its paint is as deep as it went).
def free_port(kind):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p
ports = {k: free_port(socket.SOCK_STREAM) for k in ("time", "echo", "file", "chat")}
udp = free_port(socket.SOCK_DGRAM)
tmp = tempfile.mkdtemp(prefix="minnow-size-")
mon = os.path.join(tmp, "monitor")
fwd = ",".join("hostfwd=tcp:127.0.0.1:%d-:%d" % (ports[k], g) for k, g in
               (("time", 9999), ("echo", 12345), ("file", 60000), ("chat", 9009)))
fwd += ",hostfwd=udp:127.0.0.1:%d-:12345" % udp
qemu = subprocess.Popen(["qemu-system-arm", "-M", machine, "-display", "none",
                         "-monitor", "unix:%s,server,nowait" % mon, "-serial", "file:%s/log" % tmp,
                         "-kernel", elf, "-nic", "user,model=%s,%s" % (nic, fwd)])
def log():
    try:
        return open(os.path.join(tmp, "log")).read()
    except OSError:
        return ""
try:
    end = time.time() + 20
    while "ready" not in log() and time.time() < end:
        time.sleep(0.1)
    end = time.time() + 30  # the boot mail (after SNTP), so its stack counts
    while MAIL and "mail: accepted" not in log() and "mail: failed" not in log() and time.time() < end:
        time.sleep(0.1)
    py = sys.executable
    run = lambda *a: subprocess.run([py] + list(a), capture_output=True, timeout=60)
    run(os.path.join(peers, "echo_client.py"), "127.0.0.1", str(ports["echo"]), "200000")
    run(os.path.join(peers, "udp_echo_client.py"), "127.0.0.1", str(udp), "20")
    time.sleep(1.5)  # SNTP
    run(os.path.join(peers, "time_client.py"), "127.0.0.1", str(ports["time"]))
    run(os.path.join(peers, "file_client.py"), "127.0.0.1", str(ports["file"]), os.path.join(tmp, "f"), "GET " + random_file)
    chat = [subprocess.Popen([py, os.path.join(peers, "chat_client.py"), "127.0.0.1", str(ports["chat"])],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)]
    time.sleep(1)
    for i, c in enumerate(chat):
        c.communicate(("hello from %d\n" % i).encode(), timeout=30)
    time.sleep(0.5)
    m = socket.socket(socket.AF_UNIX)
    m.connect(mon)
    m.sendall(b"xp /%dxw 0x20000000\n" % (STACK // 4))
    dump, end = b"", time.time() + 10
    m.settimeout(1)
    while time.time() < end and dump.count(b"\n") < STACK // 16 + 4:
        try:
            chunk = m.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        dump += chunk
    lowest = None
    for line in dump.decode(errors="replace").splitlines():
        mm = re.match(r"\s*([0-9a-f]+):((?:\s+0x[0-9a-f]+)+)", line)
        if not mm:
            continue
        base = int(mm.group(1), 16)
        for i, w in enumerate(mm.group(2).split()):
            if int(w, 16) != 0xCCCCCCCC and base + 4 * i < STACK_TOP and (lowest is None or base + 4 * i < lowest):
                lowest = base + 4 * i
    print()
    for line in log().splitlines():
        if line.startswith("minnow: ram:") or "sntp: clock set" in line or line.startswith("minnow: mail:"):
            print(line)
    if lowest is not None:
        used = STACK_TOP - lowest
        print("minnow: stack high-water mark after boot + echo, UDP echo, time, %s, 3-client chat: %d B of %d B" % (random_file, used, STACK))
finally:
    qemu.kill()
    qemu.wait()
    shutil.rmtree(tmp, ignore_errors=True)
PY
    ;;
esac
