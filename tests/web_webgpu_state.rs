//! Browser tests of what comes back from GPU training (`GpuGpt::read_train_state`): the
//! parameters and AdamW's moments and update count, against the CPU model's after the same steps,
//! and a run that falls back from the GPU to the CPU
//! (`wasm-pack test --headless --chrome --features webgpu -- --test web_webgpu_state`).
//!
//! They need a WebGPU adapter, as `web_webgpu.rs` (webdriver.json gives headless Chromium its
//! SwiftShader one); shapes stay small.
#![cfg(all(target_arch = "wasm32", feature = "webgpu"))]

use std::rc::Rc;

use glassgpt::config::GptConfig;
use glassgpt::kernels::scalar::Scalar;
use glassgpt::model::run::{RunOptions, TrainRun};
use glassgpt::model::{AdamW, Gpt};
use glassgpt::webgpu::{GpuContext, GpuGpt};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

async fn context() -> Rc<GpuContext> {
    GpuContext::new().await.unwrap_or_else(|e| panic!("these tests need a WebGPU adapter (see webdriver.json): {e}"))
}

/// Largest |got - want| is at most `rel` times the largest |want| (lengths equal).
fn assert_close(what: &str, got: &[f32], want: &[f32], rel: f32) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    let scale = want.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    let (i, diff) = got.iter().zip(want).map(|(a, b)| (a - b).abs()).enumerate().fold((0, 0.0f32), |m, (i, d)| if d > m.1 { (i, d) } else { m });
    assert!(diff <= rel * scale, "{what}: element {i} differs by {diff} (GPU {} CPU {}), more than {rel} × {scale}", got[i], want[i]);
}

/// Two steps on the GPU and on the CPU model (scalar kernels) from the same parameters: the state
/// read back is the CPU's, moments included, and t counts the updates. Before any step, the
/// parameters uploaded and zero moments.
#[wasm_bindgen_test]
async fn the_state_read_back_is_the_cpu_models_after_the_same_steps() {
    let cfg = GptConfig { block_size: 8, vocab_size: 11, n_layer: 1, n_head: 2, n_embd: 8, ..GptConfig::default() };
    let mut cpu = Gpt::new(cfg, 3).unwrap();
    let gpu = GpuGpt::new(context().await, cfg, cpu.params(), 2).await.unwrap();
    let (params, adam) = gpu.read_train_state().await.unwrap();
    assert!(params.iter().zip(cpu.params()).all(|(a, b)| a.to_bits() == b.to_bits()), "the parameters uploaded");
    assert_eq!(adam.t, 0);
    assert!(adam.m.len() == params.len() && adam.m.iter().chain(&adam.v).all(|&x| x == 0.0), "zero moments before any step");

    // eps = 1e-3 keeps the update well conditioned (see web_webgpu.rs).
    let opt = AdamW { eps: 1e-3, ..AdamW::default() };
    cpu.reserve(2, 8).unwrap();
    for step in 0..2 {
        let inputs: Vec<u32> = (0..16).map(|i| ((i * 5 + step * 3 + 1) % 11) as u32).collect();
        let targets: Vec<u32> = (0..16).map(|i| ((i * 3 + step + 2) % 11) as u32).collect();
        cpu.forward(&Scalar, &inputs, &targets, 2, 8).unwrap();
        cpu.zero_grad();
        cpu.backward(&Scalar).unwrap();
        cpu.clip_grad_norm(1.0);
        cpu.update(&opt, 1e-2);
        gpu.train_step(&inputs, &targets, 2, 8, 1e-2, &opt, 1.0).await.unwrap();
    }
    let (params, adam) = gpu.read_train_state().await.unwrap();
    let want = cpu.adam_state();
    assert_eq!((adam.t, want.t), (2, 2));
    assert_close("parameters", &params, cpu.params(), 1e-5);
    assert_close("first moment", &adam.m, &want.m, 1e-4);
    assert_close("second moment", &adam.v, &want.v, 1e-4);
    assert!(adam.m.iter().any(|&x| x != 0.0) && adam.v.iter().any(|&x| x != 0.0), "moments were read back");
}

/// A run trains 4 steps on the GPU, its state comes back, 3 more steps, the GPU is lost: the run
/// goes back to step 4 and the CPU takes steps 5 to 8 as the run trained on the CPU alone does, up
/// to the GPU's rounding of the first 4 (had zero moments come back, step 6's loss would be off by
/// about 0.01).
#[wasm_bindgen_test]
async fn a_run_falls_back_from_the_gpu_to_the_last_state_brought_back() {
    let text = "the cat sat on the mat. ".repeat(30);
    let options = RunOptions { n_layer: 1, n_head: 2, n_embd: 16, block_size: 8, batch_size: 4, steps: 8, warmup_steps: 2, ..RunOptions::default() };
    let mut alone = TrainRun::new(&text, options.clone()).unwrap();
    let want: Vec<f32> = (0..8).map(|_| alone.step(&Scalar).unwrap().loss).collect();

    let mut run = TrainRun::new(&text, options).unwrap();
    let gpu = GpuGpt::new(context().await, *run.gpt().config(), run.gpt().params(), 4).await.unwrap();
    for step in 1..=7 {
        let s = run.next_batch().unwrap();
        let stats = gpu.train_step(&s.inputs, &s.targets, s.b, s.t, s.lr, &s.opt, s.grad_clip).await.unwrap();
        assert!((stats.loss - want[step - 1]).abs() < 1e-4, "step {step} on the GPU: {} vs {}", stats.loss, want[step - 1]);
        run.count_step(stats.loss, stats.grad_norm).unwrap();
        if step == 4 {
            let (params, adam) = gpu.read_train_state().await.unwrap();
            run.set_external_state(params, adam).unwrap();
        }
    }
    gpu.context().destroy();
    assert_eq!(run.fall_back().unwrap(), 4);
    for step in 5..=8 {
        let loss = run.step(&Scalar).unwrap().loss;
        assert!((loss - want[step - 1]).abs() < 1e-4, "step {step} on the CPU after the fall-back: {loss} vs {}", want[step - 1]);
    }
    assert!(run.done());
}
