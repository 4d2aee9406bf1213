//! The service set as the firmware main uses it, whatever the board's
//! capacities: core's [`ServiceSet`] has one const parameter per capacity,
//! and [`ServiceSetOps`] lets [`crate::services`] be written once for every
//! one of them (each board's [`crate::Image::Set`]).

use minnow::WallClock;
use minnow::file::store::StaticFiles;
use minnow::net::{Arena, Stack};
use minnow::service::Service;
use minnow::services::{BuildError, Event, ServiceConfig, ServiceSet, SetRam};
use smoltcp::phy::Device;
use smoltcp::time::Instant;

/// What the firmware does with its service set; every method is core's own.
pub trait ServiceSetOps: Sized + 'static {
    /// An empty set (core's `const fn new`), filled in place by `build`. A
    /// constant, so that it is copied into its static from flash: built by
    /// a call, the 8 KiB set was a temporary on the 10.5 KiB stack (and
    /// mostly zeros, so the stack's high-water mark did not show it).
    const EMPTY: Self;
    /// Core's [`ServiceSet::build`].
    fn build(
        &mut self,
        config: &ServiceConfig,
        stack: &mut Stack<'static>,
        alloc: &mut Arena<'static>,
        clock: &'static WallClock,
        files: Option<StaticFiles<'static>>,
    ) -> Result<(), BuildError>;
    /// Core's [`ServiceSet::poll`].
    fn poll<D: Device + ?Sized>(
        &mut self,
        stack: &mut Stack<'static>,
        device: &mut D,
        alloc: &mut Arena<'static>,
        extra: &mut [&mut dyn Service],
        now: Instant,
    ) -> Option<Instant>;
    /// Core's [`ServiceSet::pop_event`].
    fn pop_event(&mut self) -> Option<Event>;
    /// Core's [`ServiceSet::ram`].
    fn ram(&self) -> SetRam;
}

impl<
    const ECHO: usize,
    const TIME: usize,
    const FILE: usize,
    const CHAT: usize,
    const LINE: usize,
    const DGRAM: usize,
    const DISCARD: usize,
> ServiceSetOps
    for ServiceSet<'static, StaticFiles<'static>, ECHO, TIME, FILE, CHAT, LINE, DGRAM, DISCARD>
{
    const EMPTY: Self = Self::new();

    // Inlined like core's own: the board's configuration is a constant, and
    // what it leaves out folds away.
    #[inline(always)]
    fn build(
        &mut self,
        config: &ServiceConfig,
        stack: &mut Stack<'static>,
        alloc: &mut Arena<'static>,
        clock: &'static WallClock,
        files: Option<StaticFiles<'static>>,
    ) -> Result<(), BuildError> {
        ServiceSet::build(self, config, stack, alloc, clock, files)
    }

    #[inline(always)]
    fn poll<D: Device + ?Sized>(
        &mut self,
        stack: &mut Stack<'static>,
        device: &mut D,
        alloc: &mut Arena<'static>,
        extra: &mut [&mut dyn Service],
        now: Instant,
    ) -> Option<Instant> {
        ServiceSet::poll(self, stack, device, alloc, extra, now)
    }

    #[inline(always)]
    fn pop_event(&mut self) -> Option<Event> {
        ServiceSet::pop_event(self)
    }

    #[inline(always)]
    fn ram(&self) -> SetRam {
        ServiceSet::ram(self)
    }
}
