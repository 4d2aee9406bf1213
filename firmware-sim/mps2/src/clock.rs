//! Time: the monotonic clock smoltcp runs on, and the idle wait.
//!
//! - **Now**: the LAN9118's FREE_RUN register, a 32-bit counter at 25 MHz
//!   (QEMU derives it from its virtual clock, i.e. real time), extended to
//!   64 bits here. It wraps every 171.8 s; the main loop reads it at least
//!   every [`MAX_SLEEP`], so no wrap is missed.
//! - **Waiting**: SysTick, clocked by the 25 MHz core clock, counts down the
//!   wait and pends its exception; the LAN9118's IRQ pends when a frame
//!   lands. Either wakes `wfi`. Interrupts stay masked (PRIMASK), so no
//!   handler runs: the loop wakes, clears what is pending, and polls.

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::{NVIC, SCB, SYST};
use smoltcp::time::{Duration, Instant};

use crate::lan9118::FREE_RUN;
use crate::mmio::{Irq, Regs};

/// FREE_RUN and the core clock both tick at 25 MHz on mps2 boards.
const TICKS_PER_US: u64 = 25;
/// The longest single wait: SysTick's 24-bit counter lasts 0.67 s at 25 MHz.
pub const MAX_SLEEP: Duration = Duration::from_millis(500);

/// The clock and the idle wait.
pub struct Clock {
    /// A second handle on the LAN9118's registers, used only to read
    /// FREE_RUN (a read without side effects).
    regs: Regs,
    syst: SYST,
    last: u32,
    high: u64,
}

impl Clock {
    /// Takes SysTick. Interrupts must already be masked.
    pub fn new(mut syst: SYST) -> Self {
        syst.disable_counter();
        syst.disable_interrupt();
        syst.set_clock_source(SystClkSource::Core);
        let regs = Regs::lan9118();
        let last = regs.read(FREE_RUN);
        Self {
            regs,
            syst,
            last,
            high: 0,
        }
    }

    /// Raw 25 MHz ticks since the controller's reset, 64 bits.
    pub fn ticks(&mut self) -> u64 {
        let now = self.regs.read(FREE_RUN);
        if now < self.last {
            self.high += 1 << 32;
        }
        self.last = now;
        self.high + u64::from(now)
    }

    /// Monotonic time since the controller's reset.
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

/// Clears a pending Ethernet wakeup (after the device's own status is
/// acknowledged, so a later frame pends it again).
pub fn clear_eth_wakeup() {
    NVIC::unpend(Irq::Ethernet);
}
