//! dnsmasq as the namespace's DHCP and DNS server, for the tests of
//! Minnow's DHCP client (the host runtime's and the board images').

use std::time::Duration;

use crate::{Netns, Proc};

/// Starts dnsmasq on the namespace's `tap0` (DHCP 192.0.2.100–150 with
/// router and DNS 192.0.2.1; `timehost.test` is 192.0.2.1) and waits until
/// it serves.
#[track_caller]
pub fn dnsmasq(ns: &Netns) -> Proc {
    let lease_file = std::env::temp_dir().join(format!(
        "minnow-leases-{}-{}",
        std::process::id(),
        ns.name()
    ));
    let mut cmd = ns.command("dnsmasq");
    cmd.args([
        "--no-daemon",
        "--conf-file=/dev/null",
        "--no-resolv",
        "--no-hosts",
        "--interface=tap0",
        "--bind-interfaces",
        "--user=root",
        "--pid-file=",
        "--dhcp-range=192.0.2.100,192.0.2.150,255.255.255.0,1h",
        "--dhcp-option=option:router,192.0.2.1",
        "--dhcp-option=option:dns-server,192.0.2.1",
        "--host-record=timehost.test,192.0.2.1",
        "--log-dhcp",
    ]);
    cmd.arg(format!("--dhcp-leasefile={}", lease_file.display()));
    let p = ns.spawn(cmd);
    assert!(
        p.wait_for_stderr("started", Duration::from_secs(10)),
        "dnsmasq: {}",
        p.stderr()
    );
    p
}

/// The IPv4 address of Minnow's `dhcp address ADDR/LEN ...` log line;
/// panics without one.
#[track_caller]
pub fn leased_address(log: &str) -> String {
    let line = log
        .lines()
        .find(|l| l.contains("dhcp address"))
        .unwrap_or_else(|| panic!("no dhcp line in:\n{log}"));
    let cidr = line
        .split("dhcp address ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    cidr.split('/').next().unwrap_or(cidr).to_string()
}
