//! Minnow as firmware on a physical board: ST's NUCLEO-F429ZI, an
//! STM32F429ZI (Arm Cortex-M4F at 168 MHz, 2 MiB of flash, 192 KiB of SRAM
//! and 64 KiB of CCM) with its on-chip Ethernet MAC and the board's
//! LAN8742A PHY (RMII), driven by `embassy-stm32`'s Ethernet driver through
//! Minnow's embassy adapter (`minnow-embassy`).
//!
//! **Build-only.** This image builds in CI (`cargo build --release --locked`
//! here), but nobody working on Minnow has run it on a board: there is no
//! NUCLEO-F429ZI here, and QEMU models neither the chip nor its Ethernet.
//! What it does on hardware is untested; the QEMU boards (`../mps2`,
//! `../lm3s6965`) run the same firmware main and are what the tests check.
//!
//! `no_std`, no allocator, no executor, no embassy-time driver. This crate is
//! the board's half: the Ethernet ([`eth`]: embassy-stm32's driver behind
//! `minnow_embassy::DriverDevice`), the clock tree ([`rcc`]), the clock and
//! the idle wait ([`clock`]: TIM2 at 1 MHz, SysTick), the log UART
//! ([`uart`]: USART3), the memory map (`memory.x`), the service sizes
//! ([`sizes`]) and the served file ([`files`]). The firmware main it runs,
//! the service set, the loop, the log lines and the boot mail, is
//! `minnow-firmware` (`../firmware`), shared with the QEMU boards. No
//! unsafe code here: register access is embassy-stm32's (and its PAC's).
//! Every buffer is a static sized from [`sizes`], so the linker checks the
//! RAM and flash budgets (see `memory.x`).
//!
//! # Flashing
//!
//! With the board on USB (its ST-LINK) and [probe-rs] installed
//! (`cargo install probe-rs-tools`):
//!
//! ```text
//! cd firmware-sim/nucleo-f429zi
//! cargo run --release          # builds, then: probe-rs run --chip STM32F429ZITx <the ELF>
//! ```
//!
//! or, with an image built before (`scripts/board.sh --board nucleo-f429zi --build`):
//!
//! ```text
//! probe-rs run --chip STM32F429ZITx target/thumbv7em-none-eabihf/release/minnow-nucleo-f429zi
//! ```
//!
//! (`probe-rs download --chip STM32F429ZITx ELF` flashes without staying
//! attached.) The log is on the ST-LINK's virtual COM port, USART3 at
//! 115200 8N1, e.g. `picocom -b 115200 --imap lfcrlf /dev/ttyACM0`: lines
//! `minnow: ...`, the boot, the link, the address DHCP gave, the services.
//!
//! # Addresses
//!
//! Chosen at build time, as for every board (`MINNOW_*`, see
//! `../firmware/build.rs`). For a real LAN, build with DHCP:
//!
//! ```text
//! MINNOW_IPV4=dhcp MINNOW_IPV6=none cargo build --release
//! ```
//!
//! The defaults are the documentation addresses the QEMU boards use
//! (192.0.2.2/24, 2001:db8::2/64, no gateway): fine on a cable to a
//! computer set to 192.0.2.1/24, not on a LAN. `MINNOW_SNTP=IP` sets the
//! clock (without it the time server closes without a time), `MINNOW_SMTP=IP[:PORT]`
//! sends the boot mail, `MINNOW_GATEWAY` routes a static address. The MAC
//! address is derived from the chip's unique ID (locally administered,
//! `02:...`, printed at boot). The services: time 9999/tcp, echo
//! 12345/tcp+udp, file 60000/tcp (`GET hello.txt`), chat 9009/tcp.
//!
//! [probe-rs]: https://probe.rs
#![no_std]
#![no_main]
#![deny(unsafe_code)]

mod clock;
mod eth;
mod files;
mod rcc;
mod sizes;
mod uart;

use cortex_m_rt::entry;
use embassy_stm32::rng::{self, Rng};
use embassy_stm32::{bind_interrupts, peripherals};
use minnow_embassy::embassy_net_driver::LinkState;
use minnow_firmware::{Board, Files, log};
use smoltcp::phy::Device as _;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::EthernetAddress;

use crate::clock::Clock;

// The interrupt handlers embassy-stm32's drivers require bound. They never
// run: interrupts stay masked (PRIMASK) and only end `wfi` (see `eth`).
bind_interrupts!(struct Irqs {
    ETH => embassy_stm32::eth::InterruptHandler;
    HASH_RNG => rng::InterruptHandler<peripherals::RNG>;
});

/// How often the PHY's link is read (over SMI: about 30 us) and a change logged.
const LINK_CHECK: Duration = Duration::from_secs(1);

/// The board: its driver, its clock, and what the loop learns between turns.
struct Nucleo {
    eth: eth::Device,
    clock: Clock,
    /// 64 bits of the chip's RNG, taken at boot: mixed into the seed.
    entropy: u64,
    /// Whether the driver held a frame after the last poll.
    rx_waiting: bool,
    /// The link as last read, and when.
    link: Option<LinkState>,
    link_checked: Option<Instant>,
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

minnow_firmware::image!(Nucleo = SIZES);

impl Board for Nucleo {
    type Device = eth::Device;
    const MAX_SLEEP: Duration = clock::MAX_SLEEP;
    const FILES: Files = files::FILES;
    const MAIL_TEXT: &'static [u8] = files::MAIL_TEXT;

    fn device(&mut self) -> &mut eth::Device {
        &mut self.eth
    }

    fn mac(&self) -> EthernetAddress {
        self.eth.ethernet_address()
    }

    /// TIM2's ticks mixed with the hardware RNG's word: unlike the QEMU
    /// boards, this chip has an RNG, and the seed's entropy is its.
    fn ticks(&mut self) -> u64 {
        self.clock.ticks() ^ self.entropy
    }

    fn now(&mut self) -> Instant {
        self.clock.now()
    }

    fn arm_wakeup(&mut self) {
        eth::ack_wakeup();
    }

    fn rx_pending(&self) -> bool {
        self.rx_waiting
    }

    fn sleep(&mut self, wait: Duration) {
        self.clock.sleep(wait);
    }

    /// Called after each poll: notes whether a frame is still waiting in
    /// the receive ring (the poll can stop early, see `Stack::poll`), which
    /// `rx_pending` cannot ask the driver (it takes `&self`, the driver
    /// `&mut`); and logs the link when it changes.
    fn report(&mut self, now: Instant) {
        self.rx_waiting = self.eth.receive(now).is_some();
        if self.link_checked.is_none_or(|at| now >= at + LINK_CHECK) {
            self.link_checked = Some(now);
            let link = self.eth.link_state();
            if self.link != Some(link) {
                log!(
                    "eth: link {}",
                    match link {
                        LinkState::Up => "up (the MAC runs at 100 Mbit/s full duplex)",
                        LinkState::Down => "down",
                    }
                );
                self.link = Some(link);
            }
        }
    }
}

#[entry]
fn main() -> ! {
    // Interrupts stay masked for good: they only wake `wfi` (see `clock`).
    cortex_m::interrupt::disable();
    // The clock tree first: the UART's divisor and every timer depend on it.
    let p = embassy_stm32::init(rcc::config());
    uart::init(p.USART3, p.PD8);
    minnow_firmware::log::set_sink(uart::write_str);
    minnow_firmware::log::init_facade();
    log!(
        "boot: minnow-nucleo-f429zi {} on NUCLEO-F429ZI (STM32F429ZI, Cortex-M4F, {} MHz)",
        env!("CARGO_PKG_VERSION"),
        rcc::HCLK_HZ / 1_000_000
    );
    let Some(core) = cortex_m::Peripherals::take() else {
        panic!("core peripherals taken twice");
    };
    let clock = Clock::new(p.TIM2, core.SYST);
    // The seed's entropy; the RNG is switched off again when dropped.
    let entropy = Rng::new(p.RNG, Irqs).next_u64();
    let mac = eth::mac_from_uid(embassy_stm32::uid::uid());
    // Resets the PHY (it panics, and the log says why, if none answers).
    let driver = eth::Driver::new(
        eth::QUEUE.take(),
        p.ETH,
        Irqs,
        p.PA1,
        p.PA7,
        p.PC4,
        p.PC5,
        p.PG13,
        p.PB13,
        p.PG11,
        mac.0,
        p.ETH_SMA,
        p.PA2,
        p.PC1,
    );
    let eth = match minnow_embassy::DriverDevice::new(driver) {
        Ok(eth) => eth,
        Err(e) => panic!("eth: {e}"),
    };
    log!(
        "eth: mac {}, RMII with a LAN8742A PHY, {} TX and {} RX frame buffers",
        eth.ethernet_address(),
        sizes::ETH_TX_FRAMES,
        sizes::ETH_RX_FRAMES
    );
    minnow_firmware::run(Nucleo {
        eth,
        clock,
        entropy,
        rx_waiting: false,
        link: None,
        link_checked: None,
    })
}
