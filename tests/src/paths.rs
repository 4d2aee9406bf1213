//! Where things are: the workspace, the peers (`peers/`), the `minnow` binary, python3.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The cargo workspace root (the parent of this package's folder, `tests/`).
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .unwrap_or_else(|| {
            panic!(
                "minnow-tests: {} has no parent folder",
                manifest_dir.display()
            )
        })
        .to_path_buf()
}

/// The repository's `peers/` folder: the project's Python 3 ports of the notes' programs.
pub fn peers_dir() -> PathBuf {
    workspace_root().join("peers")
}

/// Path to the peer program `peers/<name>`; panics if it does not exist.
pub fn peer(name: &str) -> PathBuf {
    let path = peers_dir().join(name);
    assert!(
        path.is_file(),
        "minnow-tests: peer {name:?} not found at {}",
        path.display()
    );
    path
}

/// The cargo target directory: env `CARGO_TARGET_DIR` (relative to the workspace root) or `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(v) if !v.is_empty() => {
            let p = PathBuf::from(v);
            if p.is_absolute() {
                p
            } else {
                workspace_root().join(p)
            }
        }
        _ => workspace_root().join("target"),
    }
}

/// Builds the `minnow` binary once per test process and returns its path.
///
/// Runs `$CARGO build -p minnow-host --bin minnow` (plus `--release` when env
/// `MINNOW_TEST_RELEASE=1`) from the workspace root and returns
/// `<target>/<profile>/minnow`. Env `MINNOW_BIN`, if set, names a prebuilt
/// binary to use instead (no build). Panics with cargo's output on failure.
pub fn minnow_bin() -> PathBuf {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match BIN.get_or_init(build_minnow) {
        Ok(p) => p.clone(),
        Err(msg) => panic!("{msg}"),
    }
}

fn build_minnow() -> Result<PathBuf, String> {
    if let Some(bin) = std::env::var_os("MINNOW_BIN").filter(|v| !v.is_empty()) {
        let bin = PathBuf::from(bin);
        return if bin.is_file() {
            Ok(bin)
        } else {
            Err(format!(
                "minnow-tests: env MINNOW_BIN={} is not a file",
                bin.display()
            ))
        };
    }
    let release = std::env::var("MINNOW_TEST_RELEASE").is_ok_and(|v| v == "1");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let root = workspace_root();
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(&root)
        .args(["build", "-p", "minnow-host", "--bin", "minnow"]);
    if release {
        cmd.arg("--release");
    }
    let what = format!("{cmd:?}");
    let out = cmd
        .output()
        .map_err(|e| format!("minnow-tests: could not run {what}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "minnow-tests: building minnow failed ({what}, {}):\n--- cargo stdout ---\n{}\n--- cargo stderr ---\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let bin = target_dir()
        .join(if release { "release" } else { "debug" })
        .join("minnow");
    if !bin.is_file() {
        return Err(format!(
            "minnow-tests: cargo built minnow but {} does not exist (is the target dir configured elsewhere? set CARGO_TARGET_DIR or MINNOW_BIN)",
            bin.display()
        ));
    }
    Ok(bin)
}

/// The python3 interpreter used for the peers: env `MINNOW_PYTHON`, else the real
/// executable behind `python3` on PATH (resolved once, so shims such as pyenv's are skipped).
pub fn python3() -> PathBuf {
    static PY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let found = PY.get_or_init(|| {
        if let Some(p) = std::env::var_os("MINNOW_PYTHON").filter(|v| !v.is_empty()) {
            return Ok(PathBuf::from(p));
        }
        let out = Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .map_err(|e| {
                format!("minnow-tests: python3 (needed for the peers in peers/) could not be run: {e}")
            })?;
        let exe = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if out.status.success() && !exe.is_empty() && Path::new(&exe).is_file() {
            Ok(PathBuf::from(exe))
        } else {
            Err(format!(
                "minnow-tests: python3 (needed for the peers in peers/) did not report its executable ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    });
    match found {
        Ok(p) => p.clone(),
        Err(msg) => panic!("{msg}"),
    }
}
