//! Where files come from: the [`FileStore`] trait, and [`StaticFiles`], a
//! table built into the image for firmware.

use embedded_io::{ErrorType, Read};

/// Why a file cannot be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenError {
    /// No such file (or it is not a regular file, or it lies outside the store).
    NotFound,
    /// Storage failed.
    Io,
}

/// A set of files a server may send. Names reaching [`FileStore::open`] are
/// already checked by [`super::name::validate`]; a store still refuses what
/// its own medium could let escape (a host store refuses symlinks that lead
/// out of its folder).
pub trait FileStore {
    /// An open file, read from start to end.
    type File: Read;
    /// Opens a file by name.
    fn open(&mut self, name: &str) -> Result<Self::File, OpenError>;
    /// The name of the default file, if any.
    fn default_name(&self) -> Option<&str>;
}

/// Reads a byte slice: a file of a [`StaticFiles`] table. RAM: 3 words.
#[derive(Debug, Clone, Copy)]
pub struct SliceReader<'a> {
    data: &'a [u8],
}

impl<'a> SliceReader<'a> {
    /// Reads `data` from its start.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }
}

impl ErrorType for SliceReader<'_> {
    type Error = core::convert::Infallible;
}

impl Read for SliceReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = buf.len().min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        buf[..n].copy_from_slice(head);
        self.data = rest;
        Ok(n)
    }
}

/// A fixed table of files, e.g. built into a firmware image with
/// `include_bytes!`. RAM: 3 words; the files stay in flash.
#[derive(Debug, Clone, Copy)]
pub struct StaticFiles<'a> {
    files: &'a [(&'a str, &'a [u8])],
    default: Option<&'a str>,
}

impl<'a> StaticFiles<'a> {
    /// A table of `(name, bytes)`; `default` names the default file.
    pub const fn new(files: &'a [(&'a str, &'a [u8])], default: Option<&'a str>) -> Self {
        Self { files, default }
    }
}

impl<'a> FileStore for StaticFiles<'a> {
    type File = SliceReader<'a>;

    fn open(&mut self, name: &str) -> Result<Self::File, OpenError> {
        self.files
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, data)| SliceReader::new(data))
            .ok_or(OpenError::NotFound)
    }

    fn default_name(&self) -> Option<&str> {
        self.default
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_files_open_and_read_in_pieces() {
        let mut store = StaticFiles::new(&[("a", b"hello world"), ("e", b"")], Some("a"));
        assert_eq!(store.default_name(), Some("a"));
        let mut f = store.open("a").unwrap();
        let mut buf = [0u8; 4];
        let mut got = [0u8; 16];
        let mut n = 0;
        loop {
            let k = f.read(&mut buf).unwrap();
            if k == 0 {
                break;
            }
            got[n..n + k].copy_from_slice(&buf[..k]);
            n += k;
        }
        assert_eq!(&got[..n], b"hello world");
        assert_eq!(store.open("e").unwrap().read(&mut buf), Ok(0));
        assert_eq!(store.open("nope").err(), Some(OpenError::NotFound));
    }
}
