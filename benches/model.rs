//! Training and generation speed of the default 4-layer, 4-head, C = 128, T = 128 model.
//!
//! `cargo bench --bench model [-- none|scalar|best ...]` prints, per kernel backend, the
//! milliseconds of each part of a B = 16, T = 128 training step, training tokens/s, and
//! generation tokens/s (a 64-character prompt, then 256 sampled characters with nanoGPT's
//! sliding window, then 256 more with `overflow_keep = 64`). The "none" backend runs with
//! matmuls that do nothing: the time the model's own layers take.
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

/// Seconds of this thread's CPU time, or of wall time where that is not available.
fn now() -> f64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    if let Ok(s) = std::fs::read_to_string("/proc/thread-self/schedstat") {
        if let Some(ns) = s.split_whitespace().next().and_then(|x| x.parse::<f64>().ok()) {
            return ns * 1e-9;
        }
    }
    START.get_or_init(Instant::now).elapsed().as_secs_f64()
}

fn bench(k: &dyn Kernels, steps: usize, gen_tokens: usize) {
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
}
