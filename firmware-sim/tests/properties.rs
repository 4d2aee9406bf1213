//! Properties over many seeds: with loss up to 30%, duplication,
//! reordering and corruption, every task (the board's mail included: the
//! SMTP server's copy must be the composer's output byte for byte) either
//! succeeds with identical bytes or fails with a reported error (never
//! silently corrupt), the chat order holds, nothing panics, and every
//! client finishes by itself.
//!
//! 500 seeds in four tests (the harness runs them in parallel), each seed a
//! small run of every service on its own random wire ([`Faults::random`]).
//! Seed N again: `minnow-sim --small --random-faults --seed N`.

use minnow_sim::sim::RunEnd;
use minnow_sim::{Faults, ScenarioConfig, run};

/// Runs `seeds` and checks every property; returns (tasks ok, tasks failed).
fn check(seeds: std::ops::Range<u64>) -> (usize, usize) {
    let (mut ok, mut failed) = (0, 0);
    for seed in seeds {
        let faults = Faults::random(seed);
        let report = run(&ScenarioConfig::small(seed, faults), None);
        let why = || format!("seed {seed}, {faults}\n{}", report.summary_text(None));
        assert_eq!(report.end, RunEnd::Done, "{}", why());
        assert!(!report.any_corrupt(), "{}", why());
        assert_eq!(report.rows.len(), 13, "every task reports: {}", why());
        assert!(
            report
                .rows
                .iter()
                .any(|r| r.node == "board" && r.outcome.task.starts_with("mail")),
            "the board's mail reports: {}",
            why()
        );
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
        let faults = Faults::random(seed).without_faults();
        let report = run(&ScenarioConfig::small(seed, faults), None);
        assert!(
            report.all_ok(),
            "seed {seed}\n{}",
            report.summary_text(None)
        );
    }
}

#[test]
fn discard_takes_every_stream_under_faults_and_says_so_on_the_timeline() {
    use minnow_sim::scenario::config::Mix;
    use minnow_sim::tasks::Verdict;
    for seed in 0..20 {
        let faults = Faults::random(seed);
        let config = ScenarioConfig {
            mix: Mix::Discard,
            ..ScenarioConfig::small(seed, faults)
        };
        let report = run(&config, None);
        let why = || format!("seed {seed}, {faults}\n{}", report.summary_text(None));
        assert_eq!(report.end, RunEnd::Done, "{}", why());
        assert!(!report.any_corrupt(), "{}", why());
        assert_eq!(report.rows.len(), config.clients, "{}", why());
        // The board's own word for every stream it took whole.
        let bytes = config.workload.echo_bytes;
        let ok = report
            .rows
            .iter()
            .filter(|r| r.outcome.verdict == Verdict::Ok)
            .count();
        // Every stream the board reports closed, it took whole (a run may
        // end before the board's last FIN is acknowledged: fewer lines than
        // clients is allowed, a short count is not).
        let end = format!("after {bytes} bytes");
        let closed: Vec<String> = report
            .timeline
            .entries()
            .iter()
            .map(|e| e.to_string())
            .filter(|l| l.contains("discard tcp/9: closed"))
            .collect();
        assert!(closed.iter().all(|l| l.ends_with(&end)), "{closed:?}");
        assert!(!closed.is_empty() || ok == 0, "{}", why());
        if faults.loss < 0.1 {
            assert_eq!(ok, config.clients, "{}", why());
        }
    }
}
