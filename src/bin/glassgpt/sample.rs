//! The commands that read a checkpoint: `glassgpt sample` (generate text), `glassgpt next` (the
//! next-character distribution) and `glassgpt eval` (the loss over a whole split of a text).

use std::io::Write;

use glassgpt::checkpoint::load_model;
use glassgpt::kernels::Kernels;
use glassgpt::model::{Gpt, Sampler, Session};
use glassgpt::rng::Rng;
use glassgpt::tokenizer::Vocab;

use crate::args::Args;

fn load(path: &str) -> Result<(Gpt, Vocab), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read --checkpoint {path}: {e}"))?;
    load_model(&bytes).map_err(|e| format!("{path}: {e}"))
}

/// Encodes the prompt; with `lossy`, unknown characters become the replacement and are
/// reported on stderr, otherwise they are an error.
fn encode(vocab: &Vocab, prompt: &str, lossy: bool) -> Result<Vec<u32>, String> {
    if prompt.is_empty() {
        return Err("--prompt must have at least one character".into());
    }
    if !lossy {
        return vocab.encode(prompt).map_err(|e| format!("{e} (use --lossy to replace them)"));
    }
    let enc = vocab.encode_lossy(prompt);
    for r in &enc.replaced {
        eprintln!("replaced {:?} at {} with {:?}", r.ch, r.position, vocab.replacement());
    }
    Ok(enc.ids)
}

/// `glassgpt sample --checkpoint F [--prompt P] [--length N] [--temperature T] [--top-k K]
/// [--top-p P] [--seed S] [--overflow-keep K] [--lossy]`: streams the prompt and N sampled
/// characters to stdout. Past block_size the window slides one character at a time as in
/// nanoGPT, unless `--overflow-keep K` keeps K characters and recomputes only every
/// block_size - K characters (much faster; see `Session::set_overflow_keep`).
pub fn sample(rest: &[String], k: &dyn Kernels) -> Result<(), String> {
    let a = Args::parse(rest, &["lossy"])?;
    let path: String = a.required("checkpoint")?;
    let prompt: String = a.get("prompt", "\n".to_string())?;
    let length: usize = a.get("length", 500)?;
    let sampler = Sampler { temperature: a.get("temperature", 0.8)?, top_k: a.get("top-k", 0)?, top_p: a.get("top-p", 1.0)? };
    let seed: Option<u64> = a.opt("seed")?;
    let overflow_keep: Option<usize> = a.opt("overflow-keep")?;
    let lossy = a.switch("lossy");
    a.finish()?;
    sampler.validate().map_err(|e| e.to_string())?;
    let (gpt, vocab) = load(&path)?;
    let ids = encode(&vocab, &prompt, lossy)?;
    let seed = match seed {
        Some(s) => s,
        None => {
            let s = Rng::entropy_seed().map_err(|e| e.to_string())?;
            eprintln!("seed {s}");
            s
        }
    };
    let mut rng = Rng::new(seed);
    let mut session = Session::new(gpt.config()).map_err(|e| e.to_string())?;
    if let Some(keep) = overflow_keep {
        session.set_overflow_keep(keep).map_err(|e| e.to_string())?;
    }
    session.feed(&gpt, k, &ids).map_err(|e| e.to_string())?;
    let mut out = std::io::stdout().lock();
    let _ = write!(out, "{prompt}");
    // In pieces: each is one piece of work for the threaded backend's pool (Session::generate).
    let mut left = length;
    while left > 0 {
        let n = left.min(32);
        for id in session.generate(&gpt, k, &sampler, &mut rng, n).map_err(|e| e.to_string())? {
            let _ = write!(out, "{}", vocab.chars()[id as usize]);
        }
        let _ = out.flush();
        left -= n;
    }
    let _ = writeln!(out);
    Ok(())
}

/// `glassgpt next --checkpoint F --prompt P [--json] [--lossy]`: the probability of every
/// character following the prompt (its last block_size characters). `--json` prints one object
/// `{"char": probability, ...}` in vocabulary order; otherwise a table, most likely first.
pub fn next(rest: &[String], k: &dyn Kernels) -> Result<(), String> {
    let a = Args::parse(rest, &["json", "lossy"])?;
    let path: String = a.required("checkpoint")?;
    let prompt: String = a.required("prompt")?;
    let json = a.switch("json");
    let lossy = a.switch("lossy");
    a.finish()?;
    let (mut gpt, vocab) = load(&path)?;
    let ids = encode(&vocab, &prompt, lossy)?;
    let window = &ids[ids.len().saturating_sub(gpt.config().block_size)..];
    let probs = gpt.next_char_probs(k, window).map_err(|e| e.to_string())?;
    if json {
        let mut map = serde_json::Map::new();
        for (ch, &p) in vocab.chars().iter().zip(probs) {
            map.insert(ch.to_string(), serde_json::Value::from(p as f64));
        }
        println!("{}", serde_json::Value::Object(map));
    } else {
        let mut order: Vec<usize> = (0..probs.len()).collect();
        order.sort_by(|&i, &j| probs[j].total_cmp(&probs[i]).then(i.cmp(&j)));
        for i in order {
            println!("{:>8}  {:.6}", format!("{:?}", vocab.chars()[i]), probs[i]);
        }
    }
    Ok(())
}

/// `glassgpt eval --checkpoint F --data FILE [--split val|train|all] [--batch 16] [--lossy]`:
/// the mean loss over every character of a split of FILE (the split `glassgpt train` makes:
/// the first 90% trains, the last 10% validates), not an estimate from random batches. The
/// split is cut into consecutive windows of block_size characters, each predicting the
/// character after each of its positions, as the training batches do; a shorter last window
/// takes the remainder.
pub fn eval(rest: &[String], k: &dyn Kernels) -> Result<(), String> {
    let a = Args::parse(rest, &["lossy"])?;
    let path: String = a.required("checkpoint")?;
    let data: String = a.required("data")?;
    let split: String = a.get("split", "val".to_string())?;
    let batch: usize = a.get("batch", 16)?;
    let lossy = a.switch("lossy");
    a.finish()?;
    if batch == 0 {
        return Err("--batch must be at least 1".into());
    }
    let (mut gpt, vocab) = load(&path)?;
    let text = std::fs::read_to_string(&data).map_err(|e| format!("cannot read --data {data}: {e}"))?;
    let ids = if lossy { encode(&vocab, &text, true)? } else { vocab.encode(&text).map_err(|e| format!("{data}: {e} (use --lossy to replace them)"))? };
    let (train, val) = glassgpt::model::train::split_train_val(&ids);
    let ids = match split.as_str() {
        "val" => val,
        "train" => train,
        "all" => &ids[..],
        other => return Err(format!("--split {other}: expected val, train or all")),
    };
    if ids.len() < 2 {
        return Err(format!("the {split} split of {data} has {} characters; it needs at least 2", ids.len()));
    }
    let t = gpt.config().block_size;
    let predicted = ids.len() - 1;
    let (full, rest_t) = (predicted / t, predicted % t);
    gpt.reserve(batch, t).map_err(|e| e.to_string())?;
    let (mut total, mut done) = (0.0f64, 0usize);
    let (mut inputs, mut targets) = (Vec::with_capacity(batch * t), Vec::with_capacity(batch * t));
    let mut window = 0;
    while window < full {
        let b = batch.min(full - window);
        inputs.clear();
        targets.clear();
        for w in window..window + b {
            inputs.extend_from_slice(&ids[w * t..][..t]);
            targets.extend_from_slice(&ids[w * t + 1..][..t]);
        }
        total += gpt.forward(k, &inputs, &targets, b, t).map_err(|e| e.to_string())? as f64 * (b * t) as f64;
        done += b * t;
        window += b;
    }
    if rest_t > 0 {
        let s = full * t;
        total += gpt.forward(k, &ids[s..s + rest_t], &ids[s + 1..s + rest_t + 1], 1, rest_t).map_err(|e| e.to_string())? as f64 * rest_t as f64;
        done += rest_t;
    }
    let loss = total / done as f64;
    println!(
        "{split}: {done} characters predicted in {} windows of up to {t}: loss {loss:.4} nats/char ({:.4} bits/char)",
        full + usize::from(rest_t > 0),
        loss / std::f64::consts::LN_2
    );
    Ok(())
}
