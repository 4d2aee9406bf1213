//! Minnow as firmware: the core's services on QEMU's `lm3s6965evb` board,
//! a TI Stellaris LM3S6965 (Arm Cortex-M3 at 50 MHz, 256 KiB of flash,
//! 64 KiB of SRAM) with its on-chip Ethernet controller.
//!
//! `no_std`, no allocator. This crate is the board's half: the Ethernet
//! driver ([`stellaris_enet`], its FIFO format in [`frame_format`]), the
//! clock tree and clock gates ([`sysctl`]), the clock ([`clock`]), the log
//! UART ([`uart`]), the memory map (`memory.x`), the service sizes
//! ([`sizes`]) and the served files ([`files`]). The firmware main it runs, the service set, the loop, the
//! log lines and the boot mail, is `minnow-firmware` (`../firmware`), shared
//! with the mps2 image. The only unsafe code is register access, in
//! [`mmio`]. Every buffer is a static sized from [`sizes`], so the linker
//! checks the RAM and flash budgets (see `memory.x`).
#![no_std]
#![no_main]
#![deny(unsafe_code)]

mod clock;
mod files;
mod frame_format;
mod mmio;
mod sizes;
mod stellaris_enet;
mod sysctl;
mod uart;

use cortex_m_rt::entry;
use minnow_firmware::{Board, Files, log};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::EthernetAddress;
use static_cell::StaticCell;

use crate::clock::Clock;
use crate::mmio::Irq;
use crate::stellaris_enet::{Link, StellarisEnet};
use crate::sysctl::ClockSetup;

/// Used when USER0/USER1 hold no address (a locally administered one).
const FALLBACK_MAC: EthernetAddress = EthernetAddress([0x02, 0x6d, 0x6e, 0x77, 0x00, 0x03]);

static ETH: StaticCell<StellarisEnet> = StaticCell::new();

/// The board: its driver and its clock.
struct Lm3s6965 {
    eth: &'static mut StellarisEnet,
    clock: Clock,
}

/// The service sizes of [`sizes`], for the firmware crate.
const SIZES: minnow_firmware::Sizes = minnow_firmware::Sizes {
    time: sizes::TIME,
    echo: sizes::ECHO,
    max_datagram: sizes::MAX_DATAGRAM,
    file: sizes::FILE,
    chat: sizes::CHAT,
    chat_line: sizes::CHAT_LINE,
    discard: sizes::DISCARD,
    sntp_timers: sizes::SNTP_TIMERS,
    sntp_udp: sizes::SNTP_UDP,
    mail: sizes::MAIL,
};

minnow_firmware::image!(Lm3s6965 = SIZES);

impl Board for Lm3s6965 {
    type Device = StellarisEnet;
    const MAX_SLEEP: Duration = clock::MAX_SLEEP;
    const FILES: Files = files::FILES;
    const MAIL_TEXT: &'static [u8] = files::MAIL_TEXT;

    fn device(&mut self) -> &mut StellarisEnet {
        self.eth
    }

    fn mac(&self) -> EthernetAddress {
        self.eth.mac()
    }

    fn ticks(&mut self) -> u64 {
        self.clock.ticks()
    }

    fn now(&mut self) -> Instant {
        self.clock.now()
    }

    fn arm_wakeup(&mut self) {
        self.eth.ack_interrupts();
        clock::clear_eth_wakeup();
    }

    fn rx_pending(&self) -> bool {
        self.eth.rx_pending()
    }

    fn sleep(&mut self, wait: Duration) {
        self.clock.sleep(wait);
    }

    fn report(&mut self, now: Instant) {
        self.eth.report(now);
    }
}

#[entry]
fn main() -> ! {
    // Interrupts stay masked for good: they only wake `wfi` (see `mmio`).
    cortex_m::interrupt::disable();
    // The clock first: the UART's divisor and every timer depend on it.
    let setup = sysctl::clock_50mhz();
    sysctl::enable_peripherals();
    uart::init();
    minnow_firmware::log::set_sink(uart::write_str);
    minnow_firmware::log::init_facade();
    log!(
        "boot: minnow-lm3s6965 {} on lm3s6965evb (Cortex-M3, {})",
        env!("CARGO_PKG_VERSION"),
        match setup {
            ClockSetup::Pll50MHz => "50 MHz",
            ClockSetup::PllNoLock => "50 MHz divider, PLL not locked",
        }
    );
    let Some(core) = cortex_m::Peripherals::take() else {
        panic!("core peripherals taken twice");
    };
    let mac = sysctl::factory_mac().map_or(FALLBACK_MAC, EthernetAddress);
    let eth = ETH.init(StellarisEnet::new(mac));
    let clock = Clock::new(core.SYST);
    mmio::enable_wakeup(Irq::Ethernet);
    log!(
        "enet: mac {}, link {}",
        eth.mac(),
        match eth.link() {
            Link::Up => "up",
            Link::Down => "down",
            Link::NoPhy => "unknown (no PHY answers on MII)",
        }
    );
    minnow_firmware::run(Lm3s6965 { eth, clock })
}
