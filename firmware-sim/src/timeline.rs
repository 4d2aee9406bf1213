//! The readable timeline of a run: what each node reported, when.

use std::fmt;

use smoltcp::time::Instant;

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Virtual time.
    pub at: Instant,
    /// The node's name.
    pub node: String,
    /// What happened.
    pub text: String,
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.at.total_micros();
        write!(
            f,
            "{:>5}.{:06} s  {:<8} {}",
            us / 1_000_000,
            us % 1_000_000,
            self.node,
            self.text
        )
    }
}

/// Timeline entries in the order they happened (virtual time never goes back).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timeline {
    entries: Vec<Entry>,
}

impl Timeline {
    /// An empty timeline.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an entry.
    pub fn push(&mut self, at: Instant, node: &str, text: String) {
        self.entries.push(Entry {
            at,
            node: node.to_string(),
            text,
        });
    }

    /// Every entry, oldest first.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
}
