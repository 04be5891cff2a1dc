//! Browser tests of the WebGPU backend against plain loops written here
//! (`wasm-pack test --headless --chrome --features webgpu -- --test web_webgpu`).
//!
//! They need a WebGPU adapter: webdriver.json passes `--enable-unsafe-webgpu`, which gives headless
//! Chromium its SwiftShader adapter on a machine without a GPU. Without one they fail, saying so.
//! SwiftShader runs shaders on the CPU, so shapes stay small.
#![cfg(all(target_arch = "wasm32", feature = "webgpu"))]

use std::cell::RefCell;
use std::rc::Rc;

use glassgpt::config::GptConfig;
use glassgpt::webgpu::{GpuContext, GpuError, GpuGpt, GpuMatmul};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

thread_local! {
    static CONTEXT: RefCell<Option<Rc<GpuContext>>> = const { RefCell::new(None) };
}

/// One device for the whole run (creating one compiles every pipeline, slow on SwiftShader).
async fn context() -> Rc<GpuContext> {
    if let Some(ctx) = CONTEXT.with(|c| c.borrow().clone()) {
        return ctx;
    }
    let ctx = match GpuContext::new().await {
        Ok(ctx) => ctx,
        Err(e @ GpuError::Unavailable(_)) => panic!(
            "the WebGPU tests need an adapter (webdriver.json must pass --enable-unsafe-webgpu, and with \
             --disable-gpu also --enable-unsafe-swiftshader, to Chromium): {e}"
        ),
        Err(e) => panic!("creating the WebGPU context failed: {e}"),
    };
    CONTEXT.with(|c| *c.borrow_mut() = Some(ctx.clone()));
    ctx
}

/// Deterministic uniform numbers in [-scale, scale) (xorshift64*).
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

/// Largest |a - b|, asserting equal lengths.
fn max_diff(a: &[f32], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    a.iter().zip(b).map(|(&x, &y)| (x as f64 - y).abs()).fold(0.0, f64::max)
}

fn assert_close(what: &str, got: &[f32], want: &[f64], tol: f64) {
    let d = max_diff(got, want);
    assert!(d <= tol, "{what}: max |gpu - reference| = {d:e} > {tol:e}");
    assert!(got.iter().all(|v| v.is_finite()), "{what}: non-finite output");
}

const SHAPES: [(usize, usize, usize); 4] = [(1, 1, 1), (7, 13, 5), (65, 129, 33), (130, 64, 200)];

// ----------------------------------------------------------------------------------------------
// Matmul: forward and both backward products against loops.

#[wasm_bindgen_test]
async fn matmul_forward_matches_loops_on_odd_shapes() {
    let mm = GpuMatmul::new(context().await);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for (m, k, n) in SHAPES {
        let x = rng.vec(m * k, 1.0); // (M, K)
        let w = rng.vec(n * k, 1.0); // (N, K)
        let b = rng.vec(n, 1.0); // (N)
        for bias in [Some(&b[..]), None] {
            let mut want = vec![0.0f64; m * n];
            for i in 0..m {
                for j in 0..n {
                    let mut s = bias.map_or(0.0, |b| b[j] as f64);
                    for p in 0..k {
                        s += x[i * k + p] as f64 * w[j * k + p] as f64;
                    }
                    want[i * n + j] = s;
                }
            }
            let got = mm.forward(&x, &w, bias, m, k, n).await.unwrap();
            assert_close(&format!("forward {m}x{k}x{n} bias={}", bias.is_some()), &got, &want, 1e-4);
        }
    }
}

#[wasm_bindgen_test]
async fn matmul_backward_accumulates_like_loops_on_odd_shapes() {
    let mm = GpuMatmul::new(context().await);
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    for (m, k, n) in SHAPES {
        let x = rng.vec(m * k, 1.0); // (M, K)
        let w = rng.vec(n * k, 1.0); // (N, K)
        let dout = rng.vec(m * n, 1.0); // (M, N)
                                        // Non-zero starting gradients: the products must add to them, not overwrite them.
        let dx0 = rng.vec(m * k, 1.0);
        let dw0 = rng.vec(n * k, 1.0);
        let db0 = rng.vec(n, 1.0);

        let mut dx = dx0.iter().map(|&v| v as f64).collect::<Vec<_>>();
        let mut dw = dw0.iter().map(|&v| v as f64).collect::<Vec<_>>();
        let mut db = db0.iter().map(|&v| v as f64).collect::<Vec<_>>();
        for i in 0..m {
            for j in 0..n {
                let d = dout[i * n + j] as f64;
                db[j] += d;
                for p in 0..k {
                    dx[i * k + p] += d * w[j * k + p] as f64;
                    dw[j * k + p] += d * x[i * k + p] as f64;
                }
            }
        }
        let (gx, gw, gb) = mm.backward(&dx0, &dw0, Some(&db0), &dout, &x, &w, m, k, n).await.unwrap();
        assert_close(&format!("dinp {m}x{k}x{n}"), &gx, &dx, 1e-4);
        assert_close(&format!("dweight {m}x{k}x{n}"), &gw, &dw, 1e-4);
        assert_close(&format!("dbias {m}x{k}x{n}"), &gb.unwrap(), &db, 1e-4);
    }
}

#[wasm_bindgen_test]
async fn matmul_rejects_wrong_lengths_naming_the_operand() {
    let mm = GpuMatmul::new(context().await);
    let err = mm.forward(&[1.0; 5], &[1.0; 6], None, 2, 3, 2).await.unwrap_err();
    assert!(matches!(&err, GpuError::Input(_)), "{err:?}");
    assert!(err.to_string().contains("inp has 5 elements, expected M*K = 6"), "{err}");
    let err = mm.forward(&[], &[], None, 0, 3, 2).await.unwrap_err();
    assert_eq!(err.to_string(), "m: must be at least 1");
}

#[wasm_bindgen_test]
async fn matmul_binding_resolves_to_hand_computed_values() {
    context().await; // fail with the adapter message first, if there is none
    let mm = glassgpt::wasm::webgpu::WebGpuMatmul::create().await.unwrap();
    // (2, 3) · (2, 3)ᵀ + (10, 20)
    let x = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let w = vec![1.0, 0.0, -1.0, 0.5, 0.5, 0.5];
    let y = JsFuture::from(mm.matmul(x, w, Some(vec![10.0, 20.0]), 2, 3, 2)).await.unwrap();
    let y = y.dyn_into::<js_sys::Float32Array>().unwrap().to_vec();
    assert_eq!(y, vec![8.0, 23.0, 8.0, 27.5]);
    assert!(glassgpt::wasm::webgpu::webgpu_available().await);
}

// ----------------------------------------------------------------------------------------------
// GPT forward against a naive CPU forward written here.

fn tiny_config() -> GptConfig {
    GptConfig { vocab_size: 11, block_size: 8, n_embd: 16, n_head: 2, n_layer: 2, ..GptConfig::default() }
}

/// Random parameters in llm.c order; LayerNorm weights near 1.
fn tiny_params(cfg: &GptConfig, rng: &mut Rng) -> Vec<f32> {
    let (v, maxt, l, c) = (cfg.vocab_size, cfg.block_size, cfg.n_layer, cfg.n_embd);
    let mut p = Vec::new();
    p.extend(rng.vec(v * c, 0.5)); // wte
    p.extend(rng.vec(maxt * c, 0.5)); // wpe
    p.extend(rng.vec(l * c, 0.2).iter().map(|x| 1.0 + x)); // ln1w
    p.extend(rng.vec(l * c, 0.2)); // ln1b
    p.extend(rng.vec(l * 3 * c * c, 0.3)); // qkvw
    p.extend(rng.vec(l * 3 * c, 0.1)); // qkvb
    p.extend(rng.vec(l * c * c, 0.3)); // attprojw
    p.extend(rng.vec(l * c, 0.1)); // attprojb
    p.extend(rng.vec(l * c, 0.2).iter().map(|x| 1.0 + x)); // ln2w
    p.extend(rng.vec(l * c, 0.2)); // ln2b
    p.extend(rng.vec(l * 4 * c * c, 0.3)); // fcw
    p.extend(rng.vec(l * 4 * c, 0.1)); // fcb
    p.extend(rng.vec(l * c * 4 * c, 0.2)); // fcprojw
    p.extend(rng.vec(l * c, 0.1)); // fcprojb
    p.extend(rng.vec(c, 0.2).iter().map(|x| 1.0 + x)); // lnfw
    p.extend(rng.vec(c, 0.2)); // lnfb
    p
}

/// Reads the parameter tensors off the flat buffer in llm.c order.
struct Params<'a> {
    rest: &'a [f32],
}

impl<'a> Params<'a> {
    fn take(&mut self, n: usize) -> Vec<f64> {
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        head.iter().map(|&v| v as f64).collect()
    }
}

fn layernorm(x: &[f64], w: &[f64], b: &[f64]) -> Vec<f64> {
    let c = x.len() as f64;
    let mean = x.iter().sum::<f64>() / c;
    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / c;
    let rstd = 1.0 / (var + 1e-5).sqrt();
    x.iter().zip(w).zip(b).map(|((v, w), b)| (v - mean) * rstd * w + b).collect()
}

/// y (N) = W (N, K) · x (K) + b (N).
fn linear(x: &[f64], w: &[f64], b: Option<&[f64]>, n: usize) -> Vec<f64> {
    let k = x.len();
    (0..n).map(|j| b.map_or(0.0, |b| b[j]) + (0..k).map(|p| w[j * k + p] * x[p]).sum::<f64>()).collect()
}

fn gelu(x: f64) -> f64 {
    0.5 * x * (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x * x * x)).tanh())
}

/// Logits (B, T, V) and attention probabilities (L, B, NH, T, T), position by position.
fn naive_forward(cfg: &GptConfig, params: &[f32], tokens: &[u32], bsz: usize, t: usize) -> (Vec<f64>, Vec<f64>) {
    let (v, maxt, nl, nh, c) = (cfg.vocab_size, cfg.block_size, cfg.n_layer, cfg.n_head, cfg.n_embd);
    let hs = c / nh;
    let mut p = Params { rest: params };
    let wte = p.take(v * c);
    let wpe = p.take(maxt * c);
    let (ln1w, ln1b) = (p.take(nl * c), p.take(nl * c));
    let (qkvw, qkvb) = (p.take(nl * 3 * c * c), p.take(nl * 3 * c));
    let (attprojw, attprojb) = (p.take(nl * c * c), p.take(nl * c));
    let (ln2w, ln2b) = (p.take(nl * c), p.take(nl * c));
    let (fcw, fcb) = (p.take(nl * 4 * c * c), p.take(nl * 4 * c));
    let (fcprojw, fcprojb) = (p.take(nl * c * 4 * c), p.take(nl * c));
    let (lnfw, lnfb) = (p.take(c), p.take(c));
    assert!(p.rest.is_empty());

    let mut logits = vec![0.0; bsz * t * v];
    let mut att_all = vec![0.0; nl * bsz * nh * t * t];
    for b in 0..bsz {
        // x: (T, C) residual stream of this sequence
        let mut x: Vec<Vec<f64>> = (0..t)
            .map(|pos| {
                let tok = tokens[b * t + pos] as usize;
                (0..c).map(|i| wte[tok * c + i] + wpe[pos * c + i]).collect()
            })
            .collect();
        for l in 0..nl {
            let sl = |a: &[f64], n: usize| a[l * n..(l + 1) * n].to_vec();
            let qkv: Vec<Vec<f64>> = x
                .iter()
                .map(|row| {
                    let h = layernorm(row, &sl(&ln1w, c), &sl(&ln1b, c));
                    linear(&h, &sl(&qkvw, 3 * c * c), Some(&sl(&qkvb, 3 * c)), 3 * c)
                })
                .collect();
            let mut y = vec![vec![0.0; c]; t]; // (T, C) attention output
            for h in 0..nh {
                for tq in 0..t {
                    let q = &qkv[tq][h * hs..(h + 1) * hs];
                    let scores: Vec<f64> = (0..=tq)
                        .map(|tk| {
                            let k = &qkv[tk][c + h * hs..c + (h + 1) * hs];
                            q.iter().zip(k).map(|(a, b)| a * b).sum::<f64>() / (hs as f64).sqrt()
                        })
                        .collect();
                    let mx = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let e: Vec<f64> = scores.iter().map(|s| (s - mx).exp()).collect();
                    let sum: f64 = e.iter().sum();
                    for tk in 0..=tq {
                        let a = e[tk] / sum;
                        att_all[(((l * bsz + b) * nh + h) * t + tq) * t + tk] = a;
                        for d in 0..hs {
                            y[tq][h * hs + d] += a * qkv[tk][2 * c + h * hs + d];
                        }
                    }
                }
            }
            for pos in 0..t {
                let proj = linear(&y[pos], &sl(&attprojw, c * c), Some(&sl(&attprojb, c)), c);
                for i in 0..c {
                    x[pos][i] += proj[i];
                }
                let h = layernorm(&x[pos], &sl(&ln2w, c), &sl(&ln2b, c));
                let fc: Vec<f64> =
                    linear(&h, &sl(&fcw, 4 * c * c), Some(&sl(&fcb, 4 * c)), 4 * c).into_iter().map(gelu).collect();
                let out = linear(&fc, &sl(&fcprojw, c * 4 * c), Some(&sl(&fcprojb, c)), c);
                for i in 0..c {
                    x[pos][i] += out[i];
                }
            }
        }
        for pos in 0..t {
            let h = layernorm(&x[pos], &lnfw, &lnfb);
            let row = linear(&h, &wte, None, v); // tied LM head
            logits[(b * t + pos) * v..(b * t + pos + 1) * v].copy_from_slice(&row);
        }
    }
    (logits, att_all)
}

#[wasm_bindgen_test]
async fn gpt_forward_matches_naive_cpu_forward() {
    let cfg = tiny_config();
    let mut rng = Rng(0x0123_4567_89AB_CDEF);
    let params = tiny_params(&cfg, &mut rng);
    let gpt = GpuGpt::new(context().await, cfg, &params, 2).await.unwrap();

    // Full context at the largest batch, then a shorter one and a single sequence: each (B, T)
    // gets its own packed layout, and the attention maps follow the last forward.
    for (b, t) in [(2, 8), (1, 5), (2, 3)] {
        let tokens: Vec<u32> = (0..b * t).map(|i| ((i * 7 + 3) % cfg.vocab_size) as u32).collect();
        let (want_logits, want_att) = naive_forward(&cfg, &params, &tokens, b, t);
        let logits = gpt.forward(&tokens, b, t).await.unwrap();
        assert_close(&format!("logits B={b} T={t}"), &logits, &want_logits, 1e-4);
        let att = gpt.attention().await.unwrap();
        assert_close(&format!("attention B={b} T={t}"), &att, &want_att, 1e-5);
    }
}

#[wasm_bindgen_test]
async fn gpt_rejects_bad_input_naming_it() {
    let cfg = tiny_config();
    let params = tiny_params(&cfg, &mut Rng(7));
    let ctx = context().await;

    let err = GpuGpt::new(ctx.clone(), cfg, &params[1..], 1).await.err().expect("short params must fail");
    assert!(
        err.to_string().contains(&format!("params has {} floats, expected {}", params.len() - 1, params.len())),
        "{err}"
    );

    let gpt = GpuGpt::new(ctx, cfg, &params, 1).await.unwrap();
    let err = gpt.attention().await.unwrap_err();
    assert!(err.to_string().starts_with("attention: no forward pass"), "{err}");
    let err = gpt.forward(&[1, 2, 11], 1, 3).await.unwrap_err();
    assert_eq!(err.to_string(), "tokens: id 11 at position 2 is not below vocab_size 11");
    let err = gpt.forward(&[0; 9], 1, 9).await.unwrap_err();
    assert!(err.to_string().starts_with("t: sequence length 9 is outside 1..=8"), "{err}");
    let err = gpt.forward(&[0; 4], 2, 2).await.unwrap_err();
    assert!(err.to_string().starts_with("b: batch 2 is outside 1..=1"), "{err}");
}

#[wasm_bindgen_test]
async fn lost_device_is_reported_so_the_caller_can_fall_back() {
    context().await; // fail with the adapter message first, if there is none
                     // Its own device: destroying the shared one would break the other tests.
    let ctx = GpuContext::new().await.unwrap();
    let cfg = tiny_config();
    let gpt = GpuGpt::new(ctx.clone(), cfg, &tiny_params(&cfg, &mut Rng(3)), 1).await.unwrap();
    assert!(gpt.forward(&[1, 2, 3], 1, 3).await.is_ok());
    assert_eq!(ctx.lost(), None);

    ctx.destroy();
    // device.lost resolves in a later task.
    for _ in 0..100 {
        if ctx.lost().is_some() {
            break;
        }
        let tick = js_sys::Promise::new(&mut |resolve, _| {
            let set_timeout = js_sys::Reflect::get(&js_sys::global(), &"setTimeout".into()).unwrap();
            let set_timeout = set_timeout.unchecked_into::<js_sys::Function>();
            set_timeout.call2(&wasm_bindgen::JsValue::UNDEFINED, &resolve, &10.into()).unwrap();
        });
        JsFuture::from(tick).await.unwrap();
    }
    let reason = ctx.lost().expect("device.lost did not resolve after destroy()");
    assert!(reason.contains("destroyed"), "{reason}");
    let err = gpt.forward(&[1, 2, 3], 1, 3).await.unwrap_err();
    assert!(err.is_device_lost(), "{err:?}");
    assert!(err.to_string().starts_with("WebGPU device lost"), "{err}");
}

// ----------------------------------------------------------------------------------------------
// A training step on the GPU against the CPU model's, on the scalar reference kernels.

#[wasm_bindgen_test]
async fn gpt_train_step_matches_the_cpu_step() {
    use glassgpt::kernels::scalar::Scalar;
    use glassgpt::model::{AdamW, Gpt};
    let cfg = tiny_config();
    let params = tiny_params(&cfg, &mut Rng(11));
    let gpu = GpuGpt::new(context().await, cfg, &params, 3).await.unwrap();
    let mut cpu = Gpt::from_parameters(cfg, params.clone()).unwrap();
    cpu.reserve(3, cfg.block_size).unwrap();
    // eps = 1e-3 keeps AdamW's update well conditioned: with eps = 1e-8 a gradient of ~1e-8
    // moves its parameter by ~lr/2 and a last-bit difference in it moves the update visibly, which
    // would compare the two sums' rounding, not the kernels.
    let opt = AdamW { eps: 1e-3, ..AdamW::default() };
    let (b, t, v) = (3, 8, cfg.vocab_size);
    let f64s = |x: &[f32]| x.iter().map(|&x| x as f64).collect::<Vec<f64>>();
    // Three steps (AdamW's moments carry over); the second one clipped, the third at a shorter T.
    for (step, (clip, t)) in [(0.0, t), (0.25, t), (1.0, 5)].into_iter().enumerate() {
        let inputs: Vec<u32> = (0..b * t).map(|i| ((i * 5 + step * 3 + 1) % v) as u32).collect();
        let targets: Vec<u32> = (0..b * t).map(|i| ((i * 3 + step + 2) % v) as u32).collect();
        let lr = 1e-2;
        let loss = cpu.forward(&Scalar, &inputs, &targets, b, t).unwrap();
        cpu.zero_grad();
        cpu.backward(&Scalar).unwrap();
        let want_grads = f64s(cpu.grads());
        let norm = cpu.clip_grad_norm(clip);
        if step == 1 {
            assert!(norm > clip, "the clipped step must clip: norm {norm}");
        }
        cpu.update(&opt, lr);

        let s = gpu.train_step(&inputs, &targets, b, t, lr, &opt, clip).await.unwrap();
        assert!((s.loss - loss).abs() < 1e-5 * loss.max(1.0), "step {step}: loss GPU {} CPU {loss}", s.loss);
        assert!((s.grad_norm - norm).abs() < 1e-4 * norm, "step {step}: grad norm GPU {} CPU {norm}", s.grad_norm);
        let largest = want_grads.iter().fold(0.0f64, |m, g| m.max(g.abs()));
        assert_close(&format!("step {step}: gradients"), &gpu.read_grads().await.unwrap(), &want_grads, 1e-5 * largest.max(1.0));
        assert_close(&format!("step {step}: parameters after AdamW"), &gpu.read_params().await.unwrap(), &f64s(cpu.params()), 1e-5);
    }
    assert_eq!(gpu.train_steps(), 3);

    let err = gpu.train_step(&[1, 2, 3], &[1, 2, 11], 1, 3, 1e-3, &opt, 1.0).await.unwrap_err();
    assert_eq!(err.to_string(), "targets: id 11 at position 2 is not below vocab_size 11");
    let err = gpu.train_step(&[1, 2, 3], &[1, 2], 1, 3, 1e-3, &opt, 1.0).await.unwrap_err();
    assert!(err.to_string().contains("targets has 2 ids, inputs 3"), "{err}");
}
