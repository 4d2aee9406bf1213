//! The firmware main every board runs once its hardware is up: the stack,
//! the services, the boot log's RAM figures, and the loop.
//!
//! The loop is the one every Minnow runtime runs: core's stack polls the
//! interface and the service set ([`minnow::services::ServiceSet::poll`]),
//! then the board sleeps (`wfi`) until the next deadline or a received frame.

use minnow::WallClock;
use minnow::net::{Arena, NetConfig, Stack, wait_duration};
use smoltcp::iface::{Interface, SocketSet, SocketStorage};
use static_cell::StaticCell;

use crate::services::Services;
use crate::{Board, log, netconfig};

static STACK: StaticCell<Stack<'static>> = StaticCell::new();
static WALL_CLOCK: StaticCell<WallClock> = StaticCell::new();

/// Runs the board's services for good.
pub fn run<B: Board>(mut board: B) -> ! {
    let memory = B::memory();
    // The seed (TCP initial sequence numbers, ephemeral ports) mixes the
    // MAC with the board's ticks after boot: on the QEMU boards, with no
    // hardware RNG, a counter whose low bits vary with the host's timing.
    let ticks = board.ticks();
    let m = board.mac().0;
    let mac = u64::from_le_bytes([m[0], m[1], m[2], m[3], m[4], m[5], 0, 0]);
    let seed = (ticks ^ mac.rotate_left(29)).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;

    let config = NetConfig {
        mac: board.mac(),
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
    let now = board.now();
    let stack = stack(&config, board.device(), memory.sockets, now);
    let wall_clock: &'static WallClock = WALL_CLOCK.init(WallClock::new());
    let alloc = Arena::new(memory.buffers, memory.udp_metadata);
    let mut services = Services::<B>::new(
        stack,
        wall_clock,
        seed,
        alloc,
        memory.set,
        B::FILES,
        B::MAIL_TEXT,
    );
    services.describe();
    services.log_ram();
    log!(
        "ram: interface {} B, tcp::Socket {} B (inside its slot), services {} B",
        core::mem::size_of::<Interface>(),
        core::mem::size_of::<smoltcp::socket::tcp::Socket<'static>>(),
        services.ram(),
    );

    loop {
        // Acknowledge the frame wakeup before draining the FIFO, so a frame
        // that lands during the poll pends it again and the sleep returns.
        board.arm_wakeup();
        let now = board.now();
        let deadline = services.poll(stack, board.device(), now);
        services.report(now);
        board.report(now);
        if board.rx_pending() {
            continue;
        }
        let wait = wait_duration(board.now(), deadline, B::MAX_SLEEP);
        board.sleep(wait);
    }
}

/// The stack, in .bss, not on the stack: its interface with 32 neighbour
/// entries is 1.5 KiB. Not inlined: building it takes copies of it on the
/// stack, and inlined into the caller they stayed reserved under every poll
/// (the frame was 6.6 KiB).
#[inline(never)]
fn stack<D: smoltcp::phy::Device>(
    config: &NetConfig,
    device: &mut D,
    slots: &'static mut [SocketStorage<'static>],
    now: smoltcp::time::Instant,
) -> &'static mut Stack<'static> {
    STACK.init_with(|| Stack::new(config, device, SocketSet::new(slots), now))
}
