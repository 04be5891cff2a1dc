//! The GPT: parameters, activations, forward, backward and the AdamW step (llm.c's `GPT2`).

use crate::config::{GptConfig, PosEncoding};
use crate::error::{Error, Result};
use crate::kernels::{pack_matvec, Kernels};
use std::sync::OnceLock;
use crate::model::layers::*;
use crate::model::math::cos_f64;
use crate::model::params::{init_parameters, Decay, ParameterLayout, ParameterTensors};

/// Most activation floats one [`Activations`] may hold: 1 GiB in wasm32 (whose memory tops
/// out at 4 GiB), 16 GiB natively.
pub const MAX_ACTIVATION_FLOATS: usize = if cfg!(target_pointer_width = "32") { 1 << 28 } else { 1 << 32 };

/// The activations of one forward pass, allocated once for up to `capacity_b × capacity_t`
/// positions. A forward over (B, T) lays its tensors out densely in the first B·T rows (so the
/// attention of a single sequence of length T is a tight (L, NH, T, T) block), and needs
/// `B·T ≤ capacity_b·capacity_t` and `T ≤ capacity_t`: anything bigger is an error, and
/// [`Gpt::reserve`] reallocates explicitly.
#[derive(Debug, Clone, Default)]
pub struct Activations {
    capacity_b: usize,
    capacity_t: usize,
    /// (B, T) of the last forward, (0, 0) before the first.
    b: usize,
    t: usize,
    /// Whether the last forward had targets (so backward can run).
    has_targets: bool,
    inputs: Vec<u32>,     // (B, T)
    targets: Vec<u32>,    // (B, T)
    encoded: Vec<f32>,    // (B, T, C)
    ln1: Vec<f32>,        // (L, B, T, C)
    ln1_mean: Vec<f32>,   // (L, B, T)
    ln1_rstd: Vec<f32>,   // (L, B, T)
    qkv: Vec<f32>,        // (L, B, T, 3C)
    atty: Vec<f32>,       // (L, B, T, C)
    att: Vec<f32>,        // (L, B, NH, T, T)
    residual2: Vec<f32>,  // (L, B, T, C)
    ln2: Vec<f32>,        // (L, B, T, C)
    ln2_mean: Vec<f32>,   // (L, B, T)
    ln2_rstd: Vec<f32>,   // (L, B, T)
    fch: Vec<f32>,        // (L, B, T, 4C)
    fch_gelu: Vec<f32>,   // (L, B, T, 4C)
    residual3: Vec<f32>,  // (L, B, T, C)
    lnf: Vec<f32>,        // (B, T, C)
    lnf_mean: Vec<f32>,   // (B, T)
    lnf_rstd: Vec<f32>,   // (B, T)
    logits: Vec<f32>,     // (B, T, V)
    probs: Vec<f32>,      // (B, T, V)
    losses: Vec<f32>,     // (B, T)
    proj: Vec<f32>,       // (B, T, C) scratch: a projection's output before the residual add
    // Backward scratch, reused layer after layer (not per layer, unlike llm.c's grads_acts).
    dresidual: Vec<f32>,  // (B, T, C) gradient of the residual stream
    dln: Vec<f32>,        // (B, T, C) gradient of a LayerNorm's output
    datty: Vec<f32>,      // (B, T, C)
    dqkv: Vec<f32>,       // (B, T, 3C)
    dfch: Vec<f32>,       // (B, T, 4C) gradient of fch_gelu, then (in place) of fch
    dlogits: Vec<f32>,    // (B, T, V)
}

impl Activations {
    /// Buffers for up to `b` sequences of up to `t` positions of `config`'s model.
    pub fn new(config: &GptConfig, b: usize, t: usize) -> Result<Activations> {
        if b == 0 {
            return Err(Error::invalid("batch_size", "must be at least 1"));
        }
        if t == 0 || t > config.block_size {
            return Err(Error::invalid("seq_len", format!("{t} must be between 1 and block_size = {}", config.block_size)));
        }
        let (l, c, nh, v) = (config.n_layer, config.n_embd, config.n_head, config.vocab_size);
        // Refuse before allocating: a long block_size with many heads grows as T², and an
        // allocation failure would abort (in wasm, trap) instead of returning an error.
        let product = |xs: &[usize]| xs.iter().try_fold(1usize, |acc, &x| acc.checked_mul(x));
        let floats = [product(&[l, b, t, 16 * c + 4]), product(&[l, b, nh, t, t]), product(&[b, t, 2 * v + 16 * c])]
            .iter()
            .try_fold(0usize, |acc, n| acc.checked_add((*n)?))
            .filter(|&n| n <= MAX_ACTIVATION_FLOATS);
        if floats.is_none() {
            return Err(Error::invalid(
                "batch_size",
                format!("activations for (B, T) = ({b}, {t}) of this model would exceed {} GiB", MAX_ACTIVATION_FLOATS >> 28),
            ));
        }
        let bt = b * t;
        let z = |n: usize| vec![0.0f32; n];
        Ok(Activations {
            capacity_b: b,
            capacity_t: t,
            b: 0,
            t: 0,
            has_targets: false,
            inputs: vec![0; bt],
            targets: vec![0; bt],
            encoded: z(bt * c),
            ln1: z(l * bt * c),
            ln1_mean: z(l * bt),
            ln1_rstd: z(l * bt),
            qkv: z(l * bt * 3 * c),
            atty: z(l * bt * c),
            att: z(l * b * nh * t * t),
            residual2: z(l * bt * c),
            ln2: z(l * bt * c),
            ln2_mean: z(l * bt),
            ln2_rstd: z(l * bt),
            fch: z(l * bt * 4 * c),
            fch_gelu: z(l * bt * 4 * c),
            residual3: z(l * bt * c),
            lnf: z(bt * c),
            lnf_mean: z(bt),
            lnf_rstd: z(bt),
            logits: z(bt * v),
            probs: z(bt * v),
            losses: z(bt),
            proj: z(bt * c),
            dresidual: z(bt * c),
            dln: z(bt * c),
            datty: z(bt * c),
            dqkv: z(bt * 3 * c),
            dfch: z(bt * 4 * c),
            dlogits: z(bt * v),
        })
    }

    /// (B, T) this was allocated for.
    pub fn capacity(&self) -> (usize, usize) {
        (self.capacity_b, self.capacity_t)
    }

    /// (B, T) of the last forward pass; (0, 0) before the first.
    pub fn shape(&self) -> (usize, usize) {
        (self.b, self.t)
    }

    /// Whether a forward over (b, t) fits.
    pub fn fits(&self, b: usize, t: usize) -> bool {
        // (L, B, NH, T, T) then fits too: B T² ≤ capB capT · capT.
        b >= 1 && t >= 1 && t <= self.capacity_t && b * t <= self.capacity_b * self.capacity_t
    }

    /// Logits of the last forward, (B, T, V).
    pub fn logits(&self, v: usize) -> &[f32] {
        &self.logits[..self.b * self.t * v]
    }

    /// Softmax of the logits of the last forward, (B, T, V).
    pub fn probs(&self, v: usize) -> &[f32] {
        &self.probs[..self.b * self.t * v]
    }

    /// Attention probabilities of the last forward, (L, B, NH, T, T).
    pub fn attention(&self, config: &GptConfig) -> &[f32] {
        &self.att[..config.n_layer * self.b * config.n_head * self.t * self.t]
    }

    /// Keys and values of layer `l` of the last forward, as the packed (B, T, 3C) qkv rows:
    /// q at [0, C), k at [C, 2C), v at [2C, 3C) of each row.
    pub fn qkv(&self, config: &GptConfig, l: usize) -> &[f32] {
        let n = self.b * self.t * 3 * config.n_embd;
        &self.qkv[l * n..][..n]
    }
}

/// Runs the model on `inputs` (B, T) into `acts`, and when `targets` (B, T) are given computes
/// the mean cross-entropy, which it returns (0 without targets).
/// Shared by [`Gpt`] and the generation [`crate::model::generate::Session`].
#[allow(clippy::too_many_arguments)]
#[inline(never)] // one copy of the pool hand-off, not one per caller (the threaded build's size)
pub(crate) fn forward_pass(
    config: &GptConfig,
    params: &ParameterTensors<&[f32]>,
    acts: &mut Activations,
    k: &dyn Kernels,
    inputs: &[u32],
    targets: Option<&[u32]>,
    b: usize,
    t: usize,
) -> Result<f32> {
    // The whole pass on the threaded backend's pool at once (see `Kernels::install`).
    crate::kernels::on_pool(k, || {
        let (l_n, c, nh, v) = (config.n_layer, config.n_embd, config.n_head, config.vocab_size);
        if !acts.fits(b, t) {
            let (cb, ct) = acts.capacity();
            return Err(Error::Shape(format!(
                "forward over (B, T) = ({b}, {t}) does not fit activations allocated for ({cb}, {ct}); call reserve({b}, {t}) first"
            )));
        }
        check_tokens("inputs", inputs, b * t, v)?;
        if let Some(tg) = targets {
            check_tokens("targets", tg, b * t, v)?;
        }
        let bt = b * t;
        let a = acts;
        a.b = b;
        a.t = t;
        a.has_targets = targets.is_some();
        a.inputs[..bt].copy_from_slice(inputs);

        encoder_forward(&mut a.encoded[..bt * c], inputs, params.wte, params.wpe, b, t, c);
        for l in 0..l_n {
            let residual: &[f32] = if l == 0 { &a.encoded[..bt * c] } else { &a.residual3[(l - 1) * bt * c..][..bt * c] };
            let ln1 = &mut a.ln1[l * bt * c..][..bt * c];
            let (ln1_mean, ln1_rstd) = (&mut a.ln1_mean[l * bt..][..bt], &mut a.ln1_rstd[l * bt..][..bt]);
            let qkv = &mut a.qkv[l * bt * 3 * c..][..bt * 3 * c];
            let atty = &mut a.atty[l * bt * c..][..bt * c];
            let att = &mut a.att[l * b * nh * t * t..][..b * nh * t * t];
            let residual2 = &mut a.residual2[l * bt * c..][..bt * c];
            let ln2 = &mut a.ln2[l * bt * c..][..bt * c];
            let (ln2_mean, ln2_rstd) = (&mut a.ln2_mean[l * bt..][..bt], &mut a.ln2_rstd[l * bt..][..bt]);
            let fch = &mut a.fch[l * bt * 4 * c..][..bt * 4 * c];
            let fch_gelu = &mut a.fch_gelu[l * bt * 4 * c..][..bt * 4 * c];
            let proj = &mut a.proj[..bt * c];

            layernorm_forward_tasks(k, ln1, ln1_mean, ln1_rstd, residual, layer(params.ln1w, l, c), layer(params.ln1b, l, c), bt, c);
            k.matmul_forward(qkv, ln1, layer(params.qkvw, l, 3 * c * c), Some(layer(params.qkvb, l, 3 * c)), bt, c, 3 * c);
            attention_forward(k, atty, att, qkv, b, t, c, nh);
            k.matmul_forward(proj, atty, layer(params.attprojw, l, c * c), Some(layer(params.attprojb, l, c)), bt, c, c);
            residual_forward(residual2, residual, proj);
            layernorm_forward_tasks(k, ln2, ln2_mean, ln2_rstd, residual2, layer(params.ln2w, l, c), layer(params.ln2b, l, c), bt, c);
            k.matmul_forward(fch, ln2, layer(params.fcw, l, 4 * c * c), Some(layer(params.fcb, l, 4 * c)), bt, c, 4 * c);
            gelu_forward_tasks(k, fch_gelu, fch);
            k.matmul_forward(proj, fch_gelu, layer(params.fcprojw, l, 4 * c * c), Some(layer(params.fcprojb, l, c)), bt, 4 * c, c);
            let residual3 = &mut a.residual3[l * bt * c..][..bt * c];
            residual_forward(residual3, residual2, proj);
        }
        let residual = &a.residual3[(l_n - 1) * bt * c..][..bt * c];
        layernorm_forward_tasks(k, &mut a.lnf[..bt * c], &mut a.lnf_mean[..bt], &mut a.lnf_rstd[..bt], residual, params.lnfw, params.lnfb, bt, c);
        // The LM head is tied to wte: logits (BT, V) = lnf (BT, C) · wte (V, C)ᵀ.
        k.matmul_forward(&mut a.logits[..bt * v], &a.lnf[..bt * c], params.wte, None, bt, c, v);
        softmax_forward_tasks(k, &mut a.probs[..bt * v], &a.logits[..bt * v], bt, v);
        match targets {
            Some(tg) => {
                a.targets[..bt].copy_from_slice(tg);
                Ok(crossentropy_forward(&mut a.losses[..bt], &a.probs[..bt * v], tg, bt, v))
            }
            None => Ok(0.0),
        }
    })
}

/// Layer `l`'s slice of a stacked per-layer tensor whose layers have `n` elements each.
#[inline]
fn layer(x: &[f32], l: usize, n: usize) -> &[f32] {
    &x[l * n..][..n]
}

#[inline]
fn layer_mut(x: &mut [f32], l: usize, n: usize) -> &mut [f32] {
    &mut x[l * n..][..n]
}

fn check_tokens(what: &str, ids: &[u32], want: usize, v: usize) -> Result<()> {
    if ids.len() != want {
        return Err(Error::Shape(format!("{what} has {} tokens, expected B*T = {want}", ids.len())));
    }
    if let Some((i, id)) = ids.iter().enumerate().find(|(_, &id)| id as usize >= v) {
        return Err(Error::invalid(what, format!("token {id} at position {i} is outside the vocabulary of {v}")));
    }
    Ok(())
}

/// AdamW's hyperparameters (the learning rate comes from the [`LrSchedule`] each step).
/// Defaults are nanoGPT's `shakespeare_char` recipe.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamW {
    /// First-moment decay.
    pub beta1: f32, // 0.9
    /// Second-moment decay (0.99 for small character models in nanoGPT).
    pub beta2: f32, // 0.99
    /// Denominator guard.
    pub eps: f32, // 1e-8
    /// Decoupled weight decay on matrices and embeddings (not on biases or LayerNorms).
    pub weight_decay: f32, // 0.1
}

impl Default for AdamW {
    fn default() -> Self {
        AdamW { beta1: 0.9, beta2: 0.99, eps: 1e-8, weight_decay: 0.1 }
    }
}

/// AdamW's state between two steps, in the parameters' layout: with the parameters, what a run
/// needs to continue exactly where it was (see `model::run::TrainState`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AdamState {
    /// First moment (num_parameters); empty before the first update (AdamW starts from zeros).
    pub m: Vec<f32>,
    /// Second moment (num_parameters); empty before the first update.
    pub v: Vec<f32>,
    /// Updates behind the moments, t: the bias correction divides them by 1 - β^t.
    pub t: u64,
}

/// Linear warmup then cosine decay to `min_lr`, as nanoGPT's `get_lr`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LrSchedule {
    /// Peak learning rate.
    pub lr: f32, // 1e-3
    /// Floor reached at `decay_steps` and kept after.
    pub min_lr: f32, // 1e-4
    /// Steps of linear warmup.
    pub warmup_steps: usize, // 100
    /// Step at which the cosine reaches `min_lr` (usually the total number of steps).
    pub decay_steps: usize,
}

impl LrSchedule {
    /// The learning rate at 0-based `step`.
    pub fn at(&self, step: usize) -> f32 {
        if step < self.warmup_steps {
            return self.lr * (step + 1) as f32 / (self.warmup_steps + 1) as f32;
        }
        if step >= self.decay_steps || self.decay_steps <= self.warmup_steps {
            return self.min_lr;
        }
        let ratio = (step - self.warmup_steps) as f64 / (self.decay_steps - self.warmup_steps) as f64;
        let coeff = 0.5 * (1.0 + cos_f64(std::f64::consts::PI * ratio));
        (self.min_lr as f64 + coeff * (self.lr - self.min_lr) as f64) as f32
    }
}

/// A GPT-2 style character model with its gradients, optimiser state and activations.
///
/// ```text
/// forward(inputs, targets) -> loss      zero_grad(); backward(); clip_grad_norm(1.0); update(...)
/// forward_logits(tokens) -> (T, V)      attention() -> (L, NH, T, T) of that sequence
/// ```
/// The matmuls go through the [`Kernels`] passed to each call, so a page can switch backends.
#[derive(Debug, Clone)]
pub struct Gpt {
    config: GptConfig,
    layout: ParameterLayout,
    params: Vec<f32>, // (num_parameters) in the layout's order
    grads: Vec<f32>,  // (num_parameters)
    m: Vec<f32>,      // (num_parameters) AdamW first moment; empty until the first update
    v: Vec<f32>,      // (num_parameters) AdamW second moment; empty until the first update
    acts: Activations,
    /// AdamW steps taken.
    step: u64,
    beta1_pow: f64,
    beta2_pow: f64,
    /// The weight matrices laid out for the KV-cached step's matrix-vector products
    /// ([`crate::kernels::pack_matvec`], at the same offsets as in `params`; the other tensors
    /// zero), built on first use after the parameters last changed: every `&mut` path to them
    /// empties it.
    matvec: OnceLock<Vec<f32>>,
}

impl Gpt {
    /// A freshly initialised model (GPT-2 init from `seed`), with activations for one
    /// sequence of up to block_size positions.
    pub fn new(config: GptConfig, seed: u64) -> Result<Gpt> {
        let layout = ParameterLayout::new(&config)?;
        let params = init_parameters(&config, &layout, seed);
        Gpt::from_parameters(config, params)
    }

    /// A model with the given parameters (the layout's order), e.g. from a checkpoint.
    pub fn from_parameters(config: GptConfig, params: Vec<f32>) -> Result<Gpt> {
        let layout = ParameterLayout::new(&config)?;
        if params.len() != layout.num_parameters {
            return Err(Error::Shape(format!("{} parameters given, the config needs {}", params.len(), layout.num_parameters)));
        }
        let grads = vec![0.0; params.len()];
        let acts = Activations::new(&config, 1, config.block_size)?;
        Ok(Gpt { config, layout, params, grads, m: Vec::new(), v: Vec::new(), acts, step: 0, beta1_pow: 1.0, beta2_pow: 1.0, matvec: OnceLock::new() })
    }

    /// The model's shape.
    pub fn config(&self) -> &GptConfig {
        &self.config
    }

    /// The size table.
    pub fn layout(&self) -> &ParameterLayout {
        &self.layout
    }

    /// All parameters, flat, in the layout's order.
    pub fn params(&self) -> &[f32] {
        &self.params
    }

    /// All parameters, mutably (tests, checkpoint loading).
    pub fn params_mut(&mut self) -> &mut [f32] {
        self.matvec = OnceLock::new();
        &mut self.params
    }

    /// The weight matrices as the KV-cached step reads them: [`Gpt::tensors`]' views of a copy
    /// where `wte`, `qkvw`, `attprojw`, `fcw` and `fcprojw` (each layer's matrix on its own)
    /// are laid out for this machine's matrix-vector kernel, read in one sequential stream
    /// (the rows as they are take four, one per column of a block: 1.3-1.4× slower in
    /// Chromium). Built on first use (one copy of the parameters), again after they change.
    pub(crate) fn matvec_tensors(&self) -> ParameterTensors<&[f32]> {
        let packed = self.matvec.get_or_init(|| {
            let (c, l_n) = (self.config.n_embd, self.config.n_layer);
            let mut buf = vec![0.0; self.params.len()];
            let (p, d) = (self.layout.split(&self.params), self.layout.split_mut(&mut buf));
            pack_matvec(d.wte, p.wte, self.config.vocab_size, c);
            for (dst, src, n, k) in [(d.qkvw, p.qkvw, 3 * c, c), (d.attprojw, p.attprojw, c, c), (d.fcw, p.fcw, 4 * c, c), (d.fcprojw, p.fcprojw, c, 4 * c)] {
                for (dl, sl) in dst.chunks_exact_mut(n * k).zip(src.chunks_exact(n * k)).take(l_n) {
                    pack_matvec(dl, sl, n, k);
                }
            }
            buf
        });
        self.layout.split(packed)
    }

    /// All gradients of the last backward, same layout as [`Gpt::params`].
    pub fn grads(&self) -> &[f32] {
        &self.grads
    }

    /// All gradients, mutably (data-parallel training sums its shards' gradients here).
    pub fn grads_mut(&mut self) -> &mut [f32] {
        &mut self.grads
    }

    /// The parameters as named tensors.
    pub fn tensors(&self) -> ParameterTensors<&[f32]> {
        self.layout.split(&self.params)
    }

    /// Number of parameters (the tied LM head counted once).
    pub fn num_parameters(&self) -> usize {
        self.layout.num_parameters
    }

    /// AdamW steps taken so far.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// AdamW's moments and update count, copied.
    pub fn adam_state(&self) -> AdamState {
        AdamState { m: self.m.clone(), v: self.v.clone(), t: self.step }
    }

    /// Replaces AdamW's state with `state` (e.g. moments brought back from the GPU), whose β^t
    /// are recomputed for `opt`'s betas as [`Gpt::update`] multiplies them up, so the next update
    /// is bit for bit the one the state's owner would have made. Refuses, changing nothing, moments
    /// of the wrong length, non-finite ones, a negative second moment, or none after updates.
    pub fn set_adam_state(&mut self, state: &AdamState, opt: &AdamW) -> Result<()> {
        let n = self.params.len();
        let AdamState { m, v, t } = state;
        if m.len() != v.len() || !(m.is_empty() || m.len() == n) {
            return Err(Error::Shape(format!("AdamW moments of {} and {} floats given, the model has {n} parameters", m.len(), v.len())));
        }
        if m.is_empty() && *t > 0 {
            return Err(Error::invalid("adam", format!("no moments given after {t} updates")));
        }
        if let Some(i) = m.iter().position(|x| !x.is_finite()) {
            return Err(Error::invalid("adam", format!("first moment {i} is {}: training diverged", m[i])));
        }
        if let Some(i) = v.iter().position(|x| !(x.is_finite() && *x >= 0.0)) {
            return Err(Error::invalid("adam", format!("second moment {i} is {}: it must be finite and not negative", v[i])));
        }
        let (mut beta1_pow, mut beta2_pow) = (1.0f64, 1.0f64);
        for _ in 0..*t {
            if beta1_pow == 0.0 && beta2_pow == 0.0 {
                break; // underflowed (after some 70,000 updates at β2 = 0.99): zero from here on
            }
            beta1_pow *= opt.beta1 as f64;
            beta2_pow *= opt.beta2 as f64;
        }
        self.m.clone_from(m);
        self.v.clone_from(v);
        (self.step, self.beta1_pow, self.beta2_pow) = (*t, beta1_pow, beta2_pow);
        Ok(())
    }

    /// The activations of the last forward pass.
    pub fn activations(&self) -> &Activations {
        &self.acts
    }

    /// Reallocates the activations for batches of up to (b, t). The one place they grow.
    pub fn reserve(&mut self, b: usize, t: usize) -> Result<()> {
        if self.acts.capacity() != (b, t) {
            self.acts = Activations::new(&self.config, b, t)?;
        }
        Ok(())
    }

    /// Forward over `inputs` (B, T) with `targets` (B, T); returns the mean cross-entropy in
    /// nats. Keeps the activations for [`Gpt::backward`].
    pub fn forward(&mut self, k: &dyn Kernels, inputs: &[u32], targets: &[u32], b: usize, t: usize) -> Result<f32> {
        let params = self.layout.split(&self.params);
        forward_pass(&self.config, &params, &mut self.acts, k, inputs, Some(targets), b, t)
    }

    /// Forward over one sequence `tokens` (T ≤ block_size); returns its logits (T, V).
    /// [`Gpt::attention`] and [`Gpt::probs`] then describe this sequence. The activations
    /// always hold one full sequence unless [`Gpt::reserve`] made them smaller; then this
    /// grows them back to (1, block_size).
    pub fn forward_logits(&mut self, k: &dyn Kernels, tokens: &[u32]) -> Result<&[f32]> {
        let t = tokens.len();
        if t == 0 || t > self.config.block_size {
            return Err(Error::invalid("tokens", format!("{t} tokens; a forward pass takes 1 to block_size = {}", self.config.block_size)));
        }
        if !self.acts.fits(1, t) {
            self.reserve(1, self.config.block_size)?;
        }
        let params = self.layout.split(&self.params);
        forward_pass(&self.config, &params, &mut self.acts, k, tokens, None, 1, t)?;
        Ok(self.acts.logits(self.config.vocab_size))
    }

    /// Logits of the last forward, (B, T, V).
    pub fn logits(&self) -> &[f32] {
        self.acts.logits(self.config.vocab_size)
    }

    /// Next-token probabilities of the last forward, (B, T, V).
    pub fn probs(&self) -> &[f32] {
        self.acts.probs(self.config.vocab_size)
    }

    /// Attention probabilities of the last forward, (L, B, NH, T, T); for a
    /// [`Gpt::forward_logits`] call that is (L, NH, T, T).
    pub fn attention(&self) -> &[f32] {
        self.acts.attention(&self.config)
    }

    /// Sets every gradient to zero.
    pub fn zero_grad(&mut self) {
        self.grads.fill(0.0);
    }

    /// Backpropagates the mean loss of the last [`Gpt::forward`], accumulating into the
    /// gradients (call [`Gpt::zero_grad`] first unless accumulating over micro-batches).
    pub fn backward(&mut self, k: &dyn Kernels) -> Result<()> {
        let a = &mut self.acts;
        if !a.has_targets {
            return Err(Error::invalid("backward", "needs a forward pass with targets first"));
        }
        let config = &self.config;
        let (l_n, c, nh, v) = (config.n_layer, config.n_embd, config.n_head, config.vocab_size);
        let (b, t) = (a.b, a.t);
        let bt = b * t;
        let p = self.layout.split(&self.params);
        let g = self.layout.split_mut(&mut self.grads);

        crossentropy_softmax_backward(&mut a.dlogits[..bt * v], &a.probs[..bt * v], &a.targets[..bt], bt, v);
        let dln = &mut a.dln[..bt * c];
        dln.fill(0.0);
        k.matmul_backward(dln, g.wte, None, &a.dlogits[..bt * v], &a.lnf[..bt * c], p.wte, bt, c, v);
        let dresidual = &mut a.dresidual[..bt * c];
        dresidual.fill(0.0);
        let residual = &a.residual3[(l_n - 1) * bt * c..][..bt * c];
        layernorm_backward(dresidual, g.lnfw, g.lnfb, dln, residual, p.lnfw, &a.lnf_mean[..bt], &a.lnf_rstd[..bt], bt, c);

        for l in (0..l_n).rev() {
            let residual: &[f32] = if l == 0 { &a.encoded[..bt * c] } else { &a.residual3[(l - 1) * bt * c..][..bt * c] };
            let ln1 = &a.ln1[l * bt * c..][..bt * c];
            let (ln1_mean, ln1_rstd) = (&a.ln1_mean[l * bt..][..bt], &a.ln1_rstd[l * bt..][..bt]);
            let qkv = &a.qkv[l * bt * 3 * c..][..bt * 3 * c];
            let atty = &a.atty[l * bt * c..][..bt * c];
            let att = &a.att[l * b * nh * t * t..][..b * nh * t * t];
            let residual2 = &a.residual2[l * bt * c..][..bt * c];
            let ln2 = &a.ln2[l * bt * c..][..bt * c];
            let (ln2_mean, ln2_rstd) = (&a.ln2_mean[l * bt..][..bt], &a.ln2_rstd[l * bt..][..bt]);
            let fch = &a.fch[l * bt * 4 * c..][..bt * 4 * c];
            let fch_gelu = &a.fch_gelu[l * bt * 4 * c..][..bt * 4 * c];
            let (dln, datty, dqkv, dfch) =
                (&mut a.dln[..bt * c], &mut a.datty[..bt * c], &mut a.dqkv[..bt * 3 * c], &mut a.dfch[..bt * 4 * c]);

            // MLP: residual3 = residual2 + fcproj(gelu(fc(ln2(residual2)))). dresidual holds
            // d residual3 and, after the LayerNorm's accumulation, d residual2.
            dfch.fill(0.0);
            k.matmul_backward(dfch, layer_mut(g.fcprojw, l, 4 * c * c), Some(layer_mut(g.fcprojb, l, c)), dresidual, fch_gelu, layer(p.fcprojw, l, 4 * c * c), bt, 4 * c, c);
            gelu_backward_tasks(k, dfch, fch);
            dln.fill(0.0);
            k.matmul_backward(dln, layer_mut(g.fcw, l, 4 * c * c), Some(layer_mut(g.fcb, l, 4 * c)), dfch, ln2, layer(p.fcw, l, 4 * c * c), bt, c, 4 * c);
            layernorm_backward(dresidual, layer_mut(g.ln2w, l, c), layer_mut(g.ln2b, l, c), dln, residual2, layer(p.ln2w, l, c), ln2_mean, ln2_rstd, bt, c);

            // Attention: residual2 = residual + attproj(attention(qkv(ln1(residual)))).
            datty.fill(0.0);
            k.matmul_backward(datty, layer_mut(g.attprojw, l, c * c), Some(layer_mut(g.attprojb, l, c)), dresidual, atty, layer(p.attprojw, l, c * c), bt, c, c);
            dqkv.fill(0.0);
            attention_backward(k, dqkv, datty, qkv, att, b, t, c, nh);
            dln.fill(0.0);
            k.matmul_backward(dln, layer_mut(g.qkvw, l, 3 * c * c), Some(layer_mut(g.qkvb, l, 3 * c)), dqkv, ln1, layer(p.qkvw, l, 3 * c * c), bt, c, 3 * c);
            layernorm_backward(dresidual, layer_mut(g.ln1w, l, c), layer_mut(g.ln1b, l, c), dln, residual, layer(p.ln1w, l, c), ln1_mean, ln1_rstd, bt, c);
        }
        let dwpe = match config.pos_encoding {
            PosEncoding::Learned => Some(g.wpe),
            PosEncoding::Sinusoidal => None, // fixed: its gradient stays zero
        };
        encoder_backward(g.wte, dwpe, &a.dresidual[..bt * c], &a.inputs[..bt], b, t, c);
        Ok(())
    }

    /// Scales the gradients so their global L2 norm is at most `max_norm` (PyTorch's
    /// `clip_grad_norm_`); returns the norm before clipping. `max_norm <= 0` only measures.
    pub fn clip_grad_norm(&mut self, max_norm: f32) -> f32 {
        let norm = self.grads.iter().map(|&x| (x as f64) * (x as f64)).sum::<f64>().sqrt() as f32;
        if max_norm > 0.0 && norm > max_norm {
            let scale = max_norm / (norm + 1e-6);
            self.grads.iter_mut().for_each(|x| *x *= scale);
        }
        norm
    }

    /// One AdamW step with learning rate `lr` (llm.c's `gpt2_update`): decoupled weight decay
    /// on matrices and embeddings only; the sinusoidal `wpe` is never touched.
    pub fn update(&mut self, opt: &AdamW, lr: f32) {
        self.matvec = OnceLock::new();
        if self.m.is_empty() {
            self.m = vec![0.0; self.params.len()];
            self.v = vec![0.0; self.params.len()];
        }
        self.step += 1;
        self.beta1_pow *= opt.beta1 as f64;
        self.beta2_pow *= opt.beta2 as f64;
        let (c1, c2) = ((1.0 - self.beta1_pow) as f32, (1.0 - self.beta2_pow) as f32);
        let sinusoidal = self.config.pos_encoding == PosEncoding::Sinusoidal;
        for spec in &self.layout.specs {
            if sinusoidal && spec.name == "wpe" {
                continue;
            }
            let wd = if spec.decay == Decay::Matrix { opt.weight_decay } else { 0.0 };
            let r = spec.offset..spec.offset + spec.size;
            let (p, g, m, v) = (&mut self.params[r.clone()], &self.grads[r.clone()], &mut self.m[r.clone()], &mut self.v[r]);
            for i in 0..p.len() {
                let gi = g[i];
                m[i] = opt.beta1 * m[i] + (1.0 - opt.beta1) * gi;
                v[i] = opt.beta2 * v[i] + (1.0 - opt.beta2) * gi * gi;
                let m_hat = m[i] / c1;
                let v_hat = v[i] / c2;
                p[i] -= lr * (m_hat / (v_hat.sqrt() + opt.eps) + wd * p[i]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 64 layers × 64 heads × 4096² attention floats is far past the cap: an error, not an abort.
    #[test]
    fn oversized_activations_are_refused() {
        let config = GptConfig { block_size: 4096, vocab_size: 10, n_layer: 64, n_head: 64, n_embd: 64, ..GptConfig::default() };
        let err = Gpt::new(config, 0).unwrap_err();
        assert_eq!(err.field(), Some("batch_size"), "{err}");
        let small = GptConfig { block_size: 8, vocab_size: 10, n_layer: 1, n_head: 1, n_embd: 8, ..GptConfig::default() };
        let mut gpt = Gpt::new(small, 0).unwrap();
        assert!(gpt.reserve(1usize << (usize::BITS - 8), 8).is_err());
        assert!(gpt.reserve(usize::MAX / 2, 8).is_err(), "overflowing sizes");
        assert!(gpt.reserve(2, 9).is_err(), "longer than block_size");
    }
}
