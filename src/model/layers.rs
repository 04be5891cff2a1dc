//! The layers, as free functions in forward/backward pairs over slices (llm.c's style).
//!
//! ```text
//! B  batch size          T  sequence length (≤ block_size)
//! C  channels (n_embd)   NH heads, HS = C / NH head size
//! V  vocabulary size     N  rows (B * T) for the per-position layers
//! ```
//!
//! Every backward *accumulates* (`+=`) into parameter gradients and into the gradient of its
//! input, as llm.c does, so that a tensor used twice (the residual stream, the tied `wte`)
//! gathers both contributions; callers zero the buffers they own. The matmuls are not here:
//! they go through [`crate::kernels::Kernels`].
//!
//! Buffers are sized by the caller; a mismatch is a bug in the model, caught by the slicing.

// Layers take their buffers and dimensions explicitly, as llm.c's do.
#![allow(clippy::too_many_arguments)]

use crate::model::math::{axpy, dot, exp, ln_f64, row_times_matrix, tanh, weighted_sum_rows, with_avx2};

/// LayerNorm's epsilon, as PyTorch's default.
pub const LN_EPS: f32 = 1e-5;

// ----------------------------------------------------------------------------------------------
// encoder: token embedding + position embedding

/// `out[b, t] = wte[inp[b, t]] + wpe[t]`.
/// out (B, T, C), inp (B, T), wte (V, C), wpe (maxT, C). Token ids must be < V (the model checks).
pub fn encoder_forward(out: &mut [f32], inp: &[u32], wte: &[f32], wpe: &[f32], b: usize, t: usize, c: usize) {
    for bi in 0..b {
        for ti in 0..t {
            let ix = inp[bi * t + ti] as usize;
            let o = &mut out[(bi * t + ti) * c..][..c];
            let (e, p) = (&wte[ix * c..][..c], &wpe[ti * c..][..c]);
            for i in 0..c {
                o[i] = e[i] + p[i];
            }
        }
    }
}

/// Backward of [`encoder_forward`]: `dwte[inp[b, t]] += dout[b, t]`, `dwpe[t] += dout[b, t]`.
/// `dwpe` is `None` for the fixed sinusoidal table, which is never trained.
pub fn encoder_backward(dwte: &mut [f32], dwpe: Option<&mut [f32]>, dout: &[f32], inp: &[u32], b: usize, t: usize, c: usize) {
    for bi in 0..b {
        for ti in 0..t {
            let ix = inp[bi * t + ti] as usize;
            let d = &dout[(bi * t + ti) * c..][..c];
            axpy(&mut dwte[ix * c..][..c], 1.0, d);
        }
    }
    if let Some(dwpe) = dwpe {
        for bi in 0..b {
            for ti in 0..t {
                axpy(&mut dwpe[ti * c..][..c], 1.0, &dout[(bi * t + ti) * c..][..c]);
            }
        }
    }
}

// ----------------------------------------------------------------------------------------------
// layernorm

/// `out = (inp - mean) / sqrt(var + eps) * weight + bias` over each row of C, keeping each row's
/// mean and 1/std for the backward pass.
/// out (N, C), mean (N), rstd (N), inp (N, C), weight (C), bias (C).
pub fn layernorm_forward(out: &mut [f32], mean: &mut [f32], rstd: &mut [f32], inp: &[f32], weight: &[f32], bias: &[f32], n: usize, c: usize) {
    for i in 0..n {
        let x = &inp[i * c..][..c];
        let o = &mut out[i * c..][..c];
        let m = sum(x) / c as f32;
        for j in 0..c {
            o[j] = x[j] - m;
        }
        let var = dot(o, o) / c as f32;
        let s = 1.0 / (var + LN_EPS).sqrt();
        for j in 0..c {
            o[j] = o[j] * s * weight[j] + bias[j];
        }
        mean[i] = m;
        rstd[i] = s;
    }
}

/// Backward of [`layernorm_forward`]; accumulates into `dinp`, `dweight`, `dbias`.
/// dinp (N, C), dweight (C), dbias (C), dout (N, C), inp (N, C), weight (C), mean (N), rstd (N).
pub fn layernorm_backward(
    dinp: &mut [f32],
    dweight: &mut [f32],
    dbias: &mut [f32],
    dout: &[f32],
    inp: &[f32],
    weight: &[f32],
    mean: &[f32],
    rstd: &[f32],
    n: usize,
    c: usize,
) {
    for i in 0..n {
        let (x, d) = (&inp[i * c..][..c], &dout[i * c..][..c]);
        let (m, s) = (mean[i], rstd[i]);
        // Two reductions: the mean of dnorm and of dnorm * norm.
        let (mut dnorm_mean, mut dnorm_norm_mean) = (0.0f32, 0.0f32);
        for j in 0..c {
            let norm = (x[j] - m) * s;
            let dnorm = weight[j] * d[j];
            dnorm_mean += dnorm;
            dnorm_norm_mean += dnorm * norm;
        }
        dnorm_mean /= c as f32;
        dnorm_norm_mean /= c as f32;
        let di = &mut dinp[i * c..][..c];
        for j in 0..c {
            let norm = (x[j] - m) * s;
            let dnorm = weight[j] * d[j];
            dbias[j] += d[j];
            dweight[j] += norm * d[j];
            di[j] += (dnorm - dnorm_mean - norm * dnorm_norm_mean) * s;
        }
    }
}

// ----------------------------------------------------------------------------------------------
// attention

/// Floats of scratch [`attention_forward`] and [`attention_backward`] need: per (batch, head)
/// copies of queries, keys, values and probabilities in the layouts their loops read
/// contiguously.
pub fn attention_scratch_len(t: usize, hs: usize) -> usize {
    4 * t * hs + 2 * t * t + t + 2 * hs
}

/// The columns of a score row to compute for query position `ti`: the visible ones, 0..=ti,
/// rounded up to whole register blocks (the extra columns are masked after; computing them
/// is cheaper than a scalar remainder loop).
#[inline(always)]
pub fn score_columns(ti: usize, t: usize) -> usize {
    (ti + 1).next_multiple_of(8).min(t)
}

with_avx2! {
/// Causal multi-head self-attention on the packed `qkv` of the previous matmul.
///
/// inp (B, T, 3C): per position, q (C) then k (C) then v (C), each split into NH heads of HS,
/// exactly as nanoGPT splits `c_attn`'s output. out (B, T, C) heads side by side.
/// att (B, NH, T, T): the softmax probabilities, row t zero beyond column t, kept for the
/// backward pass and for the attention heatmaps. scratch: [`attention_scratch_len`] floats.
///
/// Per (batch, head) the keys are copied transposed, (HS, T), and the values contiguous,
/// (T, HS), so that a row of scores and a weighted sum of values are register-blocked loops
/// with no horizontal sums.
pub fn attention_forward(out: &mut [f32], att: &mut [f32], scratch: &mut [f32], inp: &[f32], b: usize, t: usize, c: usize, nh: usize) {
    let (c3, hs) = (3 * c, c / nh);
    let scale = 1.0 / (hs as f32).sqrt();
    let (kt, rest) = scratch.split_at_mut(hs * t); // (HS, T)
    let v = &mut rest[..t * hs]; // (T, HS)
    for bi in 0..b {
        let qkv = &inp[bi * t * c3..][..t * c3]; // (T, 3C)
        for h in 0..nh {
            for t2 in 0..t {
                let k = &qkv[t2 * c3 + c + h * hs..][..hs];
                for d in 0..hs {
                    kt[d * t + t2] = k[d];
                }
                v[t2 * hs..][..hs].copy_from_slice(&qkv[t2 * c3 + 2 * c + h * hs..][..hs]);
            }
            for ti in 0..t {
                let q = &qkv[ti * c3 + h * hs..][..hs];
                let row = &mut att[((bi * nh + h) * t + ti) * t..][..t]; // (T)
                row_times_matrix(&mut row[..score_columns(ti, t)], q, kt, t);
                let (visible, masked) = row.split_at_mut(ti + 1);
                softmax_row(visible, scale);
                masked.fill(0.0);
                // out = Σ att[t2] v[t2]
                weighted_sum_rows(&mut out[(bi * t + ti) * c + h * hs..][..hs], visible, v);
            }
        }
    }
}
}

/// `row = softmax(row * scale)` in place; the one softmax of both attention paths (batched and
/// KV-cached), so they agree bit for bit.
#[inline(always)]
pub fn softmax_row(row: &mut [f32], scale: f32) {
    row.iter_mut().for_each(|r| *r *= scale);
    let maxval = max(row);
    for r in row.iter_mut() {
        *r = exp(*r - maxval);
    }
    let inv = 1.0 / sum(row);
    row.iter_mut().for_each(|r| *r *= inv);
}

with_avx2! {
/// Backward of [`attention_forward`]; accumulates into `dinp`.
/// dinp (B, T, 3C), scratch ([`attention_scratch_len`]), dout (B, T, C), inp (B, T, 3C),
/// att (B, NH, T, T).
///
/// Two passes per (batch, head). Over query rows: datt = dout · vᵀ, the softmax backward
/// `dpre[t2] = att[t2] (datt[t2] - Σ_j att[j] datt[j])` (O(T) per row; llm.c's reference loop
/// is O(T²)), and dq = dpre · k. Over key columns, with att and dpre transposed:
/// dk = dpreᵀ · q and dv = attᵀ · dout. Every O(T² HS) product is a register-blocked loop.
pub fn attention_backward(dinp: &mut [f32], scratch: &mut [f32], dout: &[f32], inp: &[f32], att: &[f32], b: usize, t: usize, c: usize, nh: usize) {
    let (c3, hs) = (3 * c, c / nh);
    let scale = 1.0 / (hs as f32).sqrt();
    let (vt, rest) = scratch.split_at_mut(hs * t); // (HS, T) values, transposed
    let (k, rest) = rest.split_at_mut(t * hs); // (T, HS) keys
    let (q, rest) = rest.split_at_mut(t * hs); // (T, HS) queries
    let (dq_rows, rest) = rest.split_at_mut(t * hs); // (T, HS) dout of this head
    let (att_t, rest) = rest.split_at_mut(t * t); // (T, T) att transposed: [t2][ti]
    let (dpre_t, rest) = rest.split_at_mut(t * t); // (T, T) dpre transposed: [t2][ti]
    let (datt, rest) = rest.split_at_mut(t); // (T) one row of datt, then dpre
    let (acc, _) = rest.split_at_mut(hs); // (HS) one row of dq, dk or dv
    for bi in 0..b {
        let qkv = &inp[bi * t * c3..][..t * c3]; // (T, 3C)
        let dqkv = &mut dinp[bi * t * c3..][..t * c3]; // (T, 3C)
        for h in 0..nh {
            for t2 in 0..t {
                let vr = &qkv[t2 * c3 + 2 * c + h * hs..][..hs];
                for d in 0..hs {
                    vt[d * t + t2] = vr[d];
                }
                k[t2 * hs..][..hs].copy_from_slice(&qkv[t2 * c3 + c + h * hs..][..hs]);
                q[t2 * hs..][..hs].copy_from_slice(&qkv[t2 * c3 + h * hs..][..hs]);
                dq_rows[t2 * hs..][..hs].copy_from_slice(&dout[(bi * t + t2) * c + h * hs..][..hs]);
            }
            for ti in 0..t {
                let p = &att[((bi * nh + h) * t + ti) * t..][..=ti];
                let d = &dq_rows[ti * hs..][..hs];
                row_times_matrix(&mut datt[..score_columns(ti, t)], d, vt, t);
                let datt = &mut datt[..=ti];
                let weighted = dot(p, datt);
                for (t2, (dj, &pj)) in datt.iter_mut().zip(p).enumerate() {
                    *dj = pj * (*dj - weighted) * scale; // dpre, with the 1/sqrt(HS) of the scores
                    att_t[t2 * t + ti] = pj;
                    dpre_t[t2 * t + ti] = *dj;
                }
                weighted_sum_rows(acc, datt, k);
                axpy(&mut dqkv[ti * c3 + h * hs..][..hs], 1.0, acc);
            }
            for t2 in 0..t {
                // Key t2 is seen by queries t2..T.
                weighted_sum_rows(acc, &dpre_t[t2 * t + t2..(t2 + 1) * t], &q[t2 * hs..]);
                axpy(&mut dqkv[t2 * c3 + c + h * hs..][..hs], 1.0, acc);
                weighted_sum_rows(acc, &att_t[t2 * t + t2..(t2 + 1) * t], &dq_rows[t2 * hs..]);
                axpy(&mut dqkv[t2 * c3 + 2 * c + h * hs..][..hs], 1.0, acc);
            }
        }
    }
}
}

// ----------------------------------------------------------------------------------------------
// gelu (tanh approximation, as GPT-2)

const GELU_SCALE: f32 = 0.797_884_6; // sqrt(2 / pi)

with_avx2! {
/// `out = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x³)))`, elementwise over equal-length slices.
pub fn gelu_forward(out: &mut [f32], inp: &[f32]) {
    for (o, &x) in out.iter_mut().zip(inp) {
        let cube = 0.044715 * x * x * x;
        *o = 0.5 * x * (1.0 + tanh(GELU_SCALE * (x + cube)));
    }
}
}

with_avx2! {
/// Backward of [`gelu_forward`], in place: `d` holds dout on entry and dinp on return
/// (the input gradient of an elementwise op is not accumulated: nothing else feeds `inp`).
pub fn gelu_backward_inplace(d: &mut [f32], inp: &[f32]) {
    for (g, &x) in d.iter_mut().zip(inp) {
        let cube = 0.044715 * x * x * x;
        let th = tanh(GELU_SCALE * (x + cube));
        let sech2 = 1.0 - th * th;
        let local = 0.5 * (1.0 + th) + 0.5 * x * sech2 * GELU_SCALE * (1.0 + 3.0 * 0.044715 * x * x);
        *g *= local;
    }
}
}

// ----------------------------------------------------------------------------------------------
// residual

/// `out = a + b`, elementwise. Its backward is the identity into both inputs, which the model
/// does by letting one gradient buffer flow through.
pub fn residual_forward(out: &mut [f32], a: &[f32], b: &[f32]) {
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        *o = x + y;
    }
}

// ----------------------------------------------------------------------------------------------
// softmax and cross-entropy

/// Row-wise softmax. probs (N, V), logits (N, V).
pub fn softmax_forward(probs: &mut [f32], logits: &[f32], n: usize, v: usize) {
    for i in 0..n {
        let (l, p) = (&logits[i * v..][..v], &mut probs[i * v..][..v]);
        let maxval = l.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x));
        for (pj, &lj) in p.iter_mut().zip(l) {
            *pj = exp(lj - maxval);
        }
        let inv = 1.0 / sum(p);
        p.iter_mut().for_each(|x| *x *= inv);
    }
}

/// `losses[i] = -ln probs[i, targets[i]]` in nats; returns their mean (accumulated in f64).
/// losses (N), probs (N, V), targets (N).
pub fn crossentropy_forward(losses: &mut [f32], probs: &[f32], targets: &[u32], n: usize, v: usize) -> f32 {
    let mut total = 0.0f64;
    for i in 0..n {
        let l = -ln_f64(probs[i * v + targets[i] as usize] as f64);
        losses[i] = l as f32;
        total += l;
    }
    (total / n as f64) as f32
}

/// Backward of softmax + mean cross-entropy, fused: `dlogits = (probs - onehot(target)) / N`.
/// Overwrites dlogits (N, V). probs (N, V), targets (N).
pub fn crossentropy_softmax_backward(dlogits: &mut [f32], probs: &[f32], targets: &[u32], n: usize, v: usize) {
    let scale = 1.0 / n as f32;
    for i in 0..n {
        let (d, p) = (&mut dlogits[i * v..][..v], &probs[i * v..][..v]);
        for (dj, &pj) in d.iter_mut().zip(p) {
            *dj = pj * scale;
        }
        d[targets[i] as usize] -= scale;
    }
}

/// `max x` (−∞ for an empty slice) in eight lanes, so it vectorises.
#[inline(always)]
pub fn max(x: &[f32]) -> f32 {
    let chunks = x.chunks_exact(8);
    let rem = chunks.remainder();
    let mut acc = [f32::NEG_INFINITY; 8];
    for ch in chunks {
        for i in 0..8 {
            acc[i] = if ch[i] > acc[i] { ch[i] } else { acc[i] };
        }
    }
    // NaNs are skipped here; a NaN score still poisons the softmax through its exp.
    acc.iter().chain(rem).fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m })
}

/// `Σ x` in eight interleaved partial sums (vectorises; fixed order on every platform).
#[inline(always)]
pub fn sum(x: &[f32]) -> f32 {
    let chunks = x.chunks_exact(8);
    let rem = chunks.remainder();
    let mut acc = [0.0f32; 8];
    for ch in chunks {
        for i in 0..8 {
            acc[i] += ch[i];
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for v in rem {
        s += v;
    }
    s
}
