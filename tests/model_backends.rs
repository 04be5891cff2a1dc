//! A training step on every backend of this build against the scalar reference: the same loss,
//! gradients and updated parameters to float tolerance. The shape is chosen so that every fast
//! path runs: products above the threaded backend's split threshold (2^20 multiply-adds), so the
//! GEMMs run split across the pool; sequences longer than two of the attention's causal panels
//! (32 query rows); and sizes that are multiples of no micro-tile (T = 67, V = 53, 3 heads).
//! The threaded backend runs in pools of two and three threads built here, whatever the
//! machine's core count, and the data-parallel sharded step (what the Train page and `glassgpt
//! train` run on threads) is checked against the same scalar step.
#![cfg(not(target_arch = "wasm32"))]

use glassgpt::config::GptConfig;
use glassgpt::kernels::{self, scalar::Scalar, Kernels};
use glassgpt::model::train::{TrainConfig, Trainer};
use glassgpt::model::Gpt;

const B: usize = 4;
const T: usize = 67;

fn config() -> GptConfig {
    GptConfig { block_size: T, vocab_size: 53, n_layer: 2, n_head: 3, n_embd: 96, ..GptConfig::default() }
}

/// A token stream with structure (so the loss and gradients are not those of noise).
fn data() -> Vec<u32> {
    (0..4000u32).map(|i| (i * 7 + i / 11 + (i * i) % 13) % 53).collect()
}

/// Two steps of `k` (or of the sharded step on `shards` replicas) from the same seed: each
/// step's loss and gradient norm, and the gradients and parameters after the last one.
fn run(k: &dyn Kernels, shards: usize) -> (Vec<(f32, f32)>, Vec<f32>, Vec<f32>) {
    let mut gpt = Gpt::new(config(), 9).unwrap();
    let mut trainer = Trainer::new(TrainConfig { batch_size: B, ..TrainConfig::default() }, &mut gpt).unwrap();
    let ids = data();
    let mut replicas = if shards > 1 { trainer.replicas(&gpt, shards).unwrap() } else { Vec::new() };
    let stats = (0..2)
        .map(|_| {
            let s = if shards > 1 { trainer.step_sharded(&mut gpt, &mut replicas, k, &ids) } else { trainer.step(&mut gpt, k, &ids) };
            let s = s.unwrap();
            (s.loss, s.grad_norm)
        })
        .collect();
    (stats, gpt.grads().to_vec(), gpt.params().to_vec())
}

/// ‖a − b‖ / ‖b‖ over one parameter tensor.
fn rel_err(a: &[f32], b: &[f32]) -> f64 {
    let (mut d2, mut b2) = (0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        d2 += (x as f64 - y as f64).powi(2);
        b2 += (y as f64).powi(2);
    }
    d2.sqrt() / b2.sqrt().max(1e-30)
}

/// `what` against the scalar run: losses and gradient norms to 1e-5 relative, every parameter
/// tensor's gradient to 1e-4 (relative norm; seen: below 1e-6), and the parameters' change over
/// the two steps to 5e-3 (seen: 3e-4; AdamW divides by √v, which magnifies the rounding of the
/// smallest gradients). A wrong product or a lost block of rows is off by far more than either.
fn check(what: &str, got: &(Vec<(f32, f32)>, Vec<f32>, Vec<f32>), want: &(Vec<(f32, f32)>, Vec<f32>, Vec<f32>)) {
    let init = Gpt::new(config(), 9).unwrap();
    let layout = init.layout().clone();
    for (i, ((la, na), (lb, nb))) in got.0.iter().zip(&want.0).enumerate() {
        assert!((la - lb).abs() <= 1e-5 * lb.abs(), "{what}: step {i}: loss {la} vs scalar {lb}");
        assert!((na - nb).abs() <= 1e-5 * nb.abs(), "{what}: step {i}: gradient norm {na} vs scalar {nb}");
    }
    let (mut worst_grad, mut worst_update) = ((0.0, ""), (0.0, ""));
    for spec in &layout.specs {
        let r = spec.offset..spec.offset + spec.size;
        let g = rel_err(&got.1[r.clone()], &want.1[r.clone()]);
        let delta = |p: &[f32]| p[r.clone()].iter().zip(&init.params()[r.clone()]).map(|(a, b)| a - b).collect::<Vec<f32>>();
        let u = rel_err(&delta(&got.2), &delta(&want.2));
        assert!(g < 1e-4, "{what}: gradient of {} off the scalar one by {g:.2e} (relative norm)", spec.name);
        assert!(u < 5e-3, "{what}: update of {} off the scalar one by {u:.2e} (relative norm)", spec.name);
        if g > worst_grad.0 {
            worst_grad = (g, spec.name);
        }
        if u > worst_update.0 {
            worst_update = (u, spec.name);
        }
    }
    println!("{what}: losses {:?}; worst gradient {:.1e} ({}), worst update {:.1e} ({})", got.0, worst_grad.0, worst_grad.1, worst_update.0, worst_update.1);
}

#[test]
fn a_training_step_on_every_backend_matches_scalar() {
    let want = run(&Scalar, 1);
    // An untrained model is near-uniform: the first loss is near ln V.
    assert!((want.0[0].0 - (53f32).ln()).abs() < 0.3, "scalar first loss {}", want.0[0].0);
    let mut checked = Vec::new();
    for k in kernels::all() {
        if k.name() == "scalar" {
            continue;
        }
        #[cfg(feature = "threads")]
        if k.name() == "threads" {
            for threads in [2, 3] {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                let got = pool.install(|| {
                    assert_eq!(k.threads(), threads);
                    run(k, 1)
                });
                check(&format!("threads ({threads} in the pool)"), &got, &want);
                // The sharded step as TrainRun runs it: one replica per thread, each shard on the
                // single-thread SIMD kernels inside the pool.
                let simd = kernels::by_name("simd").unwrap();
                let got = pool.install(|| run(simd, 2));
                check(&format!("two shards on the {threads}-thread pool"), &got, &want);
            }
            checked.push(k.name());
            continue;
        }
        check(k.name(), &run(k, 1), &want);
        checked.push(k.name());
    }
    // Two shards on one thread: the averaging of the shards' gradients alone.
    check("two shards, SIMD", &run(kernels::by_name("simd").unwrap(), 2), &want);
    let expected: &[&str] = if cfg!(feature = "threads") { &["simd", "threads"] } else { &["simd"] };
    assert_eq!(checked, expected, "every backend of this build was checked");
}
