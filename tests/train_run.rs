//! The Train page's trainer ([`TrainRun`], what the wasm `TrainSession` wraps) against the
//! CLI: from the same text, seed and options, `glassgpt train` prints the same evaluation losses
//! as the run gives at the same steps, and its checkpoint predicts the same next character.
//! (The browser's own curve is compared with the CLI's in tests/e2e/train.test.mjs.)
#![cfg(not(target_arch = "wasm32"))]

use std::process::Command;

use glassgpt::checkpoint::load_model;
use glassgpt::kernels::{best, Kernels};
use glassgpt::model::run::{RunOptions, TrainRun};

const TEXT: &str = "First Citizen:\nBefore we proceed any further, hear me speak.\nAll:\nSpeak, speak.\n";

fn options() -> RunOptions {
    RunOptions {
        n_layer: 2,
        n_head: 2,
        n_embd: 16,
        block_size: 16,
        batch_size: 4,
        steps: 60,
        lr: 1e-2,
        min_lr: 1e-3,
        warmup_steps: 5,
        seed: 42,
        ..RunOptions::default()
    }
}

/// (step, train, val) from the CLI's evaluation lines: `step     20  train 2.1234  val 2.3456 ...`.
fn cli_evals(stdout: &str) -> Vec<(usize, f32, f32)> {
    stdout
        .lines()
        .filter(|l| l.starts_with("step"))
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w[1].parse().unwrap(), w[3].parse().unwrap(), w[5].parse().unwrap())
        })
        .collect()
}

/// With the `threads` feature, the CLI and this process both train on two threads, so both take
/// data-parallel steps (two shards of the batch of 4); without it, both take plain steps.
#[cfg(feature = "threads")]
fn on_two_threads<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap().install(f)
}

#[cfg(not(feature = "threads"))]
fn on_two_threads<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    f()
}

#[test]
fn the_run_trains_exactly_as_the_cli() {
    on_two_threads(the_run_trains_exactly_as_the_cli_here);
}

fn the_run_trains_exactly_as_the_cli_here() {
    // The CLI runs on kernels::best(); so does this process, so the two agree bit for bit.
    let k: &dyn Kernels = best();
    let dir = std::env::temp_dir().join(format!("glassgpt-train-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = TEXT.repeat(12);
    let data = dir.join("data.txt");
    std::fs::write(&data, &text).unwrap();
    let ckpt = dir.join("m.safetensors");
    let o = options();
    let out = Command::new(env!("CARGO_BIN_EXE_glassgpt"))
        .env("RAYON_NUM_THREADS", "2")
        .args(["train", "--data", data.to_str().unwrap(), "--out", ckpt.to_str().unwrap()])
        .args(["--n-layer", "2", "--n-head", "2", "--n-embd", "16", "--block-size", "16", "--batch", "4"])
        .args(["--steps", "60", "--lr", "1e-2", "--min-lr", "1e-3", "--warmup", "5", "--seed", "42"])
        .args(["--eval-every", "20", "--eval-iters", "3"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stderr.contains("data parallel: 2 shards of 2 sequences"), cfg!(feature = "threads"), "{stderr}");
    let cli = cli_evals(&stdout);
    assert_eq!(cli.iter().map(|e| e.0).collect::<Vec<_>>(), [0, 20, 40, 60], "{stdout}");

    let mut run = TrainRun::new(&text, o).unwrap();
    let mut ours = vec![run.evaluate(k, 3).unwrap()];
    while !run.done() {
        run.step(k).unwrap();
        if run.steps_done() % 20 == 0 {
            ours.push(run.evaluate(k, 3).unwrap());
        }
    }
    for ((step, train, val), e) in cli.iter().zip(&ours) {
        assert_eq!(*step, e.step);
        // The CLI prints 4 decimals; the same arithmetic gives the same rounding.
        assert_eq!(format!("{train:.4} {val:.4}"), format!("{:.4} {:.4}", e.train, e.val), "step {step}: CLI {stdout}");
    }
    assert!(ours[3].val < ours[0].val - 1.0, "the loss fell: {ours:?}");

    // The CLI saves its best validation checkpoint: the last one, as the loss fell throughout.
    assert!(ours.windows(2).all(|w| w[1].val < w[0].val), "{ours:?}");
    let (mut cli_gpt, vocab) = load_model(&std::fs::read(&ckpt).unwrap()).unwrap();
    assert_eq!(vocab.as_string(), run.vocab().as_string());
    let prompt = "Speak, sp";
    let ids = vocab.encode(prompt).unwrap();
    let cli_probs = cli_gpt.next_char_probs(k, &ids).unwrap().to_vec();
    run.probe(k, prompt).unwrap();
    assert_eq!(run.probe_probs(), &cli_probs[..]);
    std::fs::remove_dir_all(&dir).unwrap();
}
