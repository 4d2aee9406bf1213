//! The core's own example, `core/examples/tap_echo_time.rs`, does what its
//! documentation says: echo on port 7 and time on 9999 over a TAP device,
//! reached by the notes' clients.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use minnow_tests::{Netns, target_dir, workspace_root};

const T: Duration = Duration::from_secs(30);

/// Builds the example (debug) and returns its path.
fn example_bin() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(workspace_root())
        .args(["build", "-p", "minnow", "--example", "tap_echo_time"])
        .output()
        .expect("running cargo");
    assert!(
        out.status.success(),
        "building the example failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    target_dir().join("debug/examples/tap_echo_time")
}

#[test]
fn the_tap_example_serves_echo_and_time() {
    let ns = Netns::new();
    let mut cmd = ns.command(example_bin());
    cmd.arg(Netns::TAP);
    let server = ns.spawn(cmd);
    assert!(server.wait_for_stdout("ready", T), "{}", server.dump());
    assert!(
        server
            .stdout()
            .contains("echo tcp+udp/7, time tcp/9999 on 192.0.2.2 over tap0"),
        "{}",
        server.dump()
    );
    let echo = ns.run_peer("echo_client.py", &[Netns::MINNOW_V4, "7", "100000"], T);
    echo.assert_success("echo_client.py against the example");
    assert!(
        echo.stdout.contains("echoed 100000 bytes intact"),
        "{}",
        echo.dump()
    );
    let time = ns.run_peer("time_client.py", &[Netns::MINNOW_V4, "9999"], T);
    time.assert_success("time_client.py against the example");
    assert!(
        time.stdout.starts_with("The time got from the server is "),
        "{}",
        time.dump()
    );
}
