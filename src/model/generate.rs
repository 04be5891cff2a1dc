//! Generation: a KV cache so each new character costs O(T), and the sampler.
//!
//! A [`Session`] holds, per layer, the keys and values of every position it has seen. Feeding
//! one more token runs the model on that token alone (M = 1 matvecs through the kernels) and
//! attends over the cache. A prompt fed into an empty session runs as one batched forward pass.
//! When the text outgrows `block_size`, the window slides as in nanoGPT's `generate` (the model
//! sees the last block_size tokens); positions then shift, so the cache is recomputed for the
//! new window with one batched forward per token. [`Session::set_overflow_keep`] trades that
//! exactness for speed: keep fewer tokens on overflow and recompute only every few tokens.
//!
//! Sampling (temperature, top-k, top-p) uses only the deterministic [`exp`] and the seeded
//! [`Rng`], so a seed and a prompt give the same text natively and in wasm, as long as the
//! kernels give the same logits.

use crate::config::GptConfig;
use crate::error::{Error, Result};
use crate::kernels::{each_small_task, micro, on_pool, Disjoint, Kernels};
use crate::model::gpt::{forward_pass, Activations, Gpt};
use crate::model::layers::{gelu_forward, layernorm_forward, score_columns, softmax_forward, softmax_row};
use crate::model::math::exp;
use crate::rng::Rng;

/// How the next token is drawn from the logits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sampler {
    /// Divides the logits; 0 means greedy (always the most likely token).
    pub temperature: f32, // 1.0
    /// Keep only the k most likely tokens; 0 keeps all.
    pub top_k: usize, // 0
    /// Keep the smallest set of most likely tokens whose probability reaches top_p; 1 keeps all.
    pub top_p: f32, // 1.0
}

impl Default for Sampler {
    fn default() -> Self {
        Sampler { temperature: 1.0, top_k: 0, top_p: 1.0 }
    }
}

impl Sampler {
    /// Checks the fields, naming the wrong one.
    pub fn validate(&self) -> Result<()> {
        if !self.temperature.is_finite() || self.temperature < 0.0 {
            return Err(Error::invalid("temperature", format!("{} must be a finite number ≥ 0", self.temperature)));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return Err(Error::invalid("top_p", format!("{} must be in (0, 1]", self.top_p)));
        }
        Ok(())
    }

    /// Draws a token id from `logits` (V). `scratch` is reused between calls to avoid
    /// allocating. Ties in probability are broken by the lower id, so the order is total.
    pub fn sample(&self, logits: &[f32], rng: &mut Rng, scratch: &mut Vec<(f32, u32)>) -> u32 {
        if self.temperature == 0.0 {
            return argmax(logits) as u32;
        }
        let inv_t = 1.0 / self.temperature;
        let maxval = logits.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x));
        scratch.clear();
        scratch.extend(logits.iter().enumerate().map(|(i, &l)| (exp((l - maxval) * inv_t), i as u32)));
        if self.top_k > 0 || self.top_p < 1.0 {
            crate::sort::sort_by(scratch, |a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            if self.top_k > 0 {
                scratch.truncate(self.top_k.max(1));
            }
            if self.top_p < 1.0 {
                let total: f32 = scratch.iter().map(|p| p.0).sum();
                let (mut cum, mut keep) = (0.0f32, scratch.len());
                for (i, p) in scratch.iter().enumerate() {
                    cum += p.0;
                    if cum >= self.top_p * total {
                        keep = i + 1;
                        break;
                    }
                }
                scratch.truncate(keep);
            }
        }
        let total: f32 = scratch.iter().map(|p| p.0).sum();
        let u = rng.uniform_f32() * total;
        let mut cum = 0.0f32;
        for &(p, id) in scratch.iter() {
            cum += p;
            if u < cum {
                return id;
            }
        }
        scratch.last().map_or(0, |p| p.1) // u landed on the rounding of the last sum
    }
}

fn argmax(x: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in x.iter().enumerate() {
        if v > x[best] {
            best = i;
        }
    }
    best
}

/// A generation in progress: the tokens in the model's window and their keys and values.
/// It borrows nothing: pass the same [`Gpt`] to every call (a different model needs
/// [`Session::reset`]).
#[derive(Debug, Clone)]
pub struct Session {
    config: GptConfig,
    tokens: Vec<u32>,     // (≤ maxT) the window the cache describes
    k_cache: Vec<f32>,    // (L, NH, HS, maxT) keys, transposed per head as the batched attention reads them
    v_cache: Vec<f32>,    // (L, NH, maxT, HS) values
    x: Vec<f32>,          // (C) residual stream of the newest position
    ln: Vec<f32>,         // (C)
    qkv: Vec<f32>,        // (3C)
    atty: Vec<f32>,       // (C)
    proj: Vec<f32>,       // (C)
    fch: Vec<f32>,        // (4C)
    fch_gelu: Vec<f32>,   // (4C)
    att: Vec<f32>,        // (L, NH, maxT) attention of the newest position
    logits: Vec<f32>,     // (V) for the token after the window
    probs: Vec<f32>,      // (V) softmax of the logits at temperature 1
    window: Activations,  // (1, maxT) for batched prefill and window recomputation
    scratch: Vec<(f32, u32)>,
    overflow_keep: usize, // tokens kept when the window overflows; block_size = nanoGPT's crop
}

impl Session {
    /// An empty session for models of `config`'s shape.
    pub fn new(config: &GptConfig) -> Result<Session> {
        config.validate()?;
        let (l, t, c, nh, v) = (config.n_layer, config.block_size, config.n_embd, config.n_head, config.vocab_size);
        // First: it checks the size, and the caches are smaller than it.
        let window = Activations::new(config, 1, t)?;
        Ok(Session {
            config: *config,
            tokens: Vec::with_capacity(t),
            k_cache: vec![0.0; l * t * c],
            v_cache: vec![0.0; l * t * c],
            x: vec![0.0; c],
            ln: vec![0.0; c],
            qkv: vec![0.0; 3 * c],
            atty: vec![0.0; c],
            proj: vec![0.0; c],
            fch: vec![0.0; 4 * c],
            fch_gelu: vec![0.0; 4 * c],
            att: vec![0.0; l * nh * t],
            logits: vec![0.0; v],
            probs: vec![0.0; v],
            window,
            scratch: Vec::with_capacity(v),
            overflow_keep: t,
        })
    }

    /// How many of the latest tokens stay in the window when it overflows block_size.
    /// `block_size` (the default) is nanoGPT's crop: every prediction sees the last block_size
    /// tokens, at the price of one batched forward over the whole window per new token.
    /// `block_size / 2` recomputes once every block_size / 2 tokens and otherwise runs at the
    /// cached O(T) cost, each prediction seeing at least block_size / 2 tokens.
    pub fn set_overflow_keep(&mut self, keep: usize) -> Result<()> {
        if keep == 0 || keep > self.config.block_size {
            return Err(Error::invalid("overflow_keep", format!("{keep} must be between 1 and block_size = {}", self.config.block_size)));
        }
        self.overflow_keep = keep;
        Ok(())
    }

    /// Forgets every token.
    pub fn reset(&mut self) {
        self.tokens.clear();
    }

    /// The tokens the model currently sees (the last ≤ block_size fed).
    pub fn tokens(&self) -> &[u32] {
        &self.tokens
    }

    /// Logits (V) for the next token; meaningful once a token has been fed.
    pub fn logits(&self) -> &[f32] {
        &self.logits
    }

    /// Next-token probabilities (V) at temperature 1.
    pub fn probs(&self) -> &[f32] {
        &self.probs
    }

    /// Attention of the newest position over the window, (L, NH, maxT); entries beyond the
    /// window are 0.
    pub fn attention_last(&self) -> &[f32] {
        &self.att
    }

    /// Appends `tokens` and returns the logits (V) for the token after them.
    pub fn feed(&mut self, gpt: &Gpt, k: &dyn Kernels, tokens: &[u32]) -> Result<&[f32]> {
        if gpt.config() != &self.config {
            return Err(Error::invalid("model", "the session was made for a model of another shape"));
        }
        if tokens.is_empty() {
            return Err(Error::invalid("tokens", "feed at least one token"));
        }
        let v = self.config.vocab_size;
        if let Some(&bad) = tokens.iter().find(|&&id| id as usize >= v) {
            return Err(Error::invalid("tokens", format!("token {bad} is outside the vocabulary of {v}")));
        }
        let max_t = self.config.block_size;
        if self.tokens.len() + tokens.len() > max_t {
            // Slide: keep the last overflow_keep tokens and recompute their cache.
            let mut all = std::mem::take(&mut self.tokens);
            all.extend_from_slice(tokens);
            let start = all.len() - self.overflow_keep;
            all.drain(..start);
            self.tokens = all;
            self.recompute(gpt, k)?;
        } else if self.tokens.is_empty() && tokens.len() > 1 {
            self.tokens.extend_from_slice(tokens);
            self.recompute(gpt, k)?;
        } else {
            for &tok in tokens {
                self.step(gpt, k, tok);
            }
        }
        softmax_forward(&mut self.probs, &self.logits, 1, v);
        Ok(&self.logits)
    }

    /// Samples the next token from the current logits, feeds it, and returns it.
    pub fn next(&mut self, gpt: &Gpt, k: &dyn Kernels, sampler: &Sampler, rng: &mut Rng) -> Result<u32> {
        if self.tokens.is_empty() {
            return Err(Error::invalid("prompt", "feed at least one token before sampling"));
        }
        sampler.validate()?;
        let id = sampler.sample(&self.logits, rng, &mut self.scratch);
        self.feed(gpt, k, &[id])?;
        Ok(id)
    }

    /// Samples `n` tokens, feeding each back ([`Session::next`] `n` times), and returns them. On
    /// the threaded backend they are one piece of work for its pool ([`on_pool`]): one token's
    /// products are too small to be worth waking a pool for, but with its team already awake they
    /// are split by columns (natively 6,000-6,400 → 7,400-9,500 tokens/s on two threads).
    pub fn generate(&mut self, gpt: &Gpt, k: &dyn Kernels, sampler: &Sampler, rng: &mut Rng, n: usize) -> Result<Vec<u32>> {
        on_pool(k, || (0..n).map(|_| self.next(gpt, k, sampler, rng)).collect())
    }

    /// Runs the whole window as one batched forward pass and fills the cache from it.
    fn recompute(&mut self, gpt: &Gpt, k: &dyn Kernels) -> Result<()> {
        let cfg = self.config;
        let (l_n, c, nh, v, max_t) = (cfg.n_layer, cfg.n_embd, cfg.n_head, cfg.vocab_size, cfg.block_size);
        let t = self.tokens.len();
        forward_pass(&cfg, &gpt.tensors(), &mut self.window, k, &self.tokens, None, 1, t)?;
        for l in 0..l_n {
            let qkv = self.window.qkv(&cfg, l); // (T, 3C)
            for pos in 0..t {
                let row = &qkv[pos * 3 * c..][..3 * c];
                store_kv(&mut self.k_cache, &mut self.v_cache, &cfg, l, pos, &row[c..2 * c], &row[2 * c..]);
            }
        }
        let att = self.window.attention(&cfg); // (L, NH, T, T)
        self.att.fill(0.0);
        for lh in 0..l_n * nh {
            self.att[lh * max_t..][..t].copy_from_slice(&att[(lh * t + t - 1) * t..][..t]);
        }
        self.logits.copy_from_slice(&self.window.logits(v)[(t - 1) * v..]);
        Ok(())
    }

    /// Feeds one token at the next position (which must be < block_size), O(T) attention.
    ///
    /// Inside the threaded backend's team ([`Session::generate`]) each layer is four parallel
    /// loops: one head per task for q, k, v and that head's attention (a head needs only its own
    /// columns of the qkv product), the projection by columns, the MLP's first product and its
    /// GELU by columns, its second product by columns; LayerNorm and the residual run on the
    /// leader between them. On one thread the same tasks run in order, and [`Kernels::matvec`]
    /// gives a column the same bits however the columns are split, so the tokens do not depend
    /// on the thread count. The products read the model's packed copy of its matrices
    /// ([`Gpt::matvec_tensors`]).
    fn step(&mut self, gpt: &Gpt, k: &dyn Kernels, token: u32) {
        /// Layer `l`'s part of a (L, size) parameter.
        fn layer(t: &[f32], l: usize, size: usize) -> &[f32] {
            &t[l * size..][..size]
        }
        let cfg = self.config;
        let (l_n, c, nh, max_t) = (cfg.n_layer, cfg.n_embd, cfg.n_head, cfg.block_size);
        let (hs, pos) = (c / nh, self.tokens.len());
        let scale = 1.0 / (hs as f32).sqrt();
        let uk = micro::select();
        let (p, pp) = (gpt.tensors(), gpt.matvec_tensors());
        let (mut mean, mut rstd) = ([0.0f32], [0.0f32]);
        let (wte, wpe) = (&p.wte[token as usize * c..][..c], &p.wpe[pos * c..][..c]);
        for i in 0..c {
            self.x[i] = wte[i] + wpe[i];
        }
        // The MLP's 4C columns in one block per thread (a multiple of four wide: no block of
        // four rows is computed twice).
        let fc_per = (4 * c).div_ceil(k.threads()).next_multiple_of(4);
        for l in 0..l_n {
            layernorm_forward(&mut self.ln, &mut mean, &mut rstd, &self.x, &p.ln1w[l * c..][..c], &p.ln1b[l * c..][..c], 1, c);
            let (w, wp, b) = (layer(p.qkvw, l, 3 * c * c), layer(pp.qkvw, l, 3 * c * c), layer(p.qkvb, l, 3 * c));
            let ln = &self.ln;
            let (qkv, atty) = (Disjoint::new(&mut self.qkv), Disjoint::new(&mut self.atty));
            let (kc, vc, att) = (Disjoint::new(&mut self.k_cache), Disjoint::new(&mut self.v_cache), Disjoint::new(&mut self.att));
            each_small_task(k, nh, &|h| {
                let lh = l * nh + h;
                // SAFETY (every range below): head h's own columns of q, k and v, its own rows
                // of the caches and of the attention, its own columns of the output.
                let (q, kt, vh) = unsafe { (qkv.range(h * hs, hs), kc.range(lh * hs * max_t, hs * max_t), vc.range(lh * max_t * hs, max_t * hs)) };
                let (kn, vn) = unsafe { (qkv.range(c + h * hs, hs), qkv.range(2 * c + h * hs, hs)) };
                for (part, out) in [&mut *q, &mut *kn, &mut *vn].into_iter().enumerate() {
                    k.matvec(out, ln, w, wp, Some(b), part * c + h * hs, c);
                }
                for d in 0..hs {
                    kt[d * max_t + pos] = kn[d];
                }
                vh[pos * hs..][..hs].copy_from_slice(vn);
                // Row `pos` of layers::attention_head_forward, with the arithmetic of its GEMM.
                let row = unsafe { att.range(lh * max_t, max_t) };
                let n = score_columns(pos, max_t);
                // SAFETY: q holds HS floats; kt is (HS, maxT) and n ≤ maxT; row holds maxT ≥ n.
                unsafe { (uk.row)(hs, q.as_ptr(), kt.as_ptr(), max_t, row.as_mut_ptr(), n) };
                let (visible, masked) = row.split_at_mut(pos + 1);
                softmax_row(visible, scale);
                masked.fill(0.0);
                let y = unsafe { atty.range(h * hs, hs) };
                // SAFETY: visible holds pos + 1 ≤ maxT floats; vh is (maxT, HS); y holds HS.
                unsafe { (uk.row)(pos + 1, visible.as_ptr(), vh.as_ptr(), hs, y.as_mut_ptr(), hs) };
            });
            k.matvec(&mut self.proj, &self.atty, layer(p.attprojw, l, c * c), layer(pp.attprojw, l, c * c), Some(&p.attprojb[l * c..][..c]), 0, c);
            residual_add(&mut self.x, &self.proj);
            layernorm_forward(&mut self.ln, &mut mean, &mut rstd, &self.x, &p.ln2w[l * c..][..c], &p.ln2b[l * c..][..c], 1, c);
            let (fcw, fcwp, b) = (layer(p.fcw, l, 4 * c * c), layer(pp.fcw, l, 4 * c * c), &p.fcb[l * 4 * c..][..4 * c]);
            let ln = &self.ln;
            let (fch, fch_gelu) = (Disjoint::new(&mut self.fch), Disjoint::new(&mut self.fch_gelu));
            each_small_task(k, (4 * c).div_ceil(fc_per), &|i| {
                let (j0, n) = (i * fc_per, fc_per.min(4 * c - i * fc_per));
                // SAFETY: task i alone has columns j0 .. j0 + n.
                let (h, g) = unsafe { (fch.range(j0, n), fch_gelu.range(j0, n)) };
                k.matvec(h, ln, fcw, fcwp, Some(b), j0, c);
                gelu_forward(g, h);
            });
            k.matvec(&mut self.proj, &self.fch_gelu, layer(p.fcprojw, l, 4 * c * c), layer(pp.fcprojw, l, 4 * c * c), Some(&p.fcprojb[l * c..][..c]), 0, 4 * c);
            residual_add(&mut self.x, &self.proj);
        }
        layernorm_forward(&mut self.ln, &mut mean, &mut rstd, &self.x, p.lnfw, p.lnfb, 1, c);
        k.matvec(&mut self.logits, &self.ln, p.wte, pp.wte, None, 0, c);
        self.tokens.push(token);
    }
}

/// Writes position `pos`'s key (C) and value (C) of layer `l` into the per-head caches:
/// k_cache (L, NH, HS, maxT), v_cache (L, NH, maxT, HS).
#[allow(clippy::too_many_arguments)]
fn store_kv(k_cache: &mut [f32], v_cache: &mut [f32], cfg: &GptConfig, l: usize, pos: usize, k: &[f32], v: &[f32]) {
    let (nh, max_t) = (cfg.n_head, cfg.block_size);
    let hs = cfg.n_embd / nh;
    for h in 0..nh {
        let kt = &mut k_cache[(l * nh + h) * hs * max_t..][..hs * max_t];
        for d in 0..hs {
            kt[d * max_t + pos] = k[h * hs + d];
        }
        v_cache[((l * nh + h) * max_t + pos) * hs..][..hs].copy_from_slice(&v[h * hs..][..hs]);
    }
}

/// `x += y`, the residual connection (the same `a + b` as the batched `residual_forward`).
fn residual_add(x: &mut [f32], y: &[f32]) {
    for (a, b) in x.iter_mut().zip(y) {
        *a += b;
    }
}

/// Feeds `prompt` into a fresh session and samples `n` tokens; a convenience over [`Session`].
pub fn generate(gpt: &Gpt, k: &dyn Kernels, prompt: &[u32], n: usize, sampler: &Sampler, seed: u64) -> Result<Vec<u32>> {
    let mut session = Session::new(gpt.config())?;
    let mut rng = Rng::new(seed);
    session.feed(gpt, k, prompt)?;
    session.generate(gpt, k, sampler, &mut rng, n)
}
