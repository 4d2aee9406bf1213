//! The firmware images in QEMU: which boards there are, how each is built
//! and booted on a namespace's TAP device. The firmware tests and the board
//! benchmark take a [`Board`] and run the same body on each.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::{Netns, Proc, workspace_root};

/// How long an image may take from QEMU's start to `minnow: ready`.
pub const BOARD_BOOT: Duration = Duration::from_secs(30);

/// The seed of every image's test file (`firmware-sim/firmware/build/random_file.rs`).
pub const BOARD_FILE_SEED: u64 = 0x6d6e77;

/// A firmware image and the QEMU machine it runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Board {
    /// `firmware-sim/mps2`: QEMU `mps2-an386` (Cortex-M4F + SMSC LAN9118).
    Mps2,
    /// `firmware-sim/lm3s6965`: QEMU `lm3s6965evb` (TI Stellaris LM3S6965,
    /// Cortex-M3 + its on-chip Ethernet MAC).
    Lm3s6965,
}

/// What to build: extra Cargo features and `MINNOW_*` settings, in a target
/// folder of its own when either is given.
#[derive(Debug, Clone, Default)]
pub struct BoardBuild<'a> {
    /// Cargo features beyond the default ones.
    pub features: &'a [&'a str],
    /// `MINNOW_*` variables; anything not named here is removed from the
    /// build's environment, so the caller's shell cannot leak into it.
    pub env: &'a [(&'a str, &'a str)],
    /// The target folder's name under the crate's `target/` (`None`: the
    /// crate's own `target/`).
    pub variant: Option<&'a str>,
}

/// The settings `build.rs` of `firmware-sim/firmware` reads.
const MINNOW_VARS: [&str; 9] = [
    "MINNOW_IPV4",
    "MINNOW_IPV6",
    "MINNOW_GATEWAY",
    "MINNOW_SNTP",
    "MINNOW_SERVICES",
    "MINNOW_SMTP",
    "MINNOW_MAIL_FROM",
    "MINNOW_MAIL_TO",
    "MINNOW_PER_SOURCE",
];

impl Board {
    /// Every board.
    pub const ALL: [Board; 2] = [Board::Mps2, Board::Lm3s6965];

    /// The board's short name: its folder under `firmware-sim/`, and
    /// `scripts/board.sh`'s `MINNOW_BOARD`.
    pub fn name(self) -> &'static str {
        match self {
            Board::Mps2 => "mps2",
            Board::Lm3s6965 => "lm3s6965",
        }
    }

    /// The board by [`Board::name`].
    pub fn from_name(name: &str) -> Option<Board> {
        Board::ALL.into_iter().find(|b| b.name() == name)
    }

    /// The image's crate folder.
    pub fn crate_dir(self) -> PathBuf {
        workspace_root().join("firmware-sim").join(self.name())
    }

    /// The Rust target it builds for.
    pub fn target(self) -> &'static str {
        match self {
            Board::Mps2 => "thumbv7em-none-eabihf",
            Board::Lm3s6965 => "thumbv7m-none-eabi",
        }
    }

    /// The ELF's file name.
    pub fn bin(self) -> &'static str {
        match self {
            Board::Mps2 => "minnow-mps2",
            Board::Lm3s6965 => "minnow-lm3s6965",
        }
    }

    /// QEMU's machine (`-M`).
    pub fn machine(self) -> &'static str {
        match self {
            Board::Mps2 => "mps2-an386",
            Board::Lm3s6965 => "lm3s6965evb",
        }
    }

    /// QEMU's model of the board's Ethernet controller (`-nic ...,model=`).
    pub fn nic_model(self) -> &'static str {
        match self {
            Board::Mps2 => "lan9118",
            Board::Lm3s6965 => "stellaris",
        }
    }

    /// The test file in the image's file table: name and length (the
    /// bytes are `random_bytes(len, BOARD_FILE_SEED)`).
    pub fn random_file(self) -> (&'static str, usize) {
        match self {
            Board::Mps2 => ("random-1m.bin", 1 << 20),
            Board::Lm3s6965 => ("random-64k.bin", 64 << 10),
        }
    }

    /// Whether the tests' image mails at boot. The LM3S6965's is built
    /// without mail: the SMTP client and MIME composer do not fit its
    /// 128 KiB code budget (see `firmware-sim/lm3s6965/src/sizes.rs`).
    pub fn mails(self) -> bool {
        self == Board::Mps2
    }

    /// The environment variable naming a prebuilt image for the tests'
    /// default build (no build then).
    pub fn elf_var(self) -> &'static str {
        match self {
            Board::Mps2 => "MINNOW_BOARD_ELF",
            Board::Lm3s6965 => "MINNOW_LM3S6965_ELF",
        }
    }

    /// Builds the image (`cargo build --release --locked` in its folder);
    /// returns the ELF. The default build (no features, no variant) is
    /// taken from [`Board::elf_var`] when that is set. A missing
    /// `qemu-system-arm` is an error too: the image is built to be booted.
    pub fn build(self, how: &BoardBuild<'_>) -> Result<PathBuf, String> {
        if how.features.is_empty()
            && how.variant.is_none()
            && let Some(elf) = std::env::var_os(self.elf_var()).filter(|v| !v.is_empty())
        {
            let elf = PathBuf::from(elf);
            return if elf.is_file() {
                Ok(elf)
            } else {
                Err(format!(
                    "{}={} is not a file",
                    self.elf_var(),
                    elf.display()
                ))
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
        let dir = self.crate_dir();
        let target = match how.variant {
            Some(v) => dir.join("target").join(v),
            None => dir.join("target"),
        };
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.current_dir(&dir)
            .args(["build", "--release", "--locked"]);
        if !how.features.is_empty() {
            cmd.args(["--features", &how.features.join(",")]);
        }
        cmd.env("CARGO_TARGET_DIR", &target);
        for var in MINNOW_VARS {
            cmd.env_remove(var);
        }
        for (k, v) in how.env {
            cmd.env(k, v);
        }
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
                "building the {} image failed ({cmd:?}, {}):\n{}",
                self.name(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let elf = target.join(self.target()).join("release").join(self.bin());
        if elf.is_file() {
            Ok(elf)
        } else {
            Err(format!(
                "cargo built the image but {} is missing",
                elf.display()
            ))
        }
    }

    /// `qemu-system-arm` for `elf` on the namespace's `tap0` (its network
    /// backend named `net0`, for the monitor's `set_link`), no display, no
    /// monitor, the UART on stdout.
    pub fn qemu(self, ns: &Netns, elf: &Path) -> Command {
        self.qemu_with(ns, elf, "stdio", "none")
    }

    /// [`Board::qemu`] with the UART on `serial` and the monitor on
    /// `monitor` (QEMU's `-serial` and `-monitor` values: each given twice
    /// would make two, so they are chosen here).
    pub fn qemu_with(self, ns: &Netns, elf: &Path, serial: &str, monitor: &str) -> Command {
        let mut cmd = ns.command("qemu-system-arm");
        cmd.args(["-M", self.machine(), "-display", "none"])
            .args(["-monitor", monitor, "-serial", serial, "-kernel"])
            .arg(elf)
            .arg("-nic")
            .arg(format!(
                "tap,id=net0,ifname={},script=no,downscript=no,model={}",
                Netns::TAP,
                self.nic_model()
            ));
        cmd
    }

    /// Boots `cmd` (from [`Board::qemu`]) and waits for `minnow: ready` on
    /// its UART; panics with its output otherwise.
    #[track_caller]
    pub fn boot_command(self, ns: &Netns, cmd: Command) -> Proc {
        let board = ns.spawn(cmd);
        assert!(
            board.wait_for_stdout("minnow: ready", BOARD_BOOT),
            "the {} board did not boot:\n{}",
            self.name(),
            board.dump()
        );
        board
    }

    /// Boots `elf` on the namespace's `tap0` and waits for `minnow: ready`.
    #[track_caller]
    pub fn boot(self, ns: &Netns, elf: &Path) -> Proc {
        self.boot_command(ns, self.qemu(ns, elf))
    }
}
