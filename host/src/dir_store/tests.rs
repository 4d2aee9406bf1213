//! The store against symlinks, FIFOs, folders and dot-files, both ways of
//! resolving names.

use std::os::unix::fs::symlink;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use embedded_io::Read;
use minnow::file::store::{FileStore, OpenError};

use super::DirStore;

/// A fresh folder under the temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(label: &str) -> Self {
        let path = std::env::temp_dir().join(format!("minnow-host-{}-{label}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Scratch(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn read_all(store: &mut DirStore, name: &str) -> Result<Vec<u8>, OpenError> {
    let mut file = store.open(name)?;
    let mut out = Vec::new();
    let mut buf = [0u8; 64];
    loop {
        match file.read(&mut buf).unwrap() {
            0 => return Ok(out),
            n => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// A served folder with one of everything, and a secret outside it.
fn planted(label: &str) -> (Scratch, Scratch) {
    let served = Scratch::new(&format!("{label}-served"));
    let outside = Scratch::new(&format!("{label}-outside"));
    let root = &served.0;
    std::fs::write(outside.0.join("secret"), b"secret").unwrap();
    std::fs::write(root.join("a.txt"), b"a").unwrap();
    std::fs::create_dir(root.join("sub")).unwrap();
    std::fs::write(root.join("sub/b.txt"), b"b").unwrap();
    std::fs::write(root.join(".hidden"), b"h").unwrap();
    symlink("a.txt", root.join("inside-link")).unwrap();
    symlink(outside.0.join("secret"), root.join("out-link")).unwrap();
    symlink(&outside.0, root.join("out-dir")).unwrap();
    symlink("sub", root.join("sub-link")).unwrap();
    nix::unistd::mkfifo(&root.join("fifo"), nix::sys::stat::Mode::S_IRWXU).unwrap();
    (served, outside)
}

fn check(mut store: DirStore) {
    assert_eq!(read_all(&mut store, "a.txt").unwrap(), b"a");
    assert_eq!(read_all(&mut store, "sub/b.txt").unwrap(), b"b");
    for refused in [
        "out-link",
        "out-dir/secret",
        "inside-link",
        "sub-link/b.txt",
        "sub",
        ".hidden",
        "missing",
        "a.txt/x",
    ] {
        assert_eq!(
            store.open(refused).err(),
            Some(OpenError::NotFound),
            "{refused}"
        );
    }
    // No writer: a blocking open would wait for ever.
    let started = Instant::now();
    assert_eq!(store.open("fifo").err(), Some(OpenError::NotFound));
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn only_regular_files_beneath_the_folder_with_openat2() {
    let (served, _outside) = planted("openat2");
    check(DirStore::new(&served.0, Some("a.txt".into()), false).unwrap());
}

#[test]
fn only_regular_files_beneath_the_folder_by_walking() {
    let (served, _outside) = planted("walk");
    check(DirStore::new(&served.0, None, false).unwrap().walking());
}

#[test]
fn dot_files_only_when_asked_and_never_a_bad_default() {
    let (served, _outside) = planted("dot");
    let mut store = DirStore::new(&served.0, None, true).unwrap();
    assert_eq!(read_all(&mut store, ".hidden").unwrap(), b"h");
    for default in [".hidden", "out-link", "fifo", "sub", "missing"] {
        assert!(
            DirStore::new(&served.0, Some(default.into()), false).is_err(),
            "{default}"
        );
    }
    assert!(DirStore::new(&served.0.join("a.txt"), None, false).is_err());
}
