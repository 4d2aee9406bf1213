//! The bench's crowd of echo clients (seed 1, 48 clients x 256 KiB).

use minnow_sim::tasks::Verdict;
use minnow_sim::{ScenarioConfig, run};

/// A client whose stream came back whole sees the board's FIN and passes.
/// Two of them used to wait out their 60 s receive timeout in FIN-WAIT-1:
/// the board dropped their retransmitted FIN (its data was already in) and
/// answered with duplicate ACKs, and smoltcp's fast retransmit, with no data
/// left to resend, stopped retransmitting the FIN (see core's
/// `keep_fin_alive`).
#[test]
fn every_echo_client_that_got_its_stream_back_sees_the_close() {
    let bytes = 256 * 1024;
    let report = run(&ScenarioConfig::echo_crowd(1, 48, bytes), None);
    let whole: Vec<_> = report
        .rows
        .iter()
        .filter(|r| r.outcome.bytes == bytes)
        .collect();
    assert!(whole.len() >= 40, "{}", report.summary_text(None));
    for r in whole {
        assert_eq!(
            r.outcome.verdict,
            Verdict::Ok,
            "{}",
            report.summary_text(None)
        );
    }
}
