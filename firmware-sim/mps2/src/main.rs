//! Minnow as firmware: the core's services on QEMU's `mps2-an386` board
//! (Arm Cortex-M4F, 25 MHz) with its SMSC LAN9118 Ethernet controller.
//!
//! `no_std`, no allocator. The only unsafe code is register access, in
//! [`mmio`]; the driver ([`lan9118`]), the clock ([`clock`]) and the log
//! ([`uart`]) are safe code on top of it. Every buffer is a static sized in
//! [`services`], so the linker checks the RAM budget (see `memory.x`).
//!
//! The loop is the one every Minnow runtime runs: core's stack polls the
//! interface and the service set ([`minnow::services::ServiceSet::poll`]),
//! then the board sleeps (`wfi`) until the next deadline or a received frame.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

mod clock;
mod files;
mod lan9118;
mod log;
mod mail;
mod mmio;
mod services;
mod sizes;
mod uart;

/// The network settings chosen at build time (`MINNOW_*`, see `build.rs`).
mod netconfig {
    #[allow(unused_imports)]
    use smoltcp::wire::{IpAddress, IpEndpoint, Ipv4Address, Ipv4Cidr, Ipv6Address, Ipv6Cidr};
    include!(concat!(env!("OUT_DIR"), "/netconfig.rs"));
}

use core::panic::PanicInfo;

// defmt's global logger: frames over semihosting (feature `defmt`).
#[cfg(feature = "defmt")]
use defmt_semihosting as _;

use cortex_m_rt::entry;
use minnow::WallClock;
use minnow::net::{NetConfig, Stack, wait_duration};
use smoltcp::iface::Interface;
use smoltcp::wire::EthernetAddress;
use static_cell::StaticCell;

use crate::clock::{Clock, MAX_SLEEP};
use crate::lan9118::Lan9118;
use crate::mmio::Irq;
use crate::services::Services;

/// Used when the controller holds no valid address (a locally administered one).
const FALLBACK_MAC: EthernetAddress = EthernetAddress([0x02, 0x6d, 0x6e, 0x77, 0x00, 0x02]);

static ETH: StaticCell<Lan9118> = StaticCell::new();
static STACK: StaticCell<Stack<'static>> = StaticCell::new();
static WALL_CLOCK: StaticCell<WallClock> = StaticCell::new();

#[entry]
fn main() -> ! {
    // Interrupts stay masked for good: they only wake `wfi` (see `mmio`).
    cortex_m::interrupt::disable();
    uart::Uart::init();
    #[cfg(feature = "log")]
    log::init();
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
    let mut clock = Clock::new(core.SYST);
    mmio::enable_wakeup(Irq::Ethernet);
    log!(
        "lan9118: id {:#010x}, mac {}, link {}",
        eth.id_rev(),
        eth.mac(),
        if eth.link_up() { "up" } else { "down" }
    );

    // No hardware RNG: the seed (TCP initial sequence numbers, ephemeral
    // ports) mixes the MAC with the 25 MHz counter after boot, whose low
    // bits vary with the host's timing.
    let ticks = clock.ticks();
    let m = eth.mac().0;
    let mac = u64::from_le_bytes([m[0], m[1], m[2], m[3], m[4], m[5], 0, 0]);
    let seed = (ticks ^ mac.rotate_left(29)).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;

    let config = NetConfig {
        mac: eth.mac(),
        ipv4: netconfig::IPV4,
        ipv6: netconfig::IPV6,
        gateway_v4: netconfig::GATEWAY_V4,
        gateway_v6: None,
        #[cfg(feature = "slaac")]
        slaac: netconfig::SLAAC,
        dhcp: netconfig::DHCP,
        random_seed: seed,
    };
    log!("net: {}", netconfig::SUMMARY);
    let now = clock.now();
    let stack = stack(&config, eth, now);
    let wall_clock: &'static WallClock = WALL_CLOCK.init(WallClock::new());
    let mut services = Services::new(stack, wall_clock, seed);
    services.describe();
    services.log_ram();
    log!(
        "ram: interface {} B, tcp::Socket {} B (inside its slot), services {} B",
        core::mem::size_of::<Interface>(),
        core::mem::size_of::<smoltcp::socket::tcp::Socket<'static>>(),
        services.ram(),
    );

    loop {
        // Acknowledge the frame interrupt before draining the FIFO, so a
        // frame that lands during the poll pends it again and `wfi` returns.
        eth.ack_rx_irq();
        clock::clear_eth_wakeup();
        let now = clock.now();
        let deadline = services.poll(stack, eth, now);
        services.report(now);
        if eth.rx_pending() {
            continue;
        }
        let wait = wait_duration(clock.now(), deadline, MAX_SLEEP);
        clock.sleep(wait);
    }
}

/// The stack, in .bss, not on the stack: its interface with 64 neighbour
/// entries is 2.8 KiB. Not inlined: building it takes copies of it on the
/// stack, and inlined into `main` they stayed reserved under every poll (the
/// frame was 6.6 KiB).
#[inline(never)]
fn stack(
    config: &NetConfig,
    eth: &mut Lan9118,
    now: smoltcp::time::Instant,
) -> &'static mut Stack<'static> {
    STACK.init_with(|| Stack::new(config, eth, services::socket_set(), now))
}

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    log!("panic: {}", info);
    loop {
        cortex_m::asm::wfi();
    }
}
