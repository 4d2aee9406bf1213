//! A TAP device that cannot be opened gives a clear message and its exit
//! code; so do a bad command line, a refusing peer and a silent one.

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
    // 77: no permission (sysexits' EX_NOPERM).
    assert_eq!(
        out.status.and_then(|s| s.code()),
        Some(77),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("root") || out.stderr.contains("CAP_NET_ADMIN"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("mnwnew0"), "{}", out.stderr);
}

#[test]
fn an_ordinary_user_without_a_tap_gets_the_os_sockets() {
    let ns = Netns::new();
    let _peer = ns.spawn_peer("time_server.py", &[Netns::HOST_V4, "9999"]);
    let mut cmd = ns.command("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(minnow_bin())
        .args(["time", "192.0.2.1:9999"]);
    let out = ns.run(cmd, T);
    out.assert_success("minnow time as an ordinary user, no --net");
    assert_eq!(out.stdout.trim_end().len(), 24, "{}", out.stdout);
    // What only Minnow's own stack has is refused over the OS's sockets,
    // and the server needs a TAP device whoever runs it.
    for args in [
        &["time", "192.0.2.1:9999", "--net", "os", "--dhcp"][..],
        &[
            "get",
            "192.0.2.1",
            "-o",
            "/dev/null",
            "--net",
            "os",
            "--pcap",
            "x.pcap",
        ][..],
        &["serve", "--net", "os"][..],
    ] {
        let out = ns.run(ns.minnow_command(args), T);
        assert_eq!(
            out.status.and_then(|s| s.code()),
            Some(2),
            "{args:?}: {}",
            out.stderr
        );
        assert!(out.stderr.contains("--net"), "{args:?}: {}", out.stderr);
    }
}

#[test]
fn overlong_interface_name_is_refused() {
    let ns = Netns::new();
    let mut cmd = ns.command(minnow_bin());
    cmd.args(["serve", "--tap", "a-name-far-too-long"]);
    let out = ns.run(cmd, T);
    assert_eq!(out.status.and_then(|s| s.code()), Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("15"), "{}", out.stderr);
}

#[test]
fn bad_addresses_are_refused_before_anything_is_opened() {
    let ns = Netns::new();
    for args in [
        &["serve", "--ip", "192.0.2.300/24"][..],
        &["time", "192.0.2.1:70000"][..],
        // Numbers past their bounds (a huge timeout once overflowed the clock).
        &["serve", "--idle-timeout", "18446744073709551615"][..],
        &["serve", "--handshake-timeout-ms", "5"][..],
        &["get", "192.0.2.1", "-o", "x", "--timeout", "99999999999"][..],
    ] {
        let mut cmd = ns.command(minnow_bin());
        cmd.args(args);
        let out = ns.run(cmd, T);
        assert_eq!(
            out.status.and_then(|s| s.code()),
            Some(2),
            "{args:?}: {}",
            out.stderr
        );
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
}

#[test]
fn a_silent_peer_times_out_with_124_and_an_interrupt_gives_130() {
    let ns = Netns::new();
    // Nothing answers ARP for 192.0.2.77: the connect times out.
    let mut cmd = ns.command(minnow_bin());
    cmd.args(["echo", "192.0.2.77", "--timeout", "2"]);
    let out = ns.run(cmd, T);
    assert_eq!(
        out.status.and_then(|s| s.code()),
        Some(124),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("timed out"), "{}", out.stderr);

    let mut cmd = ns.command(minnow_bin());
    cmd.args(["echo", "192.0.2.77", "--timeout", "30"]);
    let proc = ns.spawn(cmd);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(proc.signal(libc::SIGINT));
    let mut proc = proc;
    let status = proc
        .wait(T)
        .expect("minnow echo still running after SIGINT");
    assert_eq!(status.code(), Some(130), "{}", proc.stderr());
    assert!(proc.stderr().contains("interrupted"), "{}", proc.stderr());
}

#[test]
fn minnow_help_lists_every_command_and_the_exit_codes() {
    let out = std::process::Command::new(minnow_bin())
        .arg("--help")
        .output()
        .expect("run minnow --help");
    let text = String::from_utf8_lossy(&out.stdout);
    for word in [
        "serve",
        "time",
        "echo",
        "chat",
        "mail",
        "get",
        "chat (9009)",
    ] {
        assert!(text.contains(word), "{word}: {text}");
    }
    for code in [
        "0 done",
        "2 bad command line",
        "69 refused",
        "77 no permission",
        "124 timed out",
        "130 interrupted",
    ] {
        assert!(text.contains(code), "{code}: {text}");
    }
}

#[test]
fn version_completions_and_man_page_come_from_the_clap_definitions() {
    let run = |args: &[&str]| {
        let out = std::process::Command::new(minnow_bin())
            .args(args)
            .output()
            .expect("run minnow");
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8(out.stdout).expect("utf-8")
    };
    // `minnow 0.1.0 (git 0123456789ab)`: the revision this checkout builds.
    let version = run(&["--version"]);
    let rev = version
        .split("(git ")
        .nth(1)
        .and_then(|r| r.strip_suffix(")\n"))
        .unwrap_or_else(|| panic!("{version:?}"));
    assert!(
        rev.len() == 12 && rev.chars().all(|c| c.is_ascii_hexdigit()),
        "{version:?}"
    );
    for (shell, mark) in [
        ("bash", "_minnow()"),
        ("zsh", "#compdef minnow"),
        ("fish", "complete -c minnow"),
    ] {
        let script = run(&["completions", shell]);
        assert!(script.contains(mark), "{shell}: {script}");
        for command in ["serve", "chat", "mail", "get"] {
            assert!(script.contains(command), "{shell} lacks {command}");
        }
    }
    let man = run(&["man"]);
    assert!(man.contains(".TH minnow 1"), "{man}");
    assert!(
        man.contains("minnow\\-serve") || man.contains("serve"),
        "{man}"
    );
}
