//! The service model every runtime drives: [`Service`] and [`EventQueue`].

use smoltcp::iface::{Interface, SocketSet};
use smoltcp::time::Instant;

/// What a service touches when it is polled: the interface (for connects,
/// DNS queries, address changes) and the socket set that holds its sockets.
pub struct Net<'a, 'b> {
    /// The smoltcp interface the sockets live on.
    pub iface: &'a mut Interface,
    /// The sockets of every service on that interface.
    pub sockets: &'a mut SocketSet<'b>,
}

/// A poll-driven service: a server or client that owns smoltcp sockets.
///
/// A runtime calls [`Service::poll`] after every `Interface::poll`, and sleeps
/// until the earliest of the interface's and the services' [`Service::poll_at`].
pub trait Service {
    /// Read what the sockets hold, write what fits, advance state. Never blocks.
    fn poll(&mut self, net: &mut Net<'_, '_>, now: Instant);
    /// When this service next needs a poll even if no packet arrives
    /// (timeouts, retries, work left over because a buffer was full).
    /// `None`: only when traffic arrives.
    fn poll_at(&self, now: Instant) -> Option<Instant>;
}

/// A list of services polled in order, as one.
impl Service for [&mut dyn Service] {
    fn poll(&mut self, net: &mut Net<'_, '_>, now: Instant) {
        for service in self.iter_mut() {
            service.poll(net, now);
        }
    }

    fn poll_at(&self, now: Instant) -> Option<Instant> {
        self.iter().fold(None, |next, s| {
            crate::net::runner::earliest(next, s.poll_at(now))
        })
    }
}

/// Two services (or lists) polled in order, as one: a runtime's service
/// set followed by its own clients.
impl<A: Service + ?Sized, B: Service + ?Sized> Service for (&mut A, &mut B) {
    fn poll(&mut self, net: &mut Net<'_, '_>, now: Instant) {
        self.0.poll(net, now);
        self.1.poll(net, now);
    }

    fn poll_at(&self, now: Instant) -> Option<Instant> {
        crate::net::runner::earliest(self.0.poll_at(now), self.1.poll_at(now))
    }
}

/// An optional service: polled only when present.
impl<S: Service> Service for Option<S> {
    fn poll(&mut self, net: &mut Net<'_, '_>, now: Instant) {
        if let Some(s) = self {
            s.poll(net, now);
        }
    }

    fn poll_at(&self, now: Instant) -> Option<Instant> {
        self.as_ref().and_then(|s| s.poll_at(now))
    }
}

/// A bounded queue of events that a service reports and the caller drains.
///
/// RAM: `N * size_of::<E>()` plus a few words. When the caller does not drain
/// it and it fills up, the oldest event is dropped and counted in
/// [`EventQueue::dropped`]: events are reports, never data, so a slow logger
/// must not stall a service.
pub struct EventQueue<E, const N: usize> {
    queue: heapless::Deque<E, N>,
    dropped: u32,
}

impl<E, const N: usize> Default for EventQueue<E, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E, const N: usize> EventQueue<E, N> {
    /// An empty queue.
    pub const fn new() -> Self {
        Self {
            queue: heapless::Deque::new(),
            dropped: 0,
        }
    }

    /// Queues an event, dropping the oldest one when full.
    pub fn push(&mut self, event: E) {
        if self.queue.is_full() {
            self.queue.pop_front();
            self.dropped = self.dropped.saturating_add(1);
        }
        // Cannot fail: there is room now (N == 0 drops everything).
        let _ = self.queue.push_back(event);
    }

    /// The oldest queued event.
    pub fn pop(&mut self) -> Option<E> {
        self.queue.pop_front()
    }

    /// How many events were dropped because the queue was full.
    pub fn dropped(&self) -> u32 {
        self.dropped
    }

    /// Number of queued events.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether no event is queued.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_queue_drops_oldest_and_counts() {
        let mut q: EventQueue<u32, 2> = EventQueue::new();
        q.push(1);
        q.push(2);
        q.push(3);
        assert_eq!(q.dropped(), 1);
        assert_eq!(q.pop(), Some(2));
        assert_eq!(q.pop(), Some(3));
        assert_eq!(q.pop(), None);
    }
}
