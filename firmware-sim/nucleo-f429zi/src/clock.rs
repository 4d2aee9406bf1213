//! Time: the monotonic clock smoltcp runs on, and the idle wait. No
//! embassy-time driver and no executor: two plain timers.
//!
//! - **Now**: TIM2, a 32-bit timer, free-running at 1 MHz (its 84 MHz
//!   clock, prescaled by 84), extended to 64 bits here: microsecond
//!   resolution. It wraps every 71.6 minutes; the main loop reads it at least
//!   every [`MAX_SLEEP`], so no wrap is missed. Timers keep counting while
//!   the core sleeps in `wfi` (sleep mode), unlike the DWT cycle counter.
//! - **Waiting**: SysTick, clocked by HCLK / 8 (21 MHz), counts down the
//!   wait and pends its exception; the Ethernet DMA's interrupt pends when a
//!   frame lands or one is sent. Either wakes `wfi`. Interrupts stay masked
//!   (PRIMASK), so no handler runs: the loop wakes, clears what is pending,
//!   and polls.

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::{SCB, SYST};
use embassy_stm32::Peri;
use embassy_stm32::peripherals::TIM2;
use embassy_stm32::time::Hertz;
use embassy_stm32::timer::low_level::Timer;
use smoltcp::time::{Duration, Instant};

use crate::rcc::HCLK_HZ;

/// TIM2's count rate: one tick a microsecond.
const TICK_HZ: u32 = 1_000_000;
/// SysTick's rate from its external source, HCLK / 8 on STM32F4.
const SYSTICK_PER_US: u64 = (HCLK_HZ / 8 / 1_000_000) as u64;
/// The longest single wait: SysTick's 24-bit counter lasts 0.8 s at 21 MHz.
pub const MAX_SLEEP: Duration = Duration::from_millis(500);

/// The clock and the idle wait.
pub struct Clock {
    tim: Timer<'static, TIM2>,
    syst: SYST,
    last: u32,
    high: u64,
}

impl Clock {
    /// Starts TIM2 and takes SysTick. Interrupts must already be masked.
    pub fn new(tim2: Peri<'static, TIM2>, mut syst: SYST) -> Self {
        let mut tim = Timer::new(tim2);
        // The prescaler (loaded by the update event this sends) and the
        // whole 32-bit range before the counter wraps.
        tim.set_tick_freq(Hertz(TICK_HZ));
        tim.set_max_compare_value(u32::MAX);
        tim.start();
        syst.disable_counter();
        syst.disable_interrupt();
        syst.set_clock_source(SystClkSource::External);
        let last = tim.regs_gp32().cnt().read();
        Self {
            tim,
            syst,
            last,
            high: 0,
        }
    }

    /// Raw 1 MHz ticks since the clock started, 64 bits.
    pub fn ticks(&mut self) -> u64 {
        let now = self.tim.regs_gp32().cnt().read();
        if now < self.last {
            self.high += 1 << 32;
        }
        self.last = now;
        self.high + u64::from(now)
    }

    /// Monotonic time since the clock started.
    pub fn now(&mut self) -> Instant {
        Instant::from_micros(self.ticks() as i64)
    }

    /// Sleeps until a frame arrives or `wait` (at most [`MAX_SLEEP`]) passes.
    pub fn sleep(&mut self, wait: Duration) {
        let ticks = wait.total_micros().min(MAX_SLEEP.total_micros()) * SYSTICK_PER_US;
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
