//! The bindings: the only code that touches wasm-bindgen. Long-lived data stays in wasm memory
//! behind opaque handles; results cross to JS as typed arrays; core errors become `JsError`s.

//!
//! Which bindings a build carries is a feature: `model-api` (the model, training and bench; the
//! four CPU builds), `sizing-api` (the calculator; `pkg-sizing/`), `webgpu` (the GPU backend;
//! `pkg-webgpu/`). Each page loads only the builds it uses.

use wasm_bindgen::prelude::*;

#[cfg(feature = "model-api")]
pub mod bench;
#[cfg(feature = "model-api")]
pub mod model;
#[cfg(feature = "sizing-api")]
pub mod sizing;
#[cfg(feature = "model-api")]
pub mod train;

#[cfg(feature = "model-api")]
use crate::kernels::Kernels;

#[cfg(feature = "threads")]
pub use wasm_bindgen_rayon::init_thread_pool;

/// Tells the core that `initThreadPool` has finished: from now on the model runs on the pool.
/// Until then it runs on one thread (the same results), so the page need not wait for the pool.
#[cfg(feature = "threads")]
#[wasm_bindgen(js_name = poolStarted)]
pub fn pool_started() {
    crate::kernels::POOL_STARTED.store(true, std::sync::atomic::Ordering::Release);
}

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

#[cfg(feature = "model-api")]
/// Which build this is: "simd128" (single thread) or "threads" (rayon over Web Workers).
#[wasm_bindgen(js_name = buildKind)]
pub fn build_kind() -> String {
    if cfg!(feature = "threads") { "threads" } else { "simd128" }.to_string()
}

#[cfg(feature = "model-api")]
/// The instruction set of this build's matmul micro-kernel: "wasm simd128", or
/// "wasm simd128 + relaxed madd" in the relaxed-SIMD builds.
#[wasm_bindgen(js_name = kernelIsa)]
pub fn kernel_isa() -> String {
    crate::kernels::simd::Simd.isa().to_string()
}

#[cfg(feature = "model-api")]
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

#[cfg(feature = "model-api")]
/// The reader's choice of CPU kernels: `false` runs the model on one thread even in the threaded
/// build (the same results: its kernels compute every float as the single-thread ones do),
/// `true` on the pool again once it has started. Returns the kernels in use now: "threads" or
/// "simd128" (always "simd128" in a single-thread build, and in the threaded one until the pool
/// is up).
#[wasm_bindgen(js_name = useThreads)]
pub fn use_threads(on: bool) -> String {
    #[cfg(feature = "threads")]
    crate::kernels::ONE_THREAD.store(!on, std::sync::atomic::Ordering::Release);
    let _ = on;
    kernels().name().to_string()
}

#[cfg(feature = "model-api")]
/// The kernels the model runs on in this build: the thread pool's when the threaded build's
/// pool has started (`initThreadPool` runs before any model call), else single-thread SIMD.
pub(crate) fn kernels() -> &'static dyn Kernels {
    crate::kernels::best()
}

#[cfg(feature = "model-api")]
/// A core error as a JS exception; the message is the core's, written for a person.
pub(crate) fn js_error(e: crate::Error) -> JsError {
    JsError::new(&e.to_string())
}

#[cfg(any(feature = "model-api", feature = "sizing-api"))]
/// Reads a JS object as `T`; an error names the path of the field that did not fit
/// (`training.days: invalid type: string "30", expected f64`) or was not expected
/// (`training.dayz: unknown field; expected one of attention, days, gpus, tokens`).
pub(crate) fn from_js<T: serde::de::DeserializeOwned + serde::Serialize>(value: JsValue, root: &str) -> Result<T, JsError> {
    let parsed: T =
        serde_path_to_error::deserialize(serde_wasm_bindgen::Deserializer::from(value.clone())).map_err(|e| {
            let path = e.path().to_string();
            let path = if path == "." || path == "?" { root.to_string() } else { path };
            // serde-wasm-bindgen's messages come from a JS Error and read "Error: ...".
            let msg = e.inner().to_string();
            JsError::new(&format!("{path}: {}", crate::error::plain_serde_message(msg.strip_prefix("Error: ").unwrap_or(&msg))))
        })?;
    // serde-wasm-bindgen reads only the fields a struct names, so `deny_unknown_fields` never
    // fires: compare the keys given with the keys the parsed value has when written back.
    let known = to_js(&parsed)?;
    match first_unknown(&value, &known, "") {
        Some(msg) => Err(JsError::new(&msg)),
        None => Ok(parsed),
    }
}

#[cfg(any(feature = "model-api", feature = "sizing-api"))]
/// The first key of `given` (in its own order) that `known` lacks, as `path.key: unknown field;
/// expected ...` (the known keys sorted); nested objects are compared key by key.
fn first_unknown(given: &JsValue, known: &JsValue, path: &str) -> Option<String> {
    use js_sys::{Array, Object, Reflect};
    let plain = |v: &JsValue| v.is_object() && !Array::is_array(v);
    if !plain(given) || !plain(known) {
        return None;
    }
    let known_obj: &Object = known.unchecked_ref();
    let given_obj: &Object = given.unchecked_ref();
    for key in Object::keys(given_obj).iter() {
        let name = key.as_string()?;
        let at = if path.is_empty() { name.clone() } else { format!("{path}.{name}") };
        if !Object::has_own(known_obj, &key) {
            let mut expected: Vec<String> = Object::keys(known_obj).iter().filter_map(|k| k.as_string()).collect();
            crate::sort::sort_by(&mut expected, |a, b| a.cmp(b));
            return Some(format!("{at}: unknown field; expected one of {}", expected.join(", ")));
        }
        let (g, k) = (Reflect::get(given, &key).ok()?, Reflect::get(known, &key).ok()?);
        if let Some(m) = first_unknown(&g, &k, &at) {
            return Some(m);
        }
    }
    None
}

#[cfg(any(feature = "model-api", feature = "sizing-api"))]
/// Writes `value` as a plain JS object: `null` for `None`, objects for maps.
pub(crate) fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&format!("cannot convert the result: {e}")))
}

/// What `nextBatch()` returns and `WebGpuGpt.trainStep` takes: one step's batch and settings.
#[cfg(any(feature = "model-api", feature = "webgpu"))]
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct StepBatchJs {
    /// Token ids (B, T).
    pub inputs: Vec<u32>,
    /// The next characters (B, T).
    pub targets: Vec<u32>,
    pub b: usize,
    pub t: usize,
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    pub weight_decay: f32,
    pub grad_clip: f32,
}
