//! `minnow serve --driver embassy-tuntap`: the services over the
//! embassy-net-tuntap driver, through the minnow-embassy adapter, as a
//! board would run them over its MAC's embassy driver.
//!
//! The driver registers the TAP's descriptor with async-io's reactor, whose
//! own thread (started by async-io on first use) watches it and wakes the
//! waker a receive left when nothing was there. That waker writes to a
//! socket pair ([`crate::wake_pipe`]) on which the loop sleeps in poll(2):
//! no executor is needed.
//!
//! The driver panics when writing to the TAP fails (`EIO` while the
//! interface is down), so the link state is the interface's `IFF_UP` flag,
//! read once per loop turn, and nothing is read or sent while it is down.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::task::Context;

use embassy_net_tuntap::TunTapDevice;
use minnow_embassy::DriverDevice;
use minnow_embassy::embassy_net_driver::{Capabilities, Driver, HardwareAddress, LinkState};
use smoltcp::phy::{Device, DeviceCapabilities};
use smoltcp::time::Instant;
use smoltcp::wire::EthernetAddress;

use crate::device::HostDevice;
use crate::tap::{ETHERNET_HEADER_LEN, TapError, check_name};
use crate::wake_pipe::{drain, wake_pair};

/// embassy-net-tuntap's device, silent while the interface is down.
pub struct Watched {
    tap: TunTapDevice,
    /// `/sys/class/net/NAME/flags`.
    flags: PathBuf,
    up: bool,
}

impl Watched {
    /// Reads `IFF_UP`; unreadable flags (no sysfs of this namespace) count
    /// as up, as the driver itself says.
    fn refresh(&mut self) {
        self.up = std::fs::read_to_string(&self.flags)
            .ok()
            .and_then(|text| u32::from_str_radix(text.trim().trim_start_matches("0x"), 16).ok())
            .is_none_or(|flags| flags & nix::libc::IFF_UP as u32 != 0);
    }
}

impl Driver for Watched {
    type RxToken<'a>
        = <TunTapDevice as Driver>::RxToken<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = <TunTapDevice as Driver>::TxToken<'a>
    where
        Self: 'a;

    fn receive(&mut self, cx: &mut Context) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        if !self.up {
            return None;
        }
        self.tap.receive(cx)
    }

    fn transmit(&mut self, cx: &mut Context) -> Option<Self::TxToken<'_>> {
        if !self.up {
            return None;
        }
        self.tap.transmit(cx)
    }

    fn link_state(&mut self, cx: &mut Context) -> LinkState {
        self.refresh();
        if self.up {
            self.tap.link_state(cx)
        } else {
            LinkState::Down
        }
    }

    fn capabilities(&self) -> Capabilities {
        self.tap.capabilities()
    }

    fn hardware_address(&self) -> HardwareAddress {
        self.tap.hardware_address()
    }
}

/// The TAP through embassy-net-tuntap and the adapter, with the waker's
/// socket pair. Memory: the driver allocates one MTU-sized buffer per
/// receive and per frame sent; the adapter none.
pub struct EmbassyTap {
    device: DriverDevice<Watched>,
    woken: UnixStream,
    name: String,
}

impl EmbassyTap {
    /// Opens (attaches to, or creates) TAP `name`, answering as `mac`.
    pub fn open(name: &str, mac: EthernetAddress) -> Result<Self, TapError> {
        check_name(name)?;
        let other = |source| TapError::Other {
            name: name.to_owned(),
            source,
        };
        let mut tap = TunTapDevice::new(name).map_err(|e| TapError::from_open(name, e))?;
        tap.set_hardware_address(mac.0);
        let mut watched = Watched {
            tap,
            flags: PathBuf::from(format!("/sys/class/net/{name}/flags")),
            up: true,
        };
        watched.refresh();
        let (waker, woken) = wake_pair().map_err(other)?;
        let device = DriverDevice::with_waker(watched, waker)
            .map_err(|e| other(io::Error::other(e.to_string())))?;
        Ok(Self {
            device,
            woken,
            name: name.to_owned(),
        })
    }
}

impl Device for EmbassyTap {
    type RxToken<'a>
        = <DriverDevice<Watched> as Device>::RxToken<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = <DriverDevice<Watched> as Device>::TxToken<'a>
    where
        Self: 'a;

    fn receive(&mut self, now: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        self.device.receive(now)
    }

    fn transmit(&mut self, now: Instant) -> Option<Self::TxToken<'_>> {
        self.device.transmit(now)
    }

    fn capabilities(&self) -> DeviceCapabilities {
        self.device.capabilities()
    }
}

impl HostDevice for EmbassyTap {
    fn name(&self) -> &str {
        &self.name
    }

    fn mtu(&self) -> usize {
        self.capabilities()
            .max_transmission_unit
            .saturating_sub(ETHERNET_HEADER_LEN)
    }

    fn driver(&self) -> Option<&'static str> {
        Some("embassy-net-tuntap")
    }

    fn wait_fd(&self) -> BorrowedFd<'_> {
        self.woken.as_fd()
    }

    fn after_wait(&mut self) -> Option<io::Error> {
        drain(&self.woken);
        None
    }

    fn link_up(&mut self) -> bool {
        self.device.is_link_up()
    }

    fn stats(&self) -> String {
        "no counters (embassy-net-tuntap keeps none)".into()
    }
}
