//! Memory-mapped register access: the firmware's only unsafe code.
//!
//! Everything that touches hardware registers goes through [`Regs`], a
//! handle on one peripheral's register window at a fixed physical address of
//! the mps2-an386 board, plus the two NVIC operations that cortex-m marks
//! unsafe. The drivers above ([`crate::lan9118`], [`crate::uart`]) are safe
//! code that name each register and say why they touch it.
//!
//! Why this is sound: the windows below are device registers (MMIO), not
//! memory that Rust code owns, so a volatile access through them cannot
//! alias a Rust reference or break a Rust invariant; each access is aligned,
//! 32 bits wide (the width both peripherals require), and bounds-checked
//! against the window. What a register write does to the *device* is the
//! driver's business, not a memory-safety question.
#![allow(unsafe_code)]

use cortex_m::interrupt::InterruptNumber;
use cortex_m::peripheral::NVIC;

/// One peripheral's register window.
pub struct Regs {
    base: usize,
    len: usize,
}

impl Regs {
    /// The SMSC LAN9118 Ethernet controller (QEMU `hw/net/lan9118.c`):
    /// 256 bytes of 32-bit registers at 0x4020_0000 on mps2-an385/an386.
    pub const fn lan9118() -> Self {
        Self {
            base: 0x4020_0000,
            len: 0x100,
        }
    }

    /// UART0, an Arm CMSDK APB UART (QEMU `hw/char/cmsdk-apb-uart.c`), at
    /// 0x4000_4000; QEMU connects it to the first `-serial` backend.
    pub const fn uart0() -> Self {
        Self {
            base: 0x4000_4000,
            len: 0x1000,
        }
    }

    fn addr(&self, offset: usize) -> usize {
        assert!(
            offset.is_multiple_of(4) && offset < self.len,
            "register offset"
        );
        self.base + offset
    }

    /// Reads the 32-bit register at `offset`. Volatile: the device may change
    /// it at any time, and some reads (FIFO ports) have side effects.
    #[inline]
    pub fn read(&self, offset: usize) -> u32 {
        let addr = self.addr(offset) as *const u32;
        // SAFETY: `addr` is an aligned 32-bit device register inside this
        // peripheral's MMIO window (checked above); no Rust object lives there.
        unsafe { core::ptr::read_volatile(addr) }
    }

    /// Writes the 32-bit register at `offset`.
    #[inline]
    pub fn write(&self, offset: usize, value: u32) {
        let addr = self.addr(offset) as *mut u32;
        // SAFETY: as in `read`.
        unsafe { core::ptr::write_volatile(addr, value) }
    }
}

/// The board's external interrupt lines that the firmware uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum Irq {
    /// LAN9118 IRQ pin: NVIC line 13 on mps2-an385/an386 (QEMU `hw/arm/mps2.c`).
    Ethernet = 13,
}

// SAFETY: cortex-m requires the number to be a valid external interrupt of
// the device: the an386's NVIC has 32 lines and 13 is the Ethernet one.
unsafe impl InterruptNumber for Irq {
    fn number(self) -> u16 {
        self as u16
    }
}

/// Enables `irq` in the NVIC.
///
/// The firmware never takes an interrupt: it runs with PRIMASK set
/// ([`cortex_m::interrupt::disable`] at boot, never re-enabled), and an
/// enabled, pending interrupt only wakes the core from `wfi`. That is why
/// there is no handler and no state shared with one (the one critical
/// section, around the log's sink, masks with PRIMASK and finds it set).
pub fn enable_wakeup(irq: Irq) {
    // SAFETY: cortex-m marks unmasking unsafe because it can break
    // critical sections made by masking this interrupt in the NVIC. There
    // are none here: the only critical section masks with PRIMASK, which is
    // set for the firmware's whole life, so the interrupt is never taken.
    unsafe { NVIC::unmask(irq) }
}
