//! Minnow as firmware: the core's services on QEMU's `mps2-an386` board
//! (Arm Cortex-M4F, 25 MHz) with its SMSC LAN9118 Ethernet controller.
//!
//! `no_std`, no allocator. This crate is the board's half: the driver
//! ([`lan9118`]), the clock ([`clock`]), the log UART ([`uart`]), the memory
//! map (`memory.x`), the service sizes ([`sizes`]) and the served files
//! ([`files`]). The firmware main it runs, the service set, the loop, the
//! log lines and the boot mail, is `minnow-firmware` (`../firmware`), shared
//! with the other board images. The only unsafe code is register access,
//! in [`mmio`]; everything above it is safe code. Every buffer is a static
//! sized from [`sizes`], so the linker checks the RAM budget (see `memory.x`).
#![no_std]
#![no_main]
#![deny(unsafe_code)]

mod clock;
mod files;
mod lan9118;
mod mmio;
mod sizes;
mod uart;

use cortex_m_rt::entry;
use minnow_firmware::{Board, Files, log};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::EthernetAddress;
use static_cell::StaticCell;

use crate::clock::Clock;
use crate::lan9118::Lan9118;
use crate::mmio::Irq;

/// Used when the controller holds no valid address (a locally administered one).
const FALLBACK_MAC: EthernetAddress = EthernetAddress([0x02, 0x6d, 0x6e, 0x77, 0x00, 0x02]);

static ETH: StaticCell<Lan9118> = StaticCell::new();

/// The board: its driver and its clock.
struct Mps2 {
    eth: &'static mut Lan9118,
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

minnow_firmware::image!(Mps2 = SIZES);

impl Board for Mps2 {
    type Device = Lan9118;
    const MAX_SLEEP: Duration = clock::MAX_SLEEP;
    const FILES: Files = files::FILES;
    const MAIL_TEXT: &'static [u8] = files::MAIL_TEXT;

    fn device(&mut self) -> &mut Lan9118 {
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
        self.eth.ack_rx_irq();
        clock::clear_eth_wakeup();
    }

    fn rx_pending(&self) -> bool {
        self.eth.rx_pending()
    }

    fn sleep(&mut self, wait: Duration) {
        self.clock.sleep(wait);
    }
}

#[entry]
fn main() -> ! {
    // Interrupts stay masked for good: they only wake `wfi` (see `mmio`).
    cortex_m::interrupt::disable();
    uart::Uart::init();
    minnow_firmware::log::set_sink(uart::write_str);
    minnow_firmware::log::init_facade();
    log!(
        "boot: minnow-mps2 {} on mps2-an386 (Cortex-M4F)",
        env!("CARGO_PKG_VERSION")
    );
    let Some(core) = cortex_m::Peripherals::take() else {
        panic!("core peripherals taken twice");
    };
    let eth = match Lan9118::new(FALLBACK_MAC) {
        Ok(eth) => ETH.init(eth),
        Err(e) => panic!("LAN9118: {e:?}"),
    };
    let clock = Clock::new(core.SYST);
    mmio::enable_wakeup(Irq::Ethernet);
    log!(
        "lan9118: id {:#010x}, mac {}, link {}",
        eth.id_rev(),
        eth.mac(),
        if eth.link_up() { "up" } else { "down" }
    );
    minnow_firmware::run(Mps2 { eth, clock })
}
