//! `glassgpt train`: trains a character GPT on a text file and keeps the best checkpoint.
//!
//! The first 90% of the text is the training split, the last 10% the validation split (as
//! nanoGPT's shakespeare_char). Each step draws B random windows of T+1 characters from the
//! training split (see `glassgpt::model::train`); every `--eval-every` steps the mean loss over `--eval-iters` batches of each
//! split is printed (the same batches each time, so evaluations compare), and the checkpoint is
//! written when the validation loss is the best so far.
//!
//! `--time-limit-min M` without `--steps` fits the run to M minutes: after the first 50 steps
//! it sets the step count (and the cosine schedule's length) from the measured pace, so the
//! learning rate has decayed when the time is up. With `--steps` it is only a hard stop.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Instant;

use glassgpt::checkpoint::save_model;
use glassgpt::config::{GptConfig, PosEncoding};
use glassgpt::kernels::Kernels;
use glassgpt::model::train::{default_shards, split_train_val};
use glassgpt::model::{AdamW, Gpt, LrSchedule, TrainConfig, Trainer};
use glassgpt::tokenizer::Vocab;

use crate::args::Args;

/// Everything `train` reads from the command line.
struct TrainOptions {
    data: String,
    out: String,
    config: GptConfig,
    train: TrainConfig,
    steps: usize,
    eval_every: usize,
    eval_iters: usize,
    time_limit_s: Option<f64>,
    /// Data-parallel shards of each batch (`--shards`; default: the most, at most one per thread
    /// of the pool, that split the batch evenly).
    shards: Option<usize>,
    /// `--steps` was not given and there is a time limit: the step count (and so the cosine
    /// schedule's length) is fitted to the time budget once the first steps have been timed.
    fit_steps: bool,
}

fn options(rest: &[String]) -> Result<TrainOptions, String> {
    let a = Args::parse(rest, &["sinusoidal"])?;
    let explicit_steps = a.opt::<usize>("steps")?;
    let steps = explicit_steps.unwrap_or(5000);
    let lr = a.get("lr", 1e-3f32)?;
    let time_limit_s = a.opt::<f64>("time-limit-min")?.map(|m| m * 60.0);
    let explicit_decay = a.opt::<usize>("decay-steps")?;
    let config = GptConfig {
        block_size: a.get("block-size", 128)?,
        vocab_size: 1, // set from the data
        n_layer: a.get("n-layer", 4)?,
        n_head: a.get("n-head", 4)?,
        n_embd: a.get("n-embd", 128)?,
        pos_encoding: if a.switch("sinusoidal") { PosEncoding::Sinusoidal } else { PosEncoding::Learned },
    };
    let o = TrainOptions {
        data: a.required("data")?,
        out: a.required("out")?,
        config,
        train: TrainConfig {
            batch_size: a.get("batch", 16)?,
            schedule: LrSchedule {
                lr,
                min_lr: a.get("min-lr", lr / 10.0)?,
                warmup_steps: a.get("warmup", 100)?,
                decay_steps: explicit_decay.unwrap_or(steps),
            },
            opt: AdamW { weight_decay: a.get("weight-decay", 0.1)?, beta2: a.get("beta2", 0.99)?, ..AdamW::default() },
            grad_clip: a.get("grad-clip", 1.0)?,
            seed: a.get("seed", 1337)?,
        },
        steps,
        eval_every: a.get("eval-every", 250)?,
        eval_iters: a.get("eval-iters", 20)?,
        time_limit_s,
        shards: a.opt::<usize>("shards")?,
        fit_steps: explicit_steps.is_none() && explicit_decay.is_none() && time_limit_s.is_some(),
    };
    a.finish()?;
    if o.time_limit_s.is_some_and(|s| s.is_nan() || s <= 0.0) {
        return Err("--time-limit-min must be positive".into());
    }
    if o.shards == Some(0) {
        return Err("--shards must be at least 1".into());
    }
    if o.steps == 0 || o.eval_every == 0 || o.eval_iters == 0 {
        return Err("--steps, --eval-every and --eval-iters must be at least 1".into());
    }
    Ok(o)
}

/// Steps timed before a time-budgeted run fixes its step count.
const FIT_AFTER: usize = 50;

pub fn run(rest: &[String], k: &dyn Kernels) -> Result<(), String> {
    let mut o = options(rest)?;
    let text = std::fs::read_to_string(&o.data).map_err(|e| format!("cannot read --data {}: {e}", o.data))?;
    let vocab = Vocab::from_text(&text).map_err(|e| e.to_string())?;
    let ids = vocab.encode(&text).map_err(|e| e.to_string())?;
    let (train, val) = split_train_val(&ids);
    let t = o.config.block_size;
    if val.len() <= t + 1 {
        return Err(format!(
            "{} has {} characters; the 10% validation split needs more than block_size + 1 = {} of them",
            o.data,
            ids.len(),
            t + 1
        ));
    }
    o.config.vocab_size = vocab.len();
    let mut gpt = Gpt::new(o.config, o.train.seed).map_err(|e| e.to_string())?;
    let mut trainer = Trainer::new(o.train, &mut gpt).map_err(|e| e.to_string())?;
    let b = o.train.batch_size;
    let (mut replicas, shard_kernels) = data_parallel(&o, &trainer, &gpt, k)?;
    eprintln!(
        "glassgpt train: {} characters ({} train, {} val), vocabulary {}; {} parameters; {}L {}H C={} T={} B={}; kernels: {}",
        ids.len(),
        train.len(),
        val.len(),
        vocab.len(),
        gpt.num_parameters(),
        o.config.n_layer,
        o.config.n_head,
        o.config.n_embd,
        t,
        b,
        k.name()
    );
    if !replicas.is_empty() {
        let how = if cfg!(feature = "threads") { "each on a thread of the pool" } else { "one after the other (a build without threads)" };
        eprintln!("data parallel: {} shards of {} sequences, {how}, with the {} kernels", replicas.len() + 1, b / (replicas.len() + 1), shard_kernels.name());
    }

    let start = Instant::now();
    let mut best_val = f32::INFINITY;
    let mut train_time = 0.0f64;
    let mut trained_tokens = 0usize;
    let mut last_loss = f32::NAN;
    let mut eval_time = 0.0f64;
    let mut evals = 0usize;
    let mut step = 0;
    loop {
        let elapsed = start.elapsed().as_secs_f64();
        let out_of_time = o.time_limit_s.is_some_and(|limit| elapsed >= limit);
        if step % o.eval_every == 0 || step == o.steps || out_of_time {
            let e0 = Instant::now();
            let train_loss = trainer.evaluate(&mut gpt, k, train, o.eval_iters, 1).map_err(|e| e.to_string())?;
            let val_loss = trainer.evaluate(&mut gpt, k, val, o.eval_iters, 2).map_err(|e| e.to_string())?;
            let mut saved = "";
            if val_loss < best_val {
                best_val = val_loss;
                let meta = BTreeMap::from([
                    ("val_loss".to_string(), format!("{val_loss:.4}")),
                    ("train_loss".to_string(), format!("{train_loss:.4}")),
                    ("train_args".to_string(), rest.join(" ")),
                ]);
                let bytes = save_model(&gpt, &vocab, &meta).map_err(|e| e.to_string())?;
                let tmp = format!("{}.tmp", o.out);
                std::fs::write(&tmp, &bytes).and_then(|_| std::fs::rename(&tmp, &o.out)).map_err(|e| format!("cannot write {}: {e}", o.out))?;
                saved = "  (best: saved)";
            }
            let tok_s = if train_time > 0.0 { trained_tokens as f64 / train_time } else { 0.0 };
            clear_progress();
            println!("step {step:>6}  train {train_loss:.4}  val {val_loss:.4}  {tok_s:>8.0} tok/s  {:>7.1} min{saved}", elapsed / 60.0);
            eval_time += e0.elapsed().as_secs_f64();
            evals += 1;
        }
        if o.fit_steps && step == FIT_AFTER {
            // Fit the run to the time budget: steps at the measured pace, evaluations included,
            // with 2% to spare; the cosine then ends as the time does.
            let per_step = train_time / step as f64;
            let per_eval = eval_time / evals as f64;
            let left = o.time_limit_s.unwrap_or(0.0) - start.elapsed().as_secs_f64() - per_eval;
            let more = (0.98 * left / (per_step + per_eval / o.eval_every as f64)).max(1.0) as usize;
            o.steps = step + more;
            o.fit_steps = false;
            trainer.set_schedule(LrSchedule { decay_steps: o.steps, ..o.train.schedule });
            clear_progress();
            println!("time budget: {} steps ({:.0} ms per step, {:.1} s per evaluation)", o.steps, per_step * 1e3, per_eval);
        }
        if step == o.steps {
            break;
        }
        if out_of_time {
            clear_progress();
            eprintln!("stopped at step {step}: --time-limit-min reached (the learning rate had not finished decaying)");
            break;
        }
        let t0 = Instant::now();
        let stats = if replicas.is_empty() {
            trainer.step(&mut gpt, k, train)
        } else {
            trainer.step_sharded(&mut gpt, &mut replicas, shard_kernels, train)
        }
        .map_err(|e| e.to_string())?;
        train_time += t0.elapsed().as_secs_f64();
        trained_tokens += b * t;
        last_loss = stats.loss;
        progress(step + 1, o.steps, stats.loss, stats.lr, trained_tokens as f64 / train_time, start.elapsed().as_secs_f64());
        step += 1;
    }
    clear_progress();
    eprintln!(
        "done: best val loss {best_val:.4} written to {}; last train batch loss {last_loss:.4}; {:.0} tok/s over {:.1} min of training steps",
        o.out,
        trained_tokens as f64 / train_time.max(1e-9),
        train_time / 60.0
    );
    Ok(())
}

/// The replicas and kernels of data-parallel training: `--shards N`, or by default what the
/// page's training does (`default_shards`: the most shards, at most one per thread of a threaded
/// backend's pool, that split the batch evenly).
fn data_parallel(o: &TrainOptions, trainer: &Trainer, gpt: &Gpt, k: &dyn Kernels) -> Result<(Vec<Gpt>, &'static dyn Kernels), String> {
    let shards = o.shards.unwrap_or_else(|| default_shards(k, o.train.batch_size));
    let replicas = trainer.replicas(gpt, shards).map_err(|e| format!("--shards {shards}: {e}"))?;
    Ok((replicas, glassgpt::kernels::by_name("simd").expect("the simd backend is in every build")))
}

/// One `\r` progress line: bar, step, loss, learning rate, speed, time left.
fn progress(step: usize, steps: usize, loss: f32, lr: f32, tok_s: f64, elapsed: f64) {
    const WIDTH: usize = 24;
    let done = WIDTH * step / steps;
    let eta = elapsed / step as f64 * (steps - step) as f64;
    let bar: String = "#".repeat(done) + &".".repeat(WIDTH - done);
    eprint!("\r[{bar}] {step}/{steps}  loss {loss:.4}  lr {lr:.2e}  {tok_s:.0} tok/s  eta {:.1} min ", eta / 60.0);
    let _ = std::io::stderr().flush();
}

/// Blanks the progress line so a printed line starts clean.
fn clear_progress() {
    eprint!("\r{:100}\r", "");
}
