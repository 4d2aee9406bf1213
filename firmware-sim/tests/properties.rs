//! Properties over many seeds: with loss up to 30%, duplication,
//! reordering and corruption, every task either succeeds with identical
//! bytes or fails with a reported error (never silently corrupt), the chat
//! order holds, nothing panics, and every client finishes by itself.
//!
//! 500 seeds in four tests (the harness runs them in parallel), each seed a
//! small run of every service on its own random wire.

use minnow_sim::rng::Rng;
use minnow_sim::sim::RunEnd;
use minnow_sim::{Faults, ScenarioConfig, run};
use smoltcp::time::Duration;

/// A random wire for `seed`: loss up to 30%, duplication up to 10%,
/// reordering up to 20%, corruption up to 5%, and random timing.
fn random_faults(seed: u64) -> Faults {
    let mut r = Rng::derive(seed, 0xfa017);
    Faults {
        latency: Duration::from_micros(r.range(50, 5_000)),
        jitter: Duration::from_micros(r.range(0, 2_000)),
        bandwidth_bps: [0, 1_000_000, 10_000_000, 100_000_000][r.upto(3) as usize],
        loss: r.unit() * 0.30,
        duplicate: r.unit() * 0.10,
        reorder: r.unit() * 0.20,
        reorder_delay: Duration::from_micros(r.range(1_000, 20_000)),
        corrupt: r.unit() * 0.05,
    }
}

/// Runs `seeds` and checks every property; returns (tasks ok, tasks failed).
fn check(seeds: std::ops::Range<u64>) -> (usize, usize) {
    let (mut ok, mut failed) = (0, 0);
    for seed in seeds {
        let faults = random_faults(seed);
        let report = run(&ScenarioConfig::small(seed, faults), None);
        let why = || format!("seed {seed}, {faults}\n{}", report.summary_text(None));
        assert_eq!(report.end, RunEnd::Done, "{}", why());
        assert!(!report.any_corrupt(), "{}", why());
        assert_eq!(report.rows.len(), 12, "every task reports: {}", why());
        failed += report.failed().count();
        ok += report.rows.len() - report.failed().count();
    }
    (ok, failed)
}

#[test]
fn seeds_0_to_124_never_corrupt() {
    let (ok, failed) = check(0..125);
    println!("seeds 0..125: {ok} tasks ok, {failed} failed with a reported error");
}

#[test]
fn seeds_125_to_249_never_corrupt() {
    let (ok, failed) = check(125..250);
    println!("seeds 125..250: {ok} tasks ok, {failed} failed with a reported error");
}

#[test]
fn seeds_250_to_374_never_corrupt() {
    let (ok, failed) = check(250..375);
    println!("seeds 250..375: {ok} tasks ok, {failed} failed with a reported error");
}

#[test]
fn seeds_375_to_499_never_corrupt() {
    let (ok, failed) = check(375..500);
    println!("seeds 375..500: {ok} tasks ok, {failed} failed with a reported error");
}

#[test]
fn a_clean_wire_delivers_everything() {
    for seed in 0..10 {
        let faults = random_faults(seed).without_faults();
        let report = run(&ScenarioConfig::small(seed, faults), None);
        assert!(report.all_ok(), "seed {seed}\n{}", report.summary_text(None));
    }
}
