//! Who does what: the board's files, and each client's script of tasks.
//!
//! Adding a service's scenario: a task in
//! [`crate::tasks`], a [`TaskSpec`] variant built here, its server on the
//! board ([`crate::programs::board`]), and a script line in [`tasks_for`].

use std::rc::Rc;

use smoltcp::time::Duration;
use smoltcp::wire::{IpAddress, IpEndpoint};

use super::config::{Mix, ScenarioConfig};
use super::{FIRST_CLIENT_NODE, SMTP_NODE, SNTP_NODE};
use crate::node::NodeSpec;
use crate::payload;
use crate::programs::board::MAX_CHAT;
use crate::rng::mix;
use crate::tasks::Task;
use crate::tasks::chat::{Chat, Member, Room};
use crate::tasks::download::{Download, Expect};
use crate::tasks::echo_datagrams::EchoDatagrams;
use crate::tasks::echo_stream::EchoStream;
use crate::tasks::time_query::TimeQuery;
use crate::true_time::TrueTime;

/// The file the notes' greeting (`Hello server!`) gets.
pub const DEFAULT_FILE: &str = "notes.txt";
/// The large file, of [`super::Workload::file_bytes`] random bytes.
pub const BIG_FILE: &str = "big.bin";
/// A name the board does not have.
pub const MISSING_FILE: &str = "missing.txt";

/// The board's files.
pub struct Files {
    notes: Vec<u8>,
    big: Vec<u8>,
}

impl Files {
    /// The files of `config`: a text and `file_bytes` of the seed's stream.
    pub fn new(config: &ScenarioConfig) -> Self {
        let line = "Minnow: the notes' network services, written once, run everywhere.\n";
        Self {
            notes: line.repeat(32).into_bytes(),
            big: payload::bytes(config.seed ^ 0xf11e, config.workload.file_bytes),
        }
    }

    /// The table the board's file server serves.
    pub fn table(&self) -> Vec<(&str, &[u8])> {
        vec![(DEFAULT_FILE, &self.notes), (BIG_FILE, &self.big)]
    }

    /// The bytes of `name`, if the board has it.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        match name {
            DEFAULT_FILE => Some(&self.notes),
            BIG_FILE => Some(&self.big),
            _ => None,
        }
    }
}

/// Where the clients find the board, and what they check against.
#[derive(Debug, Clone)]
pub struct Targets {
    /// The board's IPv4 address.
    pub v4: IpAddress,
    /// The board's IPv6 address.
    pub v6: IpAddress,
    /// The true time.
    pub truth: TrueTime,
    /// Clients give up when nothing moves for this long.
    pub timeout: Duration,
    /// The chat room's members.
    pub roster: Vec<Member>,
    /// The chat room as the board sees it.
    pub room: Rc<Room>,
    /// Seed of the chat lines.
    pub chat_seed: u64,
}

impl Targets {
    fn at(&self, v6: bool, port: u16) -> IpEndpoint {
        IpEndpoint::new(if v6 { self.v6 } else { self.v4 }, port)
    }
}

/// One task of a client's script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskSpec {
    /// Ask the ctime server (IPv4).
    Time,
    /// Echo `bytes` over TCP.
    EchoStream {
        /// Bytes to send and get back.
        bytes: u64,
        /// Over IPv6.
        v6: bool,
    },
    /// Send `bytes` to discard over TCP.
    Discard {
        /// Bytes to send.
        bytes: u64,
        /// Over IPv6.
        v6: bool,
    },
    /// Echo `count` datagrams over UDP.
    EchoDatagrams {
        /// Datagrams.
        count: u32,
        /// Largest datagram.
        max_len: usize,
        /// Over IPv6.
        v6: bool,
    },
    /// Download a file: `None` sends the notes' greeting for the default file.
    Download {
        /// The name to `GET`.
        name: Option<&'static str>,
        /// Over IPv6.
        v6: bool,
    },
    /// Join the chat room as roster member `member`.
    Chat {
        /// Index in the roster.
        member: u32,
        /// Lines to send.
        lines: u32,
        /// Over IPv6.
        v6: bool,
    },
}

impl TaskSpec {
    /// The task, with its random choices drawn from `seed`.
    pub fn build<'a>(self, to: &Targets, files: &'a Files, seed: u64) -> Box<dyn Task + 'a> {
        match self {
            TaskSpec::Time => Box::new(TimeQuery::new(
                to.at(false, minnow::time::DEFAULT_PORT),
                to.truth,
                30,
                to.timeout,
            )),
            TaskSpec::EchoStream { bytes, v6 } => Box::new(EchoStream::new(
                to.at(v6, minnow::echo::DEFAULT_PORT),
                bytes,
                seed,
                to.timeout,
            )),
            TaskSpec::Discard { bytes, v6 } => Box::new(EchoStream::discard(
                to.at(v6, minnow::discard::DEFAULT_PORT),
                bytes,
                seed,
                to.timeout,
            )),
            TaskSpec::EchoDatagrams { count, max_len, v6 } => Box::new(EchoDatagrams::new(
                to.at(v6, minnow::echo::DEFAULT_PORT),
                count,
                max_len,
                seed,
            )),
            TaskSpec::Download { name, v6 } => {
                let remote = to.at(v6, minnow::file::DEFAULT_PORT);
                let (request, label) = match name {
                    Some(n) => (format!("GET {n}\n"), n.to_string()),
                    None => (
                        "Hello server!".to_string(),
                        format!("(default: {DEFAULT_FILE})"),
                    ),
                };
                let expect = match files.get(name.unwrap_or(DEFAULT_FILE)) {
                    Some(data) => Expect::File(data),
                    None => Expect::Refused("not found"),
                };
                Box::new(Download::new(
                    remote,
                    request.as_bytes(),
                    &label,
                    expect,
                    to.timeout,
                ))
            }
            TaskSpec::Chat { member, lines, v6 } => {
                let me = to.roster[member as usize].clone();
                let others = to
                    .roster
                    .iter()
                    .filter(|m| m.index != member)
                    .cloned()
                    .collect();
                Box::new(Chat::new(
                    me,
                    others,
                    lines,
                    to.chat_seed,
                    to.at(v6, minnow::chat::DEFAULT_PORT),
                    to.timeout,
                    to.room.clone(),
                ))
            }
        }
    }
}

/// Client `k`'s node (0-based): `client{k+1}` at node number 10 + k,
/// skipping the servers' numbers (25 and 123).
pub fn client_spec(k: usize) -> NodeSpec {
    let mut n = usize::from(FIRST_CLIENT_NODE) + k;
    for server in [SMTP_NODE, SNTP_NODE] {
        if n >= usize::from(server) {
            n += 1;
        }
    }
    NodeSpec::numbered(&format!("client{}", k + 1), n as u8)
}

/// The chat room's members: every client whose script has a chat task, with
/// the address it chats from.
pub fn roster(config: &ScenarioConfig) -> Vec<Member> {
    let mut members = Vec::new();
    for k in 0..config.clients {
        for t in tasks_for(config, k) {
            if let TaskSpec::Chat { member, v6, .. } = t {
                let spec = client_spec(k);
                members.push(Member {
                    index: member,
                    name: spec.name.clone(),
                    addr: if v6 { spec.v6() } else { spec.v4() },
                });
            }
        }
    }
    members
}

/// The seed of the chat lines of a run seeded with `seed`.
pub fn chat_seed(seed: u64) -> u64 {
    mix(seed ^ 0xc4a7)
}

/// The script of client `k` (0-based).
pub fn tasks_for(config: &ScenarioConfig, k: usize) -> Vec<TaskSpec> {
    let w = &config.workload;
    let v6 = k % 2 == 1;
    let chat = TaskSpec::Chat {
        member: k as u32,
        lines: w.chat_lines,
        v6,
    };
    let mut script = match config.mix {
        Mix::Echo => vec![TaskSpec::EchoStream {
            bytes: w.echo_bytes,
            v6,
        }],
        Mix::Chat => vec![],
        Mix::Discard => vec![TaskSpec::Discard {
            bytes: w.echo_bytes,
            v6,
        }],
        Mix::Every => match k % 4 {
            0 => vec![
                TaskSpec::Time,
                TaskSpec::EchoStream {
                    bytes: w.echo_bytes,
                    v6: false,
                },
            ],
            1 => vec![
                TaskSpec::Download {
                    name: Some(BIG_FILE),
                    v6: false,
                },
                TaskSpec::Time,
            ],
            2 => vec![
                TaskSpec::EchoDatagrams {
                    count: w.datagrams,
                    max_len: w.datagram_max,
                    v6: true,
                },
                TaskSpec::Time,
            ],
            _ => vec![
                TaskSpec::Download {
                    name: None,
                    v6: true,
                },
                TaskSpec::Download {
                    name: Some(MISSING_FILE),
                    v6: true,
                },
            ],
        },
    };
    // The room holds the board's places; the clients past them stay out.
    if matches!(config.mix, Mix::Every | Mix::Chat) && k < MAX_CHAT {
        script.push(chat);
    }
    script
}
