//! Every service of a node from one configuration value: [`ServiceConfig`]
//! says which services run and how big they are, [`ServiceSet`] builds and
//! polls them, and [`Event`] words what they report, the same on every
//! runtime.

pub mod config;
pub mod event;
pub mod log_limit;
pub mod set;

pub use config::{
    ChatConfig, DiscardConfig, EchoConfig, FileConfig, ServiceConfig, SntpConfig, TcpSizing,
    TimeConfig, UdpSizing,
};
pub use event::{Event, Transport};
pub use log_limit::{LogLimit, Verdict};
pub use set::{BuildError, Listening, ServiceSet, SetRam};
