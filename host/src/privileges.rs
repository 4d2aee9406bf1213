//! Giving up root once the TAP device (and the capture file, and the served
//! folder) are open: nothing that parses packets from the network runs as
//! root.
//!
//! Who the process becomes, when it runs as root:
//! - `minnow serve --user NAME`: NAME (`--user root` keeps root, said
//!   explicitly);
//! - else, started through sudo: the invoking user (`SUDO_UID`/`SUDO_GID`);
//! - else `minnow serve` becomes `nobody`, and a client started by root
//!   itself stays root (it writes its files where root asked; run it
//!   through sudo, or as an ordinary user over `--net os`).
//!
//! In a user namespace that maps no uid but 0 (rootless tests without
//! `newuidmap`), a default target cannot be taken: the process stays uid 0
//! of that namespace, which has no privilege outside it, and says so.

use nix::errno::Errno;
use nix::unistd::{Gid, Uid, User, getresuid, setgroups, setresgid, setresuid};

use crate::error::Error;

/// The rule, as `minnow --help` states it.
pub const HELP: &str = "Privileges: a command run as root opens its TAP device and --pcap \
file (and serve its --files folder), then runs as the invoking user when started through sudo \
(SUDO_UID, SUDO_GID); `serve` started by root itself runs as nobody, or as `--user NAME` \
(`--user root` keeps root); a client started by root itself stays root. --pcap files and get's \
FILE.part are created new, never through a symlink; a capture is mode 0600.";
use crate::report;

/// What the privileges command line says, for [`RunAs::decide`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role<'a> {
    /// `minnow serve`, with its `--user`.
    Server(Option<&'a str>),
    /// A client command.
    Client,
}

/// Who to become after opening the devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunAs {
    /// Stay as we are (not root, or root kept on purpose).
    Keep,
    /// Become this user.
    To {
        uid: Uid,
        gid: Gid,
        /// For messages: the name, or how it was chosen.
        who: String,
        /// How it was chosen.
        why: Why,
    },
}

/// How the user to become was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// `--user NAME`.
    Asked,
    /// sudo's invoking user.
    Sudo,
    /// `nobody`, for a server started by root itself.
    Default,
}

/// The uid nobody has where the passwd database does not say.
const NOBODY: u32 = 65534;

impl RunAs {
    /// The rule in the module docs, from the environment's `SUDO_UID` and
    /// `SUDO_GID`.
    pub fn decide(role: Role<'_>) -> Result<Self, Error> {
        let sudo = std::env::var("SUDO_UID")
            .ok()
            .zip(std::env::var("SUDO_GID").ok());
        Self::decide_with(role, Uid::effective().is_root(), sudo)
    }

    fn decide_with(
        role: Role<'_>,
        root: bool,
        sudo: Option<(String, String)>,
    ) -> Result<Self, Error> {
        if !root {
            return Ok(RunAs::Keep);
        }
        if let Role::Server(Some(name)) = role {
            return match user(name)? {
                Some(u) if u.uid.is_root() => Ok(RunAs::Keep),
                Some(u) => Ok(RunAs::To {
                    uid: u.uid,
                    gid: u.gid,
                    who: name.to_string(),
                    why: Why::Asked,
                }),
                None => Err(Error::Usage(format!("--user {name}: no such user"))),
            };
        }
        if let Some((uid, gid)) = sudo {
            let (Ok(uid), Ok(gid)) = (uid.parse::<u32>(), gid.parse::<u32>()) else {
                return Err(Error::Usage(format!(
                    "SUDO_UID={uid} SUDO_GID={gid}: not numbers"
                )));
            };
            return Ok(if uid == 0 {
                RunAs::Keep
            } else {
                RunAs::To {
                    uid: Uid::from_raw(uid),
                    gid: Gid::from_raw(gid),
                    who: format!("uid {uid} (sudo's invoking user)"),
                    why: Why::Sudo,
                }
            });
        }
        Ok(match role {
            Role::Server(_) => {
                let (uid, gid) = match user("nobody")? {
                    Some(u) => (u.uid, u.gid),
                    None => (Uid::from_raw(NOBODY), Gid::from_raw(NOBODY)),
                };
                RunAs::To {
                    uid,
                    gid,
                    who: "nobody".into(),
                    why: Why::Default,
                }
            }
            Role::Client => RunAs::Keep,
        })
    }

    /// The uid and gid to become, if any.
    pub fn target(&self) -> Option<(Uid, Gid)> {
        match self {
            RunAs::Keep => None,
            RunAs::To { uid, gid, .. } => Some((*uid, *gid)),
        }
    }

    /// Who files made before the drop (the capture) are given to: a person
    /// (sudo's user, `--user`), so they can read them; not `nobody`, whose
    /// files every other `nobody` process could change.
    pub fn owner(&self) -> Option<(Uid, Gid)> {
        match self {
            RunAs::To {
                why: Why::Asked | Why::Sudo,
                ..
            } => self.target(),
            _ => None,
        }
    }

    /// Becomes the chosen user for good: groups, gid, then uid (real,
    /// effective and saved, so root cannot be taken back).
    pub fn apply(&self) -> Result<(), Error> {
        let RunAs::To { uid, gid, who, why } = self else {
            return Ok(());
        };
        // A user namespace whose setgroups is denied has no other group to
        // drop; anywhere else a failure is one.
        match setgroups(&[*gid]) {
            Ok(()) => {}
            Err(Errno::EPERM) if in_user_namespace() => {}
            Err(e) => return Err(Error::Failed(format!("dropping groups for {who}: {e}"))),
        }
        let dropped = setresgid(*gid, *gid, *gid).and_then(|()| setresuid(*uid, *uid, *uid));
        match dropped {
            Ok(()) => {}
            Err(Errno::EINVAL) if *why != Why::Asked && in_user_namespace() => {
                report::log(&format!(
                    "staying uid 0 of this user namespace: it maps no uid for {who} \
                     (uid 0 here has no privilege outside it)"
                ));
                return Ok(());
            }
            Err(e) => return Err(Error::Failed(format!("becoming {who}: {e}"))),
        }
        let ids = getresuid().map_err(|e| format!("getresuid: {e}"))?;
        if [ids.real, ids.effective, ids.saved] != [*uid; 3] {
            return Err(Error::Failed(format!("becoming {who}: uids are {ids:?}")));
        }
        log::debug!("running as {who} (uid {uid}, gid {gid})");
        Ok(())
    }
}

fn user(name: &str) -> Result<Option<User>, Error> {
    User::from_name(name).map_err(|e| Error::Failed(format!("looking up user {name}: {e}")))
}

/// Whether this process is in a user namespace other than the first one.
fn in_user_namespace() -> bool {
    std::fs::read_to_string("/proc/self/uid_map")
        .map(|map| map.split_whitespace().collect::<Vec<_>>() != ["0", "0", "4294967295"])
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sudo(uid: &str, gid: &str) -> Option<(String, String)> {
        Some((uid.into(), gid.into()))
    }

    #[test]
    fn who_each_command_becomes() {
        let to = |d: RunAs| d.target().map(|(u, g)| (u.as_raw(), g.as_raw()));
        let decide = |role, root, s| to(RunAs::decide_with(role, root, s).unwrap());
        // Not root: nothing to give up.
        assert_eq!(decide(Role::Server(None), false, None), None);
        // Through sudo: the invoking user, server and client alike.
        assert_eq!(
            decide(Role::Server(None), true, sudo("1000", "100")),
            Some((1000, 100))
        );
        assert_eq!(
            decide(Role::Client, true, sudo("1000", "100")),
            Some((1000, 100))
        );
        // Root itself: the server becomes nobody, a client stays root.
        assert_eq!(
            decide(Role::Server(None), true, None).map(|(u, _)| u),
            Some(NOBODY)
        );
        assert_eq!(decide(Role::Client, true, None), None);
        // --user wins over sudo; --user root keeps root.
        assert_eq!(
            decide(Role::Server(Some("root")), true, sudo("1000", "100")),
            None
        );
        assert!(RunAs::decide_with(Role::Server(Some("no-such-user-x")), true, None).is_err());
        assert!(RunAs::decide_with(Role::Client, true, sudo("x", "1")).is_err());
    }
}
