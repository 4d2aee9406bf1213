//! System control: the clock tree, the peripherals' clock gates, and the
//! MAC address the factory wrote into the USER0/USER1 words.
//!
//! Registers (LM3S6965 data sheet, "System Control"; QEMU
//! `hw/arm/stellaris.c`, `ssys`), byte offsets from 0x400F_E000:
//!
//! | offset | register | used for |
//! | --- | --- | --- |
//! | 0x050 | RIS | PLLLRIS (bit 6): the PLL has locked |
//! | 0x058 | MISC | write 1 to clear a RIS bit |
//! | 0x060 | RCC | oscillator, crystal, PLL, system clock divider |
//! | 0x100/0x104/0x108 | RCGC0/1/2 | clock gates of the watchdog, UART0, GPIO A, the Ethernet MAC and PHY |
//! | 0x1E0/0x1E4 | USER0/USER1 | the MAC address, three bytes each (0xFFFF_FFFF: none) |
//!
//! The clock: out of reset the chip runs from its internal oscillator
//! (QEMU: 12.5 MHz). [`clock_50mhz`] does what the board's own examples do:
//! the 8 MHz crystal through the 400 MHz PLL, halved, divided by 4. QEMU
//! derives every timer's rate from RCC's divider (200 MHz / (SYSDIV + 1)),
//! so the watchdog and SysTick count at 50 MHz on both.
//!
//! The clock gates and the UART pins do nothing in QEMU, which models
//! neither; they are here so that the image's assumptions are the
//! hardware's.

use crate::mmio::Regs;

const RIS: usize = 0x050;
const MISC: usize = 0x058;
const RCC: usize = 0x060;
const RCGC0: usize = 0x100;
const RCGC1: usize = 0x104;
const RCGC2: usize = 0x108;
const USER0: usize = 0x1E0;
const USER1: usize = 0x1E4;

/// RIS/MISC: the PLL has locked.
const PLLLRIS: u32 = 1 << 6;

// RCC fields.
const RCC_MOSCDIS: u32 = 1 << 0;
const RCC_OSCSRC_MASK: u32 = 0b11 << 4;
/// OSCSRC = 0: the main oscillator (the crystal).
const RCC_OSCSRC_MAIN: u32 = 0;
const RCC_XTAL_MASK: u32 = 0xF << 6;
/// XTAL = 0xE: an 8 MHz crystal, the evaluation board's.
const RCC_XTAL_8MHZ: u32 = 0xE << 6;
const RCC_BYPASS: u32 = 1 << 11;
const RCC_PWRDN: u32 = 1 << 13;
const RCC_USESYSDIV: u32 = 1 << 22;
const RCC_SYSDIV_SHIFT: u32 = 23;
const RCC_SYSDIV_MASK: u32 = 0xF << RCC_SYSDIV_SHIFT;
/// SYSDIV = 3: the PLL's 200 MHz divided by 4.
const RCC_SYSDIV_50MHZ: u32 = 3 << RCC_SYSDIV_SHIFT;

// Clock gates.
const RCGC0_WDT: u32 = 1 << 3;
const RCGC1_UART0: u32 = 1 << 0;
const RCGC2_GPIOA: u32 = 1 << 0;
const RCGC2_EMAC0: u32 = 1 << 28;
const RCGC2_EPHY0: u32 = 1 << 30;

// GPIO port A: PA0 and PA1 are UART0's receive and transmit pins.
const GPIO_AFSEL: usize = 0x420;
const GPIO_DEN: usize = 0x51C;
const UART0_PINS: u32 = 0b11;

/// The system clock after [`clock_50mhz`].
pub const SYSCLK_HZ: u32 = 50_000_000;

/// Bounded wait for the PLL (on the chip it locks in about 0.5 ms).
const PLL_SPIN: u32 = 1_000_000;

/// How the clock came up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockSetup {
    /// The PLL locked: the system clock is [`SYSCLK_HZ`].
    Pll50MHz,
    /// The PLL never reported lock: the divider is set anyway (QEMU runs
    /// at 50 MHz regardless; a chip would stay on the bypass clock).
    PllNoLock,
}

/// Switches the system clock to 50 MHz: the data sheet's order (bypass the
/// PLL and drop the divider, choose the crystal and power the PLL up, set
/// the divider, wait for lock, leave bypass).
pub fn clock_50mhz() -> ClockSetup {
    let sys = Regs::sysctl();
    let mut rcc = sys.read(RCC);
    rcc = (rcc | RCC_BYPASS) & !RCC_USESYSDIV;
    sys.write(RCC, rcc);
    sys.write(MISC, PLLLRIS);
    rcc = (rcc & !(RCC_XTAL_MASK | RCC_OSCSRC_MASK | RCC_PWRDN | RCC_MOSCDIS))
        | RCC_XTAL_8MHZ
        | RCC_OSCSRC_MAIN;
    sys.write(RCC, rcc);
    rcc = (rcc & !RCC_SYSDIV_MASK) | RCC_SYSDIV_50MHZ | RCC_USESYSDIV;
    sys.write(RCC, rcc);
    let locked = (0..PLL_SPIN).any(|_| sys.read(RIS) & PLLLRIS != 0);
    if !locked {
        return ClockSetup::PllNoLock;
    }
    sys.write(RCC, rcc & !RCC_BYPASS);
    ClockSetup::Pll50MHz
}

/// Opens the clock gates of what the image uses, and gives PA0/PA1 to
/// UART0.
pub fn enable_peripherals() {
    let sys = Regs::sysctl();
    sys.write(RCGC0, sys.read(RCGC0) | RCGC0_WDT);
    sys.write(RCGC1, sys.read(RCGC1) | RCGC1_UART0);
    sys.write(
        RCGC2,
        sys.read(RCGC2) | RCGC2_GPIOA | RCGC2_EMAC0 | RCGC2_EPHY0,
    );
    // A few cycles pass before a gated peripheral answers: this read is one.
    let _ = sys.read(RCGC2);
    let gpio = Regs::gpio_a();
    gpio.write(GPIO_AFSEL, gpio.read(GPIO_AFSEL) | UART0_PINS);
    gpio.write(GPIO_DEN, gpio.read(GPIO_DEN) | UART0_PINS);
}

/// The MAC address in USER0/USER1 (bytes 0..3 in USER0's low three bytes,
/// 3..6 in USER1's), or `None` where the words are unprogrammed (all ones)
/// or zero. QEMU fills them from `-nic ...,mac=` (default 52:54:00:12:34:56).
pub fn factory_mac() -> Option<[u8; 6]> {
    let sys = Regs::sysctl();
    let (u0, u1) = (sys.read(USER0), sys.read(USER1));
    if u0 == u32::MAX || u1 == u32::MAX || (u0 | u1) & 0x00FF_FFFF == 0 {
        return None;
    }
    let [a, b, c, _] = u0.to_le_bytes();
    let [d, e, f, _] = u1.to_le_bytes();
    Some([a, b, c, d, e, f])
}
