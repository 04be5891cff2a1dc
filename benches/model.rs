//! Training and generation speed of the default 4-layer, 4-head, C = 128, T = 128 model.
//!
//! `cargo bench --bench model` prints, per kernel backend, the milliseconds of each part of a
//! B = 16, T = 128 training step, training tokens/s, and generation tokens/s (a 64-character
//! prompt, then 256 sampled characters, so the window slides past block_size). The "none" row
//! runs with matmuls that do nothing: the time the model's own layers take.

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
        let t0 = Instant::now();
        gpt.forward(k, &inputs, &targets, b, t).unwrap();
        let t1 = Instant::now();
        gpt.zero_grad();
        gpt.backward(k).unwrap();
        let t2 = Instant::now();
        gpt.clip_grad_norm(1.0);
        gpt.update(&AdamW::default(), 1e-3);
        let t3 = Instant::now();
        if step > 0 {
            // step 0 warms caches and allocates AdamW's moments
            fwd += (t1 - t0).as_secs_f64();
            bwd += (t2 - t1).as_secs_f64();
            upd += (t3 - t2).as_secs_f64();
        }
    }
    let per = |x: f64| x / steps as f64 * 1e3;
    let step_ms = per(fwd + bwd + upd);
    let prompt: Vec<u32> = (0..64).map(|i| (i * 7 % config.vocab_size) as u32).collect();
    let mut session = Session::new(&config).unwrap();
    let t0 = Instant::now();
    session.feed(&gpt, k, &prompt).unwrap();
    let t1 = Instant::now();
    let sampler = Sampler::default();
    for _ in 0..gen_tokens {
        session.next(&gpt, k, &sampler, &mut rng).unwrap();
    }
    let gen_s = t1.elapsed().as_secs_f64();
    println!(
        "{:>8}  step {step_ms:8.1} ms (forward {:7.1}, backward {:7.1}, update {:5.1})  train {:8.0} tok/s  prefill(64) {:6.1} ms  generate {:7.0} tok/s",
        k.name(),
        per(fwd),
        per(bwd),
        per(upd),
        (b * t) as f64 / (step_ms / 1e3),
        (t1 - t0).as_secs_f64() * 1e3,
        gen_tokens as f64 / gen_s
    );
}

fn main() {
    println!("default model (4L, 4H, C = 128, T = 128, V = 65), training batch B = 16");
    bench(&NoMatmul, 5, 256);
    if std::env::args().any(|a| a == "--none-only") {
        return;
    }
    bench(&Scalar, 2, 256);
}
