//! The bindings: the only code that touches wasm-bindgen. Long-lived data stays in wasm memory
//! behind opaque handles; results cross to JS as typed arrays; core errors become `JsError`s.

use serde::{de::DeserializeOwned, Serialize};
use wasm_bindgen::prelude::*;

pub mod bench;
pub mod model;
pub mod sizing;
pub mod train;

use crate::kernels::Kernels;

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

/// The instruction set of this build's matmul micro-kernel: "wasm simd128", or
/// "wasm simd128 + relaxed madd" in the relaxed-SIMD builds.
#[wasm_bindgen(js_name = kernelIsa)]
pub fn kernel_isa() -> String {
    crate::kernels::simd::Simd.isa().to_string()
}

/// `inp (M, K) · weight (N, K)ᵀ` on this build's kernels, returned as a new Float32Array (M, N).
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
    kernels().matmul_forward(&mut out, inp, weight, None, m, k, n);
    Ok(out)
}

/// The kernels the model runs on in this build: the thread pool's when the threaded build's
/// pool has started (`initThreadPool` runs before any model call), else single-thread SIMD.
pub(crate) fn kernels() -> &'static dyn Kernels {
    crate::kernels::best()
}

/// A core error as a JS exception; the message is the core's, written for a person.
pub(crate) fn js_error(e: crate::Error) -> JsError {
    JsError::new(&e.to_string())
}

/// Reads a JS object as `T`; an error names the path of the field that did not fit
/// (`training.days: invalid type: string "30", expected f64`) or was not expected
/// (`training.dayz: unknown field; expected one of attention, days, gpus, tokens`).
pub(crate) fn from_js<T: DeserializeOwned + Serialize>(value: JsValue, root: &str) -> Result<T, JsError> {
    let parsed: T =
        serde_path_to_error::deserialize(serde_wasm_bindgen::Deserializer::from(value.clone())).map_err(|e| {
            let path = e.path().to_string();
            let path = if path == "." || path == "?" { root.to_string() } else { path };
            // serde-wasm-bindgen's messages come from a JS Error and read "Error: ...".
            let msg = e.inner().to_string();
            JsError::new(&format!("{path}: {}", msg.strip_prefix("Error: ").unwrap_or(&msg)))
        })?;
    // serde-wasm-bindgen reads only the fields a struct names, so `deny_unknown_fields` never
    // fires: compare the keys given with the keys the parsed value has instead. (Non-finite
    // numbers become null in serde_json; their keys remain, and validate() names them.)
    let given: serde_json::Value =
        serde_wasm_bindgen::from_value(value).map_err(|e| JsError::new(&format!("{root}: {e}")))?;
    let known = serde_json::to_value(&parsed).map_err(|e| JsError::new(&format!("{root}: {e}")))?;
    match first_unknown(&given, &known, "") {
        Some(msg) => Err(JsError::new(&msg)),
        None => Ok(parsed),
    }
}

/// The first key of `given` that `known` lacks, as `path.key: unknown field; expected ...`.
fn first_unknown(given: &serde_json::Value, known: &serde_json::Value, path: &str) -> Option<String> {
    let (serde_json::Value::Object(g), serde_json::Value::Object(k)) = (given, known) else { return None };
    for (key, v) in g {
        let at = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
        match k.get(key) {
            None => {
                let expected: Vec<&str> = k.keys().map(String::as_str).collect();
                return Some(format!("{at}: unknown field; expected one of {}", expected.join(", ")));
            }
            Some(kv) => {
                if let Some(m) = first_unknown(v, kv, &at) {
                    return Some(m);
                }
            }
        }
    }
    None
}

/// Writes `value` as a plain JS object: `null` for `None`, objects for maps.
pub(crate) fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&format!("sizing: cannot convert the result: {e}")))
}
