//! The emulator's Python environment: created under `target/` on first use
//! (`python3 -m venv` plus a pinned `pip install`) and reused afterwards.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use super::EmulatorError;

/// The `PyPI` package that provides `dex-local-runner`, pinned.
pub const EMULATOR_PACKAGE: &str = "aws-durable-execution-sdk-python-testing==1.4.0";

/// The package and everything it pulls in, pinned, so that a new release
/// of a dependency cannot change the emulator under the tests.
const REQUIREMENTS: &str = include_str!("../../emulator-requirements.txt");

/// Serializes installs within one process (tests run in parallel).
static INSTALL: Mutex<()> = Mutex::new(());

/// Where cargo builds: `CARGO_TARGET_DIR`, or the workspace's `target/`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    )
}

/// The virtual environment holding the emulator.
pub fn venv_dir() -> PathBuf {
    target_dir().join("venv-lambda")
}

/// The `dex-local-runner` executable, installing it first if needed.
///
/// # Errors
/// [`EmulatorError::Install`] when Python or pip is missing or the install
/// fails, with the command's output.
pub fn ensure_emulator() -> Result<PathBuf, EmulatorError> {
    let _guard = INSTALL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let venv = venv_dir();
    let runner = venv.join("bin").join("dex-local-runner");
    // The marker names the pinned set: a change reinstalls.
    let marker = venv.join(format!(".installed-{:016x}", fingerprint(REQUIREMENTS)));
    if runner.exists() && marker.exists() {
        return Ok(runner);
    }
    if !venv.join("bin").join("pip").exists() {
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    }
    let requirements = venv.join("requirements.txt");
    std::fs::write(&requirements, REQUIREMENTS).map_err(|e| {
        EmulatorError::Install(format!("cannot write {}: {e}", requirements.display()))
    })?;
    run(Command::new(venv.join("bin").join("pip"))
        .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(&requirements))?;
    if !runner.exists() {
        return Err(EmulatorError::Install(format!(
            "{EMULATOR_PACKAGE} installed but {} is missing",
            runner.display()
        )));
    }
    std::fs::write(&marker, b"")
        .map_err(|e| EmulatorError::Install(format!("cannot write {}: {e}", marker.display())))?;
    Ok(runner)
}

/// FNV-1a of `text`: stable across builds, unlike `DefaultHasher`.
fn fingerprint(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn run(command: &mut Command) -> Result<(), EmulatorError> {
    let shown = format!("{command:?}");
    let output = command.output().map_err(|e| {
        EmulatorError::Install(format!(
            "cannot run {shown}: {e}; the Lambda tests need python3 (with venv and pip) to install \
             {EMULATOR_PACKAGE}"
        ))
    })?;
    if output.status.success() {
        return Ok(());
    }
    Err(EmulatorError::Install(format!(
        "{shown} failed ({}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )))
}
