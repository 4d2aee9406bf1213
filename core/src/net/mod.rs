//! What every runtime shares: building the interface from a [`NetConfig`],
//! DHCPv4 ([`dhcp`]), DNS ([`dns`]), pools of listening TCP sockets
//! ([`tcp_pool`]), and one step of the poll loop ([`runner`]).

pub mod config;
#[cfg(feature = "dhcp")]
pub mod dhcp;
#[cfg(feature = "dns")]
pub mod dns;
mod doorman;
pub mod endpoint;
pub mod guard;
pub mod pipe;
pub mod reflect;
pub mod runner;
#[cfg(feature = "slaac")]
pub mod slaac;
pub mod source_rate;
pub mod stack;
pub mod storage;
pub mod stream_client;
pub mod syn_gate;
pub mod tcp_client;
pub mod tcp_pool;

pub use config::NetConfig;
pub use runner::{earliest, wait_duration};
pub use stack::Stack;
pub use storage::{Arena, SocketAlloc};
pub use tcp_pool::TcpPool;
