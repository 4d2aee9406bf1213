//! The board's services: core's [`ServiceSet`](minnow::services::ServiceSet)
//! built from one `const` [`ServiceConfig`] (the board's
//! [`Image::CONFIG`], from its [`crate::Sizes`]), whose own arithmetic
//! sizes every static buffer (see [`mod@crate::image`]), so the RAM report, the
//! statics and what is built cannot disagree. `MINNOW_SERVICES` (see
//! `build.rs`) chooses which services the configuration names; the board's
//! Cargo features (mapped to `minnow`'s) choose which are compiled in, so a
//! service left out costs no `.text`.
//!
//! Mail (`MINNOW_SMTP`, see [`crate::mail`]) is the one client: its socket
//! and buffers exist only in an image built with a server to mail.

use minnow::WallClock;
use minnow::file::store::StaticFiles;
use minnow::net::{Arena, Stack};
use minnow::service::Service;
use minnow::services::{LogLimit, ServiceConfig, Verdict};
use smoltcp::iface::SocketStorage;
use smoltcp::phy::Device;
use smoltcp::socket::udp;
use smoltcp::time::Instant;
use smoltcp::wire::IpEndpoint;
use static_cell::StaticCell;

use crate::board::Files;
use crate::image;
use crate::mail::{self, Mailer};
use crate::set::ServiceSetOps;
use crate::{Image, log, netconfig};

/// Moves a value into a static of its own (in .bss) and returns it for good.
macro_rules! place {
    ($t:ty, $e:expr) => {{
        static CELL: static_cell::StaticCell<$t> = static_cell::StaticCell::new();
        CELL.init($e)
    }};
}

/// The board's services and its boot mail.
pub struct Services<I: Image> {
    set: &'static mut I::Set,
    mail: Option<&'static mut Mailer>,
    /// Socket memory (all of it handed out at boot; the chat room takes
    /// none later, as every place has its socket).
    alloc: Arena<'static>,
    /// So that a flood cannot keep the UART busy.
    log_limit: LogLimit,
    files: Files,
}

impl<I: Image> Services<I> {
    /// Builds every service on `stack`, with buffers from the statics, the
    /// set in `set`, the files `files` and the boot mail's text `mail_text`.
    ///
    /// Not inlined: its frame is not part of every later poll's.
    #[inline(never)]
    pub fn new(
        stack: &mut Stack<'static>,
        clock: &'static WallClock,
        seed: u64,
        alloc: Arena<'static>,
        set: &'static StaticCell<I::Set>,
        files: Files,
        mail_text: &'static [u8],
    ) -> Self {
        let mut alloc = alloc;
        let set = set.uninit().write(I::Set::EMPTY);
        let config = ServiceConfig { seed, ..I::CONFIG };
        let store = StaticFiles::new(files.table, Some(files.default));
        // Cannot fail: every size comes from CONFIG (a static string keeps
        // the error's formatting code out of the image).
        if set
            .build(&config, stack, &mut alloc, clock, Some(store))
            .is_err()
        {
            panic!("services: CONFIG disagrees with the statics");
        }
        let mail = netconfig::SMTP
            .filter(|_| netconfig::MAIL)
            .map(|server: IpEndpoint| {
                let sizes = I::SIZES.mail;
                let Ok(socket) = minnow::net::SocketAlloc::tcp(&mut alloc, sizes.rx, sizes.tx)
                else {
                    panic!("mail: the socket buffers are too small");
                };
                let handle = stack.sockets.add(socket);
                let attachments = place!(mail::Attachments, mail::attachments(&files));
                place!(
                    Mailer,
                    Mailer::new(
                        server,
                        handle,
                        stack.ports.next_port(),
                        clock,
                        seed,
                        mail_text,
                        attachments
                    )
                )
            });
        Self {
            set,
            mail,
            alloc,
            log_limit: LogLimit::DEFAULT,
            files,
        }
    }

    /// The boot log's list of services.
    pub fn describe(&self) {
        let on = |c: bool| if c { "" } else { "no " };
        let config = I::CONFIG;
        let sizes = I::SIZES;
        log!(
            "services: {}time tcp/{} ({} socket), {}echo tcp+udp/{} ({} sockets), {}file tcp/{} ({} files, {} sockets), {}chat tcp/{} ({} members); sntp {}; mail {}",
            on(config.time.is_some()),
            minnow::time::DEFAULT_PORT,
            sizes.time.tcp.sockets,
            on(config.echo.is_some()),
            minnow::echo::DEFAULT_PORT,
            sizes.echo.tcp.sockets,
            on(config.file.is_some()),
            minnow::file::DEFAULT_PORT,
            self.files.table.len(),
            sizes.file.tcp.sockets,
            on(config.chat.is_some()),
            minnow::chat::DEFAULT_PORT,
            sizes.chat.places,
            if config.sntp.is_some() {
                "on"
            } else {
                "off (clock unset)"
            },
            MailTo(self.mail.as_deref()),
        );
        if netconfig::DISCARD {
            log!(
                "services: discard tcp+udp/{}",
                minnow::discard::DEFAULT_PORT
            );
        }
    }

    /// RAM of the service structs (their sockets' buffers and slots apart).
    pub fn ram(&self) -> usize {
        core::mem::size_of_val(&*self.set) + self.mail.as_deref().map_or(0, core::mem::size_of_val)
    }

    /// Logs the RAM each part takes, for the size report.
    pub fn log_ram(&self) {
        use core::mem::size_of;
        let ram = self.set.ram();
        log!(
            "ram: service structs: time {} B, echo tcp+udp {} B, file {} B, chat {} B, whole set with sntp+dhcp {} B",
            ram.time,
            ram.echo,
            ram.file,
            ram.chat,
            ram.whole,
        );
        if netconfig::MAIL {
            let (sender, session, composer) = mail::sizes();
            log!(
                "ram: mail: mailer {} B + SMTP client {} B (SMTP session {} B, composer {} B) + attachment list {} B + socket slot {} B + buffers {} B",
                self.mail.as_deref().map_or(0, core::mem::size_of_val),
                sender,
                session,
                composer,
                size_of::<mail::Attachments>(),
                size_of::<SocketStorage<'static>>(),
                I::SIZES.mail.rx + I::SIZES.mail.tx,
            );
        }
        let sockets = image::sockets(&I::SIZES);
        let udp_meta = image::udp_metadata(&I::SIZES);
        log!(
            "ram: {} sockets: slots {} B ({} B each), buffers {} B ({} B unused), udp metadata {} B",
            sockets,
            sockets * size_of::<SocketStorage<'static>>(),
            size_of::<SocketStorage<'static>>(),
            image::buffer_bytes(&I::SIZES),
            self.alloc.bytes_left(),
            udp_meta * size_of::<udp::PacketMetadata>(),
        );
    }

    /// One loop step: the interface, the services, the mail. Returns the
    /// next deadline.
    pub fn poll<D: Device + ?Sized>(
        &mut self,
        stack: &mut Stack<'static>,
        device: &mut D,
        now: Instant,
    ) -> Option<Instant> {
        match self.mail.as_deref_mut() {
            Some(m) if netconfig::MAIL => self.set.poll(
                stack,
                device,
                &mut self.alloc,
                &mut [m as &mut dyn Service],
                now,
            ),
            _ => self.set.poll(stack, device, &mut self.alloc, &mut [], now),
        }
    }

    /// Logs what the services report.
    pub fn report(&mut self, now: Instant) {
        while let Some(e) = self.set.pop_event() {
            match self.log_limit.admit(now) {
                Verdict::Drop => continue,
                Verdict::PrintAfter(n) => log!("({} more events not shown: over 50 a second)", n),
                Verdict::Print => {}
            }
            log!("{}", e);
        }
        // Last, so that its lines follow the SNTP and DHCP lines that led
        // to them.
        if netconfig::MAIL
            && let Some(s) = self.mail.as_deref_mut()
        {
            s.report();
        }
    }
}

/// The boot log's word on mail: `to SERVER` or `off`.
struct MailTo<'a>(Option<&'a Mailer>);

impl core::fmt::Display for MailTo<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Some(m) => write!(f, "to {} at boot", m.server()),
            None => f.write_str("off (no MINNOW_SMTP)"),
        }
    }
}
