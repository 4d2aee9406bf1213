#[test]
fn probe_panic_cleanup() {
    let r = std::panic::catch_unwind(|| {
        let ns = minnow_tests::Netns::new();
        let p = ns.spawn_peer("echo_server.py", &["192.0.2.1", "12345"]);
        std::fs::write("/tmp/probe_pid", format!("{} {}", p.pid(), ns.name())).unwrap();
        std::mem::forget(p);
        panic!("boom");
    });
    assert!(r.is_err());
    let s = std::fs::read_to_string("/tmp/probe_pid").unwrap();
    let mut it = s.split(' ');
    let pid = it.next().unwrap();
    let name = it.next().unwrap();
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    let l = std::process::Command::new("ip").args(["netns","list"]).output().unwrap();
    assert!(!String::from_utf8_lossy(&l.stdout).contains(name));
}
