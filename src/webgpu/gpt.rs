//! A GPT-2 forward pass resident on the GPU.
//!
//! The parameters are uploaded once into one buffer in llm.c order; the activations of every
//! layer live in GPU buffers sized for (max_batch, block_size), laid out as llm.c's
//! `ActivationTensors` so a backward pass can follow. A forward writes the token ids, encodes
//! every layer into one compute pass of one command encoder, submits once and reads back only the
//! logits; the attention probabilities of every layer stay on the GPU until [`GpuGpt::attention`]
//! asks for them.
//!
//! [`GpuGpt::train_step`] runs a whole training step the same way: forward, softmax + cross-entropy,
//! backward (llm.c's order), the gradient norm and AdamW, all in one submit, with the gradients
//! and AdamW's moments resident next to the parameters; only the per-position losses and the
//! gradient norm come back. [`GpuGpt::read_train_state`] copies the trained parameters and AdamW's
//! state back when the CPU model should take them (to continue exactly there if the GPU fails).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use web_sys::GpuBuffer;

use super::context::{GpuContext, Transient};
use super::pipelines::{at, Plan, PlanBuilder, GRADNORM_PARTS};
use super::{js_message, GpuError, GpuResult};
use crate::config::{GptConfig, PosEncoding};
use crate::error::Error;
use crate::model::params::{Decay, ParameterLayout};
use crate::model::{AdamState, AdamW};

/// Names and sizes (in f32s) of the parameter tensors, in llm.c order: one flat buffer holds them
/// back to back. The LM head is tied to `wte`. Sizes saturate instead of overflowing (a 32-bit
/// `usize` cannot hold the largest configs `GptConfig::validate` allows), so an impossible size
/// shows up as a length mismatch, never as a wrapped small number.
pub fn param_sizes(config: &GptConfig) -> [(&'static str, usize); 16] {
    let (v, maxt, l, c) = (config.vocab_size, config.block_size, config.n_layer, config.n_embd);
    let n = |dims: &[usize]| dims.iter().fold(1usize, |acc, &d| acc.saturating_mul(d));
    [
        ("wte", n(&[v, c])),            // (V, C)
        ("wpe", n(&[maxt, c])),         // (maxT, C)
        ("ln1w", n(&[l, c])),           // (L, C)
        ("ln1b", n(&[l, c])),           // (L, C)
        ("qkvw", n(&[l, 3 * c, c])),    // (L, 3C, C)
        ("qkvb", n(&[l, 3 * c])),       // (L, 3C)
        ("attprojw", n(&[l, c, c])),    // (L, C, C)
        ("attprojb", n(&[l, c])),       // (L, C)
        ("ln2w", n(&[l, c])),           // (L, C)
        ("ln2b", n(&[l, c])),           // (L, C)
        ("fcw", n(&[l, 4 * c, c])),     // (L, 4C, C)
        ("fcb", n(&[l, 4 * c])),        // (L, 4C)
        ("fcprojw", n(&[l, c, 4 * c])), // (L, C, 4C)
        ("fcprojb", n(&[l, c])),        // (L, C)
        ("lnfw", c),                    // (C)
        ("lnfb", c),                    // (C)
    ]
}

/// Element offsets of each parameter tensor in the flat buffer.
struct ParamOffsets {
    wte: usize,
    wpe: usize,
    ln1w: usize,
    ln1b: usize,
    qkvw: usize,
    qkvb: usize,
    attprojw: usize,
    attprojb: usize,
    ln2w: usize,
    ln2b: usize,
    fcw: usize,
    fcb: usize,
    fcprojw: usize,
    fcprojb: usize,
    lnfw: usize,
    lnfb: usize,
    total: usize,
}

impl ParamOffsets {
    fn new(config: &GptConfig) -> Self {
        let mut offsets = [0usize; 17];
        for (i, (_, size)) in param_sizes(config).iter().enumerate() {
            offsets[i + 1] = offsets[i].saturating_add(*size);
        }
        let [wte, wpe, ln1w, ln1b, qkvw, qkvb, attprojw, attprojb, ln2w, ln2b, fcw, fcb, fcprojw, fcprojb, lnfw, lnfb, total] =
            offsets;
        ParamOffsets {
            wte,
            wpe,
            ln1w,
            ln1b,
            qkvw,
            qkvb,
            attprojw,
            attprojb,
            ln2w,
            ln2b,
            fcw,
            fcb,
            fcprojw,
            fcprojb,
            lnfw,
            lnfb,
            total,
        }
    }
}

/// The activations, sized for (max_batch, block_size); a forward at (B, T) uses the first
/// B*T rows of each, packed tight, so every tensor below has its llm.c shape at the actual B, T.
struct Activations {
    tokens: GpuBuffer,    // (B, T) u32
    encoded: GpuBuffer,   // (B, T, C)
    ln1: GpuBuffer,       // (L, B, T, C)
    ln_mean: GpuBuffer,   // (2L + 1, B, T): ln1 of layer l at l, ln2 at L + l, ln_f at 2L
    ln_rstd: GpuBuffer,   // (2L + 1, B, T)
    qkv: GpuBuffer,       // (L, B, T, 3C)
    atty: GpuBuffer,      // (L, B, T, C)
    att: GpuBuffer,       // (L, B, NH, T, T)
    attproj: GpuBuffer,   // (L, B, T, C)
    residual2: GpuBuffer, // (L, B, T, C)
    ln2: GpuBuffer,       // (L, B, T, C)
    fch: GpuBuffer,       // (L, B, T, 4C)
    fch_gelu: GpuBuffer,  // (L, B, T, 4C)
    fcproj: GpuBuffer,    // (L, B, T, C)
    residual3: GpuBuffer, // (L, B, T, C)
    lnf: GpuBuffer,       // (B, T, C)
    logits: GpuBuffer,    // (B, T, V)
}

impl Activations {
    fn new(ctx: &GpuContext, config: &GptConfig, max_batch: usize) -> GpuResult<Self> {
        let (v, l, nh, c) = (config.vocab_size, config.n_layer, config.n_head, config.n_embd);
        let (b, t) = (max_batch, config.block_size);
        // A buffer of the product of `dims` f32s; a product too large for usize is a shape error
        // naming the tensor (and one too large for the device is refused by storage_buffer).
        let buf = |label: &str, dims: &[usize]| -> GpuResult<GpuBuffer> {
            let len = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).ok_or_else(|| {
                Error::Shape(format!("activation {label} {dims:?} has more elements than this platform can index"))
            })?;
            ctx.storage_buffer(label, len)
        };
        Ok(Activations {
            tokens: buf("tokens", &[b, t])?,
            encoded: buf("encoded", &[b, t, c])?,
            ln1: buf("ln1", &[l, b, t, c])?,
            ln_mean: buf("ln_mean", &[2 * l + 1, b, t])?,
            ln_rstd: buf("ln_rstd", &[2 * l + 1, b, t])?,
            qkv: buf("qkv", &[l, b, t, 3 * c])?,
            atty: buf("atty", &[l, b, t, c])?,
            att: buf("att", &[l, b, nh, t, t])?,
            attproj: buf("attproj", &[l, b, t, c])?,
            residual2: buf("residual2", &[l, b, t, c])?,
            ln2: buf("ln2", &[l, b, t, c])?,
            fch: buf("fch", &[l, b, t, 4 * c])?,
            fch_gelu: buf("fch_gelu", &[l, b, t, 4 * c])?,
            fcproj: buf("fcproj", &[l, b, t, c])?,
            residual3: buf("residual3", &[l, b, t, c])?,
            lnf: buf("lnf", &[b, t, c])?,
            logits: buf("logits", &[b, t, v])?,
        })
    }

    fn all(&self) -> [&GpuBuffer; 17] {
        [
            &self.tokens,
            &self.encoded,
            &self.ln1,
            &self.ln_mean,
            &self.ln_rstd,
            &self.qkv,
            &self.atty,
            &self.att,
            &self.attproj,
            &self.residual2,
            &self.ln2,
            &self.fch,
            &self.fch_gelu,
            &self.fcproj,
            &self.residual3,
            &self.lnf,
            &self.logits,
        ]
    }
}

/// What training adds on the GPU, allocated by the first [`GpuGpt::train_step`]: gradients and
/// AdamW's moments in the parameters' layout, the activation gradients of one layer at a time
/// (llm.c reuses them across layers too), and the step's small inputs and outputs.
struct TrainBuffers {
    grads: GpuBuffer,     // (total params)
    m: GpuBuffer,         // (total params)
    v: GpuBuffer,         // (total params)
    targets: GpuBuffer,   // (B, T) u32
    losses: GpuBuffer,    // (B, T)
    dresidual: GpuBuffer, // (B, T, C)
    dln: GpuBuffer,       // (B, T, C)
    datty: GpuBuffer,     // (B, T, C)
    dqkv: GpuBuffer,      // (B, T, 3C)
    dfch: GpuBuffer,      // (B, T, 4C)
    dpre: GpuBuffer,      // (B, NH, T, T), one layer
    partial: GpuBuffer,   // (GRADNORM_PARTS)
    norm: GpuBuffer,      // (2): the gradient norm and the clipping factor
    hyper: GpuBuffer,     // (8): lr, β1, β2, eps, weight decay, 1 - β1^step, 1 - β2^step, max norm
    staging: GpuBuffer,   // losses (B, T) then norm (2), mapped to read
}

impl TrainBuffers {
    fn new(ctx: &GpuContext, config: &GptConfig, max_batch: usize, total: usize) -> GpuResult<Self> {
        let (nh, c) = (config.n_head, config.n_embd);
        let bt = max_batch * config.block_size;
        let buf = |label: &str, dims: &[usize]| -> GpuResult<GpuBuffer> {
            let len = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).ok_or_else(|| {
                Error::Shape(format!("training buffer {label} {dims:?} has more elements than this platform can index"))
            })?;
            ctx.storage_buffer(label, len)
        };
        Ok(TrainBuffers {
            grads: buf("grads", &[total])?,
            m: buf("adamw m", &[total])?,
            v: buf("adamw v", &[total])?,
            targets: buf("targets", &[bt])?,
            losses: buf("losses", &[bt])?,
            dresidual: buf("dresidual", &[bt, c])?,
            dln: buf("dln", &[bt, c])?,
            datty: buf("datty", &[bt, c])?,
            dqkv: buf("dqkv", &[bt, 3 * c])?,
            dfch: buf("dfch", &[bt, 4 * c])?,
            dpre: buf("dpre", &[max_batch, nh, config.block_size, config.block_size])?,
            partial: buf("gradnorm partial", &[GRADNORM_PARTS])?,
            norm: buf("gradnorm", &[2])?,
            hyper: buf("adamw hyper", &[8])?,
            staging: ctx.staging_buffer("train staging", (bt + 2) * 4)?,
        })
    }

    fn all(&self) -> [&GpuBuffer; 15] {
        [
            &self.grads,
            &self.m,
            &self.v,
            &self.targets,
            &self.losses,
            &self.dresidual,
            &self.dln,
            &self.datty,
            &self.dqkv,
            &self.dfch,
            &self.dpre,
            &self.partial,
            &self.norm,
            &self.hyper,
            &self.staging,
        ]
    }
}

/// What [`GpuGpt::train_step`] reports, as the CPU trainer's `StepStats`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpuStepStats {
    /// Mean cross-entropy of the batch before the update, nats per character.
    pub loss: f32,
    /// Global gradient norm before clipping.
    pub grad_norm: f32,
}

/// Clears the in-flight flag however a forward ends.
struct InFlight<'a>(&'a Cell<bool>);

impl<'a> InFlight<'a> {
    fn enter(flag: &'a Cell<bool>) -> GpuResult<Self> {
        if flag.replace(true) {
            return Err(GpuError::Input(Error::invalid(
                "forward",
                "a forward pass is still running on this model; await it before starting another",
            )));
        }
        Ok(InFlight(flag))
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

/// A GPT-2 (nanoGPT/llm.c architecture, LM head tied to `wte`) whose forward pass runs entirely
/// on the GPU. See the module docs for what crosses the bus.
pub struct GpuGpt {
    ctx: Rc<GpuContext>,
    config: GptConfig,
    max_batch: usize,
    params: GpuBuffer, // (total params) in llm.c order
    offsets: ParamOffsets,
    acts: Activations,
    staging: GpuBuffer, // (max_batch, block_size, V) mapped to read the logits
    /// Uniforms and bind groups per (B, T), built on first use: a forward at a shape seen before
    /// costs no allocation at all.
    plans: RefCell<HashMap<(usize, usize), Rc<Plan>>>,
    /// (B, T) of the last completed forward, whose attention maps are on the GPU.
    last: Cell<Option<(usize, usize)>>,
    in_flight: Cell<bool>,
    /// Training's buffers, from the first training step on.
    train: RefCell<Option<TrainBuffers>>,
    /// The training steps' dispatches per (B, T), as `plans`.
    train_plans: RefCell<HashMap<(usize, usize), Rc<Plan>>>,
    /// AdamW steps taken on the GPU, and β1^step, β2^step.
    adam: Cell<(u64, f64, f64)>,
}

impl GpuGpt {
    /// Uploads `params` (the flat buffer in llm.c order, see [`param_sizes`]) and allocates the
    /// activations for batches of up to `max_batch` sequences of up to `config.block_size` tokens.
    pub async fn new(ctx: Rc<GpuContext>, config: GptConfig, params: &[f32], max_batch: usize) -> GpuResult<GpuGpt> {
        config.validate()?;
        if max_batch == 0 {
            return Err(Error::invalid("max_batch", "must be at least 1").into());
        }
        let offsets = ParamOffsets::new(&config);
        if params.len() != offsets.total {
            return Err(Error::Shape(format!(
                "params has {} floats, expected {} for V={} maxT={} L={} C={} \
                 (llm.c order: wte, wpe, ln1w, ln1b, qkvw, qkvb, attprojw, attprojb, ln2w, ln2b, fcw, fcb, \
                 fcprojw, fcprojb, lnfw, lnfb)",
                params.len(),
                offsets.total,
                config.vocab_size,
                config.block_size,
                config.n_layer,
                config.n_embd
            ))
            .into());
        }
        ctx.check_alive()?;
        ctx.device.push_error_scope(web_sys::GpuErrorFilter::OutOfMemory);
        let made = (|| -> GpuResult<_> {
            let params_buf = ctx.storage_buffer("params", offsets.total)?;
            ctx.write_f32(&params_buf, 0, params)?;
            let acts = Activations::new(&ctx, &config, max_batch)?;
            let staging =
                ctx.staging_buffer("logits staging", max_batch * config.block_size * config.vocab_size * 4)?;
            Ok((params_buf, acts, staging))
        })();
        let oom = ctx.device.pop_error_scope().await;
        let (params_buf, acts, staging) = made?;
        match oom {
            Ok(e) => {
                if let Some(e) = e.into_option() {
                    return Err(GpuError::Gpu(format!("out of GPU memory for the model: {}", e.message())));
                }
            }
            Err(e) => return Err(GpuError::Gpu(format!("popErrorScope: {}", js_message(&e)))),
        }
        Ok(GpuGpt {
            ctx,
            config,
            max_batch,
            params: params_buf,
            offsets,
            acts,
            staging,
            plans: RefCell::new(HashMap::new()),
            last: Cell::new(None),
            in_flight: Cell::new(false),
            train: RefCell::new(None),
            train_plans: RefCell::new(HashMap::new()),
            adam: Cell::new((0, 1.0, 1.0)),
        })
    }

    /// The model's shape.
    pub fn config(&self) -> &GptConfig {
        &self.config
    }

    /// The largest batch a forward accepts.
    pub fn max_batch(&self) -> usize {
        self.max_batch
    }

    /// The context this model lives on (to ask whether its device was lost).
    pub fn context(&self) -> &Rc<GpuContext> {
        &self.ctx
    }

    /// The dispatches of a forward at (B, T), recorded once.
    fn plan(&self, b: usize, t: usize) -> GpuResult<Rc<Plan>> {
        if let Some(plan) = self.plans.borrow().get(&(b, t)) {
            return Ok(plan.clone());
        }
        let mut plan = PlanBuilder::new(&self.ctx);
        self.record_forward(&mut plan, b, t)?;
        let plan = Rc::new(plan.finish(&format!("forward uniforms B={b} T={t}"))?);
        self.plans.borrow_mut().insert((b, t), plan.clone());
        Ok(plan)
    }

    /// Records the forward pass at (B, T) into `plan`: embeddings to logits.
    fn record_forward<'a>(&'a self, plan: &mut PlanBuilder<'a>, b: usize, t: usize) -> GpuResult<()> {
        let GptConfig { vocab_size: v, n_layer: l, n_head: nh, n_embd: c, .. } = self.config;
        let (a, o, p) = (&self.acts, &self.offsets, &self.params);
        let bt = b * t;
        plan.encoder(at(&a.encoded, 0), &a.tokens, p, o.wte, o.wpe, b, t, c)?;
        for layer in 0..l {
            // Offsets of this layer's slice of each (L, ...) activation.
            let lc = layer * bt * c; // (B, T, C)
            let l3c = layer * bt * 3 * c; // (B, T, 3C)
            let l4c = layer * bt * 4 * c; // (B, T, 4C)
            let latt = layer * b * nh * t * t; // (B, NH, T, T)
            let residual = if layer == 0 { at(&a.encoded, 0) } else { at(&a.residual3, lc - bt * c) };

            plan.layernorm(
                at(&a.ln1, lc),
                residual.clone(),
                at(p, o.ln1w + layer * c),
                o.ln1b + layer * c,
                &a.ln_mean,
                &a.ln_rstd,
                layer * bt,
                bt,
                c,
            )?;
            let qkvw = at(p, o.qkvw + layer * 3 * c * c);
            let qkvb = at(p, o.qkvb + layer * 3 * c);
            plan.linear_forward(at(&a.qkv, l3c), at(&a.ln1, lc), qkvw, Some(qkvb), bt, c, 3 * c)?;
            plan.attention(at(&a.atty, lc), at(&a.att, latt), at(&a.qkv, l3c), b, t, c, nh)?;
            let attprojw = at(p, o.attprojw + layer * c * c);
            let attprojb = at(p, o.attprojb + layer * c);
            plan.linear_forward(at(&a.attproj, lc), at(&a.atty, lc), attprojw, Some(attprojb), bt, c, c)?;
            plan.residual(at(&a.residual2, lc), residual, at(&a.attproj, lc), bt * c)?;

            plan.layernorm(
                at(&a.ln2, lc),
                at(&a.residual2, lc),
                at(p, o.ln2w + layer * c),
                o.ln2b + layer * c,
                &a.ln_mean,
                &a.ln_rstd,
                (l + layer) * bt,
                bt,
                c,
            )?;
            let fcw = at(p, o.fcw + layer * 4 * c * c);
            let fcb = at(p, o.fcb + layer * 4 * c);
            plan.linear_forward(at(&a.fch, l4c), at(&a.ln2, lc), fcw, Some(fcb), bt, c, 4 * c)?;
            plan.gelu(at(&a.fch_gelu, l4c), at(&a.fch, l4c), bt * 4 * c)?;
            let fcprojw = at(p, o.fcprojw + layer * c * 4 * c);
            let fcprojb = at(p, o.fcprojb + layer * c);
            plan.linear_forward(at(&a.fcproj, lc), at(&a.fch_gelu, l4c), fcprojw, Some(fcprojb), bt, 4 * c, c)?;
            plan.residual(at(&a.residual3, lc), at(&a.residual2, lc), at(&a.fcproj, lc), bt * c)?;
        }
        let last = at(&a.residual3, (l - 1) * bt * c);
        plan.layernorm(at(&a.lnf, 0), last, at(p, o.lnfw), o.lnfb, &a.ln_mean, &a.ln_rstd, 2 * l * bt, bt, c)?;
        // The LM head is wte (V, C): logits (B, T, V) = lnf (B, T, C) · wteᵀ.
        plan.linear_forward(at(&a.logits, 0), at(&a.lnf, 0), at(p, o.wte), None, bt, c, v)
    }

    /// Logits (B, T, V) for `tokens` (B, T): one upload of the token ids, one submit, one
    /// readback. Ids must be below vocab_size, B at most `max_batch`, T at most block_size.
    pub async fn forward(&self, tokens: &[u32], b: usize, t: usize) -> GpuResult<Vec<f32>> {
        self.check_batch(tokens, b, t)?;
        let v = self.config.vocab_size;
        let _guard = InFlight::enter(&self.in_flight)?;
        self.ctx.check_alive()?;
        let plan = self.plan(b, t)?;
        self.ctx.write_u32(&self.acts.tokens, 0, tokens)?;

        let encoder = self.ctx.begin()?;
        let pass = encoder.begin_compute_pass();
        plan.encode(&pass);
        pass.end();
        let bytes = (b * t * v * 4) as f64;
        encoder
            .copy_buffer_to_buffer_with_f64_and_f64_and_f64(&self.acts.logits, 0.0, &self.staging, 0.0, bytes)
            .map_err(|e| GpuError::Gpu(format!("copyBufferToBuffer: {}", js_message(&e))))?;
        self.ctx.submit(encoder).await?;
        let logits = self.ctx.map_read(&self.staging, b * t * v).await?;
        self.last.set(Some((b, t)));
        Ok(logits)
    }

    /// Checks a batch of token ids (B, T) against this model: B in 1..=max_batch, T in
    /// 1..=block_size, B*T ids, each below vocab_size.
    fn check_batch(&self, tokens: &[u32], b: usize, t: usize) -> GpuResult<()> {
        let GptConfig { vocab_size: v, block_size, .. } = self.config;
        if b == 0 || b > self.max_batch {
            return Err(Error::invalid("b", format!("batch {b} is outside 1..={}", self.max_batch)).into());
        }
        if t == 0 || t > block_size {
            return Err(
                Error::invalid("t", format!("sequence length {t} is outside 1..={block_size} (block_size)")).into()
            );
        }
        if tokens.len() != b * t {
            return Err(
                Error::Shape(format!("tokens has {} ids, expected B*T = {b}*{t} = {}", tokens.len(), b * t)).into()
            );
        }
        if let Some((i, &id)) = tokens.iter().enumerate().find(|(_, &id)| id as usize >= v) {
            return Err(Error::invalid("tokens", format!("id {id} at position {i} is not below vocab_size {v}")).into());
        }
        Ok(())
    }

    /// The dispatches of a training step at (B, T), recorded once: the forward, the loss, the
    /// backward pass (the CPU model's order, `Gpt::backward`), the gradient norm and AdamW.
    fn train_plan(&self, b: usize, t: usize) -> GpuResult<Rc<Plan>> {
        if let Some(plan) = self.train_plans.borrow().get(&(b, t)) {
            return Ok(plan.clone());
        }
        let train = self.train.borrow();
        let tb = train.as_ref().expect("train_step allocates the training buffers before planning");
        let GptConfig { vocab_size: v, n_layer: l, n_head: nh, n_embd: c, .. } = self.config;
        let (a, o, p, g) = (&self.acts, &self.offsets, &self.params, &tb.grads);
        let bt = b * t;
        let mut plan = PlanBuilder::new(&self.ctx);
        self.record_forward(&mut plan, b, t)?;

        // Loss; the logits become their gradient.
        plan.crossentropy(at(&a.logits, 0), &tb.targets, &tb.losses, bt, v)?;
        // LM head (tied to wte), then the final LayerNorm into the residual stream's gradient.
        plan.linear_backward_dinp_into(at(&tb.dln, 0), at(&a.logits, 0), at(p, o.wte), false, bt, c, v)?;
        plan.linear_backward_dweight(at(g, o.wte), at(&a.logits, 0), at(&a.lnf, 0), bt, c, v)?;
        let last = at(&a.residual3, (l - 1) * bt * c);
        let (mean, rstd) = (&a.ln_mean, &a.ln_rstd);
        plan.layernorm_backward(at(&tb.dresidual, 0), false, g, o.lnfw, o.lnfb, at(&tb.dln, 0), last, at(p, o.lnfw), mean, rstd, 2 * l * bt, bt, c)?;
        let dres = || at(&tb.dresidual, 0);
        for layer in (0..l).rev() {
            let (lc, l3c, l4c, latt) = (layer * bt * c, layer * bt * 3 * c, layer * bt * 4 * c, layer * b * nh * t * t);
            let residual = if layer == 0 { at(&a.encoded, 0) } else { at(&a.residual3, lc - bt * c) };
            // MLP: residual3 = residual2 + fcproj(gelu(fc(ln2(residual2)))).
            let fcprojw = at(p, o.fcprojw + layer * c * 4 * c);
            plan.linear_backward_dinp_into(at(&tb.dfch, 0), dres(), fcprojw, false, bt, 4 * c, c)?;
            plan.linear_backward_dweight(at(g, o.fcprojw + layer * c * 4 * c), dres(), at(&a.fch_gelu, l4c), bt, 4 * c, c)?;
            plan.linear_backward_dbias(at(g, o.fcprojb + layer * c), dres(), bt, c)?;
            plan.gelu_backward(at(&tb.dfch, 0), at(&a.fch, l4c), bt * 4 * c)?;
            let fcw = at(p, o.fcw + layer * 4 * c * c);
            plan.linear_backward_dinp_into(at(&tb.dln, 0), at(&tb.dfch, 0), fcw, false, bt, c, 4 * c)?;
            plan.linear_backward_dweight(at(g, o.fcw + layer * 4 * c * c), at(&tb.dfch, 0), at(&a.ln2, lc), bt, c, 4 * c)?;
            plan.linear_backward_dbias(at(g, o.fcb + layer * 4 * c), at(&tb.dfch, 0), bt, 4 * c)?;
            let (ln2w, ln2b) = (o.ln2w + layer * c, o.ln2b + layer * c);
            plan.layernorm_backward(dres(), true, g, ln2w, ln2b, at(&tb.dln, 0), at(&a.residual2, lc), at(p, ln2w), mean, rstd, (l + layer) * bt, bt, c)?;
            // Attention: residual2 = residual + attproj(attention(qkv(ln1(residual)))).
            let attprojw = at(p, o.attprojw + layer * c * c);
            plan.linear_backward_dinp_into(at(&tb.datty, 0), dres(), attprojw, false, bt, c, c)?;
            plan.linear_backward_dweight(at(g, o.attprojw + layer * c * c), dres(), at(&a.atty, lc), bt, c, c)?;
            plan.linear_backward_dbias(at(g, o.attprojb + layer * c), dres(), bt, c)?;
            plan.attention_backward(at(&tb.dqkv, 0), &tb.dpre, at(&tb.datty, 0), at(&a.qkv, l3c), at(&a.att, latt), b, t, c, nh)?;
            let qkvw = at(p, o.qkvw + layer * 3 * c * c);
            plan.linear_backward_dinp_into(at(&tb.dln, 0), at(&tb.dqkv, 0), qkvw, false, bt, c, 3 * c)?;
            plan.linear_backward_dweight(at(g, o.qkvw + layer * 3 * c * c), at(&tb.dqkv, 0), at(&a.ln1, lc), bt, c, 3 * c)?;
            plan.linear_backward_dbias(at(g, o.qkvb + layer * 3 * c), at(&tb.dqkv, 0), bt, 3 * c)?;
            let (ln1w, ln1b) = (o.ln1w + layer * c, o.ln1b + layer * c);
            plan.layernorm_backward(dres(), true, g, ln1w, ln1b, at(&tb.dln, 0), residual, at(p, ln1w), mean, rstd, layer * bt, bt, c)?;
        }
        let learned = self.config.pos_encoding == PosEncoding::Learned;
        plan.encoder_backward(g, o.wte, learned.then_some(o.wpe), dres(), &a.tokens, b, t, c, v)?;

        // Clip and step: AdamW per tensor, weight decay on matrices; the fixed sinusoidal table
        // is never touched (as `Gpt::update`).
        plan.gradnorm(&tb.norm, &tb.partial, g, &tb.hyper, o.total)?;
        let layout = ParameterLayout::new(&self.config)?;
        for spec in &layout.specs {
            if !learned && spec.name == "wpe" {
                continue;
            }
            plan.adamw(p, g, &tb.m, &tb.v, &tb.hyper, &tb.norm, spec.offset, spec.size, spec.decay == Decay::Matrix)?;
        }
        let plan = Rc::new(plan.finish(&format!("training uniforms B={b} T={t}"))?);
        self.train_plans.borrow_mut().insert((b, t), plan.clone());
        Ok(plan)
    }

    /// One training step on the GPU, as the CPU trainer's (`Gpt::forward`, `backward`,
    /// `clip_grad_norm(grad_clip)`, `update(opt, lr)`): `inputs` and `targets` (B, T) go up, one
    /// submit runs everything, and the losses (B, T) and the gradient norm come back. The
    /// parameters change on the GPU only; [`GpuGpt::read_params`] fetches them.
    #[allow(clippy::too_many_arguments)]
    pub async fn train_step(
        &self,
        inputs: &[u32],
        targets: &[u32],
        b: usize,
        t: usize,
        lr: f32,
        opt: &AdamW,
        grad_clip: f32,
    ) -> GpuResult<GpuStepStats> {
        self.check_batch(inputs, b, t)?;
        if targets.len() != inputs.len() {
            return Err(Error::Shape(format!("targets has {} ids, inputs {}", targets.len(), inputs.len())).into());
        }
        let v = self.config.vocab_size;
        if let Some((i, &id)) = targets.iter().enumerate().find(|(_, &id)| id as usize >= v) {
            return Err(Error::invalid("targets", format!("id {id} at position {i} is not below vocab_size {v}")).into());
        }
        if !(lr.is_finite() && lr >= 0.0) {
            return Err(Error::invalid("lr", format!("{lr} must be a finite number >= 0")).into());
        }
        let _guard = InFlight::enter(&self.in_flight)?;
        self.ctx.check_alive()?;
        if self.train.borrow().is_none() {
            let buffers = TrainBuffers::new(&self.ctx, &self.config, self.max_batch, self.offsets.total)?;
            *self.train.borrow_mut() = Some(buffers);
        }
        let plan = self.train_plan(b, t)?;
        let train = self.train.borrow();
        let tb = train.as_ref().expect("allocated above");

        let (step, beta1_pow, beta2_pow) = self.adam.get();
        let (beta1_pow, beta2_pow) = (beta1_pow * opt.beta1 as f64, beta2_pow * opt.beta2 as f64);
        let hyper = [
            lr,
            opt.beta1,
            opt.beta2,
            opt.eps,
            opt.weight_decay,
            (1.0 - beta1_pow) as f32,
            (1.0 - beta2_pow) as f32,
            grad_clip,
        ];
        self.ctx.write_u32(&self.acts.tokens, 0, inputs)?;
        self.ctx.write_u32(&tb.targets, 0, targets)?;
        self.ctx.write_f32(&tb.hyper, 0, &hyper)?;

        let encoder = self.ctx.begin()?;
        encoder.clear_buffer(&tb.grads);
        let pass = encoder.begin_compute_pass();
        plan.encode(&pass);
        pass.end();
        let bt = b * t;
        let copy = |src: &GpuBuffer, dst_byte: usize, bytes: usize| {
            encoder
                .copy_buffer_to_buffer_with_f64_and_f64_and_f64(src, 0.0, &tb.staging, dst_byte as f64, bytes as f64)
                .map_err(|e| GpuError::Gpu(format!("copyBufferToBuffer: {}", js_message(&e))))
        };
        copy(&tb.losses, 0, bt * 4)?;
        copy(&tb.norm, bt * 4, 8)?;
        self.ctx.submit(encoder).await?;
        let out = self.ctx.map_read(&tb.staging, bt + 2).await?;
        self.adam.set((step + 1, beta1_pow, beta2_pow));
        self.last.set(Some((b, t)));
        let loss = (out[..bt].iter().map(|&x| x as f64).sum::<f64>() / bt as f64) as f32;
        Ok(GpuStepStats { loss, grad_norm: out[bt] })
    }

    /// AdamW steps taken on the GPU.
    pub fn train_steps(&self) -> u64 {
        self.adam.get().0
    }

    /// The parameters as they are on the GPU (llm.c order), e.g. after training steps.
    pub async fn read_params(&self) -> GpuResult<Vec<f32>> {
        self.read(&self.params, self.offsets.total, "params").await
    }

    /// The parameters and AdamW's state (moments and update count) as they are on the GPU, llm.c
    /// order: what the CPU side takes to continue the run exactly there (`TrainRun::
    /// set_external_state`). One submit and three readbacks of the parameters' size, so a sync
    /// moves three times what the parameters alone would (for the Train page's tiny models, a few
    /// MB). Before the first training step the moments are zeros and t is 0.
    pub async fn read_train_state(&self) -> GpuResult<(Vec<f32>, AdamState)> {
        let _guard = InFlight::enter(&self.in_flight)?;
        let train = self.train.borrow();
        let n = self.offsets.total;
        // A staging buffer per tensor: each stays within the device's buffer size limit as the
        // tensor itself does. Without training buffers the moments' staging stays zero.
        // Destroyed when this returns, however it returns (a failing device errs half-way).
        let staging = ["params", "adamw m", "adamw v"]
            .map(|label| self.ctx.staging_buffer(&format!("{label} staging"), n * 4).map(Transient))
            .into_iter()
            .collect::<GpuResult<Vec<_>>>()?;
        let encoder = self.ctx.begin()?;
        let sources = [Some(&self.params), train.as_ref().map(|tb| &tb.m), train.as_ref().map(|tb| &tb.v)];
        for (src, dst) in sources.iter().zip(&staging) {
            if let Some(src) = src {
                encoder
                    .copy_buffer_to_buffer_with_f64_and_f64_and_f64(src, 0.0, dst, 0.0, (n * 4) as f64)
                    .map_err(|e| GpuError::Gpu(format!("copyBufferToBuffer: {}", js_message(&e))))?;
            }
        }
        self.ctx.submit(encoder).await?;
        let mut read = Vec::with_capacity(3);
        for buffer in &staging {
            read.push(self.ctx.map_read(buffer, n).await?);
        }
        let [params, m, v]: [Vec<f32>; 3] = read.try_into().expect("three readbacks");
        Ok((params, AdamState { m, v, t: self.adam.get().0 }))
    }

    /// The gradients of the last training step, before clipping (llm.c order).
    pub async fn read_grads(&self) -> GpuResult<Vec<f32>> {
        let train = self.train.borrow();
        let Some(tb) = train.as_ref() else {
            return Err(Error::invalid("grads", "no training step has run on this model yet").into());
        };
        self.read(&tb.grads, self.offsets.total, "grads").await
    }

    /// `len` floats of `buffer`, through a staging buffer made for the occasion.
    async fn read(&self, buffer: &GpuBuffer, len: usize, label: &str) -> GpuResult<Vec<f32>> {
        let _guard = InFlight::enter(&self.in_flight)?;
        let staging = Transient(self.ctx.staging_buffer(&format!("{label} staging"), len * 4)?);
        let encoder = self.ctx.begin()?;
        encoder
            .copy_buffer_to_buffer_with_f64_and_f64_and_f64(buffer, 0.0, &staging, 0.0, (len * 4) as f64)
            .map_err(|e| GpuError::Gpu(format!("copyBufferToBuffer: {}", js_message(&e))))?;
        self.ctx.submit(encoder).await?;
        self.ctx.map_read(&staging, len).await
    }

    /// The attention probabilities of the last forward, (L, B, NH, T, T) at that forward's B and
    /// T (zeros above the diagonal). Read back only when asked.
    pub async fn attention(&self) -> GpuResult<Vec<f32>> {
        let Some((b, t)) = self.last.get() else {
            return Err(Error::invalid("attention", "no forward pass has run on this model yet").into());
        };
        let _guard = InFlight::enter(&self.in_flight)?;
        let len = self.config.n_layer * b * self.config.n_head * t * t;
        let staging = Transient(self.ctx.staging_buffer("attention staging", len * 4)?);
        let encoder = self.ctx.begin()?;
        encoder
            .copy_buffer_to_buffer_with_f64_and_f64_and_f64(&self.acts.att, 0.0, &staging, 0.0, (len * 4) as f64)
            .map_err(|e| GpuError::Gpu(format!("copyBufferToBuffer: {}", js_message(&e))))?;
        self.ctx.submit(encoder).await?;
        self.ctx.map_read(&staging, len).await
    }
}

impl Drop for GpuGpt {
    fn drop(&mut self) {
        for buffer in self.acts.all().into_iter().chain([&self.params, &self.staging]) {
            buffer.destroy();
        }
        if let Some(train) = self.train.borrow().as_ref() {
            train.all().into_iter().for_each(|b| b.destroy());
        }
    }
}
