//! No `minnow` keeps root after opening its TAP device, and the files it
//! creates are never written through a planted symlink.

use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::Path;
use std::time::Duration;

use minnow_tests::{NETS, Netns, Proc, TempDir, minnow_bin};

const T: Duration = Duration::from_secs(60);

/// The real, effective, saved and filesystem uids of a process.
fn uids(proc: &Proc) -> Vec<u32> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", proc.pid())).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .unwrap_or_else(|| panic!("{status}"));
    line.split_whitespace()
        .skip(1)
        .map(|n| n.parse().unwrap())
        .collect()
}

/// Whether the tests run in a user namespace that maps only uid 0, where
/// no other uid can be taken (rootless mode without newuidmap).
fn only_uid_zero_mapped() -> bool {
    let map = std::fs::read_to_string("/proc/self/uid_map").unwrap();
    let lines: Vec<Vec<&str>> = map
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    lines.len() == 1 && lines[0][0] == "0" && lines[0][2] == "1"
}

/// Checks the server became `uid`; where the namespace has no such uid, it
/// must have said it stays uid 0 there instead.
fn assert_runs_as(server: &Proc, uid: u32) {
    if only_uid_zero_mapped() {
        assert_eq!(uids(server), [0; 4]);
        assert!(
            server
                .stderr()
                .contains("staying uid 0 of this user namespace"),
            "{}",
            server.stderr()
        );
    } else {
        assert_eq!(uids(server), [uid; 4], "{}", server.stderr());
    }
}

#[test]
fn serve_started_as_root_gives_root_up() {
    let ns = Netns::new();
    let dir = TempDir::new("minnow-priv");
    std::fs::write(dir.join("hello.txt"), b"hi\n").unwrap();
    let files = dir.path().to_str().unwrap();
    // Root itself, no sudo, no --user: nobody. The folder was opened
    // before, so it is still served.
    let server = ns.serve(&["--files", files, "--default", "hello.txt"]);
    assert_runs_as(&server, 65534);
    let script = "import socket; s = socket.create_connection(('192.0.2.2', 60000)); \
                  s.sendall(b'GET hello.txt\\n'); print(s.recv(100).decode(), end='')";
    let out = ns.run(ns.command("python3").args(["-c", script]), T);
    assert_eq!(out.stdout, "hi\n", "{}", server.stderr());
    drop(server);

    // Through sudo: the invoking user, who also gets the capture (0600).
    let pcap = dir.join("sudo.pcap");
    let mut cmd = ns.minnow_command(&[
        "serve",
        "--tap",
        Netns::TAP,
        "--ip",
        Netns::MINNOW_V4_CIDR,
        "--pcap",
        pcap.to_str().unwrap(),
    ]);
    cmd.env("SUDO_UID", "4321").env("SUDO_GID", "4322");
    let server = ns.spawn_ready(cmd, minnow_tests::READY_LINE, T);
    assert_runs_as(&server, 4321);
    let meta = std::fs::metadata(&pcap).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    if !only_uid_zero_mapped() {
        assert_eq!((meta.uid(), meta.gid()), (4321, 4322));
    }
    drop(server);

    // --user NAME wins; --user root keeps root, said explicitly.
    let server = ns.serve(&["--user", "nobody"]);
    assert_runs_as(&server, 65534);
    drop(server);
    let server = ns.serve(&["--user", "root"]);
    assert_eq!(uids(&server), [0; 4]);
    drop(server);
    let out = ns.run(ns.minnow_command(&["serve", "--user", "no-such-user-x"]), T);
    assert_eq!(out.status.and_then(|s| s.code()), Some(2), "{}", out.stderr);
}

/// A file outside, and a symlink to it at `at`.
fn plant(victim: &Path, at: &Path) {
    std::fs::write(victim, b"untouched").unwrap();
    symlink(victim, at).unwrap();
}

#[test]
fn a_planted_symlink_at_the_capture_or_the_part_file_is_not_followed() {
    let ns = Netns::new();
    let dir = TempDir::new("minnow-plant");
    let victim = dir.join("victim");

    let pcap = dir.join("cap.pcap");
    plant(&victim, &pcap);
    let out = ns.run(
        ns.minnow_command(&[
            "serve",
            "--tap",
            Netns::TAP,
            "--pcap",
            pcap.to_str().unwrap(),
        ]),
        T,
    );
    assert_eq!(out.status.and_then(|s| s.code()), Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("already exists"), "{}", out.stderr);
    assert_eq!(std::fs::read(&victim).unwrap(), b"untouched");
    // A new capture is created, mode 0600.
    let fresh = dir.join("fresh.pcap");
    let server = ns.serve(&["--pcap", fresh.to_str().unwrap()]);
    assert_eq!(
        std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777,
        0o600
    );
    drop(server);

    let src = dir.join("served.bin");
    std::fs::write(&src, b"the file\n").unwrap();
    let _peer = ns.spawn_peer(
        "file_server.py",
        &[Netns::HOST_V4, "60000", src.to_str().unwrap()],
    );
    for net in NETS {
        let got = dir.join(format!("got.{net}"));
        let part = dir.join(format!("got.{net}.part"));
        std::fs::remove_file(&victim).unwrap();
        plant(&victim, &part);
        let get = |ns: &Netns| {
            let mut cmd = ns.command(minnow_bin());
            cmd.args([
                "get",
                "192.0.2.1",
                "-o",
                got.to_str().unwrap(),
                "--net",
                net,
            ]);
            ns.run(cmd, T)
        };
        let out = get(&ns);
        assert_eq!(
            out.status.and_then(|s| s.code()),
            Some(1),
            "{net}: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains("not a regular file of ours"),
            "{net}: {}",
            out.stderr
        );
        assert_eq!(std::fs::read(&victim).unwrap(), b"untouched", "{net}");
        assert!(!got.exists(), "{net}");
        // A stale .part of our own (an earlier failed run) is replaced.
        std::fs::remove_file(&part).unwrap();
        std::fs::write(&part, b"stale partial data").unwrap();
        get(&ns).assert_success(&format!("{net}: over a stale .part"));
        assert_eq!(std::fs::read(&got).unwrap(), b"the file\n", "{net}");
        assert!(!part.exists(), "{net}");
    }
}

#[test]
fn help_says_who_each_command_runs_as() {
    let out = std::process::Command::new(minnow_bin())
        .arg("--help")
        .output()
        .expect("run minnow --help");
    let text = String::from_utf8_lossy(&out.stdout);
    for words in ["SUDO_UID", "runs as nobody", "--user root", "0600"] {
        assert!(text.contains(words), "{words}: {text}");
    }
    let out = std::process::Command::new(minnow_bin())
        .args(["serve", "--help"])
        .output()
        .expect("run minnow serve --help");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("--user <NAME>"), "{text}");
    assert!(text.contains("--dot-files"), "{text}");
}
