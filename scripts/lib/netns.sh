# Sourced by scripts/demo.sh and scripts/board.sh: a network namespace for the
# script's whole run, without root where the system allows it.
#
# ns_enter NAME SCRIPT ARGS... re-runs SCRIPT with ARGS inside a new network
# namespace and does not return. As an ordinary user the namespace belongs to
# a new user namespace (unshare --user --map-root-user), where the script is
# root and may create TAP devices; as root no user namespace is needed; where
# user namespaces are refused it falls back to sudo. It says which it took.
# Inside, MINNOW_NS_INSIDE=NAME is set, and ns_register writes the PID (to MINNOW_NS_STATE) that
# `ns_join NAME` (e.g. `scripts/demo.sh shell`) enters with nsenter.
#
# Only what is inside the namespace is created or changed; it disappears with
# the last process in it.

ns_state_file() {
    local dir=${XDG_RUNTIME_DIR:-${TMPDIR:-/tmp}}
    echo "$dir/minnow-$1-$(id -u).pid"
}

ns_enter() {
    local name=$1
    shift
    command -v unshare >/dev/null || { echo "$0: unshare not found (apt-get install util-linux)" >&2; exit 1; }
    export MINNOW_NS_INSIDE=$name
    # Named by the real uid, which inside a user namespace reads as 0.
    MINNOW_NS_STATE=$(ns_state_file "$name")
    export MINNOW_NS_STATE
    if [ "$(id -u)" = 0 ]; then
        echo "$0: running as root: a new network namespace (unshare --net)" >&2
        exec unshare --net --fork -- "$@"
    fi
    local why
    if why=$(unshare --user --map-root-user --net true 2>&1); then
        echo "$0: rootless: a user + network namespace of its own (unshare --user --map-root-user --net)" >&2
        exec unshare --user --map-root-user --net --fork -- "$@"
    fi
    echo "$0: user namespaces are refused here (${why:-unshare failed}); falling back to root with sudo" >&2
    command -v sudo >/dev/null || { echo "$0: sudo not found: run this as root" >&2; exit 1; }
    exec sudo --preserve-env=MINNOW_NS_INSIDE,MINNOW_NS_STATE,MINNOW_BOARD,MINNOW_SMTP,MINNOW_IPV4,MINNOW_IPV6,MINNOW_SNTP,MINNOW_SNTP_PORT,MINNOW_SMTP_PORT,MINNOW_BOARD_MAILDIR,XDG_RUNTIME_DIR,TMPDIR \
        unshare --net --fork -- "$@"
}

# Inside: record this shell's PID for ns_join (removed by ns_unregister).
ns_register() {
    echo $$ > "$MINNOW_NS_STATE"
}

ns_unregister() {
    rm -f "$MINNOW_NS_STATE"
}

# Runs "$@" (or an interactive shell) inside namespace NAME as its root.
ns_join() {
    local name=$1 state pid
    shift
    state=$(ns_state_file "$name")
    pid=$(cat "$state" 2>/dev/null || true)
    if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
        if [ -n "$pid" ] && [ -d "/proc/$pid" ]; then
            # Started through sudo: its PID belongs to root.
            exec sudo nsenter --target "$pid" --net -- "$@"
        fi
        echo "$0: the $name namespace is not running (start it first: $0)" >&2
        exit 1
    fi
    if [ "$(id -u)" = 0 ] || [ "$(readlink "/proc/$pid/ns/user")" = "$(readlink /proc/self/ns/user)" ]; then
        exec nsenter --target "$pid" --net -- "$@"
    fi
    # Joining its user namespace as well makes us its root, as the script is (our uid
    # is its uid 0; nsenter may not setgroups there, hence --preserve-credentials).
    exec nsenter --target "$pid" --user --preserve-credentials --net -- "$@"
}
