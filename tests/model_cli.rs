//! The CLI end to end: train a tiny model on a file, sample from it, print the next-character
//! distribution as JSON.
#![cfg(not(target_arch = "wasm32"))]

use std::path::PathBuf;
use std::process::Command;

fn glassgpt(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_glassgpt")).args(args).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn workdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("glassgpt-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn train_sample_next() {
    let dir = workdir("train");
    let data = dir.join("data.txt");
    let text = "ROMEO:\nBut soft, what light through yonder window breaks?\nJULIET:\nAy me!\n".repeat(30);
    std::fs::write(&data, &text).unwrap();
    let ckpt = dir.join("m.safetensors");
    let (ok, stdout, stderr) = glassgpt(&[
        "train", "--data", data.to_str().unwrap(), "--out", ckpt.to_str().unwrap(),
        "--n-layer", "1", "--n-head", "2", "--n-embd", "16", "--block-size", "16", "--batch", "4",
        "--steps", "60", "--lr", "1e-2", "--warmup", "5", "--eval-every", "20", "--eval-iters", "2",
    ]);
    assert!(ok, "train failed: {stderr}");
    let evals: Vec<&str> = stdout.lines().filter(|l| l.starts_with("step")).collect();
    assert_eq!(evals.len(), 4, "evaluations at steps 0, 20, 40, 60: {stdout}");
    let val = |line: &str| -> f32 { line.split("val ").nth(1).unwrap().split_whitespace().next().unwrap().parse().unwrap() };
    assert!(val(evals[3]) < val(evals[0]) - 0.5, "validation loss did not fall: {stdout}");
    assert!(stderr.contains("tok/s") && stderr.contains("done: best val loss"), "{stderr}");

    let sample = |seed: &str| glassgpt(&["sample", "--checkpoint", ckpt.to_str().unwrap(), "--prompt", "ROMEO:\n", "--length", "40", "--seed", seed]);
    let (ok, a, err) = sample("7");
    assert!(ok, "{err}");
    assert!(a.starts_with("ROMEO:\n") && a.chars().count() == "ROMEO:\n".len() + 40 + 1, "{a:?}");
    assert_eq!(sample("7").1, a, "same seed, same text");

    let (ok, json, err) = glassgpt(&["next", "--checkpoint", ckpt.to_str().unwrap(), "--prompt", "JULIET", "--json"]);
    assert!(ok, "{err}");
    let probs: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&json).unwrap();
    let vocab: std::collections::BTreeSet<char> = text.chars().collect();
    assert_eq!(probs.len(), vocab.len());
    let total: f64 = probs.values().map(|p| p.as_f64().unwrap()).sum();
    assert!((total - 1.0).abs() < 1e-5, "probabilities sum to {total}");

    // eval: the loss over every character of the validation split, against the same windows
    // scored here from the model's logits (log-softmax in f64).
    let (ok, out, err) = glassgpt(&["eval", "--checkpoint", ckpt.to_str().unwrap(), "--data", data.to_str().unwrap()]);
    assert!(ok, "{err}");
    let cli_loss: f64 = out.split("loss ").nth(1).unwrap().split_whitespace().next().unwrap().parse().unwrap();
    let (mut gpt, vocab) = glassgpt::checkpoint::load_model(&std::fs::read(&ckpt).unwrap()).unwrap();
    let ids = vocab.encode(&text).unwrap();
    let val = &ids[ids.len() * 9 / 10..];
    let (t, v) = (16, vocab.len());
    let (mut total, mut n) = (0.0f64, 0usize);
    for start in (0..val.len() - 1).step_by(t) {
        let len = t.min(val.len() - 1 - start);
        let logits = gpt.forward_logits(glassgpt::kernels::best(), &val[start..start + len]).unwrap().to_vec();
        for (p, row) in logits.chunks(v).enumerate() {
            let max = row.iter().fold(f64::MIN, |m, &x| m.max(x as f64));
            let lse = max + row.iter().map(|&x| (x as f64 - max).exp()).sum::<f64>().ln();
            total += lse - row[val[start + p + 1] as usize] as f64;
            n += 1;
        }
    }
    assert!(out.contains(&format!("val: {n} characters predicted")), "{out}");
    assert!((cli_loss - total / n as f64).abs() < 2e-4, "eval printed {cli_loss}, the windows score {}: {out}", total / n as f64);
    let (ok, _, err) = glassgpt(&["eval", "--checkpoint", ckpt.to_str().unwrap(), "--data", data.to_str().unwrap(), "--split", "test"]);
    assert!(!ok && err.contains("expected val, train or all"), "{err}");

    let (ok, _, err) = glassgpt(&["next", "--checkpoint", ckpt.to_str().unwrap(), "--prompt", "Zed"]);
    assert!(!ok && err.contains("'Z' at 0") && err.contains("--lossy"), "{err}");
    let (ok, _, err) = glassgpt(&["next", "--checkpoint", ckpt.to_str().unwrap(), "--prompt", "Zed", "--lossy"]);
    assert!(ok && err.contains("replaced 'Z' at 0"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_arguments_are_clear_errors() {
    let (ok, _, err) = glassgpt(&["train", "--out", "x"]);
    assert!(!ok && err.contains("--data is required"), "{err}");
    let (ok, _, err) = glassgpt(&["train", "--data", "/nonexistent", "--out", "x", "--n-layr", "2"]);
    assert!(!ok && err.contains("unknown option --n-layr"), "{err}");
    let (ok, _, err) = glassgpt(&["sample", "--checkpoint", "/nonexistent/m.safetensors"]);
    assert!(!ok && err.contains("cannot read --checkpoint"), "{err}");
    let dir = workdir("bad");
    let bogus = dir.join("bogus.safetensors");
    std::fs::write(&bogus, b"not a checkpoint at all").unwrap();
    let (ok, _, err) = glassgpt(&["next", "--checkpoint", bogus.to_str().unwrap(), "--prompt", "a"]);
    assert!(!ok && err.contains("header length"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
