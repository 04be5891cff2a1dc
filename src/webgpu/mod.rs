//! The WebGPU backend: WGSL compute shaders driven through web-sys's WebGPU bindings
//! (wasm32 with the `webgpu` feature only; web-sys needs `--cfg=web_sys_unstable_apis`).
//!
//! - [`GpuContext`]: adapter → device → queue, the compiled pipelines, and the device-lost flag.
//! - [`GpuMatmul`]: one linear layer's forward and backward products with upload and readback per
//!   call. For tests, the bench page and spot checks from JS; the model never works this way.
//! - [`GpuGpt`]: a GPT-2 forward with the parameters uploaded once and every activation resident
//!   on the GPU: all layers are encoded into one command encoder, submitted once, and only the
//!   logits (and the attention maps, on request) are read back. And a whole training step
//!   ([`GpuGpt::train_step`]): forward, softmax + cross-entropy, backward, gradient norm and AdamW
//!   in one submit, with gradients and AdamW's moments resident too; the per-position losses and
//!   the gradient norm come back, the parameters when [`GpuGpt::read_params`] asks.
//!
//! The shaders live in `shaders/*.wgsl`, one file per kernel: a 64×64-tiled matmul in workgroup
//! memory with vec4 loads (forward, `dinp` and `dweight` products through one kernel), the bias
//! gradient, LayerNorm, GELU (tanh), the residual add, causal attention (writing the softmax
//! probabilities (B, NH, T, T)), and the token + position embedding; for training, the fused
//! softmax + cross-entropy, LayerNorm backward (by rows for the input, by channels for the
//! weights), GELU backward, attention backward (by query rows, then by key rows: no float is
//! written by two threads, so no atomics), the embedding backward (one thread per parameter),
//! the two-stage gradient norm and AdamW.
//!
//! Architecture invariant: nothing here reads a buffer back in the middle of a forward pass.
//!
//! What was measured: correctness only, by the browser tests in `tests/web_webgpu.rs`, on the
//! SwiftShader CPU adapter that headless Chromium 148 exposes with `--enable-unsafe-webgpu`
//! (2-core VM). For the record, and meaning nothing for a real GPU: a 512³ matmul through
//! [`GpuMatmul`] (upload and readback included) took a median 0.7-0.8 s (~0.3 GFLOPS); a
//! [`GpuGpt`] forward of the default config (L=4, NH=4, C=128, V=65) took ~0.4-0.8 s at B=1, T=1,
//! ~2 s at B=1, T=128 and ~8 s at B=4, T=128. On SwiftShader the time follows the number of
//! 64×64 tile steps, not the useful rows (at T=1 one row of each 64-row tile is real): about
//! 0.3 GFLOPS of tile work whatever the shape. The tiling, vec4 loads and single submit are designed for a real GPU and are still
//! to be measured on one.

mod context;
mod gpt;
mod matmul;
mod pipelines;

use std::fmt;

pub use context::GpuContext;
pub use gpt::{param_sizes, GpuGpt, GpuStepStats};
pub use matmul::GpuMatmul;

use crate::error::Error;

/// Everything the WebGPU backend can refuse or lose. The page falls back to the CPU backend on
/// any of these, and says which.
#[derive(Debug, Clone, PartialEq)]
pub enum GpuError {
    /// No WebGPU here: `navigator.gpu` is missing, or it gave no adapter or no device.
    Unavailable(String),
    /// The device was lost (a driver reset, `destroy()`, the browser reclaiming it). Everything on
    /// the GPU is gone; the model's state lives on in the caller's CPU copy.
    DeviceLost(String),
    /// WebGPU rejected something this backend built: a shader, a pipeline, a buffer larger than
    /// this device allows, a submission.
    Gpu(String),
    /// Bad input from the caller (shapes, token ids, config), as the core reports it.
    Input(Error),
}

impl GpuError {
    /// True when the device is gone and the caller should switch to the CPU backend for good.
    pub fn is_device_lost(&self) -> bool {
        matches!(self, GpuError::DeviceLost(_))
    }
}

impl fmt::Display for GpuError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GpuError::Unavailable(m) => write!(f, "WebGPU unavailable: {m}"),
            GpuError::DeviceLost(m) => write!(f, "WebGPU device lost: {m}; use the CPU backend"),
            GpuError::Gpu(m) => write!(f, "WebGPU error: {m}"),
            GpuError::Input(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for GpuError {}

impl From<Error> for GpuError {
    fn from(e: Error) -> Self {
        GpuError::Input(e)
    }
}

/// The backend's result type.
pub type GpuResult<T> = std::result::Result<T, GpuError>;

/// A JS exception's message, for wrapping WebGPU rejections into [`GpuError`]s.
fn js_message(v: &wasm_bindgen::JsValue) -> String {
    use wasm_bindgen::JsCast;
    if let Some(e) = v.dyn_ref::<js_sys::Error>() {
        return String::from(e.message());
    }
    if let Some(s) = v.as_string() {
        return s;
    }
    // The JS String() of anything else (JsValue's Debug would pull float formatting into the wasm).
    match v.dyn_ref::<js_sys::Object>() {
        Some(o) => String::from(o.to_string()),
        None => "a non-object exception".to_string(),
    }
}
