//! Native integration tests of the crate's public surface.
#![cfg(not(target_arch = "wasm32"))]

use glassgpt::config::GptConfig;
use glassgpt::kernels::{scalar::Scalar, Kernels};

/// The default config is the tiny GPT the performance targets are stated for.
#[test]
fn default_config_is_the_benchmark_model() {
    let c = GptConfig::default();
    assert_eq!((c.n_layer, c.n_head, c.n_embd, c.block_size), (4, 4, 128, 128));
    assert_eq!(c.head_size(), 32);
}

/// Identity weights reproduce the input: y = x · Iᵀ.
#[test]
fn scalar_matmul_with_identity_is_identity() {
    let k = 5;
    let x: Vec<f32> = (0..3 * k).map(|i| i as f32 * 0.5 - 3.0).collect();
    let eye: Vec<f32> = (0..k * k).map(|i| if i / k == i % k { 1.0 } else { 0.0 }).collect();
    let mut y = vec![0.0; 3 * k];
    Scalar.matmul_forward(&mut y, &x, &eye, None, 3, k, k);
    assert_eq!(y, x);
}
