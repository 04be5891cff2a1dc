//! Training and generation speed of the default 4-layer, 4-head, C = 128, T = 128 model.
//!
//! `cargo bench --bench model [--features threads] [-- none|scalar|simd|threads|sharded|best ...]` prints, per kernel backend, the
//! milliseconds of each part of a B = 16, T = 128 training step, training tokens/s, and
//! generation tokens/s (a 64-character prompt, then 256 sampled characters with nanoGPT's
//! sliding window, then 256 more with `overflow_keep = 64`). Each figure is the median over
//! the steps (10 after a warm-up) or the generation runs (5), with the range in parentheses. The "none" backend runs with
//! matmuls that do nothing: the time the model's own layers take. With the threaded backend comes
//! "sharded": the training step as `glassgpt train` and the Train page take it there, the batch
//! split into data-parallel shards, one per thread.
//!
//! On Linux the times are this thread's CPU time (from /proc/thread-self/schedstat), so a
//! machine shared with other work still gives comparable numbers; elsewhere, wall time.

use std::time::Instant;

use glassgpt::config::GptConfig;
use glassgpt::kernels::{scalar::Scalar, Kernels};
use glassgpt::model::{AdamW, Gpt, Sampler, Session};
use glassgpt::rng::Rng;

/// Matmuls that do nothing, to time everything else.
struct NoMatmul;

impl Kernels for NoMatmul {
    fn name(&self) -> &'static str {
        "none"
    }
    fn matmul_forward(&self, _: &mut [f32], _: &[f32], _: &[f32], _: Option<&[f32]>, _: usize, _: usize, _: usize) {}
    fn matmul_backward(&self, _: &mut [f32], _: &mut [f32], _: Option<&mut [f32]>, _: &[f32], _: &[f32], _: &[f32], _: usize, _: usize, _: usize) {}
}

/// Set while benchmarking the threaded backend, whose work is on other threads: wall time then.
static WALL: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Seconds of this thread's CPU time, or of wall time where that is not available (or the
/// threaded backend runs).
fn now() -> f64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let wall = WALL.load(std::sync::atomic::Ordering::Relaxed);
    if let (false, Ok(s)) = (wall, std::fs::read_to_string("/proc/thread-self/schedstat")) {
        if let Some(ns) = s.split_whitespace().next().and_then(|x| x.parse::<f64>().ok()) {
            return ns * 1e-9;
        }
    }
    START.get_or_init(Instant::now).elapsed().as_secs_f64()
}

/// The median and the range of `xs` (sorted in place).
fn spread(xs: &mut [f64]) -> (f64, f64, f64) {
    xs.sort_by(f64::total_cmp);
    (xs[xs.len() / 2], xs[0], xs[xs.len() - 1])
}

/// "median (min-max)" of `xs`, scaled by `scale`.
fn show(xs: &mut [f64], scale: f64) -> String {
    let (m, lo, hi) = spread(xs);
    format!("{:.1} ({:.1}-{:.1})", m * scale, lo * scale, hi * scale)
}

fn bench(k: &dyn Kernels, steps: usize, gen_tokens: usize, gen_runs: usize) {
    WALL.store(k.name() == "threads", std::sync::atomic::Ordering::Relaxed);
    let config = GptConfig::default();
    let (b, t) = (16, config.block_size);
    let mut gpt = Gpt::new(config, 1).unwrap();
    gpt.reserve(b, t).unwrap();
    let mut rng = Rng::new(2);
    let inputs: Vec<u32> = (0..b * t).map(|_| rng.below(config.vocab_size) as u32).collect();
    let targets: Vec<u32> = (0..b * t).map(|_| rng.below(config.vocab_size) as u32).collect();
    let (mut fwd, mut bwd, mut upd, mut step) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..=steps {
        let t0 = now();
        gpt.forward(k, &inputs, &targets, b, t).unwrap();
        let t1 = now();
        gpt.zero_grad();
        gpt.backward(k).unwrap();
        let t2 = now();
        gpt.clip_grad_norm(1.0);
        gpt.update(&AdamW::default(), 1e-3);
        let t3 = now();
        if i > 0 {
            // step 0 warms caches and allocates AdamW's moments
            fwd.push(t1 - t0);
            bwd.push(t2 - t1);
            upd.push(t3 - t2);
            step.push(t3 - t0);
        }
    }
    let (step_s, _, _) = spread(&mut step.clone());
    // Generation: `gen_runs` runs of a 64-character prompt, then `gen_tokens` characters inside
    // the window, then `gen_tokens` more with the window full (nanoGPT's crop, keeping 64).
    let prompt: Vec<u32> = (0..64).map(|i| (i * 7 % config.vocab_size) as u32).collect();
    let sampler = Sampler::default();
    let mut session = Session::new(&config).unwrap();
    let (mut prefill, mut gen, mut keep) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..gen_runs {
        session.reset();
        session.set_overflow_keep(config.block_size).unwrap(); // nanoGPT's crop
        let t0 = now();
        session.feed(&gpt, k, &prompt).unwrap();
        let t1 = now();
        for _ in 0..gen_tokens {
            session.next(&gpt, k, &sampler, &mut rng).unwrap();
        }
        let t2 = now();
        session.set_overflow_keep(64).unwrap();
        for _ in 0..gen_tokens {
            session.next(&gpt, k, &sampler, &mut rng).unwrap();
        }
        let t3 = now();
        prefill.push(t1 - t0);
        gen.push(gen_tokens as f64 / (t2 - t1));
        keep.push(gen_tokens as f64 / (t3 - t2));
    }
    println!(
        "{:>7}  step {} ms (forward {}, backward {}, update {})  train {:.0} tok/s  prefill(64) {} ms  generate {} tok/s (keep 64: {})",
        k.name(),
        show(&mut step, 1e3),
        show(&mut fwd, 1e3),
        show(&mut bwd, 1e3),
        show(&mut upd, 1e3),
        (b * t) as f64 / step_s,
        show(&mut prefill, 1e3),
        show(&mut gen, 1.0),
        show(&mut keep, 1.0),
    );
}

/// The training step as `glassgpt train` and the Train page take it on a threaded backend:
/// the batch in data-parallel shards, one per thread of the pool, each on the single-thread
/// kernels (`Trainer::step_sharded`). Wall time.
fn bench_sharded(simd: &dyn Kernels, shards: usize, steps: usize) {
    use glassgpt::model::{TrainConfig, Trainer};
    let config = GptConfig::default();
    let (b, t) = (16, config.block_size);
    let mut gpt = Gpt::new(config, 1).unwrap();
    let mut trainer = Trainer::new(TrainConfig { batch_size: b, ..TrainConfig::default() }, &mut gpt).unwrap();
    let mut replicas = trainer.replicas(&gpt, shards).unwrap();
    let mut rng = Rng::new(2);
    let data: Vec<u32> = (0..64 * 1024).map(|_| rng.below(config.vocab_size) as u32).collect();
    trainer.step_sharded(&mut gpt, &mut replicas, simd, &data).unwrap(); // warm-up, allocations
    let mut step: Vec<f64> = (0..steps)
        .map(|_| {
            let t0 = Instant::now();
            trainer.step_sharded(&mut gpt, &mut replicas, simd, &data).unwrap();
            t0.elapsed().as_secs_f64()
        })
        .collect();
    let (median, _, _) = spread(&mut step);
    println!("sharded  step {} ms ({shards} data-parallel shards of {} sequences)  train {:.0} tok/s", show(&mut step, 1e3), b / shards, (b * t) as f64 / median);
}

fn main() {
    let picked: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let want = |name: &str| picked.is_empty() || picked.iter().any(|p| p == name);
    println!("default model (4L, 4H, C = 128, T = 128, V = 65), training batch B = 16");
    if want("none") {
        bench(&NoMatmul, 5, 256, 3);
    }
    if want("scalar") {
        bench(&Scalar, 2, 64, 1);
    }
    // The fast backends of this build: "simd", and "threads" with `--features threads`.
    for k in glassgpt::kernels::all().into_iter().filter(|k| k.name() != "scalar") {
        if want("best") || want(k.name()) {
            bench(k, 10, 256, 5);
        }
        // On the threaded backend, also the step training takes there: sharded across its pool.
        let shards = glassgpt::model::train::default_shards(k, 16);
        if shards > 1 && (want("sharded") || want(k.name())) {
            bench_sharded(glassgpt::kernels::by_name("simd").unwrap(), shards, 10);
        }
    }
}
