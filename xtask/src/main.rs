//! glassgpt's developer commands (the xtask pattern: `cargo xtask <command>`).
//!
//! - `setup`: installs what is missing, and only that (idempotent; fast when all is there).
//! - `build`: the wasm packages: the model's `pkg/` (SIMD, one thread), `pkg-relaxed/` (plus
//!   relaxed-SIMD fused multiply-adds), `pkg-threads/` (SIMD + rayon) and `pkg-threads-relaxed/`;
//!   `pkg-webgpu/` (the WebGPU backend) and `pkg-sizing/` (the calculator).
//! - `serve [--port N] [--dist] [--no-isolation]`: setup, build, then serve the site with the
//!   cross-origin isolation headers that the threaded build needs.
//! - `test`: setup (plus the browser), then every test: native, browser unit tests, end-to-end.
//! - `e2e`: build, then only the end-to-end tests (the last step of `test`).
//! - `bench`: the browser benchmark (bench page + TensorFlow.js WASM peer), results in tests/bench/.
//! - `dist`: a self-contained static folder, `dist/`, that any static host can serve.

mod server;
mod setup;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

/// The pinned nightly for the threaded build (-Z build-std), as verified in TOOLCHAIN.md.
pub const NIGHTLY: &str = "nightly-2026-05-20";

/// The rustflags of the single-thread builds, as `.cargo/config.toml` gives them (the relaxed
/// build sets RUSTFLAGS, which replaces that file's flags).
const SIMD_RUSTFLAGS: &str = "-C target-feature=+simd128 --cfg=web_sys_unstable_apis";

/// The rustflags of the threaded build. They replace `.cargo/config.toml`'s wasm32 flags, so they
/// repeat simd128 and the WebGPU cfg. The linker args export what wasm-bindgen-rayon needs.
/// `-Z location-detail=none` (nightly, as this build is) drops the file:line:column of every
/// panic site: a panic (a bug) still prints its message, without where; the single-thread builds,
/// on stable Rust, keep it. It takes 5.6 KB off the gzipped build (199.7 to 194.1 KB, 2026-12-01),
/// which the 200 KB budget needs: the std this build compiles from source is larger.
const THREADS_RUSTFLAGS: &str = "-C target-feature=+atomics,+bulk-memory,+mutable-globals,+simd128 \
     -C link-arg=--shared-memory -C link-arg=--import-memory -C link-arg=--max-memory=1073741824 \
     -C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size \
     -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base --cfg=web_sys_unstable_apis \
     -Z location-detail=none";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = project_root();
    std::env::set_current_dir(&root).expect("cannot enter the project root");
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup::ensure(&root, setup::Needs { browser: true }),
        Some("build") => setup::ensure(&root, setup::Needs { browser: false }).and_then(|_| build(&root)),
        Some("serve") => serve(&root, &args[1..]),
        Some("test") => test(&root),
        Some("e2e") => setup::ensure(&root, setup::Needs { browser: true })
            .and_then(|_| build(&root))
            .and_then(|_| match e2e(&root)?.as_slice() {
                [] => Ok(()),
                failed => Err(failed.join("\n")),
            }),
        Some("bench") => bench(&root, &args[1..]),
        Some("dist") => setup::ensure(&root, setup::Needs { browser: false }).and_then(|_| dist(&root).map(|_| ())),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n  setup                 install what is missing (wasm target, wasm-pack, wasm-bindgen-cli, wasm-opt, nightly, chromium)\n  build                 build pkg/ (simd128), pkg-relaxed/ (+ relaxed SIMD), pkg-threads/ (+ threads), pkg-threads-relaxed/,\n                        pkg-webgpu/ (the WebGPU backend), pkg-sizing/ (the calculator)\n  serve [--port N] [--dist] [--no-isolation]\n                        build, then serve the site on http://127.0.0.1:8080\n  test                  run every test: native, browser (wasm-pack), end-to-end (headless Chromium)\n  e2e                   build, then run only the end-to-end tests\n  bench [{}]...\n                        browser benchmark: glassgpt's bench page and the TensorFlow.js WASM peer in headless Chromium\n                        (pair: both matmuls alternated in one page, the ratio per round; par: two single-thread\n                        workers at once and the threaded build against one worker alone)\n  dist                  write a self-contained static site to dist/",
                BENCHES.join("|")
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives one level below the root").to_path_buf()
}

/// Runs a command, echoing it; an error names the command and its exit status.
pub fn run(cmd: &mut Command) -> Result<(), String> {
    eprintln!("$ {}", describe(cmd));
    let status = cmd.status().map_err(|e| format!("could not start `{}`: {e}", describe(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(cmd)))
    }
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// PATH with the project's own tools (wasm-opt from npm) in front.
pub fn tool_path(root: &Path) -> String {
    let tools = root.join(".tools/node_modules/.bin");
    let cargo_bin = home_cargo_bin();
    format!("{}:{}:{}", tools.display(), cargo_bin.display(), std::env::var("PATH").unwrap_or_default())
}

pub fn home_cargo_bin() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/root".into())).join(".cargo"))
        .join("bin")
}

/// The newest modification time of the files a wasm build depends on.
fn newest_source(root: &Path) -> std::time::SystemTime {
    fn walk(p: &Path, newest: &mut std::time::SystemTime) {
        if let Ok(md) = std::fs::metadata(p) {
            if md.is_dir() {
                for e in std::fs::read_dir(p).into_iter().flatten().flatten() {
                    walk(&e.path(), newest);
                }
            } else if let Ok(t) = md.modified() {
                *newest = (*newest).max(t);
            }
        }
    }
    let mut newest = std::time::SystemTime::UNIX_EPOCH;
    // xtask/src/main.rs holds the build recipe (flags, wasm-opt passes): a change there rebuilds too.
    for p in ["src", "Cargo.toml", "Cargo.lock", ".cargo/config.toml", "xtask/src/main.rs"] {
        walk(&root.join(p), &mut newest);
    }
    newest
}

/// One wasm build: its output folder, the crate features it carries, threaded, relaxed SIMD.
pub struct Build {
    pub out: &'static str,
    pub features: &'static str,
    pub threads: bool,
    pub relaxed: bool,
}

/// The wasm builds. The model's four CPU builds: `load.js` picks one per page, threads where the
/// page is cross-origin isolated, relaxed SIMD where the engine validates it. The WebGPU backend
/// and the sizing calculator are builds of their own, loaded only by what uses them, so no page
/// downloads code it does not run.
pub const BUILDS: [Build; 6] = [
    Build { out: "pkg", features: "model-api", threads: false, relaxed: false },
    Build { out: "pkg-relaxed", features: "model-api", threads: false, relaxed: true },
    Build { out: "pkg-threads", features: "model-api,threads", threads: true, relaxed: false },
    Build { out: "pkg-threads-relaxed", features: "model-api,threads", threads: true, relaxed: true },
    Build { out: "pkg-webgpu", features: "webgpu", threads: false, relaxed: false },
    Build { out: "pkg-sizing", features: "sizing-api", threads: false, relaxed: false },
];

/// What each wasm build may weigh, gzipped (`gzip -9`), in KB: the project's aim; `build` says
/// when a build is over it.
const WASM_BUDGET_KB: f64 = 200.0;

/// Builds every wasm package unless it is newer than every source file. Two at a time where the
/// machine has two cores: each build ends in a long single-threaded step (fat LTO with one
/// codegen unit, then wasm-opt), so a second build fills the other core. Builds that share a
/// cargo target folder never run together (cargo would make one wait for the other's lock).
fn build(root: &Path) -> Result<(), String> {
    let newest = newest_source(root);
    let mut stale = Vec::new();
    for b in &BUILDS {
        let stamp = root.join(b.out).join(".built");
        let fresh = std::fs::metadata(&stamp).and_then(|m| m.modified()).map(|t| t >= newest).unwrap_or(false);
        if fresh {
            eprintln!("{}/ is up to date", b.out);
        } else {
            stale.push(b);
        }
    }
    // The longest first (the threaded builds compile std too), so the last to finish is short.
    stale.sort_by_key(|b| (!b.threads, b.out == "pkg-sizing"));
    let default_jobs = std::thread::available_parallelism().map_or(1, |n| n.get()).min(2);
    let jobs = match std::env::var("GLASSGPT_BUILD_JOBS") {
        Err(_) => default_jobs,
        Ok(v) => v.trim().parse::<usize>().unwrap_or_else(|_| {
            eprintln!("GLASSGPT_BUILD_JOBS={v:?} is not a whole number: building {default_jobs} at a time");
            default_jobs
        }),
    }
    .max(1);
    /// The builds not yet started, the target folders in use, what failed.
    struct Queue<'a> {
        pending: Vec<&'a Build>,
        busy: Vec<&'static str>,
        failures: Vec<String>,
    }
    let queue = std::sync::Mutex::new(Queue { pending: stale, busy: Vec::new(), failures: Vec::new() });
    let wake = std::sync::Condvar::new();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let next = {
                    let mut q = queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                    loop {
                        if q.pending.is_empty() {
                            break None;
                        }
                        if let Some(i) = q.pending.iter().position(|b| !q.busy.contains(&target_dir(b))) {
                            let b = q.pending.remove(i);
                            q.busy.push(target_dir(b));
                            break Some(b);
                        }
                        q = wake.wait(q).unwrap_or_else(|poisoned| poisoned.into_inner());
                    }
                };
                let Some(b) = next else { break };
                eprintln!("building {}/ …", b.out);
                let mut log = String::new();
                // A panic is this build's failure: its folder must still be freed, or the other
                // worker would wait for it for ever.
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| build_one(root, b, &mut log)))
                    .unwrap_or_else(|_| Err("the build panicked".into()));
                let mut q = queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                q.busy.retain(|d| *d != target_dir(b));
                // One build's output at a time, whole, so two builds' lines do not interleave.
                eprint!("{log}");
                match result {
                    Ok(summary) => eprintln!("{summary}"),
                    Err(e) => q.failures.push(format!("{}/: {e}", b.out)),
                }
                wake.notify_all();
            });
        }
    });
    let failures = queue.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner()).failures;
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

/// A build's cargo target folder under `target/`: each flag set keeps its own, so switching
/// between them rebuilds nothing (builds that differ only in features share one: cargo keeps
/// each feature set's artifacts).
fn target_dir(b: &Build) -> &'static str {
    match (b.threads, b.relaxed) {
        (false, false) => ".",
        (false, true) => "relaxed",
        (true, false) => "threads",
        (true, true) => "threads-relaxed",
    }
}

/// Runs `cmd` with its output collected into `log` (with the command line): its standard
/// output, then its standard error (cargo's and wasm-pack's lines are all on the latter).
fn run_logged(cmd: &mut Command, log: &mut String) -> Result<(), String> {
    log.push_str(&format!("$ {}\n", describe(cmd)));
    let out = cmd.output().map_err(|e| format!("could not start `{}`: {e}", describe(cmd)))?;
    log.push_str(&String::from_utf8_lossy(&out.stdout));
    log.push_str(&String::from_utf8_lossy(&out.stderr));
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({})", describe(cmd), out.status))
    }
}

/// One wasm build: wasm-pack (cargo + wasm-bindgen), the rayon worker's fix-up, wasm-opt, the
/// stamp. Returns the line that reports its size and time.
fn build_one(root: &Path, b: &Build, log: &mut String) -> Result<String, String> {
    let &Build { out, features, threads, relaxed } = b;
    let stamp = root.join(out).join(".built");
    let t0 = Instant::now();
    let mut cmd = Command::new("wasm-pack");
    cmd.env("PATH", tool_path(root)).args(["build", "--target", "web", "--release", "--no-pack", "--out-dir", out]);
    cmd.env("CARGO_TARGET_DIR", root.join("target").join(target_dir(b)));
    let relaxed_flag = if relaxed { " -C target-feature=+relaxed-simd" } else { "" };
    cmd.args(["--", "--no-default-features", "--features", features]);
    if threads {
        cmd.env("RUSTUP_TOOLCHAIN", NIGHTLY)
            .env("RUSTFLAGS", format!("{THREADS_RUSTFLAGS}{relaxed_flag}"))
            .args(["-Z", "build-std=panic_abort,std"]);
    } else if relaxed {
        cmd.env("RUSTFLAGS", format!("{SIMD_RUSTFLAGS}{relaxed_flag}"));
    }
    run_logged(&mut cmd, log)?;
    if threads {
        modern_rayon_init(&root.join(out))?;
    }
    let wasm = root.join(out).join("glassgpt_bg.wasm");
    let mut opt = Command::new("wasm-opt");
    // --low-memory-unused lets binaryen fold a constant added to an address into the load's
    // or store's offset: after LLVM's loop strength reduction the micro-kernel's loads read
    // `i32.add(p, 16)`, which V8 compiles to an extra `lea` per load. Safe here: rustc lays
    // the main thread's 1 MB stack first, so the low 1 KB is only the bottom of that stack
    // (reached only by an overflow), and memory stays under 4 GB. Measured in Chromium
    // (2026-12-01, two builds alternated in one page): the plain simd128 matmul 1.12-1.15x,
    // its training step 1.29x, forward 1.10x, generation 1.08x; relaxed SIMD 1.0-1.10x.
    opt.env("PATH", tool_path(root)).args(["-O3", "--low-memory-unused"]).arg(&wasm).arg("-o").arg(&wasm);
    if threads {
        // Shared memory and atomics: binaryen reads the features from the target_features
        // section rustc writes, but say so plainly for the threaded module.
        opt.args(["--enable-threads", "--enable-bulk-memory"]);
    }
    if relaxed {
        opt.arg("--enable-relaxed-simd");
    }
    run_logged(&mut opt, log)?;
    std::fs::write(&stamp, b"").map_err(|e| format!("cannot write {}: {e}", stamp.display()))?;
    let size = std::fs::metadata(&wasm).map(|m| m.len()).unwrap_or(0);
    // What a browser downloads: the size gzip -9 gives (the project's budget is 200 KB a build).
    let gzipped = Command::new("gzip").args(["-9", "-c"]).arg(&wasm).output().ok().filter(|o| o.status.success());
    let gz = gzipped.map_or(String::new(), |o| {
        let kb = o.stdout.len() as f64 / 1000.0;
        let over = if kb > WASM_BUDGET_KB { format!(", OVER the {WASM_BUDGET_KB} KB budget") } else { String::new() };
        format!(", {kb:.1} KB gzipped{over}")
    });
    Ok(format!("{out}/glassgpt_bg.wasm: {} KB{gz}, built in {:.1} s", size / 1024, t0.elapsed().as_secs_f64()))
}

/// wasm-bindgen-rayon 1.3.0's bundler-free pool worker (the latest release) starts the glue with
/// the positional `default(module, memory)`, which the current glue still takes but warns about
/// in the console of every pool worker ("using deprecated parameters for the initialization
/// function; pass a single object instead"; upstream fixed only the bundler variant). The build
/// rewrites that one call to the object form; a release that no longer has it is left alone.
fn modern_rayon_init(pkg: &Path) -> Result<(), String> {
    const OLD: &str = "await pkg.default(data.module, data.memory);";
    const NEW: &str = "await pkg.default({ module_or_path: data.module, memory: data.memory });";
    let snippets = pkg.join("snippets");
    for entry in std::fs::read_dir(&snippets).map_err(|e| format!("cannot read {}: {e}", snippets.display()))? {
        let file = entry.map_err(|e| e.to_string())?.path().join("src/workerHelpers.no-bundler.js");
        if let Ok(text) = std::fs::read_to_string(&file) {
            if text.contains(OLD) {
                std::fs::write(&file, text.replace(OLD, NEW)).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
            }
        }
    }
    Ok(())
}

/// Copies the site, every package and the data into `dist/`, with relative URLs only.
fn dist(root: &Path) -> Result<PathBuf, String> {
    build(root)?;
    let dist = root.join("dist");
    let _ = std::fs::remove_dir_all(&dist);
    copy_dir(&root.join("www"), &dist)?;
    for build in &BUILDS {
        copy_dir(&root.join(build.out), &dist.join(build.out))?;
    }
    eprintln!("wrote {}", dist.display());
    Ok(dist)
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    for entry in std::fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))? {
        let entry = entry.map_err(|e| e.to_string())?;
        let name = entry.file_name();
        let name_str = name.to_string_lossy();
        // Build stamps, npm metadata and editor files are not part of the site.
        if name_str.starts_with('.') || name_str == "package.json" || name_str == "node_modules" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if src.is_dir() {
            copy_dir(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst).map_err(|e| format!("cannot copy {}: {e}", src.display()))?;
        }
    }
    Ok(())
}

fn serve(root: &Path, args: &[String]) -> Result<(), String> {
    let mut port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(8080);
    let (mut use_dist, mut isolation) = (false, true);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--port" => {
                port = it.next().and_then(|p| p.parse().ok()).ok_or("--port needs a number, e.g. --port 8081")?;
            }
            "--dist" => use_dist = true,
            "--no-isolation" => isolation = false,
            other => return Err(format!("serve: unknown option {other} (expected --port N, --dist, --no-isolation)")),
        }
    }
    setup::ensure(root, setup::Needs { browser: false })?;
    let site = if use_dist { server::Site::Dir(dist(root)?) } else {
        build(root)?;
        server::Site::Dev(root.to_path_buf())
    };
    let listener = std::net::TcpListener::bind(("127.0.0.1", port))
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e} (choose another with --port N)"))?;
    println!(
        "glassgpt: serving {} on http://127.0.0.1:{port}/ ({}); Ctrl-C stops it",
        if use_dist { "dist/" } else { "www/ + the pkg*/ builds" },
        if isolation { "cross-origin isolated" } else { "not cross-origin isolated" }
    );
    server::serve(listener, site, isolation);
    Ok(())
}

fn test(root: &Path) -> Result<(), String> {
    let t0 = Instant::now();
    setup::ensure(root, setup::Needs { browser: true })?;
    let path = tool_path(root);
    // The wasm builds the end-to-end tests need start now, beside the native and browser unit
    // tests: every step ends in single-threaded work (a link, LTO, a test binary, a browser),
    // which leaves a core of this two-core machine idle. Cargo locks each profile's folder, so
    // the tests' dev builds and these release builds do not wait for each other.
    let builds = std::thread::scope(|scope| {
        let builds = scope.spawn(|| build(root));
        let failures = unit_tests(root, &path);
        (builds.join().unwrap_or_else(|_| Err("the build thread panicked".into())), failures)
    });
    let (built, mut failures) = builds;
    eprintln!("\n=== wasm builds: done (they ran beside the tests above)");
    if let Err(e) = built {
        failures.push(format!("wasm build: {e}"));
    } else {
        failures.extend(e2e(root)?);
    }
    eprintln!("\ncargo xtask test: {:.0} s", t0.elapsed().as_secs_f64());
    if failures.is_empty() {
        eprintln!("all test suites passed");
        Ok(())
    } else {
        Err(format!("{} suite(s) failed:\n  {}", failures.len(), failures.join("\n  ")))
    }
}

/// The native tests and the browser unit tests (wasm-pack test); the failed suites' names.
fn unit_tests(root: &Path, path: &str) -> Vec<String> {
    let mut failures = Vec::new();
    let mut step = |name: &str, cmd: &mut Command| {
        eprintln!("\n=== {name}");
        if let Err(e) = run(cmd.env("PATH", path)) {
            failures.push(format!("{name}: {e}"));
        }
    };
    step("native tests (cargo test)", Command::new("cargo").args(["test", "--workspace"]));
    // The threaded backend and data-parallel training on a real rayon pool, the CLI and the
    // Train page's run sharding alike (tests/train_run.rs), threaded generation against one
    // thread (tests/model_generate.rs), and a threaded training step against scalar
    // (tests/model_backends.rs).
    step(
        "native tests, threads feature (cargo test --features threads --lib --test train_run --test model_generate --test model_backends)",
        Command::new("cargo").args(["test", "--features", "threads", "--lib", "--test", "train_run", "--test", "model_generate", "--test", "model_backends"]),
    );
    // The browser test targets are the tests/web*.rs files; the others are native-only.
    let mut wasm_test = Command::new("wasm-pack");
    // `--test NAME` before any `--`: after it they would go to the test runner, not cargo.
    // The runner gives a whole test file 20 s by default; the WebGPU files run on SwiftShader, a
    // software GPU (tests/web_webgpu.rs took 10-16 s here), so a busy machine gets 120.
    wasm_test.env("WASM_BINDGEN_TEST_TIMEOUT", "120").args(["test", "--headless", "--chrome", "--features", "webgpu"]);
    for name in test_targets(root, "web") {
        wasm_test.args(["--test", &name]);
    }
    step("browser unit tests (wasm-pack test --headless --chrome)", &mut wasm_test);
    // The relaxed-SIMD kernels against the scalar reference, in the same browser.
    let mut relaxed_test = Command::new("wasm-pack");
    relaxed_test
        .env("RUSTFLAGS", format!("{SIMD_RUSTFLAGS} -C target-feature=+relaxed-simd"))
        .env("CARGO_TARGET_DIR", root.join("target/relaxed"))
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120")
        .args(["test", "--headless", "--chrome", "--test", "web_kernels"]);
    step("browser kernel tests, relaxed-SIMD build (wasm-pack test --test web_kernels)", &mut relaxed_test);
    failures
}

/// The benchmarks `tests/bench/run.mjs` knows (it checks them too): checked here before the build.
const BENCHES: [&str; 8] = ["peer", "pair", "pair-relaxed", "par", "simd128", "relaxed", "threads", "threads-relaxed"];

/// The browser benchmark: serves the site (isolated and not) and runs tests/bench/run.mjs.
fn bench(root: &Path, which: &[String]) -> Result<(), String> {
    if let Some(bad) = which.iter().find(|w| !BENCHES.contains(&w.as_str())) {
        return Err(format!("bench: unknown benchmark {bad:?}; choose from {}", BENCHES.join(", ")));
    }
    setup::ensure(root, setup::Needs { browser: true })?;
    if !root.join("tests/bench/node_modules/@tensorflow/tfjs-backend-wasm").exists() {
        run(Command::new("npm").args(["ci", "--silent", "--prefer-offline", "--no-audit", "--no-fund", "--prefix", "tests/bench"]))?;
    }
    build(root)?;
    let urls = spawn_servers(root)?;
    run(Command::new("node").arg("tests/bench/run.mjs").args(which).env("GLASSGPT_URL", &urls[0]).env("GLASSGPT_URL_NOCOI", &urls[1]))
}

/// Serves the dev site on two ephemeral ports, cross-origin isolated and not; returns their URLs.
fn spawn_servers(root: &Path) -> Result<Vec<String>, String> {
    let mut urls = Vec::new();
    for isolation in [true, false] {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        urls.push(format!("http://127.0.0.1:{}/", listener.local_addr().map_err(|e| e.to_string())?.port()));
        let site = server::Site::Dev(root.to_path_buf());
        std::thread::spawn(move || server::serve(listener, site, isolation));
    }
    Ok(urls)
}

/// The names of the integration test files in tests/ that start with `prefix`, sorted.
fn test_targets(root: &Path, prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join("tests"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".rs")).map(str::to_string))
        .filter(|n| n.starts_with(prefix))
        .collect();
    names.sort();
    names
}

/// Serves the site on two ephemeral ports (isolated and not) and runs the node test files in
/// tests/e2e against them in headless Chromium.
fn e2e(root: &Path) -> Result<Vec<String>, String> {
    eprintln!("\n=== end-to-end tests (headless Chromium)");
    // The native CLI, for the tests that compare the page with it (already built by `cargo test`).
    run(Command::new("cargo").args(["build", "--quiet", "--bin", "glassgpt"]))?;
    let cli = root.join("target/debug/glassgpt");
    // The static folder, for the test that serves it from a sub-path and then goes offline.
    let dist = dist(root)?;
    let urls = spawn_servers(root)?;
    let dir = root.join("tests/e2e");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".test.mjs"))
        .map(|n| format!("tests/e2e/{n}"))
        .collect();
    files.sort();
    let mut cmd = Command::new("node");
    cmd.arg("--test").arg("--test-concurrency=1").args(&files).env("GLASSGPT_URL", &urls[0]).env("GLASSGPT_URL_NOCOI", &urls[1]).env("GLASSGPT_CLI", &cli).env("GLASSGPT_DIST", &dist);
    Ok(run(&mut cmd).err().map(|e| format!("end-to-end: {e}")).into_iter().collect())
}
