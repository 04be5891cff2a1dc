//! A development checkpoint for the playground: trains a tiny GPT on www/data/shakespeare.txt
//! for a fixed wall-clock budget on the scalar kernels and writes a safetensors file.
//!
//! ```text
//! cargo run --release --example tiny_shakespeare -- [seconds] [out.safetensors] [block_size]
//! ```
//! It is a stand-in for the shipped model (trained by the CLI), small and quick, not good.

use std::time::Instant;

use glassgpt::checkpoint::save_model;
use glassgpt::config::GptConfig;
use glassgpt::kernels::scalar::Scalar;
use glassgpt::model::{AdamW, Gpt, LrSchedule};
use glassgpt::rng::Rng;
use glassgpt::tokenizer::Vocab;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seconds: f64 = args.first().map(|s| s.parse()).transpose()?.unwrap_or(120.0);
    let out = args.get(1).cloned().unwrap_or_else(|| "www/models/shakespeare.safetensors".into());
    let text = std::fs::read_to_string("www/data/shakespeare.txt")?;
    let vocab = Vocab::from_text(&text)?;
    let ids = vocab.encode(&text)?;
    let t: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(64);
    let b = (1024 / t).max(1); // about 1024 tokens a step
    let config = GptConfig { block_size: t, vocab_size: vocab.len(), n_layer: 2, n_head: 4, n_embd: 64, ..GptConfig::default() };
    let mut gpt = Gpt::new(config, 1337)?;
    gpt.reserve(b, t)?;
    let opt = AdamW::default();
    // The schedule assumes about 2 steps a second; after decay_steps it stays at min_lr.
    let steps_guess = (seconds * 2.0) as usize;
    let schedule = LrSchedule { lr: 3e-3, min_lr: 3e-4, warmup_steps: 20, decay_steps: steps_guess.max(40) };
    let mut rng = Rng::new(7);
    let (mut inputs, mut targets) = (vec![0u32; b * t], vec![0u32; b * t]); // (B, T)
    let t0 = Instant::now();
    let mut step = 0;
    let mut avg = 0.0f32;
    while t0.elapsed().as_secs_f64() < seconds {
        for row in 0..b {
            let start = rng.below(ids.len() - t - 1);
            inputs[row * t..(row + 1) * t].copy_from_slice(&ids[start..start + t]);
            targets[row * t..(row + 1) * t].copy_from_slice(&ids[start + 1..start + t + 1]);
        }
        let loss = gpt.forward(&Scalar, &inputs, &targets, b, t)?;
        gpt.zero_grad();
        gpt.backward(&Scalar)?;
        gpt.clip_grad_norm(1.0);
        gpt.update(&opt, schedule.at(step));
        avg = if step == 0 { loss } else { 0.95 * avg + 0.05 * loss };
        if step % 50 == 0 {
            eprintln!("step {step:5}  loss {loss:.3}  (smoothed {avg:.3})  {:.0} s", t0.elapsed().as_secs_f64());
        }
        step += 1;
    }
    eprintln!("{step} steps, smoothed loss {avg:.3}; {} parameters, V = {}", gpt.num_parameters(), vocab.len());
    let bytes = save_model(&gpt, &vocab, &Default::default())?;
    if let Some(dir) = std::path::Path::new(&out).parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&out, bytes)?;
    eprintln!("wrote {out}");
    Ok(())
}
