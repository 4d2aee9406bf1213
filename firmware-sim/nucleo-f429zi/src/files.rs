//! The file the file server sends (it stays in flash), and the boot mail's
//! text, which says which board sent it.

use minnow_firmware::Files;

/// The default file: what a request that is not `GET NAME` gets (the notes'
/// client sends `Hello server!`), and the boot mail's attachment.
const DEFAULT: &str = "hello.txt";

const HELLO: &[u8] = b"Hello from Minnow, running as firmware on an ST NUCLEO-F429ZI \
(STM32F429ZI, Arm Cortex-M4F) with its on-chip Ethernet MAC, driven by embassy-stm32.\n";

/// The file table: one small file.
pub const FILES: Files = Files {
    table: &[(DEFAULT, HELLO)],
    default: DEFAULT,
};

/// The boot mail's text part.
pub const MAIL_TEXT: &[u8] = b"Hello from Minnow, running as firmware on an ST NUCLEO-F429ZI \
(STM32F429ZI, Arm Cortex-M4F).\n\nThis message was composed on the board by Minnow's MIME \
composer and sent by its SMTP client over smoltcp and embassy-stm32's Ethernet driver; the \
attachment is hello.txt from the board's file table.\n";
