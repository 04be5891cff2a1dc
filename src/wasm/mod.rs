//! The bindings: the only code that touches wasm-bindgen. Long-lived data stays in wasm memory
//! behind opaque handles; results cross to JS as typed arrays; core errors become `JsError`s.

use wasm_bindgen::prelude::*;

use crate::kernels::{scalar::Scalar, Kernels};

#[cfg(feature = "threads")]
pub use wasm_bindgen_rayon::init_thread_pool;

#[cfg(feature = "webgpu")]
pub mod webgpu;

/// Installs a panic hook that writes the panic message to the console (a panic is a bug: the
/// bindings validate every input first, but when one happens the message must be readable).
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&JsValue::from_str(&format!("glassgpt panicked: {info}")));
    }));
}

/// The crate version.
#[wasm_bindgen]
pub fn version() -> String {
    crate::VERSION.to_string()
}

/// Which build this is: "simd128" (single thread) or "threads" (rayon over Web Workers).
#[wasm_bindgen(js_name = buildKind)]
pub fn build_kind() -> String {
    if cfg!(feature = "threads") { "threads" } else { "simd128" }.to_string()
}

/// `inp (M, K) · weight (N, K)ᵀ` on the named backend, returned as a new Float32Array (M, N).
/// A small entry point for checking the kernels from JS.
#[wasm_bindgen]
pub fn matmul(inp: &[f32], weight: &[f32], m: usize, k: usize, n: usize) -> Result<Vec<f32>, JsError> {
    if inp.len() != m * k || weight.len() != n * k {
        return Err(JsError::new(&format!(
            "matmul: inp has {} elements and weight {}, expected M*K = {} and N*K = {}",
            inp.len(),
            weight.len(),
            m * k,
            n * k
        )));
    }
    let mut out = vec![0.0; m * n];
    Scalar.matmul_forward(&mut out, inp, weight, None, m, k, n);
    Ok(out)
}
