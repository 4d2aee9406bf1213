//! The boards: Minnow's firmware images built for and booted in QEMU on a
//! namespace's `tap0`, one copy for the firmware tests and the benchmarks,
//! which take a [`Board`] and run the same body on each.
//!
//! The tests' image ([`Board::image`]) is built with `cargo build --release`
//! in the board's folder as [`Netns::MINNOW_V4_CIDR`] and
//! [`Netns::MINNOW_V6_CIDR`] (no gateway), SNTP from [`Netns::HOST_V4`],
//! on a board that mails ([`Board::mails`]) mail at boot to
//! [`Netns::HOST_V4`]:[`SMTP_PORT`] (where nothing listens it logs the
//! refusal and serves on), and `MINNOW_PER_SOURCE=4` (every client comes
//! from the Linux side's one address). Env `MINNOW_BOARD_ELF` (mps2) or
//! `MINNOW_LM3S6965_ELF` names a prebuilt default image instead. The
//! boards' echo is tcp/12345 and udp/12345, as `minnow serve`'s. A missing
//! `qemu-system-arm` fails: never a skip.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crate::{Netns, Proc, workspace_root};

/// How long an image may take from QEMU's start to `minnow: ready`.
pub const BOOT: Duration = Duration::from_secs(30);
/// Where the tests' image mails at boot (`MINNOW_SMTP`), and from and to whom.
pub const SMTP_PORT: u16 = 2525;
/// The boot mail's sender.
pub const MAIL_FROM: &str = "Minnow board <board@minnow.test>";
/// The boot mail's recipient.
pub const MAIL_TO: &str = "Tester <tester@minnow.test>";

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

    /// The image with extra Cargo `features`, `services` (`MINNOW_SERVICES`)
    /// and IPv4 setting (`MINNOW_IPV4`: an address, `dhcp`), in a target
    /// folder `variant` of its own (by default named after the features);
    /// with none of them, the tests' default image. The tests' settings
    /// otherwise (see the module's docs).
    pub fn build_variant(
        self,
        features: &[&str],
        services: Option<&str>,
        ipv4: Option<&str>,
        variant: Option<&str>,
    ) -> Result<PathBuf, String> {
        let ipv4 = ipv4.unwrap_or(Netns::MINNOW_V4_CIDR);
        self.build_addressed(features, services, (ipv4, Netns::MINNOW_V6_CIDR), variant)
    }

    /// The image with IPv6 by stateless autoconfiguration (`MINNOW_IPV6=slaac`
    /// and the `slaac` feature), the tests' IPv4 address.
    pub fn build_slaac(self) -> Result<PathBuf, String> {
        let addresses = (Netns::MINNOW_V4_CIDR, "slaac");
        self.build_addressed(&["slaac"], None, addresses, Some("slaac"))
    }

    /// [`Board::build_variant`] with both address settings given.
    fn build_addressed(
        self,
        features: &[&str],
        services: Option<&str>,
        (ipv4, ipv6): (&str, &str),
        variant: Option<&str>,
    ) -> Result<PathBuf, String> {
        let smtp = format!("{}:{SMTP_PORT}", Netns::HOST_V4);
        let mut env = vec![
            ("MINNOW_IPV4", ipv4),
            ("MINNOW_IPV6", ipv6),
            ("MINNOW_GATEWAY", "none"),
            ("MINNOW_SNTP", Netns::HOST_V4),
            ("MINNOW_MAIL_FROM", MAIL_FROM),
            ("MINNOW_MAIL_TO", MAIL_TO),
            // Every client here comes from the Linux side's one address.
            ("MINNOW_PER_SOURCE", "4"),
        ];
        if self.mails() {
            env.push(("MINNOW_SMTP", smtp.as_str()));
        }
        if let Some(list) = services {
            env.push(("MINNOW_SERVICES", list));
        }
        let joined = features.join("-");
        let variant = variant.or((!features.is_empty()).then_some(joined.as_str()));
        self.build(&BoardBuild {
            features,
            env: &env,
            variant,
        })
    }

    /// The tests' default image (every default service), built once per
    /// process; panics with the reason if it cannot be.
    pub fn image(self) -> PathBuf {
        static IMAGES: [OnceLock<Result<PathBuf, String>>; 2] = [OnceLock::new(), OnceLock::new()];
        let slot = match self {
            Board::Mps2 => 0,
            Board::Lm3s6965 => 1,
        };
        match IMAGES[slot].get_or_init(|| self.build_variant(&[], None, None, None)) {
            Ok(p) => p.clone(),
            Err(e) => panic!("minnow-tests: {e}"),
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
            board.wait_for_stdout("minnow: ready", BOOT),
            "the {} board did not boot:\n{}",
            self.name(),
            board.dump()
        );
        board
    }

    /// Boots `elf` on the namespace's `tap0` and waits for `minnow: ready`.
    #[track_caller]
    pub fn boot_elf(self, ns: &Netns, elf: &Path) -> Proc {
        self.boot_command(ns, self.qemu(ns, elf))
    }

    /// Boots the tests' default [`Board::image`] as [`Board::boot_elf`] does.
    #[track_caller]
    pub fn boot(self, ns: &Netns) -> Proc {
        self.boot_elf(ns, &self.image())
    }
}

/// The mps2 board's tests' image ([`Board::image`]), for the benchmarks
/// that measure that board.
pub fn image() -> PathBuf {
    Board::Mps2.image()
}

/// Boots the mps2 board's tests' image ([`Board::boot`]).
#[track_caller]
pub fn boot(ns: &Netns) -> Proc {
    Board::Mps2.boot(ns)
}

/// Boots `elf` on the mps2 board ([`Board::boot_elf`]).
#[track_caller]
pub fn boot_elf(ns: &Netns, elf: &Path) -> Proc {
    Board::Mps2.boot_elf(ns, elf)
}
