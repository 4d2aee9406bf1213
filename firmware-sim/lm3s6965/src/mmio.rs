//! Memory-mapped register access: the image's only unsafe code.
//!
//! Everything that touches hardware registers goes through [`Regs`], a
//! handle on one peripheral's register window at a fixed physical address of
//! the LM3S6965 (its data sheet's memory map; QEMU `hw/arm/stellaris.c`),
//! plus the NVIC operation that cortex-m marks unsafe. The drivers above
//! ([`crate::stellaris_enet`], [`crate::uart`], [`crate::sysctl`],
//! [`crate::clock`]) are safe code that name each register and say why they
//! touch it.
//!
//! Why this is sound: the windows below are device registers (MMIO), not
//! memory that Rust code owns, so a volatile access through them cannot
//! alias a Rust reference or break a Rust invariant; each access is aligned,
//! 32 bits wide (every register used is a word), and bounds-checked against
//! the window. What a register write does to the *device* is the driver's
//! business, not a memory-safety question.
#![allow(unsafe_code)]

use cortex_m::interrupt::InterruptNumber;
use cortex_m::peripheral::NVIC;

/// One peripheral's register window.
#[derive(Debug, Clone, Copy)]
pub struct Regs {
    base: usize,
    len: usize,
}

impl Regs {
    /// The watchdog timer (QEMU `luminary-watchdog`), at 0x4000_0000.
    pub const fn watchdog() -> Self {
        Self {
            base: 0x4000_0000,
            len: 0x1000,
        }
    }

    /// GPIO port A (a PL061), at 0x4000_4000: UART0's pins.
    pub const fn gpio_a() -> Self {
        Self {
            base: 0x4000_4000,
            len: 0x1000,
        }
    }

    /// UART0, an Arm PL011 (QEMU `pl011_luminary`), at 0x4000_C000; QEMU
    /// connects it to the first `-serial` backend.
    pub const fn uart0() -> Self {
        Self {
            base: 0x4000_C000,
            len: 0x1000,
        }
    }

    /// The Ethernet controller (MAC + PHY; QEMU `stellaris_enet`), at
    /// 0x4004_8000.
    pub const fn ethernet() -> Self {
        Self {
            base: 0x4004_8000,
            len: 0x1000,
        }
    }

    /// System control (clocks, clock gating, the USER0/1 words holding the
    /// MAC address), at 0x400F_E000.
    pub const fn sysctl() -> Self {
        Self {
            base: 0x400F_E000,
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

/// The chip's interrupt lines that the firmware uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum Irq {
    /// The Ethernet controller: interrupt 42 (data sheet's vector table;
    /// QEMU wires `stellaris_enet` to NVIC line 42).
    Ethernet = 42,
}

// SAFETY: cortex-m requires the number to be a valid external interrupt of
// the device: the LM3S6965 has lines 0..=47 (QEMU models 64), and 42 is the
// Ethernet controller's.
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
