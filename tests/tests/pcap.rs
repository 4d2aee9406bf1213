//! `--pcap FILE`: a classic pcap of every frame, readable by standard tools.

use std::time::Duration;

use minnow_tests::{Netns, TempDir};

#[test]
fn serve_records_every_frame_in_a_readable_pcap() {
    let ns = Netns::new();
    let dir = TempDir::new("minnow-pcap");
    let pcap = dir.join("serve.pcap");
    let mut server = ns.serve(&["--pcap", pcap.to_str().unwrap()]);
    let mut cmd = ns.command("python3");
    cmd.args([
        "-c",
        "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5); \
         s.sendto(b'pcap-probe', ('192.0.2.2', 12345)); assert s.recv(100) == b'pcap-probe'",
    ]);
    ns.run(cmd, Duration::from_secs(30))
        .assert_success("UDP echo");
    server.kill();
    // Parse the file as libpcap does: global header, then records; find the
    // echoed datagram in both directions.
    let script = r#"
import struct, sys
data = open(sys.argv[1], 'rb').read()
magic, major, minor, _, _, snaplen, linktype = struct.unpack('<IHHiIII', data[:24])
assert (magic, major, minor, linktype) == (0xa1b2c3d4, 2, 4, 1), (hex(magic), major, minor, linktype)
off, frames, probes = 24, 0, 0
while off < len(data):
    sec, usec, caplen, origlen = struct.unpack('<IIII', data[off:off + 16])
    frame = data[off + 16:off + 16 + caplen]
    assert len(frame) == caplen and caplen <= origlen and usec < 1000000
    frames += 1
    probes += frame.endswith(b'pcap-probe')
    off += 16 + caplen
assert off == len(data), 'trailing bytes'
assert probes == 2, probes
print(frames, 'frames')
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&pcap)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
