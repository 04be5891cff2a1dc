//! The wasm kernels in a real browser (wasm-bindgen-test, headless Chromium): the simd128
//! backend against the scalar reference on the same edge-hitting shapes as the native unit
//! tests (src/kernels/tests.rs), a training step against scalar (`model::check`), plus an
//! ignored timing run that prints GFLOPS.
//!
//! ```text
//! wasm-pack test --headless --chrome -- --test web_kernels
//! wasm-pack test --headless --chrome -- --test web_kernels -- --include-ignored --nocapture   # + GFLOPS
//! ```
#![cfg(target_arch = "wasm32")]

use glassgpt::kernels::bench::{bench_matmul, fill_uniform, BenchConfig, Op};
use glassgpt::kernels::scalar::Scalar;
use glassgpt::kernels::simd::Simd;
use glassgpt::kernels::{self, Kernels};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// (M, K, N): 1×1×1, tile non-multiples (the wasm tile is 4×8), the M ≤ 8 dot-product path,
/// K across a KC = 256 block, M across MC, N across NC = 1024, and empty dimensions.
const SHAPES: &[(usize, usize, usize)] = &[
    (1, 1, 1),
    (7, 13, 5),
    (65, 129, 33),
    (1, 300, 70),
    (3, 257, 301),
    (8, 40, 9),
    (9, 3, 2),
    (12, 16, 16),
    (13, 300, 37),
    (130, 70, 45),
    (9, 5, 1100),
    (64, 128, 192),
    (0, 4, 3),
    (4, 0, 3),
    (3, 4, 0),
];

/// Rounding grows with the length of each sum (values are in [-1, 1]).
fn tol(inner: usize) -> f32 {
    1e-6 * (inner as f32 + 4.0)
}

fn random(len: usize, seed: u64) -> Vec<f32> {
    let mut v = vec![0.0; len];
    fill_uniform(&mut v, seed);
    v
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[wasm_bindgen_test]
fn the_wasm_build_uses_the_simd128_kernel() {
    assert_eq!(Simd.name(), "simd128");
    assert!(Simd.isa().starts_with("wasm simd128"), "{}", Simd.isa());
    // The relaxed-SIMD build (`-C target-feature=+relaxed-simd`) fuses its multiply-adds.
    assert_eq!(Simd.isa().contains("relaxed madd"), cfg!(target_feature = "relaxed-simd"), "{}", Simd.isa());
    assert_eq!(kernels::best().name(), "simd128");
}

#[wasm_bindgen_test]
fn simd128_forward_matches_scalar() {
    for &(m, k, n) in SHAPES {
        let (inp, weight, bias) = (random(m * k, 1), random(n * k, 2), random(n, 3));
        for b in [Some(&bias[..]), None] {
            let mut want = vec![0.0; m * n]; // (M, N)
            Scalar.matmul_forward(&mut want, &inp, &weight, b, m, k, n);
            let mut got = vec![f32::NAN; m * n]; // must be overwritten
            Simd.matmul_forward(&mut got, &inp, &weight, b, m, k, n);
            let d = max_abs_diff(&got, &want);
            assert!(d <= tol(k), "forward {m}x{k}x{n} bias={}: max abs diff {d:e}", b.is_some());
            assert!(got.iter().all(|v| v.is_finite()), "forward {m}x{k}x{n}: output not fully written");
        }
    }
}

#[wasm_bindgen_test]
fn simd128_backward_accumulates_like_scalar() {
    for &(m, k, n) in SHAPES {
        let (inp, weight, dout) = (random(m * k, 1), random(n * k, 2), random(m * n, 4));
        let (dinp0, dweight0, dbias0) = (random(m * k, 5), random(n * k, 6), random(n, 7));
        let (mut want_dinp, mut want_dw, mut want_db) = (dinp0.clone(), dweight0.clone(), dbias0.clone());
        Scalar.matmul_backward(&mut want_dinp, &mut want_dw, Some(&mut want_db), &dout, &inp, &weight, m, k, n);
        let (mut dinp, mut dw, mut db) = (dinp0, dweight0, dbias0);
        Simd.matmul_backward(&mut dinp, &mut dw, Some(&mut db), &dout, &inp, &weight, m, k, n);
        let d = max_abs_diff(&dinp, &want_dinp);
        assert!(d <= tol(n), "dinp {m}x{k}x{n}: max abs diff {d:e}");
        let d = max_abs_diff(&dw, &want_dw);
        assert!(d <= tol(m), "dweight {m}x{k}x{n}: max abs diff {d:e}");
        let d = max_abs_diff(&db, &want_db);
        assert!(d <= tol(m), "dbias {m}x{k}x{n}: max abs diff {d:e}");
    }
}

/// GFLOPS of simd128 in this browser (a measurement, not a check: run with
/// `--include-ignored --nocapture`).
#[wasm_bindgen_test]
#[ignore]
fn simd128_gflops() {
    // The library's binding of performance.now(): a second binding here would be a duplicate symbol.
    let mut clock = glassgpt::wasm::bench::now_s;
    let config = BenchConfig { samples: 41, min_sample_s: 0.004 };
    console_log!("simd128 micro-kernel: {}", Simd.isa());
    let mut shapes: Vec<(String, usize, usize, usize)> = [64, 128, 256, 512, 1024].iter().map(|&n| (format!("square n={n}"), n, n, n)).collect();
    shapes.extend(kernels::bench::model_shapes(16 * 128, 128, 65));
    for (label, m, k, n) in shapes {
        for op in [Op::Forward, Op::Backward] {
            let s = bench_matmul(&Simd, op, m, k, n, config, &mut clock);
            console_log!(
                "{label:<30} {:>16} {:<8} {:>7.1} GFLOPS ({:.1} .. {:.1})",
                format!("{m}x{k}x{n}"),
                if op == Op::Forward { "forward" } else { "backward" },
                s.gflops(),
                s.gflops_worst(),
                s.gflops_best()
            );
        }
    }
}

/// In the browser's kernels (plain simd128, and with relaxed SIMD's multiply-add when this
/// file is compiled with it): one token at a time through the KV cache gives, bit for bit, the
/// logits of a batched forward pass over the prefix, whose attention runs on the GEMM, while
/// the prefix is short enough (≤ 8 rows) for the batched linear layers to take the same
/// dot-product path as the cached ones; past that, the linear layers' GEMM sums in another
/// order, and the two agree to float tolerance.
#[wasm_bindgen_test]
fn kv_cached_logits_equal_the_batched_forward() {
    use glassgpt::config::GptConfig;
    use glassgpt::model::{Gpt, Session};
    let config = GptConfig { block_size: 40, vocab_size: 11, n_layer: 2, n_head: 2, n_embd: 16, ..GptConfig::default() };
    let mut gpt = Gpt::new(config, 3).unwrap();
    gpt.params_mut().iter_mut().enumerate().for_each(|(i, x)| *x = *x * 10.0 + (i % 7) as f32 * 1e-3);
    let tokens: Vec<u32> = (0..37).map(|i| (i * 7 % 11) as u32).collect();
    let mut session = Session::new(gpt.config()).unwrap();
    for t in 0..tokens.len() {
        let cached = session.feed(&gpt, &Simd, &tokens[t..=t]).unwrap().to_vec();
        let full = gpt.forward_logits(&Simd, &tokens[..=t]).unwrap();
        let (a, b): (Vec<u32>, Vec<u32>) = (cached.iter().map(|x| x.to_bits()).collect(), full[t * 11..].iter().map(|x| x.to_bits()).collect());
        if t < 8 {
            assert_eq!(a, b, "position {t}: cached {cached:?} vs batched {:?}", &full[t * 11..]);
        } else {
            let d = cached.iter().zip(&full[t * 11..]).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
            assert!(d < 1e-3, "position {t}: cached and batched logits differ by {d}");
        }
    }
}

/// A training step in the browser: the simd128 backend (relaxed SIMD in the relaxed build's run)
/// against scalar on `model::check`'s two GPT steps, as the plain step and as two
/// data-parallel shards (what the Train page runs on threads, here one after the other).
#[wasm_bindgen_test]
fn a_training_step_on_simd128_matches_scalar() {
    use glassgpt::model::check::against_scalar;
    for shards in [1, 2] {
        let a = against_scalar(&Simd, shards).unwrap();
        for (name, err, tol) in a.rows() {
            assert!(err <= tol, "simd128, {shards} shard(s): {name} off the scalar reference by {err:.2e} (tolerance {tol:.0e})");
        }
        assert!(a.gradients > 0.0, "simd128 and scalar round differently: an exact match would mean the check compared scalar with itself");
    }
}
