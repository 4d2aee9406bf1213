//! The host's file store: one folder that no request can leave.
//!
//! Names were already checked by core (`file::name::validate`: no `..`,
//! no absolute paths, no NUL, UTF-8 only). Here, the opened path is resolved
//! (symlinks included) and must still lie inside the folder and be a
//! regular file, so a symlink pointing out of it is refused too.

use std::fs::File;
use std::path::{Path, PathBuf};

use minnow::file::store::{FileStore, OpenError};

use crate::error::Error;

/// A folder served by the file server.
pub struct DirStore {
    root: PathBuf,
    default: Option<String>,
}

impl DirStore {
    /// Serves `root`; `default` names the file sent for non-GET requests.
    pub fn new(root: &Path, default: Option<String>) -> Result<Self, Error> {
        let root = root
            .canonicalize()
            .map_err(|e| format!("--files {}: {e}", root.display()))?;
        if !root.is_dir() {
            return Err(Error::Usage(format!(
                "--files {}: not a folder",
                root.display()
            )));
        }
        if let Some(name) = &default {
            minnow::file::name::validate(name.as_bytes())
                .map_err(|e| format!("--default {name}: {e}"))?;
            if !root.join(name).is_file() {
                return Err(Error::Usage(format!(
                    "--default {name}: no such file in {}",
                    root.display()
                )));
            }
        }
        Ok(Self { root, default })
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
        let path = self
            .root
            .join(name)
            .canonicalize()
            .map_err(|_| OpenError::NotFound)?;
        if !path.starts_with(&self.root) || !path.is_file() {
            return Err(OpenError::NotFound);
        }
        let file = File::open(&path).map_err(|_| OpenError::NotFound)?;
        Ok(HostFile(file))
    }

    fn default_name(&self) -> Option<&str> {
        self.default.as_deref()
    }
}
