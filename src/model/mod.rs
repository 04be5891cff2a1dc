//! The GPT: nanoGPT's GPT-2 architecture for characters, in plain Rust (llm.c's layout).
//!
//! - [`params`]: every parameter in one buffer with a size table; GPT-2 initialisation; the
//!   sinusoidal position table.
//! - [`layers`]: forward/backward pairs over slices (encoder, LayerNorm, attention, GELU,
//!   residual, softmax + cross-entropy); the matmuls go through [`crate::kernels::Kernels`].
//! - [`gpt`]: [`Gpt`] (forward, backward, gradient clipping, AdamW) and the learning-rate schedule.
//! - [`train`]: the 90/10 split, random batches, one optimisation step, evaluation.
//! - [`run`]: a training run as the Train page drives it (options checked field by field, the
//!   CLI's loop step by step, evaluation, samples, attention probes, checkpoints to continue).
//! - [`generate`]: KV-cached generation and sampling (temperature, top-k, top-p, seeded).
//! - [`check`]: a backend against the scalar reference on two training steps.
//! - [`inspect`]: attention maps, embeddings, position similarity, PCA of the embeddings.
//! - [`math`]: deterministic `exp`/`ln`/`sin`/`cos`/`tanh`, so native and wasm agree bit for bit.
//!
//! Architecture invariant: nothing here imports wasm-bindgen, reads a file or a clock.
//! Not implemented: dropout (nanoGPT's `shakespeare_char` uses 0.2; our default is 0, so a
//! model trained here is deterministic and a nanoGPT export runs in eval mode anyway).

pub mod check;
pub mod generate;
pub mod gpt;
pub mod inspect;
pub mod layers;
pub mod math;
pub mod params;
pub mod run;
pub mod train;

pub use generate::{Sampler, Session};
pub use gpt::{Activations, AdamState, AdamW, Gpt, LrSchedule};
pub use params::{ParameterLayout, ParameterTensors};
pub use train::{TrainConfig, Trainer};
