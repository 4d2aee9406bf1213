//! An idle `minnow serve` sleeps in poll(2): it uses (almost) no CPU.

use std::time::Duration;

use minnow_tests::Netns;

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may contain spaces) start after ')'.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// `minnow serve DRIVER --daytime --rfc868`, left alone for 3 s, uses at
/// most 5 ticks (50 ms) of CPU, all its threads together.
fn assert_idle(driver: &[&str]) {
    let ns = Netns::new();
    let mut args = driver.to_vec();
    args.extend(["--daytime", "--rfc868"]);
    let server = ns.serve(&args);
    std::thread::sleep(Duration::from_millis(500));
    let before = cpu_ticks(server.pid());
    std::thread::sleep(Duration::from_secs(3));
    let used = cpu_ticks(server.pid()) - before;
    // 100 ticks per second: 3 s of busy-waiting would be ~300; allow 5 (50 ms).
    assert!(
        used <= 5,
        "idle minnow serve {driver:?} used {used} ticks of CPU in 3 s"
    );
}

#[test]
fn idle_serve_uses_no_cpu() {
    assert_idle(&[]);
}

/// The embassy-net-tuntap driver's reactor thread and the loop's wake-ups
/// sleep too.
#[test]
fn idle_serve_over_embassy_tuntap_uses_no_cpu() {
    assert_idle(&["--driver", "embassy-tuntap"]);
}
