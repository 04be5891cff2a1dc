//! Browser tests of the WebGPU GPT against the CPU model (scalar kernels) at a shape past every
//! 64 in the shaders: the forward's logits and attention maps, and two training steps
//! (`wasm-pack test --headless --chrome --features webgpu --test web_webgpu_large`).
//!
//! `web_webgpu.rs` compares the same things at T <= 8, C = 16, V = 11, inside one pass of every
//! size-dependent loop. Here each runs more than once:
//! - the one-workgroup-per-row shaders stride 64 threads across a row: attention and
//!   attention_backward_query over the keys (T) and the head's channels (HS),
//!   attention_backward_key over 2 HS, crossentropy over V, layernorm and its backward over C;
//! - layernorm_backward_params and matmul_dbias take 64 channels per workgroup;
//! - matmul works in 64 × 64 output tiles and 16-wide reduction steps;
//! - gradnorm's first stage strides 64 workgroups × 256 threads = 16384 gradients.
//!
//! So T = 99, C = 136 over 2 heads (HS = 68), V = 101, B = 2 (B·T = 198 rows), ~250k parameters:
//! each crosses 64 and none is a multiple of 16 or 64, so every tile and reduction step has a
//! ragged edge. C stays a multiple of 4, as the shipped C = 128, so the matmul takes its vec4 loads.
//! One layer: wasm-bindgen-test-runner gives the whole file 20 s by default (`cargo xtask test` sets
//! `WASM_BINDGEN_TEST_TIMEOUT=120`), and on SwiftShader the two tests
//! take about 10 s (3.5 s compiling the pipelines, 2 s per GPU training step; a two-layer version took 19 s).
//! Layer offsets are tested by `web_webgpu.rs`'s two-layer model.
#![cfg(all(target_arch = "wasm32", feature = "webgpu"))]

use std::cell::RefCell;
use std::rc::Rc;

use glassgpt::config::GptConfig;
use glassgpt::kernels::scalar::Scalar;
use glassgpt::model::{AdamW, Gpt};
use glassgpt::webgpu::{GpuContext, GpuGpt};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

thread_local! {
    static CONTEXT: RefCell<Option<Rc<GpuContext>>> = const { RefCell::new(None) };
}

/// One device for both tests: creating one compiles every pipeline, about 3.5 s on SwiftShader.
async fn context() -> Rc<GpuContext> {
    if let Some(ctx) = CONTEXT.with(|c| c.borrow().clone()) {
        return ctx;
    }
    let ctx = GpuContext::new().await.unwrap_or_else(|e| panic!("these tests need a WebGPU adapter (see webdriver.json): {e}"));
    CONTEXT.with(|c| *c.borrow_mut() = Some(ctx.clone()));
    ctx
}

fn config() -> GptConfig {
    GptConfig { vocab_size: 101, block_size: 99, n_embd: 136, n_head: 2, n_layer: 1, ..GptConfig::default() }
}

/// Deterministic uniform numbers in [-scale, scale) (xorshift64*, as web_webgpu.rs).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let bits = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40; // 24 bits
        bits as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    }

    fn vec(&mut self, n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|_| self.next() * scale).collect()
    }
}

/// Random parameters in llm.c order, each matrix scaled by 1/√fan_in so activations stay O(1) at
/// this width (fixed scales would saturate the softmaxes); LayerNorm weights near 1. The
/// attention scores spread over a few units, so the maps are far from uniform.
fn params(cfg: &GptConfig, rng: &mut Rng) -> Vec<f32> {
    let (v, maxt, l, c) = (cfg.vocab_size, cfg.block_size, cfg.n_layer, cfg.n_embd);
    let s = 1.0 / (c as f32).sqrt();
    let mut p = Vec::new();
    p.extend(rng.vec(v * c, 0.5)); // wte
    p.extend(rng.vec(maxt * c, 0.5)); // wpe
    p.extend(rng.vec(l * c, 0.2).iter().map(|x| 1.0 + x)); // ln1w
    p.extend(rng.vec(l * c, 0.2)); // ln1b
    p.extend(rng.vec(l * 3 * c * c, 3.0 * s)); // qkvw
    p.extend(rng.vec(l * 3 * c, 0.1)); // qkvb
    p.extend(rng.vec(l * c * c, 1.5 * s)); // attprojw
    p.extend(rng.vec(l * c, 0.1)); // attprojb
    p.extend(rng.vec(l * c, 0.2).iter().map(|x| 1.0 + x)); // ln2w
    p.extend(rng.vec(l * c, 0.2)); // ln2b
    p.extend(rng.vec(l * 4 * c * c, 1.5 * s)); // fcw
    p.extend(rng.vec(l * 4 * c, 0.1)); // fcb
    p.extend(rng.vec(l * c * 4 * c, 0.75 * s)); // fcprojw (fan-in 4C)
    p.extend(rng.vec(l * c, 0.1)); // fcprojb
    p.extend(rng.vec(c, 0.2).iter().map(|x| 1.0 + x)); // lnfw
    p.extend(rng.vec(c, 0.2)); // lnfb
    p
}

/// n token ids visiting the whole vocabulary in a scrambled order (V = 101 is prime).
fn tokens(n: usize, v: usize, seed: usize) -> Vec<u32> {
    (0..n).map(|i| ((i * 37 + seed * 11 + 5) % v) as u32).collect()
}

/// Largest |got - want| is at most `tol`, and every output is finite.
fn assert_close(what: &str, got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    let (i, d) = got.iter().zip(want).map(|(a, b)| (a - b).abs()).enumerate().fold((0, 0.0f32), |m, (i, d)| if d > m.1 { (i, d) } else { m });
    assert!(d <= tol, "{what}: element {i} differs by {d:e} (GPU {} CPU {}), more than {tol:e}", got[i], want[i]);
    assert!(got.iter().all(|x| x.is_finite()), "{what}: non-finite output");
}

fn largest(x: &[f32]) -> f32 {
    x.iter().fold(0.0f32, |m, x| m.max(x.abs()))
}

/// The full context at B = 2, then one sequence of 67 (one past a workgroup's stride): logits
/// (B, T, V) and attention maps (L, B, NH, T, T) against the CPU model's forward.
#[wasm_bindgen_test]
async fn forward_matches_the_cpu_model_past_64() {
    let cfg = config();
    let params = params(&cfg, &mut Rng(0x5DEE_CE66_D1CE_4E5B));
    let gpu = GpuGpt::new(context().await, cfg, &params, 2).await.unwrap();
    let mut cpu = Gpt::from_parameters(cfg, params).unwrap();
    cpu.reserve(2, cfg.block_size).unwrap();
    for (b, t) in [(2, 99), (1, 67)] {
        let tokens = tokens(b * t, cfg.vocab_size, t);
        cpu.forward(&Scalar, &tokens, &tokens, b, t).unwrap();
        let logits = gpu.forward(&tokens, b, t).await.unwrap();
        assert_close(&format!("logits B={b} T={t}"), &logits, cpu.logits(), 1e-4);
        assert_close(&format!("attention B={b} T={t}"), &gpu.attention().await.unwrap(), cpu.attention(), 1e-5);
    }
}

/// Two AdamW steps at the full context, the second clipped (the moments carry over): loss,
/// gradient norm, every gradient and the parameters after each step; then the train state read
/// back (parameters, both moments, t) as a fall-back to the CPU would take it.
#[wasm_bindgen_test]
async fn train_steps_match_the_cpu_model_past_64() {
    let cfg = config();
    let params = params(&cfg, &mut Rng(0x2545_F491_4F6C_DD1D));
    let (b, t, v) = (2, cfg.block_size, cfg.vocab_size);
    let gpu = GpuGpt::new(context().await, cfg, &params, b).await.unwrap();
    let mut cpu = Gpt::from_parameters(cfg, params).unwrap();
    cpu.reserve(b, t).unwrap();
    // eps = 1e-3 keeps the update well conditioned (see web_webgpu.rs).
    let opt = AdamW { eps: 1e-3, ..AdamW::default() };
    let lr = 1e-2;
    for (step, clip) in [0.0, 0.25].into_iter().enumerate() {
        let inputs = tokens(b * t, v, step);
        let targets = tokens(b * t, v, step + 7);
        let loss = cpu.forward(&Scalar, &inputs, &targets, b, t).unwrap();
        cpu.zero_grad();
        cpu.backward(&Scalar).unwrap();
        let grads = cpu.grads().to_vec();
        let norm = cpu.clip_grad_norm(clip);
        if step == 1 {
            assert!(norm > clip, "the clipped step must clip: norm {norm}");
        }
        cpu.update(&opt, lr);

        let s = gpu.train_step(&inputs, &targets, b, t, lr, &opt, clip).await.unwrap();
        assert!((s.loss - loss).abs() < 1e-5 * loss.max(1.0), "step {step}: loss GPU {} CPU {loss}", s.loss);
        assert!((s.grad_norm - norm).abs() < 1e-4 * norm, "step {step}: grad norm GPU {} CPU {norm}", s.grad_norm);
        assert_close(&format!("step {step}: gradients"), &gpu.read_grads().await.unwrap(), &grads, 1e-5 * largest(&grads).max(1.0));
        assert_close(&format!("step {step}: parameters after AdamW"), &gpu.read_params().await.unwrap(), cpu.params(), 1e-5);
    }
    let (params, adam) = gpu.read_train_state().await.unwrap();
    let want = cpu.adam_state();
    assert_eq!((adam.t, want.t), (2, 2));
    assert_close("parameters read back", &params, cpu.params(), 1e-5);
    assert_close("first moment", &adam.m, &want.m, 1e-4 * largest(&want.m));
    assert_close("second moment", &adam.v, &want.v, 1e-4 * largest(&want.v));
}
