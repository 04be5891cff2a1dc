//! A training run as the Train page drives it: text and options in; steps, evaluations,
//! samples, attention probes and checkpoints out. The bindings (`src/wasm/train.rs`) wrap it
//! in a handle; the native test `tests/train_run.rs` checks that it trains exactly as
//! `glassgpt train` does from the same seed and text (same split, batches, schedule, and
//! evaluation batches), so a curve in the page is the CLI's curve.
//!
//! ```text
//! RunOptions ──validate──▶ TrainRun::new(text) ──▶ step() × steps, evaluate(), sample(), probe()
//!            └──────────▶ plan(vocab_size): N, D = steps·B·T, 6ND from the sizing core
//! checkpoint bytes + text ──▶ TrainRun::from_checkpoint ──▶ the same, continuing that model
//! snapshot_state() ──▶ TrainState ──▶ restore_state(): the same steps again, bit for bit
//! ```
//!
//! A backend that runs the steps itself (the GPU) takes each step's batch from
//! [`TrainRun::next_batch`], reports it with [`TrainRun::count_step`], brings its parameters and
//! AdamW's moments back with [`TrainRun::set_external_state`], and when it fails
//! [`TrainRun::fall_back`] puts the run back at the last state brought back, to continue here as
//! if it had trained here all along.
//!
//! Every limit a page needs to keep a typo from asking for gigabytes lives here
//! ([`MAX_TEXT_BYTES`], [`MAX_MEMORY_BYTES`]) and every bad option is an error naming its field.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::checkpoint;
use crate::config::{GptConfig, PosEncoding};
use crate::error::{Error, Result};
use crate::kernels::Kernels;
use crate::model::generate::{Sampler, Session};
use crate::model::gpt::{AdamState, AdamW, Gpt, LrSchedule};
use crate::model::params::ParameterLayout;
use crate::model::train::{check_finite_step, default_shards, split_train_val, StepStats, TrainConfig, Trainer};
use crate::rng::Rng;
use crate::sizing::inputs::{ModelInputs, TrainingInputs};
use crate::sizing::{self, Architecture, Quantity};
use crate::tokenizer::Vocab;

/// The largest text a run takes, in UTF-8 bytes: 16 MB (the bundled Shakespeare is 5 MB).
pub const MAX_TEXT_BYTES: usize = 16_000_000;

/// The most memory a run may ask for (parameters, gradients, AdamW moments, activations):
/// half of the threaded build's 1 GiB ceiling, and comfortable on a phone.
pub const MAX_MEMORY_BYTES: usize = 512 << 20;

/// Most steps a run may be asked for.
pub const MAX_STEPS: usize = 1_000_000;

/// Most batches of each split an evaluation may average over ([`TrainRun::evaluate`]).
pub const MAX_EVAL_ITERS: usize = 10_000;

/// Most characters a sample may be ([`TrainRun::sample`]).
pub const MAX_SAMPLE_LENGTH: usize = 100_000;

/// The seeds of the evaluation batches of the training and validation splits, as
/// `glassgpt train` uses them: the same batches at every evaluation.
pub const EVAL_SEEDS: (u64, u64) = (1, 2);

/// How the learning rate moves after the warmup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleKind {
    /// Cosine from `lr` down to `min_lr` at the last step (nanoGPT's `get_lr`).
    #[default]
    Cosine,
    /// `lr` throughout (after the warmup); `min_lr` is not used.
    Constant,
}

/// Everything a run is configured by, in the names of nanoGPT's config and `glassgpt train`'s
/// flags. Missing fields take these defaults: the Train page's "tiny" preset, chosen for the
/// fewest FLOPs to a validation loss under 2.0 on Shakespeare among the shapes and rates tried
/// (T = 32 reached it in 0.7M characters, T = 64 at the same rate in 1.1M, lr 3e-3 in 1.7M).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunOptions {
    /// Transformer blocks, L.
    pub n_layer: usize, // 2
    /// Attention heads per block, NH; must divide n_embd.
    pub n_head: usize, // 4
    /// Width of the residual stream, C.
    pub n_embd: usize, // 64
    /// Context length, T: every training sequence has this many characters.
    pub block_size: usize, // 32
    /// Learned or sinusoidal positions.
    pub pos_encoding: PosEncoding, // learned
    /// Sequences per step, B.
    pub batch_size: usize, // 32
    /// Optimisation steps of this run.
    pub steps: usize, // 800
    /// Peak learning rate (high, as small models take it).
    pub lr: f32, // 1e-2
    /// Learning rate at the last step (cosine schedule).
    pub min_lr: f32, // 1e-3
    /// Steps of linear warmup.
    pub warmup_steps: usize, // 50
    /// Cosine decay or constant.
    pub schedule: ScheduleKind, // cosine
    /// AdamW's decoupled weight decay on matrices and embeddings.
    pub weight_decay: f32, // 0.1
    /// Largest global gradient norm; 0 turns clipping off.
    pub grad_clip: f32, // 1.0
    /// Seed of the initialisation and of the batch sampler.
    pub seed: u64, // 1337
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            n_layer: 2,
            n_head: 4,
            n_embd: 64,
            block_size: 32,
            pos_encoding: PosEncoding::Learned,
            batch_size: 32,
            steps: 800,
            lr: 1e-2,
            min_lr: 1e-3,
            warmup_steps: 50,
            schedule: ScheduleKind::Cosine,
            weight_decay: 0.1,
            grad_clip: 1.0,
            seed: 1337,
        }
    }
}

impl RunOptions {
    /// The model's shape for a vocabulary of `vocab_size` characters.
    pub fn model_config(&self, vocab_size: usize) -> GptConfig {
        GptConfig {
            block_size: self.block_size,
            vocab_size,
            n_layer: self.n_layer,
            n_head: self.n_head,
            n_embd: self.n_embd,
            pos_encoding: self.pos_encoding,
        }
    }

    /// The trainer's configuration: `glassgpt train`'s with these numbers (AdamW β₂ = 0.99,
    /// decay over all the steps).
    pub fn train_config(&self) -> TrainConfig {
        let min_lr = match self.schedule {
            ScheduleKind::Cosine => self.min_lr,
            ScheduleKind::Constant => self.lr,
        };
        TrainConfig {
            batch_size: self.batch_size,
            schedule: LrSchedule { lr: self.lr, min_lr, warmup_steps: self.warmup_steps, decay_steps: self.steps },
            opt: AdamW { weight_decay: self.weight_decay, ..AdamW::default() },
            grad_clip: self.grad_clip,
            seed: self.seed,
        }
    }

    /// Checks every option for a vocabulary of `vocab_size`, naming the first wrong field:
    /// the model's shape, the training numbers, and the memory the run would need.
    pub fn validate(&self, vocab_size: usize) -> Result<()> {
        let config = self.model_config(vocab_size.max(1));
        if config.n_head > 0 && config.n_embd > 0 && config.n_embd % config.n_head != 0 {
            // Said from n_embd's side too, as a reader changing either field reads it.
            return Err(Error::invalid(
                "n_head",
                format!("n_embd = {} is not divisible by n_head = {}: each head gets n_embd / n_head channels", config.n_embd, config.n_head),
            ));
        }
        config.validate()?;
        if self.steps == 0 {
            return Err(Error::invalid("steps", "must be at least 1"));
        }
        if self.steps > MAX_STEPS {
            return Err(Error::invalid("steps", format!("{} is more than the supported {MAX_STEPS}", self.steps)));
        }
        if self.batch_size == 0 {
            return Err(Error::invalid("batch_size", "must be at least 1"));
        }
        if !(self.lr.is_finite() && self.lr > 0.0 && self.lr <= 1.0) {
            return Err(Error::invalid("lr", format!("{} must be in (0, 1]", shown32(self.lr))));
        }
        if self.schedule == ScheduleKind::Cosine && !(self.min_lr.is_finite() && self.min_lr >= 0.0 && self.min_lr <= self.lr) {
            return Err(Error::invalid("min_lr", format!("{} must be from 0 to lr = {}", shown32(self.min_lr), self.lr)));
        }
        if self.warmup_steps > self.steps {
            return Err(Error::invalid("warmup_steps", format!("{} is more than steps = {}", self.warmup_steps, self.steps)));
        }
        if !(self.weight_decay.is_finite() && (0.0..=1.0).contains(&self.weight_decay)) {
            return Err(Error::invalid("weight_decay", format!("{} must be from 0 to 1", shown32(self.weight_decay))));
        }
        if !(self.grad_clip.is_finite() && self.grad_clip >= 0.0) {
            return Err(Error::invalid("grad_clip", format!("{} must be 0 (off) or positive", shown32(self.grad_clip))));
        }
        if self.seed > (1 << 53) - 1 {
            return Err(Error::invalid("seed", format!("{} must be a whole number from 0 to 2^53 - 1", self.seed)));
        }
        let need = memory_bytes(&config, self.batch_size);
        if need > MAX_MEMORY_BYTES as u64 {
            return Err(Error::invalid(
                "batch_size",
                format!(
                    "this run needs about {} MB for its parameters and activations, more than the page's {} MB: lower batch_size, block_size, n_embd or n_layer",
                    need >> 20,
                    MAX_MEMORY_BYTES >> 20
                ),
            ));
        }
        Ok(())
    }

    /// What the run amounts to for a vocabulary of `vocab_size`: parameters, tokens and
    /// training FLOPs (6ND) from the sizing core, beside GPT-3's.
    pub fn plan(&self, vocab_size: usize) -> Result<Plan> {
        self.validate(vocab_size)?;
        let config = self.model_config(vocab_size);
        let tokens = (self.steps * self.batch_size * self.block_size) as f64;
        let (params, flops) = training_flops(&config, tokens)?;
        let (_, gpt3_flops) = sizing::training_compute(&sizing::presets::seed_model(), &sizing::presets::seed_training())?;
        Ok(Plan {
            num_parameters: ParameterLayout::new(&config)?.num_parameters,
            params,
            tokens_per_step: self.batch_size * self.block_size,
            tokens,
            fraction_of_gpt3: flops.value / gpt3_flops.value,
            flops,
            gpt3_flops,
            memory_bytes: memory_bytes(&config, self.batch_size),
        })
    }
}

/// N and 6ND for a model of `config` trained on `tokens`, as the calculator computes them.
fn training_flops(config: &GptConfig, tokens: f64) -> Result<(Quantity, Quantity)> {
    let model = ModelInputs { name: "this run".into(), arch: Architecture::from(config), params: None };
    let training = TrainingInputs { tokens, ..sizing::presets::seed_training() };
    sizing::training_compute(&model, &training)
}

/// What a run of some options amounts to; see [`RunOptions::plan`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// Floats in the model's parameter buffer (a sinusoidal `wpe` included, though fixed).
    pub num_parameters: usize,
    /// N as the sizing core counts it (trained parameters: no sinusoidal table).
    pub params: Quantity,
    /// B·T characters per step.
    pub tokens_per_step: usize,
    /// D = steps·B·T characters seen by the run.
    pub tokens: f64,
    /// 6ND, with its formula.
    pub flops: Quantity,
    /// GPT-3's 6ND (the seed report's 3.15e23).
    pub gpt3_flops: Quantity,
    /// flops / gpt3_flops.
    pub fraction_of_gpt3: f64,
    /// Memory for parameters, gradients, AdamW moments and activations, bytes.
    pub memory_bytes: u64,
}

/// An f32 option as a message quotes it: a number past f32's range (1e308 from a page) arrives
/// as infinity, and "inf must be ..." would not say what was wrong.
fn shown32(v: f32) -> String {
    if v == f32::INFINITY {
        "a number past f32's 3.4e38".into()
    } else if v == f32::NEG_INFINITY {
        "a number below f32's -3.4e38".into()
    } else {
        format!("{v}")
    }
}

/// Bytes of one copy of the parameters of `config` (f32).
fn param_bytes(config: &GptConfig) -> u64 {
    let (l, t, c, v) = (config.n_layer as u64, config.block_size as u64, config.n_embd as u64, config.vocab_size as u64);
    (v * c + t * c + l * (12 * c * c + 13 * c) + 2 * c) * 4
}

/// [`TrainRun::external_fits`] for a run of `config` with batches of `b` sequences: its
/// [`memory_bytes`] and six more copies of the parameters within [`MAX_MEMORY_BYTES`].
pub fn external_fits(config: &GptConfig, b: usize) -> bool {
    memory_bytes(config, b) + 6 * param_bytes(config) <= MAX_MEMORY_BYTES as u64
}

/// Bytes a run of `config` with batches of `b` sequences holds: four copies of the parameters
/// (weights, gradients, two AdamW moments) and the activations of `Activations::new(b, T)`.
pub fn memory_bytes(config: &GptConfig, b: usize) -> u64 {
    let (l, t, c, nh, v) =
        (config.n_layer as u64, config.block_size as u64, config.n_embd as u64, config.n_head as u64, config.vocab_size as u64);
    let (b, hs) = (b as u64, c / nh.max(1));
    let params = param_bytes(config);
    // Per position and layer: ln1, qkv (3C), atty, residual2, ln2, fch, fch_gelu (4C each),
    // residual3, and four LayerNorm statistics; per position: the encoder, ln_f, logits,
    // probs and their gradient (V each), backward scratch (9C), inputs, targets, losses.
    let per_position = l * (16 * c + 4) + 13 * c + 3 * v + 5;
    let attention = l * b * nh * t * t + 2 * t * hs * 16;
    (params * 4 + (b * t * per_position + attention) * 4).min(u64::MAX / 2)
}

/// Character counts of a text and its split, as the page shows them before training.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextStats {
    /// UTF-8 bytes.
    pub bytes: usize,
    /// Characters (Unicode scalar values): the tokens.
    pub chars: usize,
    /// The vocabulary, sorted, one string.
    pub vocab: String,
    /// Its size, V.
    pub vocab_size: usize,
    /// Characters in the training split (the first 90%).
    pub train_chars: usize,
    /// Characters in the validation split (the last 10%).
    pub val_chars: usize,
}

/// Counts `text`'s characters, vocabulary and split; an empty or oversized text is an error.
pub fn text_stats(text: &str) -> Result<TextStats> {
    check_text(text)?;
    let vocab = Vocab::from_text(text)?;
    let chars = text.chars().count();
    let train_chars = chars * 9 / 10;
    Ok(TextStats {
        bytes: text.len(),
        chars,
        vocab: vocab.as_string(),
        vocab_size: vocab.len(),
        train_chars,
        val_chars: chars - train_chars,
    })
}

fn check_text(text: &str) -> Result<()> {
    if text.is_empty() {
        return Err(Error::invalid("text", "is empty: paste some text, upload a file or use the bundled corpus"));
    }
    if text.len() > MAX_TEXT_BYTES {
        return Err(Error::invalid(
            "text",
            format!("is {:.1} MB; the page trains on up to {:.0} MB", text.len() as f64 / 1e6, MAX_TEXT_BYTES as f64 / 1e6),
        ));
    }
    Ok(())
}

/// The shortest text that trains at context `t`: its last 10% (the validation split) must
/// hold more than t + 1 characters, so that a window of t + 1 fits with room to move.
pub fn min_text_chars(t: usize) -> usize {
    10 * t + 11
}

/// The last evaluation of a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Evaluation {
    /// Steps done when it was taken.
    pub step: usize,
    /// Mean loss over the evaluation batches of the training split.
    pub train: f32,
    /// Mean loss over the evaluation batches of the validation split.
    pub val: f32,
}

/// One training step's work for a backend that runs it itself (see [`TrainRun::next_batch`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalStep {
    /// Token ids (B, T).
    pub inputs: Vec<u32>,
    /// The next characters (B, T).
    pub targets: Vec<u32>,
    pub b: usize,
    pub t: usize,
    /// This step's learning rate.
    pub lr: f32,
    pub opt: AdamW,
    /// Largest global gradient norm; 0 turns clipping off.
    pub grad_clip: f32,
}

/// Everything a run continues from, bit for bit, between two steps ([`TrainRun::snapshot_state`],
/// [`TrainRun::restore_state`]). The rest follows from the step: the characters trained
/// (steps·B·T) and the learning rate (the schedule at the step).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainState {
    /// Steps done.
    pub step: usize,
    /// The batch sampler after those steps' batches: the next batch it draws is step + 1's.
    pub sampler: Rng,
    /// The parameters (num_parameters), in the layout's order.
    pub params: Vec<f32>,
    /// AdamW's moments and its update count t (bias correction).
    pub adam: AdamState,
}

/// A model in training on one text, with everything the page asks of it.
#[derive(Debug, Clone)]
pub struct TrainRun {
    options: RunOptions,
    gpt: Gpt,
    vocab: Vocab,
    ids: Vec<u32>, // (chars) the whole text, encoded
    split: usize,  // ids[..split] trains, ids[split..] validates
    trainer: Trainer,
    session: Session,
    /// Characters of the text that the vocabulary lacked (continuing a checkpoint).
    replaced: usize,
    /// Steps and tokens the checkpoint this run continues had already trained.
    steps_before: u64,
    tokens_before: u64,
    last_eval: Option<Evaluation>,
    probed: Vec<u32>,
    /// The model's replicas when steps run as data-parallel shards ([`default_shards`]).
    replicas: Vec<Gpt>,
    /// While a backend runs the steps itself: the last state it brought back (before that, the
    /// state its first step started from), which [`TrainRun::fall_back`] restores. A second copy
    /// of the parameters and moments (12 bytes a parameter), held only while that backend trains.
    external: Option<TrainState>,
}

impl TrainRun {
    /// A fresh model (initialised from `options.seed`) for `text`'s vocabulary.
    pub fn new(text: &str, options: RunOptions) -> Result<TrainRun> {
        check_text(text)?;
        let vocab = Vocab::from_text(text)?;
        options.validate(vocab.len())?;
        let gpt = Gpt::new(options.model_config(vocab.len()), options.seed)?;
        let ids = vocab.encode(text)?;
        TrainRun::assemble(gpt, vocab, ids, 0, options, 0, 0)
    }

    /// Continues training a checkpoint on `text`. The model's shape and vocabulary are the
    /// checkpoint's: `options` must give the same shape (or the error names the field), and
    /// characters of `text` outside the vocabulary become its replacement character (counted
    /// in [`TrainRun::replaced`]). The optimiser starts afresh (checkpoints hold weights only),
    /// which the warmup absorbs.
    pub fn from_checkpoint(bytes: &[u8], text: &str, options: RunOptions) -> Result<TrainRun> {
        check_text(text)?;
        let ck = checkpoint::load(bytes)?;
        let c = ck.config;
        let shape = [
            ("n_layer", options.n_layer, c.n_layer),
            ("n_head", options.n_head, c.n_head),
            ("n_embd", options.n_embd, c.n_embd),
            ("block_size", options.block_size, c.block_size),
        ];
        for (field, given, theirs) in shape {
            if given != theirs {
                return Err(Error::invalid(field, format!("{given}, but the checkpoint has {field} = {theirs}; continuing a model keeps its shape")));
            }
        }
        if options.pos_encoding != c.pos_encoding {
            let name = |p: PosEncoding| if p == PosEncoding::Learned { "learned" } else { "sinusoidal" };
            return Err(Error::invalid(
                "pos_encoding",
                format!("{}, but the checkpoint's positions are {}; continuing a model keeps them", name(options.pos_encoding), name(c.pos_encoding)),
            ));
        }
        options.validate(c.vocab_size)?;
        let steps_before = ck.step.unwrap_or(0);
        let tokens_before = ck.metadata.get("tokens_trained").and_then(|s| s.parse().ok()).unwrap_or(0);
        let (gpt, vocab) = ck.into_model()?;
        let enc = vocab.encode_lossy(text);
        let replaced = enc.replaced.len();
        TrainRun::assemble(gpt, vocab, enc.ids, replaced, options, steps_before, tokens_before)
    }

    fn assemble(mut gpt: Gpt, vocab: Vocab, ids: Vec<u32>, replaced: usize, options: RunOptions, steps_before: u64, tokens_before: u64) -> Result<TrainRun> {
        let t = options.block_size;
        let split = split_train_val(&ids).0.len();
        if ids.len() - split <= t + 1 {
            return Err(Error::invalid(
                "text",
                format!(
                    "{} characters is too short for block_size = {t}: the validation split (the last 10%) needs more than {} characters, so the text needs at least {}",
                    ids.len(),
                    t + 1,
                    min_text_chars(t)
                ),
            ));
        }
        let trainer = Trainer::new(options.train_config(), &mut gpt)?;
        let session = Session::new(gpt.config())?;
        Ok(TrainRun { options, gpt, vocab, ids, split, trainer, session, replaced, steps_before, tokens_before, last_eval: None, probed: Vec::new(), replicas: Vec::new(), external: None })
    }

    /// One optimisation step on a random batch of the training split (as `glassgpt train`).
    /// On a threaded backend the batch runs as data-parallel shards, at most one per thread
    /// ([`default_shards`], [`Trainer::step_sharded`]), as the CLI's does; the replicas are made
    /// at the first such step. Stepping past `steps` is an error: the schedule ends there. A step
    /// here ends any training elsewhere: [`TrainRun::fall_back`] has nothing to go back to.
    pub fn step(&mut self, k: &dyn Kernels) -> Result<StepStats> {
        if self.done() {
            return Err(Error::invalid("steps", format!("all {} steps are done", self.options.steps)));
        }
        self.external = None;
        let (b, config) = (self.options.batch_size, self.gpt.config());
        let mut shards = default_shards(k, b);
        // Each replica holds its own parameters, gradients and activations for one shard: shard
        // only while the whole run stays under the memory cap the options were checked against.
        let replicas_bytes = (shards as u64 - 1) * memory_bytes(config, b / shards);
        if memory_bytes(config, b) + replicas_bytes > MAX_MEMORY_BYTES as u64 {
            shards = 1;
        }
        if shards == 1 {
            return self.trainer.step(&mut self.gpt, k, &self.ids[..self.split]);
        }
        if self.replicas.len() + 1 != shards {
            self.replicas = self.trainer.replicas(&self.gpt, shards)?;
        }
        let simd = crate::kernels::by_name("simd").expect("the simd backend is in every build");
        self.trainer.step_sharded(&mut self.gpt, &mut self.replicas, simd, &self.ids[..self.split])
    }

    /// Whether this run may also train on another backend (the GPU) within [`MAX_MEMORY_BYTES`]:
    /// besides the run's own memory, this side then holds the state kept to fall back to and,
    /// while [`TrainRun::set_external_state`] takes the next, that one too (parameters and both
    /// AdamW moments, each).
    pub fn external_fits(&self) -> bool {
        external_fits(self.gpt.config(), self.options.batch_size)
    }

    /// The next step's batch for a backend that runs the step itself (the GPU), drawn as
    /// [`TrainRun::step`] draws it, with everything that step needs; [`TrainRun::count_step`]
    /// counts it once it has run, and [`TrainRun::set_external_state`] brings the state back.
    /// The first such batch keeps the state it starts from, for [`TrainRun::fall_back`].
    pub fn next_batch(&mut self) -> Result<ExternalStep> {
        if self.done() {
            return Err(Error::invalid("steps", format!("all {} steps are done", self.options.steps)));
        }
        if self.external.is_none() {
            self.external = Some(self.snapshot_state());
        }
        let (b, t) = (self.options.batch_size, self.options.block_size);
        let (opt, grad_clip) = (self.trainer.config().opt, self.trainer.config().grad_clip);
        let (inputs, targets, lr) = self.trainer.next_batch(&self.ids[..self.split], t)?;
        Ok(ExternalStep { inputs: inputs.to_vec(), targets: targets.to_vec(), b, t, lr, opt, grad_clip })
    }

    /// Counts a step run elsewhere on [`TrainRun::next_batch`]'s batch, with the loss and
    /// gradient norm it reported; a non-finite one is refused (the step is not counted): the run
    /// diverged there, and this side's parameters are the last brought back.
    pub fn count_step(&mut self, loss: f32, grad_norm: f32) -> Result<()> {
        check_finite_step(self.trainer.steps_done() + 1, loss, grad_norm, "")?;
        self.trainer.count_step();
        Ok(())
    }

    /// Takes the parameters (the layout's order) and AdamW's state of a backend that ran every
    /// step counted so far itself, and keeps the run as it now stands for
    /// [`TrainRun::fall_back`]. Refuses, changing nothing, a wrong length, a non-finite value, or
    /// more AdamW updates than steps.
    pub fn set_external_state(&mut self, params: Vec<f32>, adam: AdamState) -> Result<()> {
        let (step, sampler) = self.trainer.position();
        let state = TrainState { step, sampler: sampler.clone(), params, adam };
        self.restore_state(&state)?;
        self.external = Some(state);
        Ok(())
    }

    /// Puts the run back at the last state [`TrainRun::set_external_state`] brought back (or the
    /// state the first external step started from) and returns its step: the next
    /// [`TrainRun::step`] is step + 1 on the batch the other backend took at step + 1, with the
    /// parameters, moments and learning rate it had. The steps counted since are undone. Without
    /// an external step since the last step here, nothing changes.
    pub fn fall_back(&mut self) -> Result<usize> {
        if let Some(state) = self.external.take() {
            self.restore_state(&state)?;
        }
        Ok(self.steps_done())
    }

    /// The run as it stands, to continue from exactly later ([`TrainRun::restore_state`]).
    pub fn snapshot_state(&self) -> TrainState {
        let (step, sampler) = self.trainer.position();
        TrainState { step, sampler: sampler.clone(), params: self.gpt.params().to_vec(), adam: self.gpt.adam_state() }
    }

    /// Puts the run back at `state` (a [`TrainRun::snapshot_state`] of this run): the steps after
    /// it are taken again exactly as they were, same batches, learning rates and updates. An
    /// evaluation from after it is forgotten. Refuses, changing nothing, a step past `steps`,
    /// parameters or moments of the wrong length or not finite, or more AdamW updates than steps.
    pub fn restore_state(&mut self, state: &TrainState) -> Result<()> {
        let TrainState { step, sampler, params, adam } = state;
        if *step > self.options.steps {
            return Err(Error::invalid("step", format!("{step} is past the run's {} steps", self.options.steps)));
        }
        let n = self.gpt.num_parameters();
        if params.len() != n {
            return Err(Error::Shape(format!("{} parameters given, the model has {n}", params.len())));
        }
        if let Some(i) = params.iter().position(|x| !x.is_finite()) {
            return Err(Error::invalid("params", format!("parameter {i} is {}: training diverged", params[i])));
        }
        if adam.t > *step as u64 {
            return Err(Error::invalid("adam", format!("{} AdamW updates at step {step}: at most one a step", adam.t)));
        }
        // Checks the moments before anything changes.
        self.gpt.set_adam_state(adam, &self.trainer.config().opt)?;
        self.gpt.params_mut().copy_from_slice(params);
        self.trainer.set_position(*step, sampler.clone());
        if self.last_eval.is_some_and(|e| e.step > *step) {
            self.last_eval = None;
        }
        Ok(())
    }

    /// Whether every step has been taken.
    pub fn done(&self) -> bool {
        self.trainer.steps_done() >= self.options.steps
    }

    /// Steps taken by this run.
    pub fn steps_done(&self) -> usize {
        self.trainer.steps_done()
    }

    /// Mean loss over `iters` batches of each split, the same batches at every call (the CLI's
    /// evaluation: seeds [`EVAL_SEEDS`]).
    pub fn evaluate(&mut self, k: &dyn Kernels, iters: usize) -> Result<Evaluation> {
        if iters == 0 || iters > MAX_EVAL_ITERS {
            return Err(Error::invalid("eval_iters", format!("{iters} must be from 1 to {MAX_EVAL_ITERS}")));
        }
        let (train, val) = self.ids.split_at(self.split);
        let train = self.trainer.evaluate(&mut self.gpt, k, train, iters, EVAL_SEEDS.0)?;
        let val = self.trainer.evaluate(&mut self.gpt, k, val, iters, EVAL_SEEDS.1)?;
        let e = Evaluation { step: self.steps_done(), train, val };
        self.last_eval = Some(e);
        Ok(e)
    }

    /// `length` characters sampled after `prompt` (its last block_size characters; unknown
    /// characters replaced; empty starts from a newline) at `temperature`, from `seed`.
    pub fn sample(&mut self, k: &dyn Kernels, prompt: &str, length: usize, temperature: f32, seed: u64) -> Result<String> {
        if length > MAX_SAMPLE_LENGTH {
            return Err(Error::invalid("length", format!("{length} is more than {MAX_SAMPLE_LENGTH} characters")));
        }
        let sampler = Sampler { temperature, top_k: 0, top_p: 1.0 };
        sampler.validate()?;
        let ids = self.window(prompt);
        let mut rng = Rng::new(seed);
        self.session.reset();
        self.session.feed(&self.gpt, k, &ids)?;
        let mut out = String::with_capacity(length);
        for _ in 0..length {
            let id = self.session.next(&self.gpt, k, &sampler, &mut rng)?;
            out.push(self.vocab.chars()[id as usize]);
        }
        Ok(out)
    }

    /// Runs the model over `text` (its last block_size characters) for inspection; afterwards
    /// [`TrainRun::attention`] is (L, NH, T, T) and [`TrainRun::probe_probs`] the next-character
    /// distribution. Returns the token ids it saw. Training state is untouched: the next
    /// step recomputes every activation it uses.
    pub fn probe(&mut self, k: &dyn Kernels, text: &str) -> Result<&[u32]> {
        self.probed = self.window(text);
        self.gpt.forward_logits(k, &self.probed)?;
        Ok(&self.probed)
    }

    /// Attention of the last probe, (L, NH, T, T), row = query position.
    pub fn attention(&self) -> &[f32] {
        if self.probed.is_empty() {
            return &[];
        }
        self.gpt.attention()
    }

    /// The distribution (V) of the character after the last probe's text.
    pub fn probe_probs(&self) -> &[f32] {
        let (v, t) = (self.gpt.config().vocab_size, self.probed.len());
        if t == 0 {
            return &[];
        }
        &self.gpt.probs()[(t - 1) * v..t * v]
    }

    /// The safetensors bytes of the model now, with the vocabulary, the total step, the
    /// characters trained on, the last evaluation and the options in the metadata.
    pub fn checkpoint(&self) -> Result<Vec<u8>> {
        let mut meta = BTreeMap::new();
        meta.insert("tokens_trained".to_string(), self.tokens_trained().to_string());
        meta.insert("train_options".to_string(), serde_json::to_string(&self.options).expect("options serialise"));
        if let Some(e) = self.last_eval {
            meta.insert("train_loss".to_string(), format!("{:.4}", e.train));
            meta.insert("val_loss".to_string(), format!("{:.4}", e.val));
        }
        let step = self.steps_before + self.steps_done() as u64;
        checkpoint::save(self.gpt.config(), &self.vocab, self.gpt.params(), Some(step), &meta)
    }

    /// Characters trained on, a continued checkpoint's included: steps·B·T.
    pub fn tokens_trained(&self) -> u64 {
        self.tokens_before + (self.steps_done() * self.options.batch_size * self.options.block_size) as u64
    }

    /// Steps the continued checkpoint had taken before this run (0 for a fresh model).
    pub fn steps_before(&self) -> u64 {
        self.steps_before
    }

    /// Characters of the text replaced because the checkpoint's vocabulary lacks them.
    pub fn replaced(&self) -> usize {
        self.replaced
    }

    /// The options.
    pub fn options(&self) -> &RunOptions {
        &self.options
    }

    /// The model.
    pub fn gpt(&self) -> &Gpt {
        &self.gpt
    }

    /// The vocabulary.
    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    /// Characters in the training and validation splits.
    pub fn split_sizes(&self) -> (usize, usize) {
        (self.split, self.ids.len() - self.split)
    }

    /// The last evaluation, if any.
    pub fn last_eval(&self) -> Option<Evaluation> {
        self.last_eval
    }

    /// `text` encoded lossily, cropped to its last block_size characters; empty becomes "\n"
    /// (or the replacement character when the vocabulary has no newline).
    fn window(&self, text: &str) -> Vec<u32> {
        let mut ids = self.vocab.encode_lossy(text).ids;
        if ids.is_empty() {
            ids.push(self.vocab.id('\n').unwrap_or_else(|| self.vocab.id(self.vocab.replacement()).unwrap_or(0)));
        }
        let t = self.gpt.config().block_size;
        ids.drain(..ids.len().saturating_sub(t));
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::scalar::Scalar;

    fn tiny() -> RunOptions {
        RunOptions { n_layer: 1, n_head: 2, n_embd: 16, block_size: 8, batch_size: 4, steps: 40, lr: 1e-2, warmup_steps: 5, ..RunOptions::default() }
    }

    #[test]
    fn a_step_run_elsewhere_with_a_non_finite_loss_is_not_counted() {
        let mut run = TrainRun::new(&"the cat sat on the mat. ".repeat(30), tiny()).unwrap();
        run.next_batch().unwrap();
        for (loss, norm) in [(f32::NAN, 1.0), (2.0, f32::INFINITY)] {
            let e = run.count_step(loss, norm).unwrap_err().to_string();
            assert!(e.contains("training diverged at step 1"), "{e}");
            assert_eq!(run.steps_done(), 0);
        }
        run.count_step(2.0, 0.5).unwrap();
        assert_eq!(run.steps_done(), 1);
    }

    /// K steps, a snapshot, M steps, the snapshot restored, the same M steps again: the same
    /// losses, learning rates, gradient norms and parameters to the bit (same kernels). A
    /// restore that missed the sampler, the moments, the update count or the step would change
    /// the batches, the updates, the bias correction or the learning rates.
    #[test]
    fn a_restored_state_takes_the_same_steps_again_bit_for_bit() {
        let k = &Scalar;
        let mut run = TrainRun::new(&"the cat sat on the mat. ".repeat(30), tiny()).unwrap();
        for _ in 0..7 {
            run.step(k).unwrap();
        }
        let state = run.snapshot_state();
        assert_eq!((state.step, state.adam.t), (7, 7));
        let stretch = |run: &mut TrainRun| -> Vec<(u32, u32, u32)> {
            (0..9).map(|_| run.step(k).unwrap()).map(|s| (s.loss.to_bits(), s.lr.to_bits(), s.grad_norm.to_bits())).collect()
        };
        let first = stretch(&mut run);
        let params = run.gpt().params().to_vec();
        run.evaluate(k, 2).unwrap();
        run.restore_state(&state).unwrap();
        assert_eq!((run.steps_done(), run.tokens_trained()), (7, 7 * 4 * 8));
        assert_eq!(run.last_eval(), None, "the evaluation at step 16 is after the restored step");
        assert_eq!(run.snapshot_state(), state);
        assert_eq!(stretch(&mut run), first);
        assert!(run.gpt().params().iter().zip(&params).all(|(a, b)| a.to_bits() == b.to_bits()), "parameters differ");
        // A fresh model's state (no moments yet) restores too.
        let mut fresh = TrainRun::new(&"the cat sat on the mat. ".repeat(30), tiny()).unwrap();
        let start = fresh.snapshot_state();
        assert!(start.adam.m.is_empty());
        fresh.step(k).unwrap();
        fresh.restore_state(&start).unwrap();
        assert_eq!(fresh.snapshot_state(), start);
    }

    #[test]
    fn a_bad_state_is_refused_and_changes_nothing() {
        let k = &Scalar;
        let mut run = TrainRun::new(&"the cat sat on the mat. ".repeat(30), tiny()).unwrap();
        for _ in 0..3 {
            run.step(k).unwrap();
        }
        let good = run.snapshot_state();
        let n = good.params.len();
        let bad = |f: &dyn Fn(&mut TrainState)| {
            let mut s = good.clone();
            f(&mut s);
            s
        };
        let cases = [
            (bad(&|s| s.params.truncate(n - 1)), format!("{} parameters given, the model has {n}", n - 1)),
            (bad(&|s| s.params[5] = f32::NAN), "parameter 5 is NaN: training diverged".to_string()),
            (bad(&|s| s.adam.m.truncate(10)), format!("AdamW moments of 10 and {n} floats given, the model has {n} parameters")),
            (bad(&|s| s.adam.v[2] = f32::INFINITY), "second moment 2 is inf".to_string()),
            (bad(&|s| s.adam.v[3] = -1.0), "second moment 3 is -1: it must be finite and not negative".to_string()),
            (bad(&|s| s.adam.m[4] = f32::NAN), "first moment 4 is NaN".to_string()),
            (bad(&|s| s.adam.t = 4), "4 AdamW updates at step 3: at most one a step".to_string()),
            (bad(&|s| (s.adam.m, s.adam.v) = (Vec::new(), Vec::new())), "no moments given after 3 updates".to_string()),
            (bad(&|s| s.step = 41), "41 is past the run's 40 steps".to_string()),
        ];
        for (state, want) in cases {
            let e = run.restore_state(&state).unwrap_err().to_string();
            assert!(e.contains(&want), "{e:?} should say {want:?}");
            assert_eq!(run.snapshot_state(), good, "a refused state changed the run ({want})");
        }
        let e = run.set_external_state(good.params[1..].to_vec(), good.adam.clone()).unwrap_err().to_string();
        assert!(e.contains(&format!("{} parameters given", n - 1)), "{e}");
        assert_eq!(run.snapshot_state(), good);
    }

    /// One step as `GpuGpt::train_step` takes it, on a CPU model standing in for the GPU: the
    /// batch, learning rate and settings of `TrainRun::next_batch`.
    fn external_step(run: &mut TrainRun, other: &mut Gpt) -> f32 {
        let s = run.next_batch().unwrap();
        let loss = other.forward(&Scalar, &s.inputs, &s.targets, s.b, s.t).unwrap();
        other.zero_grad();
        other.backward(&Scalar).unwrap();
        let norm = other.clip_grad_norm(s.grad_clip);
        other.update(&s.opt, s.lr);
        run.count_step(loss, norm).unwrap();
        loss
    }

    /// A run trained elsewhere that falls back continues on this side from the last state brought
    /// back as the same run trained here all along: same losses from the next step on, same
    /// parameters at the end, to the bit.
    #[test]
    fn a_fall_back_continues_from_the_last_state_brought_back_as_if_trained_here() {
        let k = &Scalar;
        let text = "the cat sat on the mat. ".repeat(30);
        let mut here = TrainRun::new(&text, tiny()).unwrap();
        let losses: Vec<u32> = (0..40).map(|_| here.step(k).unwrap().loss.to_bits()).collect();

        let mut run = TrainRun::new(&text, tiny()).unwrap();
        assert_eq!(run.fall_back().unwrap(), 0, "nothing trained elsewhere: nothing to undo");
        let mut other = run.gpt().clone();
        other.reserve(4, 8).unwrap();
        // Lost before anything came back: back to the start, every step taken again.
        for _ in 0..3 {
            external_step(&mut run, &mut other);
        }
        assert_eq!(run.fall_back().unwrap(), 0);
        assert_eq!(run.snapshot_state(), TrainRun::new(&text, tiny()).unwrap().snapshot_state());

        let mut other = run.gpt().clone();
        other.reserve(4, 8).unwrap();
        for step in 1..=13 {
            let loss = external_step(&mut run, &mut other);
            assert_eq!(loss.to_bits(), losses[step - 1], "step {step} elsewhere");
            if step == 10 {
                run.set_external_state(other.params().to_vec(), other.adam_state()).unwrap();
            }
        }
        assert_eq!(run.steps_done(), 13);
        assert_eq!(run.fall_back().unwrap(), 10, "back to the state brought back at step 10");
        assert_eq!(run.tokens_trained(), 10 * 4 * 8);
        for step in 11..=40 {
            assert_eq!(run.step(k).unwrap().loss.to_bits(), losses[step - 1], "step {step} here, after the fall-back");
        }
        assert!(run.gpt().params().iter().zip(here.gpt().params()).all(|(a, b)| a.to_bits() == b.to_bits()), "parameters differ");
        assert_eq!(run.fall_back().unwrap(), 40, "steps here since: nothing to undo");
    }

    #[test]
    fn bad_options_name_their_field() {
        let text = "abcdefgh ".repeat(40);
        let cases: [(RunOptions, &str, &str); 9] = [
            (RunOptions { n_embd: 30, n_head: 4, ..tiny() }, "n_head", "n_embd = 30 is not divisible by n_head = 4"),
            (RunOptions { steps: 0, ..tiny() }, "steps", "must be at least 1"),
            (RunOptions { batch_size: 0, ..tiny() }, "batch_size", "at least 1"),
            (RunOptions { lr: 0.0, ..tiny() }, "lr", "(0, 1]"),
            // 1e308 from a page arrives as f32 infinity: said as a number too large, not "inf".
            (RunOptions { lr: f32::INFINITY, ..tiny() }, "lr", "lr: a number past f32's 3.4e38 must be in (0, 1]"),
            (RunOptions { min_lr: 0.5, ..tiny() }, "min_lr", "from 0 to lr"),
            (RunOptions { warmup_steps: 41, ..tiny() }, "warmup_steps", "more than steps = 40"),
            (RunOptions { n_layer: 0, ..tiny() }, "n_layer", "at least 1"),
            // 64 layers of C = 1024 at T = 1024: gigabytes.
            (RunOptions { n_layer: 64, n_embd: 1024, n_head: 8, block_size: 1024, ..tiny() }, "batch_size", "more than the page's 512 MB"),
        ];
        for (o, field, msg) in cases {
            let e = TrainRun::new(&text, o.clone()).unwrap_err();
            assert_eq!(e.field(), Some(field), "{o:?}: {e}");
            assert!(e.to_string().contains(msg), "{e}");
        }
        let e = TrainRun::new("", tiny()).unwrap_err();
        assert_eq!(e.field(), Some("text"));
        assert!(e.to_string().contains("is empty"), "{e}");
    }

    #[test]
    fn the_shortest_text_that_trains() {
        // T = 8: the validation split needs more than 9 characters, ceil(n / 10) ≥ 10: n ≥ 91.
        assert_eq!(min_text_chars(8), 91);
        let e = TrainRun::new(&"ab".repeat(45), tiny()).unwrap_err();
        assert_eq!(e.field(), Some("text"));
        assert!(e.to_string().contains("90 characters is too short for block_size = 8") && e.to_string().contains("at least 91"), "{e}");
        assert!(TrainRun::new(&"abcdefg".repeat(13), tiny()).is_ok()); // 91 characters
    }

    #[test]
    fn memory_estimate_matches_the_buffers() {
        // The estimate counts what Gpt and Activations allocate: compare with the parameter
        // count (exact) and stay within 10% of a hand count of the activations.
        let config = RunOptions::default().model_config(65);
        let layout = ParameterLayout::new(&config).unwrap();
        let (b, t, c, l, v, nh) = (32u64, 32u64, 64u64, 2u64, 65u64, 4u64);
        let params = layout.num_parameters as u64 * 16;
        let acts = 4 * (b * t * (l * 16 * c + 13 * c + 3 * v) + l * b * nh * t * t);
        let est = memory_bytes(&config, 32);
        assert!(est >= params + acts && (est as f64) < 1.1 * (params + acts) as f64, "{est} vs {}", params + acts);
    }

    #[test]
    fn a_run_trains_on_the_gpu_only_with_room_for_the_state_it_falls_back_to() {
        // 4 layers of C = 640: 4 · (12 · 640² + 13 · 640) + (65 + 8) · 640 + 2 · 640 = 19,742,080
        // parameters, 78,968,320 bytes; four copies and the activations of 1 × 8 fit the 512 MB
        // (536,870,912 bytes), ten copies do not.
        let big = RunOptions { n_layer: 4, n_head: 8, n_embd: 640, block_size: 8, batch_size: 1, ..tiny() }.model_config(65);
        assert_eq!(param_bytes(&big), 78_968_320);
        assert!(memory_bytes(&big, 1) <= MAX_MEMORY_BYTES as u64, "the premise: the run itself fits");
        assert!(!external_fits(&big, 1));
        // Half the width: a quarter of the matrices, ten copies fit.
        let half = RunOptions { n_layer: 4, n_head: 8, n_embd: 320, block_size: 8, batch_size: 1, ..tiny() }.model_config(65);
        assert!(external_fits(&half, 1));
        let run = TrainRun::new(&"the cat sat on the mat. ".repeat(30), tiny()).unwrap();
        assert!(run.external_fits());
    }

    #[test]
    fn plan_uses_the_sizing_core() {
        let o = RunOptions::default();
        let p = o.plan(65).unwrap();
        // N = wte 65·64 + wpe 32·64 + 2 × (2·128 + 64·192+192 + 64·64+64 + 64·256+256 + 256·64+64) + ln_f 128.
        let n = 65 * 64 + 32 * 64 + 2 * (2 * 128 + 64 * 192 + 192 + 64 * 64 + 64 + 64 * 256 + 256 + 256 * 64 + 64) + 128;
        assert_eq!(p.params.value, n as f64);
        assert_eq!(p.num_parameters, n);
        assert_eq!(p.tokens, 800.0 * 32.0 * 32.0);
        assert_eq!(p.flops.value, 6.0 * n as f64 * 800.0 * 32.0 * 32.0);
        assert!(p.flops.formula.starts_with("6 × N × D"), "{}", p.flops.formula);
        assert_eq!(p.gpt3_flops.value, 3.15e23);
        assert!((p.fraction_of_gpt3 - p.flops.value / 3.15e23).abs() < 1e-30);
    }

    #[test]
    fn trains_samples_probes_and_round_trips() {
        let text = "the cat sat on the mat. ".repeat(30);
        let mut run = TrainRun::new(&text, tiny()).unwrap();
        let k = &Scalar;
        let first = run.evaluate(k, 4).unwrap();
        for _ in 0..40 {
            run.step(k).unwrap();
        }
        assert!(run.done());
        assert_eq!(run.step(k).unwrap_err().field(), Some("steps"));
        let last = run.evaluate(k, 4).unwrap();
        assert!(last.val < first.val - 1.0, "{first:?} → {last:?}");
        assert_eq!(run.tokens_trained(), 40 * 4 * 8);

        let s = run.sample(k, "the ", 30, 0.8, 7).unwrap();
        assert_eq!(s.chars().count(), 30);
        assert_eq!(run.sample(k, "the ", 30, 0.8, 7).unwrap(), s, "same seed, same text");

        let seen = run.probe(k, "zzz the cat").unwrap().len();
        assert_eq!(seen, 8, "cropped to block_size");
        assert_eq!(run.attention().len(), 2 * 8 * 8);
        let probs = run.probe_probs().to_vec();
        assert!((probs.iter().sum::<f32>() - 1.0).abs() < 1e-5);

        // The checkpoint continues: same weights, same prediction, counters carried over.
        let bytes = run.checkpoint().unwrap();
        let mut again = TrainRun::from_checkpoint(&bytes, &text, tiny()).unwrap();
        again.probe(k, "zzz the cat").unwrap();
        assert_eq!(again.probe_probs(), &probs[..]);
        assert_eq!(again.steps_before(), 40);
        assert_eq!(again.tokens_trained(), 40 * 4 * 8);
        let ck = checkpoint::load(&bytes).unwrap();
        assert_eq!(ck.metadata["val_loss"], format!("{:.4}", last.val));

        // Another shape, or text with characters the model never saw.
        let e = TrainRun::from_checkpoint(&bytes, &text, RunOptions { n_embd: 32, ..tiny() }).unwrap_err();
        assert_eq!(e.field(), Some("n_embd"));
        assert!(e.to_string().contains("the checkpoint has n_embd = 16"), "{e}");
        // T, H, E, C, A, T, ! are not in the vocabulary; the two spaces are.
        let other = "THE CAT! ".repeat(30);
        assert_eq!(TrainRun::from_checkpoint(&bytes, &other, tiny()).unwrap().replaced(), 7 * 30);
    }
}
