//! Time: the monotonic clock smoltcp runs on, and the idle wait.
//!
//! - **Now**: the watchdog timer's counter. It is the chip's one readable
//!   32-bit counter at the system clock: SysTick has 24 bits (0.34 s at
//!   50 MHz, too short a wrap for a loop that may be held up), and QEMU's
//!   general-purpose timers do not model reading their count. The watchdog
//!   counts down from WDTLOAD (0xFFFF_FFFF, the reset value) at 50 MHz and
//!   wraps every 85.9 s; it only counts once WDTCTL.INTEN is set, which also
//!   makes it raise WDTRIS at each wrap. It never resets the chip: WDTCTL's
//!   RESEN stays clear. The NVIC line of its interrupt stays disabled, so it
//!   wakes nothing. The count is extended to 64 bits here; the main loop
//!   reads it at least every [`MAX_SLEEP`], so no wrap is missed.
//! - **Waiting**: SysTick, on the core clock (QEMU connects no other
//!   SysTick clock on this board), counts the wait down and pends its
//!   exception; the Ethernet controller's interrupt pends when a frame
//!   lands. Either wakes `wfi`. Interrupts stay masked (PRIMASK), so no
//!   handler runs: the loop wakes, clears what is pending, and polls.
//!
//! Watchdog registers (data sheet, "Watchdog Timer"; QEMU
//! `hw/watchdog/cmsdk-apb-watchdog.c`, the Luminary variant), from
//! 0x4000_0000: WDTLOAD 0x000, WDTVALUE 0x004, WDTCTL 0x008 (INTEN bit 0),
//! WDTICR 0x00C (any write clears the interrupt and reloads the count),
//! WDTRIS 0x010 (bit 0: expired).

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::{NVIC, SCB, SYST};
use smoltcp::time::{Duration, Instant};

use crate::mmio::{Irq, Regs};
use crate::sysctl::SYSCLK_HZ;

const WDTLOAD: usize = 0x000;
const WDTVALUE: usize = 0x004;
const WDTCTL: usize = 0x008;
const WDTICR: usize = 0x00C;
const WDTRIS: usize = 0x010;
const WDTCTL_INTEN: u32 = 1 << 0;
const WDTRIS_EXPIRED: u32 = 1 << 0;

/// Ticks of the watchdog and of SysTick per microsecond (50 MHz).
const TICKS_PER_US: u64 = (SYSCLK_HZ / 1_000_000) as u64;
/// SysTick's largest reload.
const SYSTICK_MAX: u64 = 0x00FF_FFFF;
/// The longest single wait: SysTick's 24-bit counter lasts 0.34 s at 50 MHz.
pub const MAX_SLEEP: Duration = Duration::from_millis(300);
const _: () = assert!(MAX_SLEEP.total_micros() * TICKS_PER_US <= SYSTICK_MAX);

/// The clock and the idle wait.
pub struct Clock {
    watchdog: Regs,
    syst: SYST,
    /// The counter at the last read.
    last: u32,
    /// Ticks counted up to the last read.
    total: u64,
}

impl Clock {
    /// Starts the watchdog's counter and takes SysTick. The system clock
    /// must be set already (see [`crate::sysctl::clock_50mhz`]), and
    /// interrupts masked.
    pub fn new(mut syst: SYST) -> Self {
        syst.disable_counter();
        syst.disable_interrupt();
        syst.set_clock_source(SystClkSource::Core);
        let watchdog = Regs::watchdog();
        watchdog.write(WDTLOAD, u32::MAX);
        watchdog.write(WDTCTL, WDTCTL_INTEN);
        let last = watchdog.read(WDTVALUE);
        Self {
            watchdog,
            syst,
            last,
            total: 0,
        }
    }

    /// Raw 50 MHz ticks since [`Clock::new`], 64 bits.
    pub fn ticks(&mut self) -> u64 {
        let value = self.watchdog.read(WDTVALUE);
        // A down-counter with a period of 2^32 ticks: what passed since the
        // last read, provided that was less than a period ago.
        self.total += u64::from(self.last.wrapping_sub(value));
        self.last = value;
        if self.watchdog.read(WDTRIS) & WDTRIS_EXPIRED != 0 {
            // The count wrapped since the flag was last cleared. Cleared
            // now, long before the next wrap: a second expiry with the flag
            // still set stops QEMU's counter (and resets a chip whose RESEN
            // is set). The clear reloads the count; the few ticks between
            // the read above and the reload are not counted.
            self.watchdog.write(WDTICR, 1);
            self.last = self.watchdog.read(WDTVALUE);
        }
        self.total
    }

    /// Monotonic time since [`Clock::new`].
    pub fn now(&mut self) -> Instant {
        Instant::from_micros((self.ticks() / TICKS_PER_US) as i64)
    }

    /// Sleeps until a frame arrives or `wait` (at most [`MAX_SLEEP`]) passes.
    pub fn sleep(&mut self, wait: Duration) {
        let ticks = wait.total_micros().min(MAX_SLEEP.total_micros()) * TICKS_PER_US;
        if ticks == 0 {
            return;
        }
        // SysTick counts from the reload value down to 0, then pends.
        self.syst.set_reload(ticks as u32);
        self.syst.clear_current();
        self.syst.enable_interrupt();
        self.syst.enable_counter();
        cortex_m::asm::wfi();
        self.syst.disable_counter();
        self.syst.disable_interrupt();
        SCB::clear_pendst();
    }
}

/// Clears a pending Ethernet wakeup (after the controller's own status is
/// acknowledged, so a later frame pends it again).
pub fn clear_eth_wakeup() {
    NVIC::unpend(Irq::Ethernet);
}
