//! The board: Minnow's firmware image (`firmware-sim/mps2`) built for and
//! booted in QEMU's `mps2-an386` (Cortex-M4F + LAN9118) on a namespace's
//! `tap0`. One copy for the firmware tests and the benchmarks.
//!
//! The image is built with `cargo build --release` in `firmware-sim/mps2`
//! as [`Netns::MINNOW_V4_CIDR`] and [`Netns::MINNOW_V6_CIDR`] (no gateway),
//! SNTP from [`Netns::HOST_V4`], mail at boot to [`Netns::HOST_V4`]:[`SMTP_PORT`]
//! (where nothing listens it logs the refusal and serves on), and
//! `MINNOW_PER_SOURCE=4` (every client comes from the Linux side's one
//! address). Env `MINNOW_BOARD_ELF` names a prebuilt default image instead.
//! The board's echo is tcp/12345 and udp/12345, as `minnow serve`'s. A
//! missing `qemu-system-arm` fails: never a skip.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crate::{Netns, Proc, workspace_root};

/// How long the image may take from QEMU's start to `minnow: ready`.
pub const BOOT: Duration = Duration::from_secs(30);
/// Where the image mails at boot (`MINNOW_SMTP`), and from and to whom.
pub const SMTP_PORT: u16 = 2525;
pub const MAIL_FROM: &str = "Minnow board <board@minnow.test>";
pub const MAIL_TO: &str = "Tester <tester@minnow.test>";

/// The default image (every default service), built once per process;
/// panics with the reason if it cannot be.
pub fn image() -> PathBuf {
    static IMAGE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match IMAGE.get_or_init(|| build_variant(&[], None)) {
        Ok(p) => p.clone(),
        Err(e) => panic!("minnow-tests: {e}"),
    }
}

/// The image with extra Cargo `features` and `services` (`MINNOW_SERVICES`),
/// in a target folder of its own; the default image without either.
pub fn build_variant(features: &[&str], services: Option<&str>) -> Result<PathBuf, String> {
    if let Some(elf) = std::env::var_os("MINNOW_BOARD_ELF").filter(|v| !v.is_empty())
        && features.is_empty()
    {
        let elf = PathBuf::from(elf);
        return if elf.is_file() {
            Ok(elf)
        } else {
            Err(format!("MINNOW_BOARD_ELF={} is not a file", elf.display()))
        };
    }
    match Command::new("qemu-system-arm").arg("--version").output() {
        Ok(o) if o.status.success() => {}
        other => {
            return Err(format!(
                "qemu-system-arm is needed to boot the board image and could not be run ({other:?}); \
                 install it (apt-get install qemu-system-arm). Failing rather than skipping."
            ));
        }
    }
    let dir = workspace_root().join("firmware-sim").join("mps2");
    let target = if features.is_empty() {
        dir.join("target")
    } else {
        dir.join("target").join(features.join("-"))
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&dir)
        .args(["build", "--release", "--locked"]);
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
    cmd.env("CARGO_TARGET_DIR", &target)
        .env("MINNOW_IPV4", Netns::MINNOW_V4_CIDR)
        .env("MINNOW_IPV6", Netns::MINNOW_V6_CIDR)
        .env("MINNOW_GATEWAY", "none")
        .env("MINNOW_SNTP", Netns::HOST_V4)
        .env("MINNOW_SMTP", format!("{}:{SMTP_PORT}", Netns::HOST_V4))
        .env("MINNOW_MAIL_FROM", MAIL_FROM)
        .env("MINNOW_MAIL_TO", MAIL_TO)
        // Every client here comes from the Linux side's one address.
        .env("MINNOW_PER_SOURCE", "4");
    match services {
        Some(list) => cmd.env("MINNOW_SERVICES", list),
        None => cmd.env_remove("MINNOW_SERVICES"),
    };
    // The host build's settings must not leak into the board's.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd.output().map_err(|e| format!("running {cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "building the board image failed ({cmd:?}, {}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let elf = target
        .join("thumbv7em-none-eabihf")
        .join("release")
        .join("minnow-mps2");
    if elf.is_file() {
        Ok(elf)
    } else {
        Err(format!(
            "cargo built the image but {} is missing",
            elf.display()
        ))
    }
}

/// QEMU's command line for `elf` on the namespace's `tap0`; the UART on
/// QEMU's stdout.
pub fn qemu_command(ns: &Netns, elf: &Path) -> Command {
    let mut cmd = ns.command("qemu-system-arm");
    cmd.args(["-M", "mps2-an386", "-display", "none", "-monitor", "none"])
        .args(["-serial", "stdio", "-kernel"])
        .arg(elf)
        .args([
            "-nic",
            "tap,ifname=tap0,script=no,downscript=no,model=lan9118",
        ]);
    cmd
}

/// Boots the default [`image`] on the namespace's `tap0` and waits for
/// `minnow: ready` on its UART.
#[track_caller]
pub fn boot(ns: &Netns) -> Proc {
    boot_elf(ns, &image())
}

/// Boots `elf` as [`boot`] does; panics with QEMU's output if it does not boot.
#[track_caller]
pub fn boot_elf(ns: &Netns, elf: &Path) -> Proc {
    let board = ns.spawn(qemu_command(ns, elf));
    assert!(
        board.wait_for_stdout("minnow: ready", BOOT),
        "the board did not boot:\n{}",
        board.dump()
    );
    board
}
