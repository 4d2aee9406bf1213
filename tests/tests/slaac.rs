//! IPv6 stateless autoconfiguration (`minnow serve --slaac`) against radvd
//! in the test's namespace: Minnow forms its address from the advertised
//! prefix and its MAC, takes the router as its default route, and the
//! notes' clients reach it there, on the link and from off the link.

use std::time::Duration;

use minnow_tests::dhcp::dnsmasq;
use minnow_tests::{Netns, TempDir, peer, radvd};

const T: Duration = Duration::from_secs(60);
/// Minnow's address in radvd's prefix: the EUI-64 of its default MAC
/// 02:00:00:00:00:02.
const AUTOCONF: &str = "2001:db8:5::ff:fe00:2";
/// An address of the namespace off Minnow's link: only the default route
/// reaches it.
const OFF_LINK: &str = "2001:db8:77::1";

#[test]
fn serve_with_slaac_takes_the_advertised_prefix_and_the_router_and_serves_there() {
    let ns = Netns::new();
    let dir = TempDir::new("slaac");
    ns.ip(&["addr", "add", &format!("{OFF_LINK}/128"), "dev", "lo"]);
    let router = radvd::start(&ns, &dir);
    let server = ns.minnow(&[
        "serve",
        "--tap",
        Netns::TAP,
        "--ip",
        Netns::MINNOW_V4_CIDR,
        "--slaac",
    ]);
    let line = format!("slaac address {AUTOCONF}/64 router fe80::");
    let dns = format!(" dns {}", radvd::DNS);
    // The line's end, so that the whole line is there.
    assert!(
        server.wait_for_stderr(&dns, T),
        "no `{line}...{dns}`\n--- minnow\n{}\n--- radvd\n{}",
        server.stderr(),
        router.stderr()
    );

    assert!(
        server
            .stderr()
            .lines()
            .any(|l| l.contains(&line) && l.ends_with(&dns)),
        "the advertised DNS server not reported: {}",
        server.stderr()
    );

    // On the link: the notes' time and echo clients.
    let mut cmd = ns.command("python3");
    cmd.arg(peer("time_client.py")).args([AUTOCONF, "9999"]);
    let out = ns.run(cmd, T);
    out.assert_success("time_client.py against the autoconfigured address");
    assert!(
        out.stdout.contains("The time got from the server is"),
        "{}",
        out.stdout
    );
    let mut cmd = ns.command("python3");
    cmd.arg(peer("echo_client.py"))
        .args([AUTOCONF, "12345", "50000"]);
    ns.run(cmd, T)
        .assert_success("echo_client.py against the autoconfigured address");

    // From off the link: Minnow's answers go through the advertised router.
    let script = format!(
        "import socket\n\
         s = socket.create_connection(('{AUTOCONF}', 12345), timeout=5, source_address=('{OFF_LINK}', 0))\n\
         s.sendall(b'off-link')\n\
         got = b''\n\
         while len(got) < 8:\n    d = s.recv(64)\n    assert d, got\n    got += d\n\
         assert got == b'off-link', got\n\
         print('ok')\n"
    );
    let mut cmd = ns.command("python3");
    cmd.args(["-c", &script]);
    let out = ns.run(cmd, T);
    out.assert_success("echo from an address off Minnow's link");
    assert_eq!(out.stdout.trim(), "ok");
}

#[test]
fn slaac_is_refused_over_the_os_sockets() {
    let ns = Netns::new();
    let mut cmd = ns.command(minnow_tests::minnow_bin());
    cmd.args(["time", "192.0.2.1", "--net", "os", "--slaac"]);
    let out = ns.run(cmd, T);
    assert_eq!(out.status.and_then(|s| s.code()), Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("--slaac"), "{}", out.stderr);
}

#[test]
fn a_client_with_slaac_resolves_names_with_the_advertised_dns_server() {
    let ns = Netns::new();
    let dir = TempDir::new("slaac-dns");
    ns.ip(&[
        "addr",
        "add",
        &format!("{}/128", radvd::DNS),
        "dev",
        Netns::TAP,
        "nodad",
    ]);
    let _router = radvd::start(&ns, &dir);
    // dnsmasq answers on every address of tap0, the advertised one too.
    let _dns = dnsmasq(&ns);
    let _time = ns.spawn_peer("time_server.py", &[Netns::HOST_V4, "9999"]);
    let mut cmd = ns.command(minnow_tests::minnow_bin());
    cmd.args(["time", "timehost.test:9999", "--slaac"]);
    let out = ns.run(cmd, T);
    out.assert_success("minnow time with a name, DNS from the router advertisement");
    assert_eq!(out.stdout.trim_end().len(), 24, "{}", out.stdout);
}
