//! The host's file store: one folder that no request can leave.
//!
//! Names were already checked by core (`file::name::validate`: no `..`,
//! no absolute paths, no NUL, UTF-8 only). The folder is opened once, at
//! start (before `minnow serve` gives up root), and every file is opened
//! beneath that handle by the kernel (`beneath`): no symlink is followed and
//! no step leads out, whatever is renamed meanwhile. What was opened must
//! be a regular file, checked on the open handle: a FIFO, a device or a
//! folder is refused at once. Names with a part starting with `.` are
//! refused unless `dot_files` is set.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use minnow::file::name;
use minnow::file::store::{FileStore, OpenError};
use nix::errno::Errno;

use crate::beneath::{self, Resolver};
use crate::error::Error;

/// A folder served by the file server.
pub struct DirStore {
    /// The folder's handle: every name is resolved from it.
    dir: File,
    /// The folder's path, for messages only.
    shown: PathBuf,
    default: Option<String>,
    dot_files: bool,
    resolver: Resolver,
}

impl DirStore {
    /// Serves `root`; `default` names the file sent for non-GET requests;
    /// `dot_files` serves names with a part starting with `.` too.
    pub fn new(root: &Path, default: Option<String>, dot_files: bool) -> Result<Self, Error> {
        let dir = OpenOptions::new()
            .read(true)
            .custom_flags(nix::libc::O_DIRECTORY | nix::libc::O_CLOEXEC)
            .open(root)
            .map_err(|e| match e.raw_os_error() {
                Some(nix::libc::ENOTDIR) => {
                    Error::Usage(format!("--files {}: not a folder", root.display()))
                }
                _ => Error::Usage(format!("--files {}: {e}", root.display())),
            })?;
        let shown = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let mut store = Self {
            dir,
            shown,
            default: None,
            dot_files,
            resolver: Resolver::Openat2,
        };
        if let Some(name) = &default {
            name::validate(name.as_bytes()).map_err(|e| format!("--default {name}: {e}"))?;
            if store.open(name).is_err() {
                return Err(Error::Usage(format!(
                    "--default {name}: no regular file of that name in {} (symlinks{} are not served)",
                    store.shown.display(),
                    if dot_files { "" } else { " and dot-files" }
                )));
            }
        }
        store.default = default;
        Ok(store)
    }

    /// Resolves names by walking the folder, as on a kernel without
    /// `openat2`.
    #[cfg(test)]
    fn walking(mut self) -> Self {
        self.resolver = Resolver::Walk;
        self
    }
}

/// An open file, read through embedded-io as core expects.
pub struct HostFile(File);

impl embedded_io::ErrorType for HostFile {
    type Error = std::io::Error;
}

impl embedded_io::Read for HostFile {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        loop {
            match std::io::Read::read(&mut self.0, buf) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }
}

impl FileStore for DirStore {
    type File = HostFile;

    fn open(&mut self, name: &str) -> Result<Self::File, OpenError> {
        if !self.dot_files && name::is_hidden(name) {
            return Err(OpenError::NotFound);
        }
        let file = beneath::open(&self.dir, name, &mut self.resolver).map_err(|e| match e {
            Errno::EIO | Errno::ENOMEM | Errno::EMFILE | Errno::ENFILE => OpenError::Io,
            // Missing, a symlink (ELOOP), out of the folder (EXDEV), not
            // readable: all "not found", so nothing can be probed.
            _ => OpenError::NotFound,
        })?;
        // Checked on what was opened, not on a path that may since differ.
        match file.metadata() {
            Ok(meta) if meta.is_file() => Ok(HostFile(file)),
            Ok(_) => Err(OpenError::NotFound),
            Err(_) => Err(OpenError::Io),
        }
    }

    fn default_name(&self) -> Option<&str> {
        self.default.as_deref()
    }
}

#[cfg(test)]
mod tests;
