//! The native matmul bench: GFLOPS of every backend in this build on square sizes and on the
//! shipped model's layer shapes (B = 16, T = 128, C = 128, V = 65), forward and backward.
//!
//! ```text
//! cargo run --release --features threads --bin bench [-- --quick] [--backend simd] [--shape MxKxN] [--cpu-clock]
//! ```
//!
//! Each figure is the median over 15 samples after a warm-up (a sample repeats the call for at
//! least 20 ms), with the slowest and fastest sample beside it.

use std::time::Instant;

use glassgpt::kernels::bench::{bench_matmul, model_shapes, BenchConfig, Op};
use glassgpt::kernels::{self, Kernels};

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let quick = argv.iter().any(|a| a == "--quick");
    let only: Option<&str> = argv.iter().position(|a| a == "--backend").and_then(|i| argv.get(i + 1)).map(String::as_str);
    let config = if quick { BenchConfig { samples: 5, min_sample_s: 0.01 } } else { BenchConfig::default() };

    // --cpu-clock: time by CPU time, not the wall clock, so other processes on a shared
    // machine do not show up as a slow kernel: this thread's CPU time for the single-thread
    // backends, the whole process's for "threads" (which then reads as GFLOPS per CPU-second:
    // equal to the single-thread figure when splitting the work costs nothing extra).
    let cpu_clock = argv.iter().any(|a| a == "--cpu-clock");
    let t0 = Instant::now();
    let mut wall = move || t0.elapsed().as_secs_f64();
    let mut thread_cpu = || cpu_seconds(CpuClock::Thread);
    let mut process_cpu = || cpu_seconds(CpuClock::Process);

    let backends: Vec<&dyn Kernels> = match only {
        Some(name) => match kernels::by_name(name) {
            Some(k) => vec![k],
            None => {
                eprintln!("bench: unknown backend `{name}`; this build has {:?}", kernels::all().iter().map(|k| k.name()).collect::<Vec<_>>());
                std::process::exit(2);
            }
        },
        None => kernels::all(),
    };

    println!("glassgpt matmul bench: {} logical CPUs, SIMD micro-kernel: {}", std::thread::available_parallelism().map_or(1, |n| n.get()), kernels::simd::Simd.isa());
    #[cfg(feature = "threads")]
    println!("threads backend: {} rayon threads", kernels::threads::Threads.n_threads());
    println!(
        "median of {} samples after warm-up; GFLOPS (slowest .. fastest sample); clock: {}\n",
        config.samples,
        if cpu_clock { "CPU time (thread; process for threads: GFLOPS per CPU-second)" } else { "wall" }
    );

    let mut shapes: Vec<(String, usize, usize, usize)> = [64, 128, 256, 512, 1024].iter().map(|&n| (format!("square n={n}"), n, n, n)).collect();
    shapes.extend(model_shapes(16 * 128, 128, 65));
    // --shape MxKxN: only that shape (for profiling one case).
    if let Some(spec) = argv.iter().position(|a| a == "--shape").and_then(|i| argv.get(i + 1)) {
        let dims: Vec<usize> = spec.split('x').filter_map(|d| d.parse().ok()).collect();
        let [m, k, n] = dims[..] else {
            eprintln!("bench: --shape wants MxKxN, e.g. 2048x128x384, got `{spec}`");
            std::process::exit(2);
        };
        shapes = vec![(format!("custom {spec}"), m, k, n)];
    }

    println!("{:<30} {:>16} {:<9} {:>9} {:>9} {:>21}", "shape (M,K)x(N,K)ᵀ", "M x K x N", "backend", "op", "GFLOPS", "spread");
    for (label, m, k, n) in &shapes {
        for op in [Op::Forward, Op::Backward] {
            for kern in &backends {
                // The scalar reference is slow: time it only where it finishes quickly.
                if kern.name() == "scalar" && (*m as f64) * (*n as f64) * (*k as f64) > 300e6 {
                    continue;
                }
                let clock: &mut (dyn FnMut() -> f64 + Send) = match (cpu_clock, kern.name()) {
                    (false, _) => &mut wall,
                    (true, "threads") => &mut process_cpu,
                    (true, _) => &mut thread_cpu,
                };
                let s = bench_matmul(*kern, op, *m, *k, *n, config, clock);
                println!(
                    "{:<30} {:>16} {:<9} {:>9} {:>9.1} {:>9.1} .. {:>9.1}",
                    label,
                    format!("{m}x{k}x{n}"),
                    kern.name(),
                    if op == Op::Forward { "forward" } else { "backward" },
                    s.gflops(),
                    s.gflops_worst(),
                    s.gflops_best()
                );
            }
        }
    }
}

/// Which CPU-time clock.
#[derive(Clone, Copy)]
enum CpuClock {
    /// `CLOCK_THREAD_CPUTIME_ID`: the calling thread only.
    Thread,
    /// `CLOCK_PROCESS_CPUTIME_ID`: every thread of the process.
    Process,
}

/// CPU time in seconds (Linux `clock_gettime`).
#[cfg(target_os = "linux")]
fn cpu_seconds(clock: CpuClock) -> f64 {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    unsafe extern "C" {
        fn clock_gettime(clock_id: i32, tp: *mut Timespec) -> i32;
    }
    let id = match clock {
        CpuClock::Process => 2, // CLOCK_PROCESS_CPUTIME_ID
        CpuClock::Thread => 3,  // CLOCK_THREAD_CPUTIME_ID
    };
    let mut ts = Timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec to a valid pointer.
    let rc = unsafe { clock_gettime(id, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime({id}) failed");
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// Elsewhere the wall clock stands in.
#[cfg(not(target_os = "linux"))]
fn cpu_seconds(_: CpuClock) -> f64 {
    use std::sync::OnceLock;
    static T0: OnceLock<Instant> = OnceLock::new();
    T0.get_or_init(Instant::now).elapsed().as_secs_f64()
}
