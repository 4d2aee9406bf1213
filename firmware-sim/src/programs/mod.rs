//! What nodes run: the board (every core server), clients (tasks in
//! order), and the simulated servers the board itself is a client of.

pub mod board;
pub mod client;
pub mod smtp_server;
pub mod sntp_server;
