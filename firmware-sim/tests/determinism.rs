//! One seed, one run: two runs of a scenario give the same trace hash (every
//! delivered frame with its time), the same timeline and the same report.

use minnow_sim::{Faults, ScenarioConfig, run};

#[test]
fn the_default_scenario_runs_the_same_twice() {
    let config = ScenarioConfig::default();
    let a = run(&config, None);
    let b = run(&config, None);
    assert_eq!(a.trace_hash, b.trace_hash);
    assert_eq!(a.timeline, b.timeline);
    assert_eq!(a, b);
    assert!(a.all_ok(), "{}", a.summary_text(None));
}

#[test]
fn faulty_small_runs_repeat_and_seeds_differ() {
    let faults = Faults {
        loss: 0.2,
        duplicate: 0.05,
        reorder: 0.1,
        corrupt: 0.02,
        ..Faults::default()
    };
    let mut hashes = Vec::new();
    for seed in [3, 4] {
        let config = ScenarioConfig::small(seed, faults);
        let a = run(&config, None);
        let b = run(&config, None);
        assert_eq!(a, b, "seed {seed}");
        hashes.push(a.trace_hash);
    }
    assert_ne!(hashes[0], hashes[1]);
}

#[test]
fn the_pcap_capture_does_not_change_the_run() {
    let config = ScenarioConfig::small(9, Faults::default());
    let plain = run(&config, None);
    let file = std::env::temp_dir().join(format!("minnow-sim-{}.pcap", std::process::id()));
    let out = std::fs::File::create(&file).unwrap();
    let captured = run(&config, Some(Box::new(out)));
    let bytes = std::fs::read(&file).unwrap();
    let _ = std::fs::remove_file(&file);
    assert_eq!(plain.trace_hash, captured.trace_hash);
    assert_eq!(&bytes[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
    // Header, then one record (16 bytes + frame) per delivery.
    assert!(bytes.len() as u64 > 24 + 16 * captured.deliveries);
}
