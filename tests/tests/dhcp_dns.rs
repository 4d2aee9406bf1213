//! DHCPv4 and DNS against dnsmasq running in the test's namespace.

use std::time::Duration;

use minnow_tests::dhcp::{dnsmasq, leased_address};
use minnow_tests::{Netns, minnow_bin, peer};

const T: Duration = Duration::from_secs(60);

#[test]
fn serve_with_dhcp_gets_an_address_and_serves_on_it() {
    let ns = Netns::new();
    let _dns = dnsmasq(&ns);
    let server = ns.serve(&["--dhcp"]);
    let addr = leased_address(&server.stderr());
    assert!(addr.starts_with("192.0.2.1"), "{addr}");
    assert!(
        server.stderr().contains("router 192.0.2.1 dns 192.0.2.1"),
        "{}",
        server.stderr()
    );
    let mut cmd = ns.command("python3");
    cmd.arg(peer("time_client.py"))
        .args([addr.as_str(), "9999"]);
    ns.run(cmd, T)
        .assert_success("time_client.py against the DHCP address");
    let mut cmd = ns.command("python3");
    cmd.arg(peer("echo_client.py"))
        .args([addr.as_str(), "12345", "50000"]);
    ns.run(cmd, T)
        .assert_success("echo_client.py against the DHCP address");
}

#[test]
fn client_resolves_a_host_name_with_dns_from_dhcp() {
    let ns = Netns::new();
    let _dns = dnsmasq(&ns);
    let _time = ns.spawn_peer("time_server.py", &[Netns::HOST_V4, "9999"]);
    let mut cmd = ns.command(minnow_bin());
    cmd.args(["time", "timehost.test:9999", "--dhcp"]);
    let out = ns.run(cmd, T);
    out.assert_success("minnow time with a name, DNS from DHCP");
    assert_eq!(out.stdout.trim_end().len(), 24, "{}", out.stdout);
}

#[test]
fn client_resolves_with_a_static_dns_server_and_reports_unknown_names() {
    let ns = Netns::new();
    let _dns = dnsmasq(&ns);
    let _time = ns.spawn_peer("time_server.py", &[Netns::HOST_V4, "9999"]);
    let mut cmd = ns.command(minnow_bin());
    cmd.args(["time", "timehost.test", "--dns", "192.0.2.1"]);
    ns.run(cmd, T).assert_success("minnow time with --dns");

    let mut cmd = ns.command(minnow_bin());
    cmd.args(["time", "nosuchhost.test", "--dns", "192.0.2.1"]);
    let out = ns.run(cmd, T);
    assert_eq!(out.status.and_then(|s| s.code()), Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("nosuchhost.test"), "{}", out.stderr);

    let mut cmd = ns.command(minnow_bin());
    cmd.args(["time", "timehost.test"]);
    let out = ns.run(cmd, T);
    assert_eq!(out.status.and_then(|s| s.code()), Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("no DNS server"), "{}", out.stderr);
}
