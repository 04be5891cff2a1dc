//! The bench page's measurements, in wasm: matmul GFLOPS per backend and shape, and the tiny
//! GPT's training step, 1×T forward and KV-cached generation. The timing loop is the core's
//! (`kernels::bench`); the clock is the page's `performance.now()`.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::{js_error, to_js};
use crate::config::GptConfig;
use crate::kernels::bench::{bench_matmul, fill_uniform, BenchConfig, Op};
use crate::kernels::{self, Kernels};
use crate::model::train::{default_shards, TrainConfig, Trainer};
use crate::model::{Gpt, Sampler, Session};
use crate::rng::Rng;

#[wasm_bindgen]
extern "C" {
    // `performance` is a global in windows and workers alike.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// Seconds from the page's `performance.now()` (wasm32 has no `Instant`). Tests use this
/// binding too: declaring `performance.now` again in another crate is a duplicate symbol.
pub fn now_s() -> f64 {
    performance_now() / 1000.0
}

fn backend(name: &str) -> Result<&'static dyn Kernels, JsError> {
    kernels::by_name(name).ok_or_else(|| {
        let names: Vec<&str> = kernels::all().iter().map(|k| k.name()).collect();
        JsError::new(&format!("backend: {name:?} is not in this build; it has {}", names.join(", ")))
    })
}

/// The CPU backends of this build, slowest first ("scalar", "simd128", and "threads" in the
/// threaded build).
#[wasm_bindgen(js_name = benchBackends)]
pub fn bench_backends() -> Vec<String> {
    kernels::all().iter().map(|k| k.name().to_string()).collect()
}

#[derive(Serialize)]
struct MatmulResult {
    backend: String,
    op: String,
    m: usize,
    k: usize,
    n: usize,
    median_ms: f64,
    min_ms: f64,
    max_ms: f64,
    gflops: f64,
    gflops_best: f64,
    gflops_worst: f64,
    calls_per_sample: usize,
}

/// Times `op` ("forward" or "backward") of an (M, K) × (N, K)ᵀ layer on `backend`: the median
/// of `samples` samples after a warm-up, each at least `min_sample_ms` long.
#[wasm_bindgen(js_name = benchMatmul)]
pub fn bench_matmul_js(
    backend_name: &str,
    op: &str,
    m: usize,
    k: usize,
    n: usize,
    samples: usize,
    min_sample_ms: f64,
) -> Result<JsValue, JsError> {
    let kernels = backend(backend_name)?;
    let op_kind = match op {
        "forward" => Op::Forward,
        "backward" => Op::Backward,
        other => return Err(JsError::new(&format!("op: {other:?} must be \"forward\" or \"backward\""))),
    };
    for (field, v) in [("m", m), ("k", k), ("n", n)] {
        if v == 0 || v > 4096 {
            return Err(JsError::new(&format!("{field}: {v} must be from 1 to 4096")));
        }
    }
    if !min_sample_ms.is_finite() {
        return Err(JsError::new(&format!("minSampleMs: {min_sample_ms} must be a finite number of milliseconds (clamped to 0-10000)")));
    }
    let cfg = BenchConfig { samples: samples.clamp(1, 1000), min_sample_s: (min_sample_ms / 1000.0).clamp(0.0, 10.0) };
    let s = bench_matmul(kernels, op_kind, m, k, n, cfg, &mut now_s);
    to_js(&MatmulResult {
        backend: kernels.name().to_string(),
        op: op.to_string(),
        m,
        k,
        n,
        median_ms: s.median_s * 1e3,
        min_ms: s.min_s * 1e3,
        max_ms: s.max_s * 1e3,
        gflops: s.gflops(),
        gflops_best: s.gflops_best(),
        gflops_worst: s.gflops_worst(),
        calls_per_sample: s.calls_per_sample,
    })
}

#[derive(Serialize)]
struct ModelResult {
    backend: String,
    what: String,
    /// Per sample: milliseconds per step / forward, or per generated token.
    median_ms: f64,
    min_ms: f64,
    max_ms: f64,
    tokens_per_s: f64,
    samples: usize,
}

fn stats(backend: &str, what: &str, mut ms: Vec<f64>, tokens_per_sample: f64) -> Result<JsValue, JsError> {
    crate::sort::sort_by(&mut ms, f64::total_cmp);
    let median = ms[ms.len() / 2];
    to_js(&ModelResult {
        backend: backend.to_string(),
        what: what.to_string(),
        median_ms: median,
        min_ms: ms[0],
        max_ms: ms[ms.len() - 1],
        tokens_per_s: tokens_per_sample / (median / 1e3),
        samples: ms.len(),
    })
}

/// The tiny GPT the targets are stated for (4 layers, 4 heads, C = 128, T = 128, V = 65),
/// randomly initialised: its cost does not depend on what its weights hold.
fn bench_model() -> Result<Gpt, JsError> {
    Gpt::new(GptConfig { vocab_size: 65, ..GptConfig::default() }, 1337).map_err(js_error)
}

fn random_tokens(n: usize, v: usize, seed: u64) -> Vec<u32> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| rng.below(v) as u32).collect()
}

/// Milliseconds per training step (forward, backward, clip, AdamW) of the tiny GPT at batch
/// `batch` × T = 128, on `backend`: `samples` steps after one warm-up step. The threaded
/// backend steps as the Train page does: the batch in data-parallel shards, at most one per
/// thread (`default_shards`).
#[wasm_bindgen(js_name = benchTrainStep)]
pub fn bench_train_step(backend_name: &str, batch: usize, samples: usize) -> Result<JsValue, JsError> {
    let kernels = backend(backend_name)?;
    let mut gpt = bench_model()?;
    let (t, v, b) = (gpt.config().block_size, gpt.config().vocab_size, batch.clamp(1, 64));
    let data = random_tokens(64 * 1024, v, 7);
    let mut trainer = Trainer::new(TrainConfig { batch_size: b, ..TrainConfig::default() }, &mut gpt).map_err(js_error)?;
    let shards = default_shards(kernels, b);
    let mut replicas = trainer.replicas(&gpt, shards).map_err(js_error)?;
    let simd = backend("simd128")?;
    let mut step = |gpt: &mut Gpt| {
        if shards > 1 {
            trainer.step_sharded(gpt, &mut replicas, simd, &data)
        } else {
            trainer.step(gpt, kernels, &data)
        }
    };
    step(&mut gpt).map_err(js_error)?;
    let ms = (0..samples.clamp(1, 100))
        .map(|_| {
            let t0 = performance_now();
            step(&mut gpt).map(|_| performance_now() - t0)
        })
        .collect::<Result<Vec<f64>, _>>()
        .map_err(js_error)?;
    let shards_note = if shards > 1 { format!(", {shards} data-parallel shards") } else { String::new() };
    stats(kernels.name(), &format!("train step B={b} T={t}{shards_note}"), ms, (b * t) as f64)
}

/// Milliseconds per 1 × T forward pass (T = 128) of the tiny GPT on `backend`.
#[wasm_bindgen(js_name = benchForward)]
pub fn bench_forward(backend_name: &str, samples: usize) -> Result<JsValue, JsError> {
    let kernels = backend(backend_name)?;
    let mut gpt = bench_model()?;
    let (t, v) = (gpt.config().block_size, gpt.config().vocab_size);
    let tokens = random_tokens(t, v, 11);
    gpt.forward_logits(kernels, &tokens).map_err(js_error)?;
    let ms = (0..samples.clamp(1, 1000))
        .map(|_| {
            let t0 = performance_now();
            gpt.forward_logits(kernels, &tokens).map(|_| performance_now() - t0)
        })
        .collect::<Result<Vec<f64>, _>>()
        .map_err(js_error)?;
    stats(kernels.name(), &format!("forward 1x{t}"), ms, t as f64)
}

/// KV-cached generation on `backend`: each sample feeds a one-character prompt and samples
/// `tokens` characters (≤ T, so the cache never overflows), after a warm-up of at least three
/// runs and 300 ms; reports ms per token.
#[wasm_bindgen(js_name = benchGenerate)]
pub fn bench_generate(backend_name: &str, tokens: usize, samples: usize) -> Result<JsValue, JsError> {
    let kernels = backend(backend_name)?;
    let gpt = bench_model()?;
    let n = tokens.clamp(1, gpt.config().block_size - 1);
    let mut session = Session::new(gpt.config()).map_err(js_error)?;
    let sampler = Sampler::default();
    let mut run = |seed: u64| -> crate::Result<f64> {
        let mut rng = Rng::new(seed);
        session.reset();
        let t0 = performance_now();
        session.feed(&gpt, kernels, &[0])?;
        session.generate(&gpt, kernels, &sampler, &mut rng, n)?;
        Ok((performance_now() - t0) / n as f64)
    };
    // Warm-up: at least three runs and 300 ms. V8 compiles a function's optimised code in the
    // background once it is hot, and the threaded path's functions (its per-head tasks, the
    // team's loops) run nowhere else: after a single warm-up run the threaded bench page's first
    // samples still ran the baseline code while the compiler took a core from the team
    // (0.13-0.21 ms a token against 0.09 for the same call made again, Chromium, 2 cores).
    let t0 = performance_now();
    for seed in 0..100 {
        run(seed).map_err(js_error)?;
        if seed >= 2 && performance_now() - t0 >= 300.0 {
            break;
        }
    }
    let ms = (100..100 + samples.clamp(1, 100) as u64).map(&mut run).collect::<Result<Vec<f64>, _>>().map_err(js_error)?;
    stats(kernels.name(), &format!("generate {n} tokens (KV cache)"), ms, 1.0)
}

/// Fills `buf` with the bench's deterministic values in [-1, 1) (for the WebGPU rows, which
/// time the same operands from JS).
#[wasm_bindgen(js_name = benchFill)]
pub fn bench_fill(buf: &mut [f32], seed: u64) {
    fill_uniform(buf, seed);
}
