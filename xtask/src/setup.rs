//! Installs what the build and the tests need, and only what is missing. Every check is cheap,
//! so `setup` on a machine that has everything takes well under a second.

use std::path::Path;
use std::process::Command;

use crate::{run, tool_path, NIGHTLY};

const WASM_BINDGEN: &str = "0.2.130"; // must equal the `wasm-bindgen = "=..."` pin in Cargo.toml
const WASM_PACK: &str = "0.15.1";
const BINARYEN: &str = "132.0.0"; // npm's binaryen: handles SIMD, relaxed SIMD and shared memory

/// What a command needs beyond the wasm toolchain.
pub struct Needs {
    /// Chromium, ChromeDriver and the end-to-end test driver (playwright-core).
    pub browser: bool,
}

pub fn ensure(root: &Path, needs: Needs) -> Result<(), String> {
    let path = tool_path(root);
    let output = |prog: &str, args: &[&str]| -> String {
        Command::new(prog)
            .args(args)
            .env("PATH", &path)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    };

    if !output("rustup", &["target", "list", "--installed"]).lines().any(|l| l.trim() == "wasm32-unknown-unknown") {
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    if !output("wasm-bindgen", &["--version"]).contains(WASM_BINDGEN) {
        // Not --locked: the locked webpki-roots is not on every registry mirror.
        run(Command::new("cargo").args(["install", "wasm-bindgen-cli", "--version", WASM_BINDGEN]))?;
    }
    if !output("wasm-pack", &["--version"]).contains(WASM_PACK) {
        run(Command::new("cargo").args(["install", "wasm-pack", "--version", WASM_PACK, "--locked"]))?;
    }
    if !root.join(".tools/node_modules/.bin/wasm-opt").exists() {
        need_program("npm", "Node.js and npm (Debian: apt-get install nodejs npm)")?;
        run(Command::new("npm").args(["install", "--silent", "--prefer-offline", "--no-audit", "--no-fund", "--prefix", ".tools"]).arg(format!("binaryen@{BINARYEN}")))?;
    }
    // The threaded build: the pinned nightly, its std sources (-Z build-std) and wasm32 target.
    let toolchains = output("rustup", &["toolchain", "list"]);
    if !toolchains.lines().any(|l| l.starts_with(NIGHTLY)) {
        run(Command::new("rustup").args(["toolchain", "install", NIGHTLY, "--profile", "minimal"]))?;
    }
    let components = output("rustup", &["component", "list", "--installed", "--toolchain", NIGHTLY]);
    if !components.lines().any(|l| l.starts_with("rust-src")) {
        run(Command::new("rustup").args(["component", "add", "rust-src", "--toolchain", NIGHTLY]))?;
    }
    if !components.lines().any(|l| l.starts_with("rust-std-wasm32-unknown-unknown")) {
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown", "--toolchain", NIGHTLY]))?;
    }

    if needs.browser {
        ensure_browser()?;
        if !root.join("tests/e2e/node_modules/playwright-core").exists() {
            need_program("npm", "Node.js and npm (Debian: apt-get install nodejs npm)")?;
            run(Command::new("npm").args(["ci", "--silent", "--prefer-offline", "--no-audit", "--no-fund", "--prefix", "tests/e2e"]))?;
        }
    }
    Ok(())
}

/// Debian's chromium and chromium-driver: installed with apt when running as root, otherwise a
/// clear message. Nothing here downloads a browser from anywhere else.
fn ensure_browser() -> Result<(), String> {
    let have = |p: &str| Path::new(p).exists();
    if have("/usr/bin/chromium") && have("/usr/bin/chromedriver") {
        return Ok(());
    }
    let is_root = Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0")).unwrap_or(false);
    if !is_root || !have("/usr/bin/apt-get") {
        return Err("the tests need Debian's Chromium and ChromeDriver: run `sudo apt-get install -y chromium chromium-driver` (or install chromium and a matching chromedriver on PATH at /usr/bin)".into());
    }
    let install = || run(Command::new("apt-get").args(["install", "-y", "--no-install-recommends", "chromium", "chromium-driver"]).env("DEBIAN_FRONTEND", "noninteractive"));
    if install().is_err() {
        run(Command::new("apt-get").arg("update").env("DEBIAN_FRONTEND", "noninteractive"))?;
        install()?;
    }
    Ok(())
}

fn need_program(prog: &str, what: &str) -> Result<(), String> {
    match Command::new(prog).arg("--version").output() {
        Ok(o) if o.status.success() => Ok(()),
        _ => Err(format!("`{prog}` is missing: install {what}")),
    }
}
