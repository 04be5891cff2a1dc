//! The training loop's pieces, shared by the CLI and the page: the 90/10 split, random batches,
//! one optimisation step, and evaluation on fixed batches.

use crate::error::{Error, Result};
use crate::kernels::{par_for, Disjoint, Kernels};
use crate::model::gpt::{AdamW, Gpt, LrSchedule};
use crate::rng::Rng;

/// Splits token ids into training (first 90%) and validation (last 10%) parts, as nanoGPT's
/// `shakespeare_char/prepare.py`.
pub fn split_train_val(ids: &[u32]) -> (&[u32], &[u32]) {
    ids.split_at(ids.len() * 9 / 10)
}

/// Fills `inputs` and `targets` (B, T) with B windows of `ids` at random offsets: targets are
/// the inputs shifted by one. `ids` must be longer than T.
pub fn random_batch(ids: &[u32], t: usize, rng: &mut Rng, inputs: &mut [u32], targets: &mut [u32]) -> Result<()> {
    if ids.len() <= t {
        return Err(Error::invalid("data", format!("{} tokens; a batch needs more than block_size = {t}", ids.len())));
    }
    for (inp, tgt) in inputs.chunks_exact_mut(t).zip(targets.chunks_exact_mut(t)) {
        let start = rng.below(ids.len() - t);
        inp.copy_from_slice(&ids[start..start + t]);
        tgt.copy_from_slice(&ids[start + 1..start + t + 1]);
    }
    Ok(())
}

/// The data-parallel shards a training step with kernels `k` takes (see
/// [`Trainer::step_sharded`]): on a threaded backend, [`shards_for`] its pool's threads;
/// otherwise 1, the plain step.
pub fn default_shards(k: &dyn Kernels, batch: usize) -> usize {
    if cfg!(feature = "threads") {
        shards_for(k.threads(), batch)
    } else {
        1
    }
}

/// The most shards, at most one per thread, that split a batch of `batch` sequences evenly
/// (shards hold whole sequences, all the same number): 4 threads and B = 16 give 4, 3 threads
/// give 2, a prime B gives 1 (the plain step).
pub fn shards_for(threads: usize, batch: usize) -> usize {
    (1..=threads.min(batch)).rev().find(|&s| batch % s == 0).unwrap_or(1)
}

/// `Ok` when step `step`'s loss and gradient norm are finite, else the error that says training
/// diverged there (`kept` says what became of the parameters), on the learning rate's field.
pub fn check_finite_step(step: usize, loss: f32, grad_norm: f32, kept: &str) -> Result<()> {
    if loss.is_finite() && grad_norm.is_finite() {
        return Ok(());
    }
    Err(Error::invalid(
        "lr",
        format!(
            "training diverged at step {step}: the loss is {loss} and the gradient norm {grad_norm}{kept} (lower the learning rate, or clip the gradients)"
        ),
    ))
}

/// How to train (defaults: nanoGPT's shakespeare_char recipe scaled to our model).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainConfig {
    /// Sequences per step, B.
    pub batch_size: usize, // 16
    /// Learning-rate schedule.
    pub schedule: LrSchedule,
    /// AdamW's hyperparameters.
    pub opt: AdamW,
    /// Largest global gradient norm; 0 turns clipping off.
    pub grad_clip: f32, // 1.0
    /// Seed of the batch sampler.
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            batch_size: 16,
            schedule: LrSchedule { lr: 1e-3, min_lr: 1e-4, warmup_steps: 100, decay_steps: 5000 },
            opt: AdamW::default(),
            grad_clip: 1.0,
            seed: 1337,
        }
    }
}

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepStats {
    /// Mean cross-entropy of the batch before the update, nats per character.
    pub loss: f32,
    /// Learning rate used.
    pub lr: f32,
    /// Gradient norm before clipping.
    pub grad_norm: f32,
}

/// Draws batches and steps the optimiser. Owns its batch buffers: no allocation per step.
#[derive(Debug, Clone)]
pub struct Trainer {
    config: TrainConfig,
    rng: Rng,
    step: usize,
    inputs: Vec<u32>,  // (B, T)
    targets: Vec<u32>, // (B, T)
}

impl Trainer {
    /// A trainer for `gpt`, whose activations it sizes for (batch_size, block_size).
    pub fn new(config: TrainConfig, gpt: &mut Gpt) -> Result<Trainer> {
        if config.batch_size == 0 {
            return Err(Error::invalid("batch_size", "must be at least 1"));
        }
        let s = &config.schedule;
        let valid = s.lr.is_finite() && s.lr > 0.0 && s.min_lr.is_finite() && s.min_lr >= 0.0;
        if !valid {
            return Err(Error::invalid("lr", format!("lr {} must be positive and min_lr {} non-negative", s.lr, s.min_lr)));
        }
        let bt = config.batch_size * gpt.config().block_size;
        gpt.reserve(config.batch_size, gpt.config().block_size)?;
        Ok(Trainer { config, rng: Rng::new(config.seed), step: 0, inputs: vec![0; bt], targets: vec![0; bt] })
    }

    /// Steps taken.
    pub fn steps_done(&self) -> usize {
        self.step
    }

    /// The configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Replaces the learning-rate schedule from the next step on (the CLI's time budget sets
    /// `decay_steps` once it has measured how long a step takes).
    pub fn set_schedule(&mut self, schedule: LrSchedule) {
        self.config.schedule = schedule;
    }

    /// One step on a random batch of `train`: forward, backward, clip, AdamW.
    pub fn step(&mut self, gpt: &mut Gpt, k: &dyn Kernels, train: &[u32]) -> Result<StepStats> {
        // The whole step on the threaded backend's pool at once (see `Kernels::install`).
        crate::kernels::on_pool(k, || {
            let (b, t) = (self.config.batch_size, gpt.config().block_size);
            random_batch(train, t, &mut self.rng, &mut self.inputs, &mut self.targets)?;
            let loss = gpt.forward(k, &self.inputs, &self.targets, b, t)?;
            gpt.zero_grad();
            gpt.backward(k)?;
            self.apply(gpt, loss)
        })
    }

    /// The end of a step, its gradients in `gpt`: clip, refuse non-finite values, AdamW at the
    /// schedule's rate, count the step.
    fn apply(&mut self, gpt: &mut Gpt, loss: f32) -> Result<StepStats> {
        let grad_norm = gpt.clip_grad_norm(self.config.grad_clip);
        self.check_finite(loss, grad_norm)?;
        let lr = self.config.schedule.at(self.step);
        gpt.update(&self.config.opt, lr);
        self.step += 1;
        Ok(StepStats { loss, lr, grad_norm })
    }

    /// Refuses to update on a non-finite loss or gradient norm: the step is not taken and the
    /// model keeps the parameters it had (AdamW would spread the NaN into every one of them).
    fn check_finite(&self, loss: f32, grad_norm: f32) -> Result<()> {
        check_finite_step(self.step + 1, loss, grad_norm, &format!("; the model keeps the parameters of step {}", self.step))
    }

    /// The next step's batch, `(inputs, targets)` (B, T) drawn as [`Trainer::step`] draws them,
    /// and its learning rate, for a backend that runs the step itself (the GPU's
    /// `GpuGpt::train_step`); [`Trainer::count_step`] then counts the step.
    pub fn next_batch(&mut self, train: &[u32], t: usize) -> Result<(&[u32], &[u32], f32)> {
        random_batch(train, t, &mut self.rng, &mut self.inputs, &mut self.targets)?;
        Ok((&self.inputs, &self.targets, self.config.schedule.at(self.step)))
    }

    /// Counts a step taken elsewhere on [`Trainer::next_batch`]'s batch.
    pub fn count_step(&mut self) {
        self.step += 1;
    }

    /// Where the trainer stands: steps taken, and the batch sampler after their batches (the
    /// next batch drawn is step + 1's).
    pub fn position(&self) -> (usize, &Rng) {
        (self.step, &self.rng)
    }

    /// Puts the trainer at `step` steps taken with the batch sampler `sampler`, as
    /// [`Trainer::position`] gave them: the next step draws the batch and takes the learning rate
    /// that step + 1 did.
    pub fn set_position(&mut self, step: usize, sampler: Rng) {
        (self.step, self.rng) = (step, sampler);
    }

    /// Replicas of `gpt` for [`Trainer::step_sharded`]: `shards - 1` copies of its shape (their
    /// parameters are overwritten from `gpt` at every step), with activations for one shard.
    pub fn replicas(&self, gpt: &Gpt, shards: usize) -> Result<Vec<Gpt>> {
        let b = self.config.batch_size;
        if shards == 0 || b % shards != 0 {
            return Err(Error::invalid("shards", format!("a batch of {b} sequences does not split into {shards} equal shards")));
        }
        (1..shards)
            .map(|_| {
                let mut r = Gpt::from_parameters(*gpt.config(), gpt.params().to_vec())?;
                r.reserve(b / shards, gpt.config().block_size)?;
                Ok(r)
            })
            .collect()
    }

    /// [`Trainer::step`] as data parallelism: the same batch split into `1 + replicas.len()`
    /// equal shards of whole sequences, each shard's forward and backward run by its own model
    /// (`gpt` the first, the [`Trainer::replicas`] the others) on its own thread of rayon's pool
    /// with the single-thread kernels `k`; the shards' gradients are averaged into `gpt`, which
    /// clips and steps, and the replicas take its parameters at the next step. One fork and one
    /// join per step, where the threaded kernels fork at every matmul: on two cores this trains
    /// ~1.4x faster than they do. The mean loss and gradient are the unsharded step's up to float
    /// rounding (a shard's mean over B/n sequences, averaged over the n shards).
    pub fn step_sharded(&mut self, gpt: &mut Gpt, replicas: &mut [Gpt], k: &dyn Kernels, train: &[u32]) -> Result<StepStats> {
        let (b, t) = (self.config.batch_size, gpt.config().block_size);
        let shards = replicas.len() + 1;
        if b % shards != 0 {
            return Err(Error::invalid("shards", format!("a batch of {b} sequences does not split into {shards} equal shards")));
        }
        random_batch(train, t, &mut self.rng, &mut self.inputs, &mut self.targets)?;
        let (per, params) = (b / shards * t, gpt.params());
        replicas.iter_mut().for_each(|r| r.params_mut().copy_from_slice(params));
        let (inputs, targets) = (&self.inputs, &self.targets);
        let run = |shard: usize, g: &mut Gpt| -> Result<f32> {
            let loss = g.forward(k, &inputs[shard * per..][..per], &targets[shard * per..][..per], b / shards, t)?;
            g.zero_grad();
            g.backward(k)?;
            Ok(loss)
        };
        // One task per shard, on rayon's pool with the `threads` feature (else one after the
        // other: the same numbers, no speed-up).
        let mut models: Vec<&mut Gpt> = std::iter::once(&mut *gpt).chain(replicas.iter_mut()).collect();
        let mut losses: Vec<Result<f32>> = (0..shards).map(|_| Ok(0.0)).collect();
        {
            let (models, losses) = (Disjoint::new(&mut models), Disjoint::new(&mut losses));
            par_for(shards, &|i| {
                // SAFETY: task i alone touches model i and loss i.
                let (g, loss) = unsafe { (&mut models.range(i, 1)[0], &mut losses.range(i, 1)[0]) };
                *loss = run(i, g);
            });
        }
        drop(models);
        let losses = losses.into_iter().collect::<Result<Vec<f32>>>()?;
        let loss = (losses.iter().fold(0.0f64, |acc, &l| acc + l as f64) / shards as f64) as f32;
        let inv = 1.0 / shards as f32;
        let grads = gpt.grads_mut();
        for r in replicas.iter() {
            grads.iter_mut().zip(r.grads()).for_each(|(g, x)| *g += x);
        }
        grads.iter_mut().for_each(|g| *g *= inv);
        self.apply(gpt, loss)
    }

    /// Mean loss over `iters` batches of `ids` drawn with `seed`: the same batches on every
    /// call, so successive evaluations compare the model, not the draw.
    pub fn evaluate(&mut self, gpt: &mut Gpt, k: &dyn Kernels, ids: &[u32], iters: usize, seed: u64) -> Result<f32> {
        if iters == 0 {
            return Err(Error::invalid("eval_iters", "must be at least 1"));
        }
        let (b, t) = (self.config.batch_size, gpt.config().block_size);
        let mut rng = Rng::new(seed);
        let mut total = 0.0f64;
        for _ in 0..iters {
            random_batch(ids, t, &mut rng, &mut self.inputs, &mut self.targets)?;
            total += gpt.forward(k, &self.inputs, &self.targets, b, t)? as f64;
        }
        Ok((total / iters as f64) as f32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diverged_step_is_refused_and_the_parameters_stay() {
        use crate::config::GptConfig;
        use crate::kernels::scalar::Scalar;
        let config = GptConfig { block_size: 8, vocab_size: 5, n_layer: 1, n_head: 2, n_embd: 8, ..GptConfig::default() };
        let mut gpt = Gpt::new(config, 3).unwrap();
        let mut trainer = Trainer::new(TrainConfig { batch_size: 2, ..TrainConfig::default() }, &mut gpt).unwrap();
        // Finite parameters whose products overflow: the forward pass meets inf - inf.
        gpt.params_mut().fill(1e30);
        let before = gpt.params().to_vec();
        let data: Vec<u32> = (0..64).map(|i| (i * 7 % 5) as u32).collect();
        let err = trainer.step(&mut gpt, &Scalar, &data).unwrap_err().to_string();
        assert!(err.contains("training diverged at step 1") && err.contains("keeps the parameters of step 0"), "{err}");
        assert_eq!(trainer.steps_done(), 0);
        assert!(gpt.params().iter().zip(&before).all(|(a, b)| a.to_bits() == b.to_bits()), "the parameters changed");
    }

    #[test]
    fn shards_split_the_batch_evenly_one_per_thread_at_most() {
        // (threads, batch) -> shards, by hand.
        for (threads, batch, want) in [(2, 16, 2), (4, 16, 4), (3, 16, 2), (6, 16, 4), (8, 16, 8), (16, 16, 16), (32, 16, 16),
            (2, 7, 1), (3, 9, 3), (4, 6, 3), (1, 16, 1), (0, 16, 1), (2, 1, 1), (2, 0, 1)]
        {
            assert_eq!(shards_for(threads, batch), want, "{threads} threads, batch {batch}");
        }
    }

    /// A sharded step is the plain step up to float rounding: same batch, same loss, same
    /// averaged gradient, same update; and the replicas follow the model's parameters.
    #[test]
    fn sharded_step_matches_the_plain_step() {
        use crate::config::GptConfig;
        use crate::kernels::scalar::Scalar;
        let config = GptConfig { block_size: 8, vocab_size: 11, n_layer: 2, n_head: 2, n_embd: 16, ..GptConfig::default() };
        let ids: Vec<u32> = (0..400u32).map(|i| (i * 7 + i / 5) % 11).collect();
        let train_config = TrainConfig { batch_size: 6, grad_clip: 0.0, ..TrainConfig::default() };
        let (mut plain, mut sharded) = (Gpt::new(config, 5).unwrap(), Gpt::new(config, 5).unwrap());
        let mut tp = Trainer::new(train_config, &mut plain).unwrap();
        let mut ts = Trainer::new(train_config, &mut sharded).unwrap();
        assert!(ts.replicas(&sharded, 4).is_err(), "6 sequences do not split into 4 shards");
        let mut replicas = ts.replicas(&sharded, 3).unwrap();
        for step in 0..3 {
            let a = tp.step(&mut plain, &Scalar, &ids).unwrap();
            let b = ts.step_sharded(&mut sharded, &mut replicas, &Scalar, &ids).unwrap();
            assert!((a.loss - b.loss).abs() < 1e-5, "step {step}: loss {} vs {}", a.loss, b.loss);
            assert!((a.grad_norm - b.grad_norm).abs() < 1e-5 * a.grad_norm, "step {step}: grad norm {} vs {}", a.grad_norm, b.grad_norm);
            for (i, (x, y)) in plain.grads().iter().zip(sharded.grads()).enumerate() {
                assert!((x - y).abs() <= 1e-5 * (1.0 + x.abs()), "step {step}: grad {i}: {x} vs {y}");
            }
            for (i, (x, y)) in plain.params().iter().zip(sharded.params()).enumerate() {
                assert!((x - y).abs() <= 1e-5, "step {step}: param {i}: {x} vs {y}");
            }
        }
        assert_ne!(replicas[0].params(), sharded.params(), "replicas take the parameters at the next step");
    }

    #[test]
    fn batches_are_shifted_windows() {
        let ids: Vec<u32> = (0..50).collect();
        let (train, val) = split_train_val(&ids);
        assert_eq!((train.len(), val.len()), (45, 5));
        let mut rng = Rng::new(3);
        let (mut x, mut y) = (vec![0; 3 * 4], vec![0; 3 * 4]);
        random_batch(train, 4, &mut rng, &mut x, &mut y).unwrap();
        for (xs, ys) in x.chunks(4).zip(y.chunks(4)) {
            for i in 0..4 {
                assert_eq!(ys[i], xs[i] + 1);
                assert!(ys[i] < 45);
            }
            assert_eq!(xs[1], xs[0] + 1);
        }
        assert!(random_batch(val, 5, &mut rng, &mut x[..5], &mut y[..5]).is_err());
    }
}
