//! `glassgpt sample` (generate text) and `glassgpt next` (the next-character distribution).

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
    for _ in 0..length {
        let id = session.next(&gpt, k, &sampler, &mut rng).map_err(|e| e.to_string())?;
        let _ = write!(out, "{}", vocab.chars()[id as usize]);
        let _ = out.flush();
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
