//! The clock tree, set by embassy-stm32's `init` from [`config`].
//!
//! NUCLEO-F429ZI: no crystal is fitted for the HSE; the ST-LINK's MCO output
//! drives the chip's OSC_IN with 8 MHz (HSE bypass), the board's default
//! solder bridges. From it the main PLL makes 168 MHz for
//! the core (VCO 336 MHz: 8 / 4 x 168, P = 2) and 48 MHz on its Q output for
//! the RNG (Q = 7). The buses: AHB 168 MHz (the Ethernet MAC needs at least
//! 25 MHz), APB1 42 MHz (USART3; its timers, TIM2, run at 84 MHz), APB2
//! 84 MHz. embassy sets the flash wait states and the regulator's scale.

use embassy_stm32::Config;
use embassy_stm32::rcc::{
    AHBPrescaler, APBPrescaler, Hse, HseMode, Pll, PllMul, PllPDiv, PllPreDiv, PllQDiv, PllSource,
    Sysclk,
};
use embassy_stm32::time::Hertz;

/// The core clock (HCLK), Hz.
pub const HCLK_HZ: u32 = 168_000_000;

/// embassy-stm32's configuration: the clock tree above.
pub fn config() -> Config {
    let mut config = Config::default();
    config.rcc.hse = Some(Hse {
        freq: Hertz(8_000_000),
        mode: HseMode::Bypass,
    });
    config.rcc.pll_src = PllSource::HSE;
    config.rcc.pll = Some(Pll {
        prediv: PllPreDiv::DIV4,
        mul: PllMul::MUL168,
        divp: Some(PllPDiv::DIV2),
        divq: Some(PllQDiv::DIV7),
        divr: None,
    });
    config.rcc.sys = Sysclk::PLL1_P;
    config.rcc.ahb_pre = AHBPrescaler::DIV1;
    config.rcc.apb1_pre = APBPrescaler::DIV4;
    config.rcc.apb2_pre = APBPrescaler::DIV2;
    config
}
