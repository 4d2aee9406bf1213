//! Opening a file beneath a directory handle, with the kernel checking every
//! step, so that no name, symlink or rename race leads out of the folder.
//!
//! Checking a path and then opening it (what `canonicalize` + `open` did)
//! loses to anyone who swaps a directory for a symlink in between. Here the
//! kernel resolves the name from the folder's open handle: `openat2(2)` with
//! `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS` (no magic links either, which
//! that implies) refuses any step out of the folder and any symlink, inside
//! or out, atomically. Kernels before 5.6 lack `openat2` (ENOSYS); there
//! the name is walked one part at a time with `openat(O_NOFOLLOW)` from the
//! folder's handle, which refuses the same symlinks. Every symlink is
//! refused in both ways, so which way a kernel takes changes nothing.
//!
//! `O_NONBLOCK` makes opening a FIFO return at once instead of waiting for
//! a writer, and `O_NOCTTY` keeps a terminal from becoming ours; what was
//! opened is then checked on the handle (fstat), not on the path.

use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag, openat, openat2};
use nix::sys::stat::Mode;

/// How names are resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolver {
    /// `openat2` with `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS`.
    Openat2,
    /// A walk of `openat(O_NOFOLLOW)`, for kernels without `openat2`.
    Walk,
}

/// What every open here adds: no waiting on a FIFO, no controlling
/// terminal, not inherited by children.
fn flags() -> OFlag {
    OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY | OFlag::O_CLOEXEC
}

/// Takes ownership of a descriptor the kernel just returned.
fn owned(fd: RawFd) -> File {
    // SAFETY: `fd` was just returned by a successful open and nothing else
    // holds it, so this File is its only owner.
    File::from(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Opens `name` (already checked: relative, `/`-separated, no `.`, `..` or
/// empty parts) beneath `dir` for reading. `resolver` turns to
/// [`Resolver::Walk`] for good when the kernel has no `openat2`.
pub fn open(dir: &File, name: &str, resolver: &mut Resolver) -> Result<File, Errno> {
    if *resolver == Resolver::Openat2 {
        let how = OpenHow::new().flags(flags()).resolve(
            ResolveFlag::RESOLVE_BENEATH
                | ResolveFlag::RESOLVE_NO_SYMLINKS
                | ResolveFlag::RESOLVE_NO_MAGICLINKS,
        );
        match openat2(dir.as_raw_fd(), name, how) {
            Err(Errno::ENOSYS) => *resolver = Resolver::Walk,
            other => return other.map(owned),
        }
    }
    walk(dir, name)
}

/// The fallback: each part opened from the one before with `O_NOFOLLOW`,
/// folders with `O_DIRECTORY` too, so a symlink anywhere fails (ELOOP or
/// ENOTDIR) instead of being followed.
fn walk(dir: &File, name: &str) -> Result<File, Errno> {
    let mut parts = name.split('/').peekable();
    let mut here: Option<File> = None;
    while let Some(part) = parts.next() {
        let from = here.as_ref().unwrap_or(dir).as_raw_fd();
        let last = parts.peek().is_none();
        let oflag = if last {
            flags() | OFlag::O_NOFOLLOW
        } else {
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC
        };
        if part.is_empty() || part == "." || part == ".." {
            return Err(Errno::EINVAL);
        }
        here = Some(owned(openat(Some(from), part, oflag, Mode::empty())?));
    }
    here.ok_or(Errno::ENOENT)
}
