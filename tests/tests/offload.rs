//! TAP offload: with the virtio-net header and the kernel's checksum and
//! segmentation offloads (the default), large echoes and file transfers are
//! byte-exact and really travel as TCP super-frames both ways; with
//! `--no-offload` the same transfers work on plain frames.

use std::time::Duration;

use minnow_tests::scenarios::{echo_client, file_client, files, serve_files};
use minnow_tests::{Netns, Proc, TempDir, sha256_file};

const T: Duration = Duration::from_secs(60);
const ECHO_BYTES: usize = 4_000_000;

/// The counters of Minnow's `stopped; tap0: ...` line.
#[derive(Debug, Default)]
struct Stats {
    frames_in: u64,
    gso_in: u64,
    frames_out: u64,
    gso_out: u64,
    errors: u64,
    bad_checksums: u64,
    malformed: u64,
}

/// The numbers of `text` in order (`in: 12 frames (3 super-frames), ...`).
fn numbers(text: &str) -> Vec<u64> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect()
}

/// Stops `server` with SIGTERM and reads the device's counters from its
/// last line.
fn stop(mut server: Proc) -> (Stats, String) {
    assert!(server.signal(libc::SIGTERM));
    server
        .wait(T)
        .expect("minnow serve still running after SIGTERM");
    let text = server.stderr();
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("minnow: stopped; tap0: "))
        .unwrap_or_else(|| panic!("no stop line with the device's counters:\n{text}"));
    // in: F (G super-frames), B bytes; out: F (G super-frames), B bytes;
    // E errors, D dropped (queue full), C bad checksums, M malformed
    let n = numbers(line);
    assert_eq!(n.len(), 10, "{line}");
    let stats = Stats {
        frames_in: n[0],
        gso_in: n[1],
        frames_out: n[3],
        gso_out: n[4],
        errors: n[6],
        bad_checksums: n[8],
        malformed: n[9],
    };
    (stats, text)
}

/// Echoes over both families and fetches a 10 MiB file over both, every
/// byte compared.
fn transfers(ns: &Netns, extra: &[&str]) -> (Stats, String) {
    let dir = files();
    let out = TempDir::new("minnow-offload");
    let server = serve_files(ns, dir.path(), extra);
    for host in [Netns::MINNOW_V4, Netns::MINNOW_V6] {
        let run = echo_client(ns, host, ECHO_BYTES);
        run.assert_success(&format!("echo_client.py {host} {extra:?}"));
        assert!(
            run.stdout
                .contains(&format!("echoed {ECHO_BYTES} bytes intact")),
            "{}",
            run.stdout
        );
        let name = "f10485760.bin";
        let got = out.join(format!("{name}.{}", host.replace(':', "_")));
        let run = file_client(ns, host, &got, Some(&format!("GET {name}")));
        run.assert_success(&format!("file_client.py {host} {extra:?}"));
        assert_eq!(
            sha256_file(&got),
            sha256_file(&dir.join(name)),
            "{host} {extra:?}"
        );
    }
    stop(server)
}

#[test]
fn offload_moves_super_frames_both_ways_byte_exact() {
    let ns = Netns::new();
    let (stats, text) = transfers(&ns, &[]);
    eprintln!("offload on: {stats:?}");
    // The kernel of a test machine takes all three; the startup line says so.
    assert!(
        text.contains("(mtu 1500, offload: checksum, TSO4, TSO6)"),
        "{text}"
    );
    // The kernel handed over super-frames (TSO4/TSO6 from Linux's sockets),
    // and took ours (smoltcp's IPv4 segmentation offload).
    assert!(stats.gso_in > 0, "{stats:?}\n{text}");
    assert!(stats.gso_out > 0, "{stats:?}\n{text}");
    // Fewer frames than 1500-byte ones would need for the bytes moved
    // (2 x 4 MB echoed + 2 x 10 MiB files, each way at least once).
    let at_mtu = (2 * (2 * ECHO_BYTES + (10 << 20)) / 1448) as u64;
    assert!(
        stats.frames_in + stats.frames_out < at_mtu,
        "{stats:?} vs {at_mtu} at MTU size\n{text}"
    );
    assert_eq!(
        (stats.errors, stats.bad_checksums, stats.malformed),
        (0, 0, 0),
        "{text}"
    );
}

#[test]
fn no_offload_moves_plain_frames_byte_exact() {
    let ns = Netns::new();
    let (stats, text) = transfers(&ns, &["--no-offload"]);
    eprintln!("--no-offload: {stats:?}");
    assert!(text.contains("(mtu 1500, offload off)"), "{text}");
    assert_eq!((stats.gso_in, stats.gso_out), (0, 0), "{text}");
    assert!(
        stats.frames_in > 1000 && stats.frames_out > 1000,
        "{stats:?}"
    );
    assert_eq!(
        (stats.errors, stats.bad_checksums, stats.malformed),
        (0, 0, 0),
        "{text}"
    );
}

/// A persistent device that a process with offload left behind (a killed
/// one resets nothing) still carries plain frames for `--no-offload`, and
/// offload again afterwards.
#[test]
fn offload_then_no_offload_then_offload_on_the_same_device() {
    let ns = Netns::new();
    for extra in [&[][..], &["--no-offload"][..], &[][..]] {
        let mut server = ns.serve(extra);
        let run = echo_client(&ns, Netns::MINNOW_V4, 1_000_000);
        run.assert_success(&format!("echo_client.py {extra:?}"));
        assert!(
            run.stdout.contains("echoed 1000000 bytes intact"),
            "{extra:?}: {}",
            run.stdout
        );
        // SIGKILL: no chance to reset the device's offloads.
        server.kill();
    }
}

/// The embassy-net-tuntap driver reads plain frames: a device a killed
/// Minnow left with its offloads on still serves it intact.
#[test]
fn embassy_driver_after_a_killed_offload_run() {
    let ns = Netns::new();
    let mut server = ns.serve(&[]);
    echo_client(&ns, Netns::MINNOW_V4, 100_000).assert_success("echo_client.py, offload");
    server.kill();
    let _server = ns.serve(&["--driver", "embassy-tuntap"]);
    for host in [Netns::MINNOW_V4, Netns::MINNOW_V6] {
        let run = echo_client(&ns, host, 1_000_000);
        run.assert_success(&format!("echo_client.py {host}, embassy-tuntap"));
        assert!(
            run.stdout.contains("echoed 1000000 bytes intact"),
            "{}",
            run.stdout
        );
    }
}
