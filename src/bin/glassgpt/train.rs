//! `glassgpt train`: trains a character GPT on a text file and keeps the best checkpoint.
//!
//! The first 90% of the text is the training split, the last 10% the validation split (as
//! nanoGPT's shakespeare_char). Each step draws B random windows of T+1 characters from the
//! training split; every `--eval-every` steps the mean loss over `--eval-iters` batches of each
//! split is printed (the same batches each time, so evaluations compare), and the checkpoint is
//! written when the validation loss is the best so far.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Instant;

use glassgpt::checkpoint::save_model;
use glassgpt::config::{GptConfig, PosEncoding};
use glassgpt::kernels::Kernels;
use glassgpt::model::{AdamW, Gpt, LrSchedule};
use glassgpt::rng::Rng;
use glassgpt::tokenizer::Vocab;

use crate::args::Args;

/// Everything `train` reads from the command line.
struct TrainOptions {
    data: String,
    out: String,
    config: GptConfig,
    batch: usize,
    steps: usize,
    schedule: LrSchedule,
    opt: AdamW,
    grad_clip: f32,
    seed: u64,
    eval_every: usize,
    eval_iters: usize,
    time_limit_s: Option<f64>,
}

fn options(rest: &[String]) -> Result<TrainOptions, String> {
    let a = Args::parse(rest, &["sinusoidal"])?;
    let steps = a.get("steps", 5000usize)?;
    let lr = a.get("lr", 1e-3f32)?;
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
        batch: a.get("batch", 16)?,
        steps,
        schedule: LrSchedule {
            lr,
            min_lr: a.get("min-lr", lr / 10.0)?,
            warmup_steps: a.get("warmup", 100)?,
            decay_steps: a.get("decay-steps", steps)?,
        },
        opt: AdamW {
            weight_decay: a.get("weight-decay", 0.1)?,
            beta2: a.get("beta2", 0.99)?,
            ..AdamW::default()
        },
        grad_clip: a.get("grad-clip", 1.0)?,
        seed: a.get("seed", 1337)?,
        eval_every: a.get("eval-every", 250)?,
        eval_iters: a.get("eval-iters", 20)?,
        time_limit_s: a.opt::<f64>("time-limit-min")?.map(|m| m * 60.0),
    };
    a.finish()?;
    if o.batch == 0 || o.steps == 0 || o.eval_every == 0 || o.eval_iters == 0 {
        return Err("--batch, --steps, --eval-every and --eval-iters must be at least 1".into());
    }
    let finite_non_negative = |x: f32| x.is_finite() && x >= 0.0;
    if !finite_non_negative(o.schedule.lr) || o.schedule.lr == 0.0 || !finite_non_negative(o.schedule.min_lr) {
        return Err("--lr must be positive and --min-lr non-negative".into());
    }
    Ok(o)
}

/// Fills `inputs`/`targets` (B, T) with B random windows of `ids`.
fn batch(ids: &[u32], t: usize, rng: &mut Rng, inputs: &mut [u32], targets: &mut [u32]) {
    for (inp, tgt) in inputs.chunks_exact_mut(t).zip(targets.chunks_exact_mut(t)) {
        let start = rng.below(ids.len() - t);
        inp.copy_from_slice(&ids[start..start + t]);
        tgt.copy_from_slice(&ids[start + 1..start + t + 1]);
    }
}

/// Mean loss over `iters` batches drawn with a fixed seed (the same batches every call).
fn evaluate(gpt: &mut Gpt, k: &dyn Kernels, ids: &[u32], b: usize, t: usize, iters: usize, seed: u64) -> Result<f32, String> {
    let mut rng = Rng::new(seed);
    let (mut inputs, mut targets) = (vec![0u32; b * t], vec![0u32; b * t]);
    let mut total = 0.0f64;
    for _ in 0..iters {
        batch(ids, t, &mut rng, &mut inputs, &mut targets);
        total += gpt.forward(k, &inputs, &targets, b, t).map_err(|e| e.to_string())? as f64;
    }
    Ok((total / iters as f64) as f32)
}

pub fn run(rest: &[String], k: &dyn Kernels) -> Result<(), String> {
    let mut o = options(rest)?;
    let text = std::fs::read_to_string(&o.data).map_err(|e| format!("cannot read --data {}: {e}", o.data))?;
    let vocab = Vocab::from_text(&text).map_err(|e| e.to_string())?;
    let ids = vocab.encode(&text).map_err(|e| e.to_string())?;
    let split = ids.len() * 9 / 10;
    let (train, val) = (&ids[..split], &ids[split..]);
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
    let mut gpt = Gpt::new(o.config, o.seed).map_err(|e| e.to_string())?;
    gpt.reserve(o.batch, t).map_err(|e| e.to_string())?;
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
        o.batch,
        k.name()
    );

    let mut rng = Rng::new(o.seed ^ 0x5eed);
    let (mut inputs, mut targets) = (vec![0u32; o.batch * t], vec![0u32; o.batch * t]);
    let start = Instant::now();
    let mut best_val = f32::INFINITY;
    let mut train_time = 0.0f64;
    let mut trained_tokens = 0usize;
    let mut last_loss = f32::NAN;
    for step in 0..=o.steps {
        let elapsed = start.elapsed().as_secs_f64();
        let out_of_time = o.time_limit_s.is_some_and(|limit| elapsed >= limit);
        if step % o.eval_every == 0 || step == o.steps || out_of_time {
            let train_loss = evaluate(&mut gpt, k, train, o.batch, t, o.eval_iters, o.seed ^ 0xe7a1)?;
            let val_loss = evaluate(&mut gpt, k, val, o.batch, t, o.eval_iters, o.seed ^ 0x7a1)?;
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
        batch(train, t, &mut rng, &mut inputs, &mut targets);
        let loss = gpt.forward(k, &inputs, &targets, o.batch, t).map_err(|e| e.to_string())?;
        gpt.zero_grad();
        gpt.backward(k).map_err(|e| e.to_string())?;
        gpt.clip_grad_norm(o.grad_clip);
        let lr = o.schedule.at(step);
        gpt.update(&o.opt, lr);
        train_time += t0.elapsed().as_secs_f64();
        trained_tokens += o.batch * t;
        last_loss = loss;
        progress(step + 1, o.steps, loss, lr, trained_tokens as f64 / train_time, start.elapsed().as_secs_f64());
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
