//! A task waker that wakes a poll(2) loop: waking writes a byte to one end
//! of a socket pair, and the loop sleeps on the other end. The waker may be
//! woken from any thread (embassy-net-tuntap's readiness comes from
//! async-io's own reactor thread).

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::task::{Wake, Waker};

/// The writing end, behind the waker.
struct Signal(UnixStream);

impl Wake for Signal {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // A full pair already holds a wake-up: nothing is lost.
        let _ = (&self.0).write(&[1]);
    }
}

/// A waker, and the end the loop polls for readability.
pub fn wake_pair() -> io::Result<(Waker, UnixStream)> {
    let (tx, rx) = UnixStream::pair()?;
    tx.set_nonblocking(true)?;
    rx.set_nonblocking(true)?;
    Ok((Waker::from(Arc::new(Signal(tx))), rx))
}

/// Reads every pending wake-up, so the next poll(2) sleeps until a new one.
pub fn drain(rx: &UnixStream) {
    let mut buf = [0u8; 64];
    while matches!((&*rx).read(&mut buf), Ok(n) if n > 0) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wake_from_another_thread_makes_the_end_readable_until_drained() {
        let (waker, rx) = wake_pair().unwrap();
        let mut buf = [0u8; 8];
        assert!((&rx).read(&mut buf).is_err(), "nothing yet");
        let other = waker.clone();
        std::thread::spawn(move || other.wake()).join().unwrap();
        let mut fds = [nix::poll::PollFd::new(
            std::os::fd::AsFd::as_fd(&rx),
            nix::poll::PollFlags::POLLIN,
        )];
        assert_eq!(nix::poll::poll(&mut fds, 1000u16).unwrap(), 1);
        drain(&rx);
        let again = (&rx).read(&mut buf).map_err(|e| e.kind());
        assert_eq!(again, Err(io::ErrorKind::WouldBlock), "drained");
        drop(waker);
    }
}
