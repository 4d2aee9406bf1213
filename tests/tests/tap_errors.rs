//! A TAP device that cannot be opened gives a clear message and exit 1.

use std::time::Duration;

use minnow_tests::{Netns, minnow_bin};

const T: Duration = Duration::from_secs(30);

#[test]
fn unprivileged_user_is_told_what_is_missing() {
    let ns = Netns::new();
    let mut cmd = ns.command("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(minnow_bin())
        .args(["serve", "--tap", "mnwnew0"]);
    let out = ns.run(cmd, T);
    assert_eq!(out.status.and_then(|s| s.code()), Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("root") || out.stderr.contains("CAP_NET_ADMIN"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("mnwnew0"), "{}", out.stderr);
}

#[test]
fn overlong_interface_name_is_refused() {
    let ns = Netns::new();
    let mut cmd = ns.command(minnow_bin());
    cmd.args(["serve", "--tap", "a-name-far-too-long"]);
    let out = ns.run(cmd, T);
    assert_eq!(out.status.and_then(|s| s.code()), Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("15"), "{}", out.stderr);
}

#[test]
fn bad_addresses_are_refused_before_anything_is_opened() {
    let ns = Netns::new();
    for args in [
        &["serve", "--ip", "192.0.2.300/24"][..],
        &["time", "192.0.2.1:70000"][..],
    ] {
        let mut cmd = ns.command(minnow_bin());
        cmd.args(args);
        let out = ns.run(cmd, T);
        assert_ne!(
            out.status.and_then(|s| s.code()),
            Some(0),
            "{args:?}: {}",
            out.stderr
        );
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
}
