#!/usr/bin/env bash
# The whole test suite, from a fresh Debian or Ubuntu machine with Rust:
# installs what is missing, then runs `cargo test --workspace`.
#
#   scripts/test.sh                    install what is missing, run every test
#   scripts/test.sh --no-install ARGS  skip the installs; ARGS go to `cargo test`
#   scripts/test.sh ARGS               e.g. -p minnow-tests --test time
#
# Installs: Debian packages (apt-get as root, `sudo apt-get` otherwise; liblwip-dev
# for the lwIP reference peer the tests compile with cc, radvd for SLAAC), the
# Python SMTP library (Debian's python3-aiosmtpd, or a virtual environment in
# target/venv when the python3 on PATH is not Debian's), and the rustup targets
# for the boards. As an ordinary user the tests run in a user namespace of
# their own (no sudo, nothing created as root); where user namespaces are
# refused they need root and say so.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

install=1
if [ "${1:-}" = --no-install ]; then
    install=0
    shift
fi

PACKAGES=(iproute2 python3 dnsmasq-base socat netcat-openbsd procps util-linux uidmap
    qemu-system-arm binutils-arm-none-eabi openssl ca-certificates python3-aiosmtpd liblwip-dev radvd)

as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        echo "test.sh: needs root for: $*; run it as root or install sudo" >&2
        return 1
    fi
}

apt_install() {
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

install_packages() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} = 0 ] && return
    echo "test.sh: installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # python3-aiosmtpd is not in every release: then the venv below provides aiosmtpd.
    if ! apt_install "${missing[@]}"; then
        local rest=()
        for p in "${missing[@]}"; do [ "$p" = python3-aiosmtpd ] || rest+=("$p"); done
        [ ${#rest[@]} = 0 ] || apt_install "${rest[@]}"
    fi
}

# aiosmtpd for smtp_sink.py, importable by the python3 the tests run.
python_smtp() {
    if python3 -c 'import aiosmtpd' 2>/dev/null; then
        return
    fi
    local venv="$ROOT/target/venv"
    if ! "$venv/bin/python3" -c 'import aiosmtpd' 2>/dev/null; then
        echo "test.sh: python3 ($(command -v python3)) has no aiosmtpd: a virtual environment in $venv"
        mkdir -p "$ROOT/target"
        if ! python3 -m venv --clear "$venv" 2>/dev/null; then
            # Debian keeps venv's pip in its own package (PEP 668 systems refuse a plain pip install).
            apt_install python3-venv
            python3 -m venv --clear "$venv"
        fi
        "$venv/bin/python3" -m pip install --quiet --disable-pip-version-check aiosmtpd
    fi
    export PATH="$venv/bin:$PATH"
}

if [ "$install" = 1 ]; then
    if command -v dpkg-query >/dev/null; then
        install_packages
    else
        echo "test.sh: not a Debian-like system: install by hand ${PACKAGES[*]}" >&2
    fi
    if command -v rustup >/dev/null; then
        # The board images' targets: mps2 (Cortex-M4F), lm3s6965 (Cortex-M3).
        for target in thumbv7em-none-eabihf thumbv7m-none-eabi; do
            rustup target list --installed | grep -qx "$target" || rustup target add "$target"
        done
    fi
    # Decodes the board's defmt frames (the board test built with defmt).
    command -v defmt-print >/dev/null || cargo install --locked --quiet defmt-print
fi
python_smtp

if [ "$(id -u)" != 0 ] && [ ! -w /dev/net/tun ]; then
    echo "test.sh: /dev/net/tun is not open to $(id -un) (stock Debian and Ubuntu make it 0666:" \
        "sudo chmod 0666 /dev/net/tun); the tests that need TAP devices will fail" >&2
fi

# As an ordinary user each test program runs in a network namespace of its own,
# with no way out, and some build `minnow` or the board images themselves: every
# crate they need (each board's is a workspace of its own) is fetched now.
cargo fetch --locked
cargo fetch --locked --manifest-path firmware-sim/mps2/Cargo.toml
cargo fetch --locked --manifest-path firmware-sim/lm3s6965/Cargo.toml

if [ $# = 0 ]; then
    set -- --workspace
fi
exec cargo test --locked "$@"
