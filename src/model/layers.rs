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

use std::cell::RefCell;

use crate::kernels::gemm::{gemm, MatRef};
use crate::kernels::{micro, with_thread_buffer, Disjoint, Kernels};
use crate::model::math::{axpy, consts, dot, exp_with, ln_f64, tanh_with, with_avx2, Consts};

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

/// [`layernorm_forward`] in runs of rows, as tasks of `k`.
pub fn layernorm_forward_tasks(k: &dyn Kernels, out: &mut [f32], mean: &mut [f32], rstd: &mut [f32], inp: &[f32], weight: &[f32], bias: &[f32], n: usize, c: usize) {
    let per = (ELEMENTS_PER_TASK / c.max(1)).max(1);
    assert!(out.len() >= n * c && mean.len() >= n && rstd.len() >= n && inp.len() >= n * c, "layernorm_forward: buffers too short");
    let (out, mean, rstd) = (Disjoint::new(out), Disjoint::new(mean), Disjoint::new(rstd));
    k.for_each_task(n.div_ceil(per), &|i| {
        let (r0, r1) = (i * per, n.min((i + 1) * per));
        // SAFETY: rows r0..r1 (and their mean and rstd) belong to task i only.
        let (o, m, s) = unsafe { (out.range(r0 * c, (r1 - r0) * c), mean.range(r0, r1 - r0), rstd.range(r0, r1 - r0)) };
        layernorm_forward(o, m, s, &inp[r0 * c..r1 * c], weight, bias, r1 - r0, c);
    });
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

/// Floats of per-task scratch the attention backward of one (sequence, head) needs: dq, dk, dv
/// and the (T, T) scores' gradient.
pub fn attention_backward_scratch_len(t: usize, hs: usize) -> usize {
    3 * t * hs + t * t
}

/// The columns of a score row to compute for query position `ti`: the visible ones, 0..=ti,
/// rounded up to whole register blocks (the extra columns are masked after; computing them
/// is cheaper than a scalar remainder loop).
#[inline(always)]
pub fn score_columns(ti: usize, t: usize) -> usize {
    (ti + 1).next_multiple_of(8).min(t)
}

/// Causal multi-head self-attention on the packed `qkv` of the previous matmul.
///
/// inp (B, T, 3C): per position, q (C) then k (C) then v (C), each split into NH heads of HS,
/// exactly as nanoGPT splits `c_attn`'s output. out (B, T, C) heads side by side.
/// att (B, NH, T, T): the softmax probabilities, row t zero beyond column t, kept for the
/// backward pass and for the attention heatmaps.
///
/// Each (sequence, head) is one task of [`Kernels::for_each_task`] (so the threaded backend
/// runs heads in parallel): [`attention_head_forward`] into this thread's scratch, then the
/// head's columns of `out` are written from it.
pub fn attention_forward(k: &dyn Kernels, out: &mut [f32], att: &mut [f32], inp: &[f32], b: usize, t: usize, c: usize, nh: usize) {
    let (c3, hs) = (3 * c, c / nh);
    let (inp, out_len) = (&inp[..b * t * c3], out.len());
    assert!(out_len >= b * t * c && att.len() >= b * nh * t * t, "attention_forward: buffers too short");
    let (out, att) = (Disjoint::new(out), Disjoint::new(att));
    k.for_each_task(b * nh, &|task| {
        let (bi, h) = (task / nh, task % nh);
        // SAFETY: the (bi, h) block of att is written by this task only.
        let att_bh = unsafe { att.range((bi * nh + h) * t * t, t * t) };
        with_scratch(t * hs, |y| {
            attention_head_forward(y, att_bh, &inp[bi * t * c3..][..t * c3], h, t, c, nh);
            for ti in 0..t {
                // SAFETY: head h's columns of sequence bi's rows are written by this task only.
                unsafe { out.range((bi * t + ti) * c + h * hs, hs) }.copy_from_slice(&y[ti * hs..][..hs]);
            }
        });
    });
}

/// Query rows per causal panel of the attention's GEMMs, forward and backward: ~32, a whole
/// number of micro-tiles. Each panel runs against the keys it can see, so a smaller panel
/// computes fewer scores past the diagonal but makes more, smaller GEMM calls.
fn causal_panel(uk: &micro::MicroKernel) -> usize {
    uk.mr * (32 / uk.mr).max(1)
}

/// One head of one sequence: y (T, HS) = softmax(mask(q kᵀ / √HS)) v, att (T, T) the
/// probabilities, zero beyond the diagonal. qkv (T, 3C) as in [`attention_forward`], read in
/// place through strides.
///
/// The two products run on the packed GEMM (`kernels::gemm`, one thread: this is one task)
/// over panels of ~32 query rows, each against the keys it can see (0 .. the panel's end; the
/// scores past the diagonal inside a panel are computed, then masked), with each row's
/// softmax in between. The KV-cached path ([`crate::model::generate`]) computes its one row
/// with [`micro::MicroKernel::row`], the GEMM's arithmetic per element, so the two agree bit
/// for bit. Before, these were register-blocked row loops (~10 GFLOPS in Chromium).
pub fn attention_head_forward(y: &mut [f32], att: &mut [f32], qkv: &[f32], h: usize, t: usize, c: usize, nh: usize) {
    let (c3, hs) = (3 * c, c / nh);
    let scale = 1.0 / (hs as f32).sqrt();
    let uk = micro::select();
    let panel = causal_panel(uk);
    let (y, att) = (&mut y[..t * hs], &mut att[..t * t]);
    let keys = MatRef::rows(&qkv[c + h * hs..], c3); // (T, HS)
    let values = MatRef::rows(&qkv[2 * c + h * hs..], c3); // (T, HS)
    att.fill(0.0);
    y.fill(0.0);
    for r0 in (0..t).step_by(panel) {
        let r1 = (r0 + panel).min(t);
        // Queries r0..r1 see keys 0..r1.
        gemm(uk, r1 - r0, r1, hs, MatRef::rows(&qkv[r0 * c3 + h * hs..], c3), keys.t(), &mut att[r0 * t..], t);
        for ti in r0..r1 {
            let (visible, masked) = att[ti * t..][..r1].split_at_mut(ti + 1);
            softmax_row(visible, scale);
            masked.fill(0.0);
        }
        gemm(uk, r1 - r0, hs, r1, MatRef::rows(&att[r0 * t..], t), values, &mut y[r0 * hs..], hs);
    }
}

/// `row = softmax(row * scale)` in place; the one softmax of both attention paths (batched and
/// KV-cached), so they agree bit for bit.
// In wasm not inlined: the batched attention and the KV-cached step share one copy (the
// threaded build's size budget); natively inlined into callers compiled for AVX2.
#[cfg_attr(target_arch = "wasm32", inline(never))]
#[cfg_attr(not(target_arch = "wasm32"), inline(always))]
pub fn softmax_row(row: &mut [f32], scale: f32) {
    row.iter_mut().for_each(|r| *r *= scale);
    let maxval = max(row);
    let k = consts();
    for r in row.iter_mut() {
        *r = exp_with(*r - maxval, &k);
    }
    let inv = 1.0 / sum(row);
    row.iter_mut().for_each(|r| *r *= inv);
}

/// Backward of [`attention_forward`]; accumulates into `dinp`.
/// dinp (B, T, 3C), dout (B, T, C), inp (B, T, 3C), att (B, NH, T, T).
/// One task per (sequence, head), as the forward: [`attention_head_backward`] into scratch,
/// then added into the head's q, k and v columns of `dinp`.
pub fn attention_backward(k: &dyn Kernels, dinp: &mut [f32], dout: &[f32], inp: &[f32], att: &[f32], b: usize, t: usize, c: usize, nh: usize) {
    let (c3, hs) = (3 * c, c / nh);
    assert!(dinp.len() >= b * t * c3, "attention_backward: dinp too short");
    let dinp = Disjoint::new(dinp);
    k.for_each_task(b * nh, &|task| {
        let (bi, h) = (task / nh, task % nh);
        with_scratch(attention_backward_scratch_len(t, hs), |scratch| {
            let (dq, rest) = scratch.split_at_mut(t * hs);
            let (dk, rest) = rest.split_at_mut(t * hs);
            let (dv, rest) = rest.split_at_mut(t * hs);
            let (qkv, att_bh) = (&inp[bi * t * c3..][..t * c3], &att[(bi * nh + h) * t * t..][..t * t]);
            attention_head_backward(dq, dk, dv, rest, &dout[bi * t * c..][..t * c], qkv, att_bh, h, t, c, nh);
            for ti in 0..t {
                let row = (bi * t + ti) * c3 + h * hs;
                // SAFETY: head h's q, k and v columns of sequence bi's rows belong to this task.
                unsafe {
                    axpy(dinp.range(row, hs), 1.0, &dq[ti * hs..][..hs]);
                    axpy(dinp.range(row + c, hs), 1.0, &dk[ti * hs..][..hs]);
                    axpy(dinp.range(row + 2 * c, hs), 1.0, &dv[ti * hs..][..hs]);
                }
            }
        });
    });
}

/// Backward of [`attention_head_forward`]: dq, dk, dv (T, HS each, overwritten) from dout
/// (T, C) (this head's columns are read), qkv (T, 3C) and att (T, T). scratch ≥ T² floats.
///
/// Four products on the packed GEMM (`kernels::gemm`, one thread: this is one task), reading
/// q, k, v and dout in place through strides, and between them the softmax backward
/// `dpre[t2] = att[t2] (datt[t2] - Σ_j att[j] datt[j])` row by row (O(T) per row; llm.c's
/// reference loop is O(T²)): datt = dout · vᵀ, dq = dpre · k, dk = dpreᵀ · q, dv = attᵀ · dout.
/// Causal: each runs over panels of ~32 rows and only the part of the other dimension that
/// the panel can see (≤ 5/8 of the full square at T = 128). Before, these were row loops
/// (register-blocked, like the forward's): ~9 GFLOPS in Chromium, a tenth of a training step.
pub fn attention_head_backward(dq: &mut [f32], dk: &mut [f32], dv: &mut [f32], scratch: &mut [f32], dout: &[f32], qkv: &[f32], att: &[f32], h: usize, t: usize, c: usize, nh: usize) {
    let (c3, hs) = (3 * c, c / nh);
    let scale = 1.0 / (hs as f32).sqrt();
    let uk = micro::select();
    let panel = causal_panel(uk);
    // This head's columns, (T, HS) each, from row r0 on.
    let q = |r0: usize| MatRef::rows(&qkv[r0 * c3 + h * hs..], c3);
    let keys = |r0: usize| MatRef::rows(&qkv[r0 * c3 + c + h * hs..], c3);
    let values = |r0: usize| MatRef::rows(&qkv[r0 * c3 + 2 * c + h * hs..], c3);
    let dy = |r0: usize| MatRef::rows(&dout[r0 * c + h * hs..], c);
    let ds = &mut scratch[..t * t]; // (T, T): datt, then dpre; zero beyond the diagonal
    ds.fill(0.0);
    for r0 in (0..t).step_by(panel) {
        let r1 = (r0 + panel).min(t);
        // Rows r0..r1 see keys 0..r1.
        gemm(uk, r1 - r0, r1, hs, dy(r0), values(0).t(), &mut ds[r0 * t..], t);
    }
    for ti in 0..t {
        let (row, p) = (&mut ds[ti * t..][..t], &att[ti * t..][..=ti]);
        let (datt, beyond) = row.split_at_mut(ti + 1);
        let weighted = dot(p, datt);
        for (dj, &pj) in datt.iter_mut().zip(p) {
            *dj = pj * (*dj - weighted) * scale; // dpre, with the 1/sqrt(HS) of the scores
        }
        beyond.fill(0.0);
    }
    let ds: &[f32] = ds;
    dq.fill(0.0);
    dk.fill(0.0);
    dv.fill(0.0);
    for r0 in (0..t).step_by(panel) {
        let r1 = (r0 + panel).min(t);
        // Queries r0..r1 saw keys 0..r1; keys r0..r1 were seen by queries r0..T.
        gemm(uk, r1 - r0, hs, r1, MatRef::rows(&ds[r0 * t..], t), keys(0), &mut dq[r0 * hs..], hs);
        let (ds_t, att_t) = (MatRef::transposed(&ds[r0 * t + r0..], t), MatRef::transposed(&att[r0 * t + r0..], t));
        gemm(uk, r1 - r0, hs, t - r0, ds_t, q(r0), &mut dk[r0 * hs..], hs);
        gemm(uk, r1 - r0, hs, t - r0, att_t, dy(r0), &mut dv[r0 * hs..], hs);
    }
}

// ----------------------------------------------------------------------------------------------
// running layers as parallel tasks

thread_local! {
    /// This thread's attention scratch, grown on first use and reused (no allocation per head).
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on this thread's attention scratch, at least `len` floats.
fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    with_thread_buffer(&SCRATCH, len, f)
}

/// Elements per task of the elementwise layers: large enough that a task outweighs the
/// pool's overhead (~16k GELUs, a few µs), small enough to balance two to eight threads.
const ELEMENTS_PER_TASK: usize = 1 << 14;

/// Runs `f(out_part, inp_part)` on matching runs of `unit`-float rows of `out` and `inp`, as
/// tasks of `k`, about [`ELEMENTS_PER_TASK`] floats of `out` each.
fn for_each_run(k: &dyn Kernels, out: &mut [f32], out_unit: usize, inp: &[f32], inp_unit: usize, f: &(dyn Fn(&mut [f32], &[f32]) + Sync)) {
    let rows = out.len() / out_unit.max(1);
    let per = (ELEMENTS_PER_TASK / out_unit.max(1)).max(1);
    let out = Disjoint::new(out);
    k.for_each_task(rows.div_ceil(per), &|i| {
        let (r0, r1) = (i * per, rows.min((i + 1) * per));
        // SAFETY: rows r0..r1 of out belong to task i only.
        let o = unsafe { out.range(r0 * out_unit, (r1 - r0) * out_unit) };
        f(o, &inp[r0 * inp_unit..r1 * inp_unit]);
    });
}

// ----------------------------------------------------------------------------------------------
// gelu (tanh approximation, as GPT-2)

/// GELU's constants as data, for the reason given at [`Consts`].
#[derive(Clone, Copy)]
struct Gelu {
    /// sqrt(2 / pi)
    scale: f32,
    /// The cubic term's 0.044715.
    cubic: f32,
    half: f32,
    three: f32,
    exp: Consts,
}

#[inline(always)]
fn gelu_consts() -> Gelu {
    std::hint::black_box(Gelu { scale: 0.797_884_6, cubic: 0.044715, half: 0.5, three: 3.0, exp: consts() })
}

with_avx2! {
/// `out = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x³)))`, elementwise over equal-length slices.
pub fn gelu_forward(out: &mut [f32], inp: &[f32]) {
    let g = gelu_consts();
    for (o, &x) in out.iter_mut().zip(inp) {
        let cube = g.cubic * x * x * x;
        *o = g.half * x * (g.exp.one + tanh_with(g.scale * (x + cube), &g.exp));
    }
}
}

with_avx2! {
/// Backward of [`gelu_forward`], in place: `d` holds dout on entry and dinp on return
/// (the input gradient of an elementwise op is not accumulated: nothing else feeds `inp`).
pub fn gelu_backward_inplace(d: &mut [f32], inp: &[f32]) {
    let g = gelu_consts();
    for (grad, &x) in d.iter_mut().zip(inp) {
        let cube = g.cubic * x * x * x;
        let th = tanh_with(g.scale * (x + cube), &g.exp);
        let sech2 = g.exp.one - th * th;
        let local = g.half * (g.exp.one + th) + g.half * x * sech2 * g.scale * (g.exp.one + g.three * g.cubic * x * x);
        *grad *= local;
    }
}
}

/// [`gelu_forward`] over the whole activation as tasks of `k`.
pub fn gelu_forward_tasks(k: &dyn Kernels, out: &mut [f32], inp: &[f32]) {
    for_each_run(k, out, 1, inp, 1, &|o, x| gelu_forward(o, x));
}

/// [`gelu_backward_inplace`] over the whole activation as tasks of `k`.
pub fn gelu_backward_tasks(k: &dyn Kernels, d: &mut [f32], inp: &[f32]) {
    for_each_run(k, d, 1, inp, 1, &|g, x| gelu_backward_inplace(g, x));
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
    let k = consts();
    for i in 0..n {
        let (l, p) = (&logits[i * v..][..v], &mut probs[i * v..][..v]);
        let maxval = l.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x));
        for (pj, &lj) in p.iter_mut().zip(l) {
            *pj = exp_with(lj - maxval, &k);
        }
        let inv = 1.0 / sum(p);
        p.iter_mut().for_each(|x| *x *= inv);
    }
}

/// [`softmax_forward`] in runs of rows, as tasks of `k`.
pub fn softmax_forward_tasks(k: &dyn Kernels, probs: &mut [f32], logits: &[f32], n: usize, v: usize) {
    for_each_run(k, &mut probs[..n * v], v, &logits[..n * v], v, &|p, l| softmax_forward(p, l, p.len() / v, v));
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
