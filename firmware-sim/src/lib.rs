//! Minnow's deterministic simulator: the core's services on many nodes of a
//! virtual Ethernet, on one virtual clock, with faults injected from one
//! seed.
//!
//! The pieces, bottom up:
//! - [`rng`]: the seeded generator every random choice comes from;
//! - [`wire`] with [`faults`]: the segment that delays, rate-limits,
//!   loses, duplicates, reorders and corrupts frames;
//! - [`device`], [`node`]: a node's network card, core's
//!   [`minnow::net::Stack`] and its [`node::Program`], polled with
//!   [`minnow::net::Stack::poll`];
//! - [`sim`]: the event loop; virtual time jumps to the next frame or
//!   deadline, so long timeouts cost no wall time;
//! - [`trace`], [`tcp_stats`], [`pcap`], [`timeline`]: what is recorded;
//! - [`programs`]: the board (core's service set, and a mail), the clients,
//!   and the simulated SNTP and SMTP servers; [`tasks`]: one checked
//!   exchange each; [`mime_read`]: the SMTP server's MIME reader;
//! - [`scenario`]: whole runs and their reports; [`mod@bench`]: the benchmark.
//!
//! Same seed, same run: [`trace::Trace`] hashes every delivered frame with
//! its delivery time and destination.

pub mod bench;
pub mod device;
pub mod faults;
pub mod mime_read;
pub mod node;
pub mod payload;
pub mod pcap;
pub mod programs;
pub mod rng;
pub mod scenario;
pub mod sim;
pub mod sockets;
pub mod tasks;
pub mod tcp_stats;
pub mod timeline;
pub mod trace;
pub mod true_time;
pub mod wire;

pub use faults::Faults;
pub use scenario::{Report, ScenarioConfig, run};
