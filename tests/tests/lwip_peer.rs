//! The lwIP reference peer (`tests/lwip/lwip_peer.c`, see `minnow_tests::lwip`)
//! still builds and serves, so the benchmarks that compare against it can
//! trust it: 1 MB through its TCP echo, a 1 MiB download from its source
//! byte for byte, and its UDP echo.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

use minnow_tests::{Netns, lwip, peer};

const T: Duration = Duration::from_secs(60);

fn addr(port: u16) -> SocketAddr {
    SocketAddr::new(Netns::MINNOW_V4.parse().unwrap(), port)
}

#[test]
fn lwip_peer_echoes_a_megabyte_and_sends_a_mebibyte_of_its_pattern() {
    let ns = Netns::new();
    let lwip = lwip::start(&ns);

    let mut cmd = ns.command("python3");
    cmd.arg(peer("echo_client.py"))
        .args([Netns::MINNOW_V4, "12345", "1000000"]);
    let out = ns.run(cmd, T);
    out.assert_success("echo_client.py 1 MB against lwIP");
    assert!(
        out.stdout.contains("echoed 1000000 bytes intact"),
        "{}\n{}",
        out.stdout,
        lwip.dump()
    );

    let len = 1 << 20;
    let mut s = ns
        .connect_tcp(addr(lwip::SOURCE_PORT), Duration::from_secs(5))
        .expect("connect to the lwIP source");
    s.set_read_timeout(Some(T)).unwrap();
    s.write_all(format!("{len}\n").as_bytes()).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).expect("reading the source");
    assert_eq!(got.len(), len, "{}", lwip.dump());
    assert!(got == lwip::pattern(0, len), "the source's bytes differ");

    let mut cmd = ns.command("python3");
    cmd.arg(peer("udp_echo_client.py"))
        .args([Netns::MINNOW_V4, "12345", "50"]);
    let out = ns.run(cmd, T);
    out.assert_success("udp_echo_client.py against lwIP");
    assert!(
        out.stdout.contains("50/50 datagrams echoed"),
        "{}",
        out.stdout
    );
}
