//! # glassgpt
//!
//! A see-through character-level GPT for the web page, and the GPT-3 sizing calculator.
//!
//! One Rust core, compiled natively (CLI, tests, benches) and to WebAssembly (the site):
//!
//! - [`kernels`]: the matmuls of a linear layer behind one small trait; a scalar reference that
//!   every fast backend is checked against.
//! - [`config`]: the model's shape ([`config::GptConfig`]).
//! - [`error`]: the one error type; messages name what was wrong and what was expected.
//! - [`model`]: the GPT (forward, backward, AdamW, KV-cached generation, inspection).
//! - [`tokenizer`]: the character vocabulary; unknown characters are reported, never a panic.
//! - [`checkpoint`]: safetensors with nanoGPT's tensor names, config and vocabulary in the metadata.
//! - [`rng`]: a seeded generator, bit-identical natively and in wasm.
//! - [`sizing`]: the GPT-3 sizing calculator (FLOPs, GPUs, servers, cost, memory), every output
//!   with its formula; the seed report's scenario as a preset.
//! - `webgpu` (wasm32 with the `webgpu` feature): WGSL compute shaders for the matmuls and a whole
//!   GPT-2 forward with the weights and activations resident on the GPU.
//! - `wasm` (wasm32 only): the only module that touches wasm-bindgen. It wraps the core in
//!   opaque handles and typed arrays and turns [`error::Error`] into JS exceptions.
//!
//! The core is plain Rust: no wasm-bindgen, no web-sys outside `wasm` and `webgpu`.

pub mod checkpoint;
pub mod config;
pub mod error;
pub mod kernels;
pub mod model;
pub mod rng;
pub mod sizing;
pub mod sort;
pub mod tokenizer;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

#[cfg(all(target_arch = "wasm32", feature = "webgpu"))]
pub mod webgpu;

pub use error::{Error, Result};

/// The crate version, as the page shows it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
