//! `minnow serve --driver embassy-tuntap`: the services over the
//! embassy-net-tuntap driver through the minnow-embassy adapter, reached by
//! the notes' clients in the test namespace. The checks are the same
//! scenarios the default TAP device passes (`minnow_tests::scenarios`).

use std::time::Duration;

use minnow_tests::{Netns, scenarios};

const EMBASSY: &[&str] = &["--driver", "embassy-tuntap"];

#[test]
fn the_startup_line_names_the_driver() {
    let ns = Netns::new();
    let server = ns.serve(EMBASSY);
    let line = server.stderr();
    assert!(
        line.contains("on tap0 (embassy-net-tuntap driver, mtu 1500)"),
        "{line}"
    );
}

#[test]
fn notes_time_client_over_embassy_tuntap() {
    scenarios::time_over_both_families(&Netns::new(), EMBASSY);
}

#[test]
fn notes_echo_client_one_megabyte_over_embassy_tuntap() {
    scenarios::echo_one_megabyte(&Netns::new(), EMBASSY);
}

#[test]
fn notes_file_client_every_size_over_embassy_tuntap() {
    scenarios::file_every_size(&Netns::new(), EMBASSY);
}

#[test]
fn notes_chat_clients_over_embassy_tuntap() {
    scenarios::chat_transcript(&Netns::new(), EMBASSY);
}

#[test]
fn a_link_taken_down_and_up_again_is_reported_and_served_after() {
    let ns = Netns::new();
    let server = ns.serve(EMBASSY);
    ns.ip(&["link", "set", Netns::TAP, "down"]);
    let t = Duration::from_secs(10);
    assert!(
        server.wait_for_stderr("tap0: link down", t),
        "{}",
        server.dump()
    );
    ns.ip(&["link", "set", Netns::TAP, "up"]);
    assert!(
        server.wait_for_stderr("tap0: link up", t),
        "{}",
        server.dump()
    );
    // Linux dropped its routes with the link: the addresses come back with it.
    let out = scenarios::echo_client(&ns, Netns::MINNOW_V4, 100_000);
    out.assert_success("echo after the link came back");
    assert!(
        out.stdout.contains("echoed 100000 bytes intact"),
        "{}",
        out.stdout
    );
    assert!(server.is_running(), "{}", server.dump());
}

#[test]
fn pcap_is_refused_with_the_embassy_driver() {
    let ns = Netns::new();
    let mut cmd = ns.minnow_command(&[
        "serve",
        "--tap",
        "tap0",
        "--driver",
        "embassy-tuntap",
        "--pcap",
        "/nonexistent/x.pcap",
    ]);
    cmd.env("RUST_BACKTRACE", "0");
    let out = ns.run(cmd, Duration::from_secs(30));
    out.assert_failure("--pcap with embassy-tuntap");
    assert!(out.stderr.contains("--driver tap"), "{}", out.dump());
}
