//! Training and generation speed of the default 4-layer, 4-head, C = 128, T = 128 model.
//!
//! `cargo bench --bench model [--features threads] [-- none|scalar|simd|threads|sharded|best ...]` prints, per kernel backend, the
//! milliseconds of each part of a B = 16, T = 128 training step, training tokens/s, and
//! generation tokens/s (a 64-character prompt, then 256 sampled characters with nanoGPT's
//! sliding window, then 256 more with `overflow_keep = 64`). The "none" backend runs with
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

fn bench(k: &dyn Kernels, steps: usize, gen_tokens: usize) {
    WALL.store(k.name() == "threads", std::sync::atomic::Ordering::Relaxed);
    let config = GptConfig::default();
    let (b, t) = (16, config.block_size);
    let mut gpt = Gpt::new(config, 1).unwrap();
    gpt.reserve(b, t).unwrap();
    let mut rng = Rng::new(2);
    let inputs: Vec<u32> = (0..b * t).map(|_| rng.below(config.vocab_size) as u32).collect();
    let targets: Vec<u32> = (0..b * t).map(|_| rng.below(config.vocab_size) as u32).collect();
    let (mut fwd, mut bwd, mut upd) = (0.0, 0.0, 0.0);
    for step in 0..=steps {
        let t0 = now();
        gpt.forward(k, &inputs, &targets, b, t).unwrap();
        let t1 = now();
        gpt.zero_grad();
        gpt.backward(k).unwrap();
        let t2 = now();
        gpt.clip_grad_norm(1.0);
        gpt.update(&AdamW::default(), 1e-3);
        let t3 = now();
        if step > 0 {
            // step 0 warms caches and allocates AdamW's moments
            fwd += t1 - t0;
            bwd += t2 - t1;
            upd += t3 - t2;
        }
    }
    let per = |x: f64| x / steps as f64 * 1e3;
    let step_ms = per(fwd + bwd + upd);
    let prompt: Vec<u32> = (0..64).map(|i| (i * 7 % config.vocab_size) as u32).collect();
    let sampler = Sampler::default();
    let mut session = Session::new(&config).unwrap();
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
    println!(
        "{:>7}  step {step_ms:7.1} ms (forward {:6.1}, backward {:6.1}, update {:4.1})  train {:6.0} tok/s  prefill(64) {:5.1} ms  generate {:5.0} tok/s (keep 64: {:5.0})",
        k.name(),
        per(fwd),
        per(bwd),
        per(upd),
        (b * t) as f64 / (step_ms / 1e3),
        (t1 - t0) * 1e3,
        gen_tokens as f64 / (t2 - t1),
        gen_tokens as f64 / (t3 - t2),
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
    let t0 = Instant::now();
    for _ in 0..steps {
        trainer.step_sharded(&mut gpt, &mut replicas, simd, &data).unwrap();
    }
    let step_ms = t0.elapsed().as_secs_f64() / steps as f64 * 1e3;
    println!("sharded  step {step_ms:7.1} ms ({shards} data-parallel shards of {} sequences)  train {:6.0} tok/s", b / shards, (b * t) as f64 / (step_ms / 1e3));
}

fn main() {
    let picked: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let want = |name: &str| picked.is_empty() || picked.iter().any(|p| p == name);
    println!("default model (4L, 4H, C = 128, T = 128, V = 65), training batch B = 16");
    if want("none") {
        bench(&NoMatmul, 5, 256);
    }
    if want("scalar") {
        bench(&Scalar, 2, 64);
    }
    // The fast backends of this build: "simd", and "threads" with `--features threads`.
    for k in glassgpt::kernels::all().into_iter().filter(|k| k.name() != "scalar") {
        if want("best") || want(k.name()) {
            bench(k, 10, 256);
        }
        // On the threaded backend, also the step training takes there: sharded across its pool.
        let shards = glassgpt::model::train::default_shards(k, 16);
        if shards > 1 && (want("sharded") || want(k.name())) {
            bench_sharded(glassgpt::kernels::by_name("simd").unwrap(), shards, 10);
        }
    }
}
