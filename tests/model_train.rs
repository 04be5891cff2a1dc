//! Training end to end: a tiny model memorises a line, then reproduces it greedily.

use glassgpt::config::GptConfig;
use glassgpt::kernels::scalar::Scalar;
use glassgpt::model::generate::generate;
use glassgpt::model::{AdamW, Gpt, LrSchedule, Sampler};
use glassgpt::tokenizer::Vocab;

#[test]
fn tiny_model_memorises_a_line() {
    let text = "To be, or not to be, that is the question:\n";
    let vocab = Vocab::from_text(text).unwrap();
    let ids = vocab.encode(text).unwrap();
    let t = 32;
    let config = GptConfig { block_size: t, vocab_size: vocab.len(), n_layer: 2, n_head: 2, n_embd: 32, ..GptConfig::default() };
    let mut gpt = Gpt::new(config, 1).unwrap();
    // Two windows, each position with its whole prefix: every next character is determined.
    let (b, inputs, targets) = (2, [&ids[0..t], &ids[8..8 + t]].concat(), [&ids[1..t + 1], &ids[9..9 + t]].concat());
    gpt.reserve(b, t).unwrap();
    let opt = AdamW { weight_decay: 0.0, ..AdamW::default() };
    let schedule = LrSchedule { lr: 1e-2, min_lr: 1e-3, warmup_steps: 10, decay_steps: 150 };
    let first = gpt.forward(&Scalar, &inputs, &targets, b, t).unwrap();
    let mut loss = first;
    for step in 0..150 {
        loss = gpt.forward(&Scalar, &inputs, &targets, b, t).unwrap();
        gpt.zero_grad();
        gpt.backward(&Scalar).unwrap();
        gpt.clip_grad_norm(1.0);
        gpt.update(&opt, schedule.at(step));
    }
    println!("loss {first:.3} -> {loss:.4}");
    assert!((first - (vocab.len() as f32).ln()).abs() < 0.2, "an untrained model is near-uniform: {first}");
    assert!(loss < 0.02, "did not memorise: loss {loss}");
    // Greedy generation through the KV cache replays the line.
    let out = generate(&gpt, &Scalar, &ids[..1], 30, &Sampler { temperature: 0.0, ..Sampler::default() }, 0).unwrap();
    assert_eq!(vocab.decode(&out).unwrap(), &text[1..31]);
}

/// nanoGPT's get_lr: linear warmup to lr, cosine to min_lr at decay_steps, min_lr after.
#[test]
fn learning_rate_schedule_hand_values() {
    let s = LrSchedule { lr: 1e-3, min_lr: 1e-4, warmup_steps: 9, decay_steps: 109 };
    assert!((s.at(0) - 1e-4).abs() < 1e-9); // 1e-3 * 1/10
    assert!((s.at(8) - 9e-4).abs() < 1e-9);
    assert!((s.at(9) - 1e-3).abs() < 1e-9); // cosine at ratio 0
    assert!((s.at(59) - 5.5e-4).abs() < 1e-9); // ratio 1/2: the midpoint
    assert!((s.at(109) - 1e-4).abs() < 1e-9);
    assert_eq!(s.at(5000), 1e-4);
}

/// One AdamW step from zero moments moves each weight by lr * g / (|g| + eps), about
/// lr * sign(g) (bias correction makes m̂ = g and v̂ = g²), plus lr * wd * w on matrices only.
#[test]
fn adamw_first_step_hand_values() {
    let config = GptConfig { block_size: 4, vocab_size: 5, n_layer: 1, n_head: 1, n_embd: 4, ..GptConfig::default() };
    let mut gpt = Gpt::new(config, 0).unwrap();
    gpt.reserve(1, 4).unwrap();
    gpt.forward(&Scalar, &[0, 1, 2, 3], &[1, 2, 3, 4], 1, 4).unwrap();
    gpt.zero_grad();
    gpt.backward(&Scalar).unwrap();
    let (before, grads) = (gpt.params().to_vec(), gpt.grads().to_vec());
    let (lr, wd) = (0.01f32, 0.1f32);
    gpt.update(&AdamW { weight_decay: wd, ..AdamW::default() }, lr);
    let layout = gpt.layout().clone();
    for name in ["qkvw", "qkvb", "lnfw", "wte"] {
        let spec = layout.spec(name).unwrap();
        let decays = name.ends_with('w') && !name.starts_with("ln") || name == "wte";
        for i in spec.offset..spec.offset + spec.size {
            let g = grads[i];
            let want = before[i] - lr * (g / (g.abs() + 1e-8) + if decays { wd * before[i] } else { 0.0 });
            assert!((gpt.params()[i] - want).abs() < 1e-6, "{name}[{i}]: {} vs {want}", gpt.params()[i]);
        }
    }
    assert_eq!(gpt.step(), 1);
}

#[test]
fn gradient_clipping_scales_to_the_norm() {
    let config = GptConfig { block_size: 4, vocab_size: 5, n_layer: 1, n_head: 1, n_embd: 4, ..GptConfig::default() };
    let mut gpt = Gpt::new(config, 0).unwrap();
    gpt.reserve(1, 4).unwrap();
    gpt.forward(&Scalar, &[0, 1, 2, 3], &[1, 2, 3, 4], 1, 4).unwrap();
    gpt.zero_grad();
    gpt.backward(&Scalar).unwrap();
    let norm = gpt.clip_grad_norm(0.0); // measure only
    let direct = gpt.grads().iter().map(|g| (*g as f64).powi(2)).sum::<f64>().sqrt();
    assert!((norm as f64 - direct).abs() < 1e-6 * direct);
    let before = gpt.clip_grad_norm(norm / 4.0);
    assert_eq!(before, norm);
    let after = gpt.clip_grad_norm(0.0);
    assert!((after - norm / 4.0).abs() < 1e-5 * norm, "{after} vs {}", norm / 4.0);
    assert!(gpt.backward(&Scalar).is_ok());
    gpt.forward_logits(&Scalar, &[0, 1]).unwrap();
    assert!(gpt.backward(&Scalar).is_err(), "backward after a forward without targets");
}
