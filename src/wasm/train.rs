//! Training for JS: a [`TrainSession`] handle over the core's [`TrainRun`], and the plain
//! functions the Train page calls while the reader edits (text statistics, the run's plan,
//! the limits, a checkpoint's header).
//!
//! Options are one plain object in `RunOptions`' names (`{n_layer, n_head, n_embd, block_size,
//! pos_encoding, batch_size, steps, lr, min_lr, warmup_steps, schedule, weight_decay,
//! grad_clip, seed}`, each optional); a bad one throws an `Error` whose message starts with its
//! name (`n_head: n_embd = 30 is not divisible by n_head = 4 ...`). Tokens per second are
//! measured by the caller: the core reads no clock.

use js_sys::Float32Array;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::{from_js, StepBatchJs, js_error, kernels, to_js};
use crate::checkpoint;
use crate::config::PosEncoding;
use crate::model::run::{self, RunOptions, TrainRun, MAX_MEMORY_BYTES, MAX_TEXT_BYTES};
use crate::model::AdamState;

/// A model in training on one text. Keep one per run; `free()` it when done.
#[wasm_bindgen]
pub struct TrainSession {
    run: TrainRun,
    /// The learning rate of the step `nextBatch` last handed out.
    external_lr: f32,
    /// The CPU kernels the run takes its steps on, fixed when it is made: a threaded build's pool
    /// that comes up later does not switch a running run to data-parallel shards half-way.
    kernels: &'static dyn crate::kernels::Kernels,
}

/// What `step(n)` returns.
#[derive(Serialize)]
struct StepsJs {
    /// Steps done by this run after these.
    step: usize,
    /// Steps this run will take.
    steps: usize,
    /// Loss of each step's batch, before its update.
    losses: Vec<f32>,
    /// Learning rate of the last step.
    lr: f32,
    /// Gradient norm of the last step, before clipping.
    grad_norm: f32,
    /// Characters trained on so far (a continued checkpoint's included).
    tokens_trained: f64,
    done: bool,
}

/// What `info()` returns.
#[derive(Serialize)]
struct InfoJs {
    block_size: usize,
    vocab_size: usize,
    n_layer: usize,
    n_head: usize,
    n_embd: usize,
    pos_encoding: PosEncoding,
    num_parameters: usize,
    vocab: String,
    train_chars: usize,
    val_chars: usize,
    replaced: usize,
    steps_before: f64,
    step: usize,
    tokens_trained: f64,
    options: RunOptions,
    plan: run::Plan,
}

/// What `probe` returns.
#[derive(Serialize)]
struct ProbeJs {
    /// Positions the model saw (the text's last block_size characters at most).
    t: usize,
    /// Those characters, after replacement.
    text: String,
}

/// What `checkpointInfo` returns.
#[derive(Serialize)]
struct CheckpointInfoJs {
    block_size: usize,
    vocab_size: usize,
    n_layer: usize,
    n_head: usize,
    n_embd: usize,
    pos_encoding: PosEncoding,
    vocab: String,
    step: Option<f64>,
    metadata: std::collections::BTreeMap<String, String>,
}

#[wasm_bindgen]
impl TrainSession {
    /// A fresh model for `text` (its vocabulary, its 90/10 split) configured by `options`.
    #[wasm_bindgen(constructor)]
    pub fn new(text: &str, #[wasm_bindgen(unchecked_param_type = "object")] options: JsValue) -> Result<TrainSession, JsError> {
        let options: RunOptions = from_js(options, "options")?;
        Ok(TrainSession { run: TrainRun::new(text, options).map_err(js_error)?, external_lr: 0.0, kernels: kernels() })
    }

    /// Continues a checkpoint (safetensors bytes) on `text`; `options` must give the
    /// checkpoint's shape. Characters outside its vocabulary are replaced (see `info().replaced`).
    #[wasm_bindgen(js_name = fromCheckpoint)]
    pub fn from_checkpoint(
        bytes: &[u8],
        text: &str,
        #[wasm_bindgen(unchecked_param_type = "object")] options: JsValue,
    ) -> Result<TrainSession, JsError> {
        let options: RunOptions = from_js(options, "options")?;
        Ok(TrainSession { run: TrainRun::from_checkpoint(bytes, text, options).map_err(js_error)?, external_lr: 0.0, kernels: kernels() })
    }

    /// The CPU kernels this run takes its steps on: "threads" (data-parallel shards on the pool)
    /// or "simd128".
    #[wasm_bindgen(js_name = kernels)]
    pub fn kernels_name(&self) -> String {
        self.kernels.name().to_string()
    }

    /// Takes up to `n` steps (fewer when the run ends) and returns their losses and the last
    /// step's learning rate and gradient norm.
    pub fn step(&mut self, n: u32) -> Result<JsValue, JsError> {
        let k = self.kernels;
        let mut losses = Vec::with_capacity(n as usize);
        let (mut lr, mut grad_norm) = (0.0, 0.0);
        for _ in 0..n {
            if self.run.done() {
                break;
            }
            let s = self.run.step(k).map_err(js_error)?;
            losses.push(s.loss);
            (lr, grad_norm) = (s.lr, s.grad_norm);
        }
        to_js(&StepsJs {
            step: self.run.steps_done(),
            steps: self.run.options().steps,
            losses,
            lr,
            grad_norm,
            tokens_trained: self.run.tokens_trained() as f64,
            done: self.run.done(),
        })
    }

    /// The next step's batch, for a step run on the GPU: `{inputs, targets, b, t, lr, beta1,
    /// beta2, eps, weight_decay, grad_clip}` (pass it to `WebGpuGpt.trainStep`), drawn as `step`
    /// would draw it; then `countStep(loss, gradNorm)`. Throws once every step is done.
    #[wasm_bindgen(js_name = nextBatch)]
    pub fn next_batch(&mut self) -> Result<JsValue, JsError> {
        let s = self.run.next_batch().map_err(js_error)?;
        self.external_lr = s.lr;
        to_js(&StepBatchJs {
            inputs: s.inputs,
            targets: s.targets,
            b: s.b,
            t: s.t,
            lr: s.lr,
            beta1: s.opt.beta1,
            beta2: s.opt.beta2,
            eps: s.opt.eps,
            weight_decay: s.opt.weight_decay,
            grad_clip: s.grad_clip,
        })
    }

    /// Counts the step `nextBatch` handed out, run elsewhere with this loss and gradient norm;
    /// returns what `step(1)` would have.
    #[wasm_bindgen(js_name = countStep)]
    pub fn count_step(&mut self, loss: f32, grad_norm: f32) -> Result<JsValue, JsError> {
        self.run.count_step(loss, grad_norm).map_err(js_error)?;
        to_js(&StepsJs {
            step: self.run.steps_done(),
            steps: self.run.options().steps,
            losses: vec![loss],
            lr: self.external_lr,
            grad_norm,
            tokens_trained: self.run.tokens_trained() as f64,
            done: self.run.done(),
        })
    }

    /// Whether the run may train on the GPU within the page's memory cap: the state kept to fall
    /// back to, and the one being brought back, on top of the run's own memory.
    #[wasm_bindgen(js_name = gpuFits)]
    pub fn gpu_fits(&self) -> bool {
        self.run.external_fits()
    }

    /// The parameters (flat, llm.c order), copied: what `WebGpuGpt.create` uploads.
    pub fn params(&self) -> Vec<f32> {
        self.run.gpt().params().to_vec()
    }

    /// Takes the state of the GPU that ran every step counted so far (`WebGpuGpt.readTrainState()`:
    /// parameters, AdamW's moments m and v, and its update count t) and keeps the run as it now
    /// stands for `fallBack()`. Throws on a wrong length, a non-finite value or a bad t, changing
    /// nothing.
    #[wasm_bindgen(js_name = setExternalState)]
    pub fn set_external_state(&mut self, params: Vec<f32>, m: Vec<f32>, v: Vec<f32>, t: f64) -> Result<(), JsError> {
        if !(t >= 0.0 && t.fract() == 0.0 && t <= run::MAX_STEPS as f64) {
            return Err(JsError::new(&format!("t: {t} must be a whole number of AdamW updates from 0 to {}", run::MAX_STEPS)));
        }
        let adam = AdamState { m, v, t: t as u64 };
        self.run.set_external_state(params, adam).map_err(js_error)
    }

    /// After a GPU failure: puts the run back at the last state `setExternalState` took (or the
    /// state the first GPU step started from), undoing the steps counted since, and returns what
    /// `step(n)` does, with no losses: the next `step(1)` takes the step after it on the batch the
    /// GPU took there.
    #[wasm_bindgen(js_name = fallBack)]
    pub fn fall_back(&mut self) -> Result<JsValue, JsError> {
        self.run.fall_back().map_err(js_error)?;
        let step = self.run.steps_done();
        to_js(&StepsJs {
            step,
            steps: self.run.options().steps,
            losses: Vec::new(),
            lr: if step > 0 { self.run.options().train_config().schedule.at(step - 1) } else { 0.0 },
            grad_norm: 0.0,
            tokens_trained: self.run.tokens_trained() as f64,
            done: self.run.done(),
        })
    }

    /// Mean loss over `iters` batches of each split: `{step, train, val}`; the same batches at
    /// every call, as `glassgpt train` evaluates.
    pub fn evaluate(&mut self, iters: u32) -> Result<JsValue, JsError> {
        let e = self.run.evaluate(self.kernels, iters as usize).map_err(js_error)?;
        to_js(&e)
    }

    /// `length` characters sampled after `prompt` at `temperature` from `seed`.
    pub fn sample(&mut self, prompt: &str, length: u32, temperature: f32, seed: f64) -> Result<String, JsError> {
        if !(0.0..=9_007_199_254_740_991.0).contains(&seed) {
            return Err(JsError::new(&format!("seed: {seed} must be a whole number from 0 to 2^53 - 1")));
        }
        self.run.sample(self.kernels, prompt, length as usize, temperature, seed as u64).map_err(js_error)
    }

    /// Runs the model over `text` (its last block_size characters) for inspection; afterwards
    /// `attentionView()` is (L, NH, T, T) and `probeProbs()` the next-character distribution.
    pub fn probe(&mut self, text: &str) -> Result<JsValue, JsError> {
        let ids = self.run.probe(self.kernels, text).map_err(js_error)?.to_vec();
        let text = self.run.vocab().decode(&ids).map_err(js_error)?;
        to_js(&ProbeJs { t: ids.len(), text })
    }

    /// Attention of the last probe, (L, NH, T, T): a view valid until the next call (copy it).
    #[wasm_bindgen(js_name = attentionView)]
    pub fn attention_view(&self) -> Float32Array {
        // SAFETY: a view over memory the run owns; documented as valid until the next call.
        unsafe { Float32Array::view(self.run.attention()) }
    }

    /// The next-character distribution (V) after the last probe, as a new array.
    #[wasm_bindgen(js_name = probeProbs)]
    pub fn probe_probs(&self) -> Float32Array {
        Float32Array::from(self.run.probe_probs())
    }

    /// The position embedding `wpe` (block_size, C), learned or sinusoidal: a view valid until
    /// the next call.
    #[wasm_bindgen(js_name = wpeView)]
    pub fn wpe_view(&self) -> Float32Array {
        // SAFETY: see attention_view.
        unsafe { Float32Array::view(self.run.gpt().wpe()) }
    }

    /// Cosine similarity of every pair of positions of `wpe`, (block_size, block_size).
    #[wasm_bindgen(js_name = positionSimilarity)]
    pub fn position_similarity(&self) -> Vec<f32> {
        self.run.gpt().position_similarity()
    }

    /// The model now, as safetensors bytes (`glassgpt sample` and the playground load it).
    pub fn checkpoint(&self) -> Result<Vec<u8>, JsError> {
        self.run.checkpoint().map_err(js_error)
    }

    /// The model's shape, vocabulary, split, counters, options and plan (6ND, GPT-3's beside).
    pub fn info(&self) -> Result<JsValue, JsError> {
        let c = *self.run.gpt().config();
        let (train_chars, val_chars) = self.run.split_sizes();
        to_js(&InfoJs {
            block_size: c.block_size,
            vocab_size: c.vocab_size,
            n_layer: c.n_layer,
            n_head: c.n_head,
            n_embd: c.n_embd,
            pos_encoding: c.pos_encoding,
            num_parameters: self.run.gpt().num_parameters(),
            vocab: self.run.vocab().as_string(),
            train_chars,
            val_chars,
            replaced: self.run.replaced(),
            steps_before: self.run.steps_before() as f64,
            step: self.run.steps_done(),
            tokens_trained: self.run.tokens_trained() as f64,
            options: self.run.options().clone(),
            plan: self.run.options().plan(c.vocab_size).map_err(js_error)?,
        })
    }
}

/// Characters, bytes, vocabulary and the 90/10 split of `text`; empty or too large throws.
#[wasm_bindgen(js_name = textStats)]
pub fn text_stats(text: &str) -> Result<JsValue, JsError> {
    to_js(&run::text_stats(text).map_err(js_error)?)
}

/// Checks `options` for a vocabulary of `vocab_size` and says what the run amounts to:
/// `{num_parameters, params, tokens_per_step, tokens, flops, gpt3_flops, fraction_of_gpt3,
/// memory_bytes}` (`params`, `flops`, `gpt3_flops` are the calculator's quantities, with
/// display strings and formulas). Throws naming the first bad field.
#[wasm_bindgen(js_name = trainPlan)]
pub fn train_plan(#[wasm_bindgen(unchecked_param_type = "object")] options: JsValue, vocab_size: u32) -> Result<JsValue, JsError> {
    let options: RunOptions = from_js(options, "options")?;
    to_js(&options.plan(vocab_size as usize).map_err(js_error)?)
}

/// The default options (the "tiny" preset's shape), the limits a page states and the kernels
/// training runs on: `{defaults, max_text_bytes, max_memory_bytes, max_steps, max_eval_iters,
/// max_sample_length, kernels}`.
#[wasm_bindgen(js_name = trainLimits)]
pub fn train_limits() -> Result<JsValue, JsError> {
    #[derive(Serialize)]
    struct Limits {
        defaults: RunOptions,
        max_text_bytes: usize,
        max_memory_bytes: usize,
        max_steps: usize,
        max_eval_iters: usize,
        max_sample_length: usize,
        kernels: &'static str,
    }
    to_js(&Limits {
        defaults: RunOptions::default(),
        max_text_bytes: MAX_TEXT_BYTES,
        max_memory_bytes: MAX_MEMORY_BYTES,
        max_steps: run::MAX_STEPS,
        max_eval_iters: run::MAX_EVAL_ITERS,
        max_sample_length: run::MAX_SAMPLE_LENGTH,
        kernels: kernels().name(),
    })
}

/// A checkpoint's shape, vocabulary, step and metadata, read and fully checked without
/// keeping it; a bad file throws saying what is wrong with it.
#[wasm_bindgen(js_name = checkpointInfo)]
pub fn checkpoint_info(bytes: &[u8]) -> Result<JsValue, JsError> {
    let ck = checkpoint::load(bytes).map_err(js_error)?;
    let c = ck.config;
    to_js(&CheckpointInfoJs {
        block_size: c.block_size,
        vocab_size: c.vocab_size,
        n_layer: c.n_layer,
        n_head: c.n_head,
        n_embd: c.n_embd,
        pos_encoding: c.pos_encoding,
        vocab: ck.vocab.as_string(),
        step: ck.step.map(|s| s as f64),
        metadata: ck.metadata,
    })
}
