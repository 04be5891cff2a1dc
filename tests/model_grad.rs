#![allow(clippy::needless_range_loop)] // naive loops on purpose
//! The model against independent computations: every parameter gradient against central finite
//! differences, and the logits against a deliberately naive f64 implementation written here.

use glassgpt::config::{GptConfig, PosEncoding};
use glassgpt::kernels::scalar::Scalar;
use glassgpt::model::Gpt;

/// A tiny model with parameters large enough that every gradient is well above f32 noise.
fn tiny(pos: PosEncoding, seed: u64) -> Gpt {
    let config = GptConfig { block_size: 5, vocab_size: 7, n_layer: 2, n_head: 2, n_embd: 8, pos_encoding: pos };
    let mut gpt = Gpt::new(config, seed).unwrap();
    let layout = gpt.layout().clone();
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0 // uniform in [-1, 1)
    };
    let p = gpt.params_mut();
    for spec in &layout.specs {
        if pos == PosEncoding::Sinusoidal && spec.name == "wpe" {
            continue;
        }
        let is_ln_weight = matches!(spec.name, "ln1w" | "ln2w" | "lnfw");
        for x in &mut p[spec.offset..spec.offset + spec.size] {
            *x = if is_ln_weight { 1.0 + 0.3 * next() } else { 0.5 * next() };
        }
    }
    gpt
}

const INPUTS: [u32; 10] = [0, 3, 6, 2, 2, 5, 1, 4, 6, 0]; // (B = 2, T = 5)
const TARGETS: [u32; 10] = [3, 6, 2, 2, 5, 1, 4, 6, 0, 3];

fn check_gradients(pos: PosEncoding) {
    let mut gpt = tiny(pos, 11);
    gpt.reserve(2, 5).unwrap();
    gpt.forward(&Scalar, &INPUTS, &TARGETS, 2, 5).unwrap();
    gpt.zero_grad();
    gpt.backward(&Scalar).unwrap();
    let analytic = gpt.grads().to_vec();
    let layout = gpt.layout().clone();
    let h = 1e-2f32;
    let mut worst = (0.0f64, "");
    for spec in &layout.specs {
        let (mut diff2, mut num2, mut ana2) = (0.0f64, 0.0f64, 0.0f64);
        for i in spec.offset..spec.offset + spec.size {
            let orig = gpt.params()[i];
            gpt.params_mut()[i] = orig + h;
            let up = gpt.forward(&Scalar, &INPUTS, &TARGETS, 2, 5).unwrap() as f64;
            gpt.params_mut()[i] = orig - h;
            let down = gpt.forward(&Scalar, &INPUTS, &TARGETS, 2, 5).unwrap() as f64;
            gpt.params_mut()[i] = orig;
            let num = (up - down) / (2.0 * h as f64);
            let ana = analytic[i] as f64;
            if pos == PosEncoding::Sinusoidal && spec.name == "wpe" {
                assert_eq!(ana, 0.0, "the fixed sinusoidal table must get no gradient");
                continue;
            }
            diff2 += (num - ana).powi(2);
            num2 += num * num;
            ana2 += ana * ana;
        }
        if pos == PosEncoding::Sinusoidal && spec.name == "wpe" {
            continue;
        }
        let rel = diff2.sqrt() / num2.sqrt().max(ana2.sqrt()).max(1e-12);
        println!("{:>9} |grad| {:.3e}  relative error {rel:.2e}", spec.name, ana2.sqrt());
        assert!(ana2.sqrt() > 1e-3, "{}: gradient too small to check", spec.name);
        if rel > worst.0 {
            worst = (rel, spec.name);
        }
    }
    println!("worst relative error {:.2e} ({})", worst.0, worst.1);
    assert!(worst.0 < 2e-3, "gradient of {} is off: relative error {:.2e}", worst.1, worst.0);
}

/// Every one of the 16 parameter tensors: the norm of (analytic - numeric) relative to the
/// gradient's norm, with central differences (h = 1e-2) on the f32 model.
#[test]
fn gradients_match_finite_differences() {
    check_gradients(PosEncoding::Learned);
}

#[test]
fn gradients_match_finite_differences_sinusoidal() {
    check_gradients(PosEncoding::Sinusoidal);
}

// ---------------------------------------------------------------------------------------------
// A naive f64 GPT, written from nanoGPT's model.py with plain loops. It shares nothing with the
// model but the weights, read by name from the documented layout.

fn naive_logits(gpt: &Gpt, tokens: &[u32]) -> Vec<Vec<f64>> {
    let cfg = *gpt.config();
    let (c, nh, v, t_len) = (cfg.n_embd, cfg.n_head, cfg.vocab_size, tokens.len());
    let hs = c / nh;
    let p = gpt.tensors();
    let w = |x: &[f32], i: usize| x[i] as f64;
    let layernorm = |x: &Vec<f64>, weight: &[f32], bias: &[f32], off: usize| -> Vec<f64> {
        let mean = x.iter().sum::<f64>() / c as f64;
        let var = x.iter().map(|a| (a - mean) * (a - mean)).sum::<f64>() / c as f64;
        (0..c).map(|i| (x[i] - mean) / (var + 1e-5).sqrt() * w(weight, off + i) + w(bias, off + i)).collect()
    };
    // linear: y[o] = b[o] + Σ_i W[o][i] x[i], W stored (out, in) at `woff`.
    let linear = |x: &Vec<f64>, weight: &[f32], woff: usize, bias: Option<(&[f32], usize)>, n_in: usize, n_out: usize| -> Vec<f64> {
        (0..n_out)
            .map(|o| {
                let mut s = bias.map_or(0.0, |(b, boff)| w(b, boff + o));
                for i in 0..n_in {
                    s += w(weight, woff + o * n_in + i) * x[i];
                }
                s
            })
            .collect()
    };
    let mut x: Vec<Vec<f64>> = (0..t_len)
        .map(|t| (0..c).map(|i| w(p.wte, tokens[t] as usize * c + i) + w(p.wpe, t * c + i)).collect())
        .collect();
    for l in 0..cfg.n_layer {
        let h1: Vec<Vec<f64>> = x.iter().map(|r| layernorm(r, p.ln1w, p.ln1b, l * c)).collect();
        let qkv: Vec<Vec<f64>> = h1.iter().map(|r| linear(r, p.qkvw, l * 3 * c * c, Some((p.qkvb, l * 3 * c)), c, 3 * c)).collect();
        let mut y = vec![vec![0.0; c]; t_len];
        for h in 0..nh {
            for t in 0..t_len {
                let scores: Vec<f64> = (0..=t)
                    .map(|s| (0..hs).map(|d| qkv[t][h * hs + d] * qkv[s][c + h * hs + d]).sum::<f64>() / (hs as f64).sqrt())
                    .collect();
                let m = scores.iter().cloned().fold(f64::MIN, f64::max);
                let e: Vec<f64> = scores.iter().map(|s| (s - m).exp()).collect();
                let z: f64 = e.iter().sum();
                for d in 0..hs {
                    y[t][h * hs + d] = (0..=t).map(|s| e[s] / z * qkv[s][2 * c + h * hs + d]).sum();
                }
            }
        }
        for t in 0..t_len {
            let a = linear(&y[t], p.attprojw, l * c * c, Some((p.attprojb, l * c)), c, c);
            for i in 0..c {
                x[t][i] += a[i];
            }
            let h2 = layernorm(&x[t], p.ln2w, p.ln2b, l * c);
            let f = linear(&h2, p.fcw, l * 4 * c * c, Some((p.fcb, l * 4 * c)), c, 4 * c);
            let g: Vec<f64> = f
                .iter()
                .map(|&u| 0.5 * u * (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * (u + 0.044715 * u * u * u)).tanh()))
                .collect();
            let m = linear(&g, p.fcprojw, l * 4 * c * c, Some((p.fcprojb, l * c)), 4 * c, c);
            for i in 0..c {
                x[t][i] += m[i];
            }
        }
    }
    x.iter()
        .map(|r| {
            let hf = layernorm(r, p.lnfw, p.lnfb, 0);
            linear(&hf, p.wte, 0, None, c, v)
        })
        .collect()
}

/// The logits of every position agree with the naive f64 implementation to 1e-5.
#[test]
fn forward_matches_naive_implementation() {
    for pos in [PosEncoding::Learned, PosEncoding::Sinusoidal] {
        let mut gpt = tiny(pos, 5);
        let tokens = [1u32, 4, 4, 0, 6];
        let want = naive_logits(&gpt, &tokens);
        let got = gpt.forward_logits(&Scalar, &tokens).unwrap().to_vec();
        let v = gpt.config().vocab_size;
        let mut worst = 0.0f64;
        for t in 0..tokens.len() {
            for j in 0..v {
                let d = (got[t * v + j] as f64 - want[t][j]).abs() / want[t][j].abs().max(1.0);
                worst = worst.max(d);
            }
        }
        println!("{pos:?}: max |logit difference| {worst:.2e} (magnitude {:.2})", want[4][0]);
        assert!(worst < 1e-5, "{pos:?}: logits differ from the naive implementation by {worst:.2e}");
        // The logits the batched training forward computes agree too.
        let loss = gpt.forward(&Scalar, &tokens, &[4, 4, 0, 6, 1], 1, 5).unwrap() as f64;
        let mut want_loss = 0.0;
        for (t, &target) in [4usize, 4, 0, 6, 1].iter().enumerate() {
            let m = want[t].iter().cloned().fold(f64::MIN, f64::max);
            let lse = m + want[t].iter().map(|z| (z - m).exp()).sum::<f64>().ln();
            want_loss += (lse - want[t][target]) / 5.0;
        }
        assert!((loss - want_loss).abs() < 1e-5, "loss {loss} vs naive {want_loss}");
    }
}

/// `n` floats uniform in [-1, 1) from a xorshift seeded with `seed`.
fn uniform(n: usize, mut state: u64) -> Vec<f32> {
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
        })
        .collect()
}

/// The attention forward (causal tiles on the GEMM's micro-kernel) against a naive f64
/// attention at sizes that are not multiples of the tiles (every micro-kernel's MR and NR):
/// the probabilities, exactly zero past the diagonal, and the outputs.
#[test]
fn attention_forward_matches_f64() {
    use glassgpt::kernels::simd::Simd;
    use glassgpt::model::layers::attention_forward;
    for (b, t, c, nh) in [(2, 37, 32, 2), (1, 1, 8, 1), (1, 130, 24, 3), (3, 9, 40, 1)] {
        let hs = c / nh;
        let qkv = uniform(b * t * 3 * c, 7 + t as u64);
        let (mut y, mut att) = (vec![f32::NAN; b * t * c], vec![f32::NAN; b * nh * t * t]);
        attention_forward(&Simd, &mut y, &mut att, &qkv, b, t, c, nh);
        let x = |bi: usize, i: usize, part: usize, h: usize, d: usize| qkv[(bi * t + i) * 3 * c + part * c + h * hs + d] as f64;
        let mut worst = 0.0f64;
        for bi in 0..b {
            for h in 0..nh {
                for i in 0..t {
                    let scores: Vec<f64> = (0..=i).map(|j| (0..hs).map(|d| x(bi, i, 0, h, d) * x(bi, j, 1, h, d)).sum::<f64>() / (hs as f64).sqrt()).collect();
                    let max = scores.iter().cloned().fold(f64::MIN, f64::max);
                    let z: f64 = scores.iter().map(|s| (s - max).exp()).sum();
                    let row = &att[((bi * nh + h) * t + i) * t..][..t];
                    for j in 0..t {
                        if j <= i {
                            worst = worst.max((row[j] as f64 - (scores[j] - max).exp() / z).abs());
                        } else {
                            assert_eq!(row[j], 0.0, "b{bi} h{h}: att[{i}][{j}] past the diagonal");
                        }
                    }
                    for d in 0..hs {
                        let want: f64 = (0..=i).map(|j| (scores[j] - max).exp() / z * x(bi, j, 2, h, d)).sum();
                        worst = worst.max((y[(bi * t + i) * c + h * hs + d] as f64 - want).abs());
                    }
                }
            }
        }
        assert!(worst < 1e-5, "(B, T, C, NH) = ({b}, {t}, {c}, {nh}): worst element off by {worst:.2e}");
    }
}

/// Causal self-attention alone, at a size whose rows and columns are not multiples of the
/// GEMM's tiles or the backward's row panels (T = 37, two heads of 16): the backward's dqkv
/// against central differences of `L = Σ dout · attention(qkv)` computed in f64 by a naive
/// attention written here, for every one of the 37 × 96 inputs.
#[test]
fn attention_backward_matches_f64_differences() {
    use glassgpt::kernels::simd::Simd;
    use glassgpt::model::layers::{attention_backward, attention_forward};
    let (b, t, c, nh) = (1, 37, 32, 2);
    let hs = c / nh;
    let (qkv, dout) = (uniform(t * 3 * c, 0x2545_F491_4F6C_DD1D), uniform(t * c, 0x9E37_79B9_7F4A_7C15));
    let (mut y, mut att) = (vec![0.0; t * c], vec![0.0; nh * t * t]);
    attention_forward(&Simd, &mut y, &mut att, &qkv, b, t, c, nh);
    let mut dqkv = vec![0.0; t * 3 * c];
    attention_backward(&Simd, &mut dqkv, &dout, &qkv, &att, b, t, c, nh);

    // L(qkv) in f64: softmax(q kᵀ / √HS, causal) v, dotted with dout.
    let loss = |x: &[f64]| -> f64 {
        let mut total = 0.0;
        for h in 0..nh {
            for i in 0..t {
                let q = &x[i * 3 * c + h * hs..][..hs];
                let scores: Vec<f64> = (0..=i)
                    .map(|j| (0..hs).map(|d| q[d] * x[j * 3 * c + c + h * hs + d]).sum::<f64>() / (hs as f64).sqrt())
                    .collect();
                let max = scores.iter().cloned().fold(f64::MIN, f64::max);
                let e: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
                let z: f64 = e.iter().sum();
                for d in 0..hs {
                    let yd: f64 = (0..=i).map(|j| e[j] / z * x[j * 3 * c + 2 * c + h * hs + d]).sum();
                    total += yd * dout[i * c + h * hs + d] as f64;
                }
            }
        }
        total
    };
    let mut x: Vec<f64> = qkv.iter().map(|&v| v as f64).collect();
    let (mut diff2, mut num2) = (0.0f64, 0.0f64);
    let mut worst = 0.0f64;
    for i in 0..x.len() {
        let orig = x[i];
        x[i] = orig + 1e-5;
        let up = loss(&x);
        x[i] = orig - 1e-5;
        let down = loss(&x);
        x[i] = orig;
        let num = (up - down) / 2e-5;
        diff2 += (num - dqkv[i] as f64).powi(2);
        num2 += num * num;
        worst = worst.max((num - dqkv[i] as f64).abs());
    }
    let rel = diff2.sqrt() / num2.sqrt();
    assert!(num2.sqrt() > 1.0, "gradient too small to check: {}", num2.sqrt());
    assert!(rel < 1e-5 && worst < 1e-4, "dqkv: relative error {rel:.2e}, worst element off by {worst:.2e}");
}
