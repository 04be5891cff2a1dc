//! WebGPU bindings (the `webgpu` feature): `webgpuAvailable()`, `WebGpuMatmul` and `WebGpuGpt`.
//!
//! Every GPU call is asynchronous: methods return a `Promise` that resolves to a `Float32Array`,
//! or rejects with an `Error` whose message starts with "WebGPU unavailable", "WebGPU device
//! lost" (switch to the CPU backend for good) or "WebGPU error", or names the bad input.
//! The handles own an `Rc` of their model, so a pending promise keeps it alive.

use std::rc::Rc;

use js_sys::{Array, Float32Array, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::config::GptConfig;
use crate::model::AdamW;
use crate::webgpu::{GpuContext, GpuError, GpuGpt, GpuMatmul};

fn js_error(e: GpuError) -> JsError {
    JsError::new(&e.to_string())
}

fn reject(e: GpuError) -> JsValue {
    js_error(e).into()
}

/// Resolves to true when this browser gives a WebGPU adapter (requests no device).
#[wasm_bindgen(js_name = webgpuAvailable)]
pub async fn webgpu_available() -> bool {
    GpuContext::available().await
}

/// The matmuls of a linear layer on the GPU, uploading operands and reading results back on each
/// call (for the bench page and checks; the model keeps its data on the GPU).
#[wasm_bindgen]
pub struct WebGpuMatmul {
    inner: Rc<GpuMatmul>,
}

#[wasm_bindgen]
impl WebGpuMatmul {
    /// Requests a device and compiles the pipelines. Rejects with a readable message when
    /// there is no WebGPU or no adapter.
    pub async fn create() -> Result<WebGpuMatmul, JsError> {
        let ctx = GpuContext::new().await.map_err(js_error)?;
        Ok(WebGpuMatmul { inner: Rc::new(GpuMatmul::new(ctx)) })
    }

    /// The adapter, as the browser describes it.
    #[wasm_bindgen(getter)]
    pub fn adapter(&self) -> String {
        self.inner.context().adapter().to_string()
    }

    /// `x (M, K) · w (N, K)ᵀ + bias (N)` → Promise<Float32Array (M, N)>. `bias` may be undefined.
    pub fn matmul(&self, x: Vec<f32>, w: Vec<f32>, bias: Option<Vec<f32>>, m: usize, k: usize, n: usize) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let y = inner.forward(&x, &w, bias.as_deref(), m, k, n).await.map_err(reject)?;
            Ok(Float32Array::new_from_slice(&y).into())
        })
    }

    /// The backward products accumulated into the given gradients: resolves to
    /// `[dinp (M, K), dweight (N, K), dbias (N) or undefined]`.
    #[wasm_bindgen(js_name = matmulBackward)]
    #[allow(clippy::too_many_arguments)]
    pub fn matmul_backward(
        &self,
        dinp: Vec<f32>,
        dweight: Vec<f32>,
        dbias: Option<Vec<f32>>,
        dout: Vec<f32>,
        x: Vec<f32>,
        w: Vec<f32>,
        m: usize,
        k: usize,
        n: usize,
    ) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let (dx, dw, db) =
                inner.backward(&dinp, &dweight, dbias.as_deref(), &dout, &x, &w, m, k, n).await.map_err(reject)?;
            let db: JsValue = db.map(|db| Float32Array::new_from_slice(&db).into()).unwrap_or(JsValue::UNDEFINED);
            Ok(Array::of3(&Float32Array::new_from_slice(&dx), &Float32Array::new_from_slice(&dw), &db).into())
        })
    }
}

/// A GPT-2 whose forward pass runs on the GPU with the weights uploaded once.
#[wasm_bindgen]
pub struct WebGpuGpt {
    inner: Rc<GpuGpt>,
}

#[wasm_bindgen]
impl WebGpuGpt {
    /// Uploads `params` (flat, llm.c order: wte, wpe, ln1w, ln1b, qkvw, qkvb, attprojw, attprojb,
    /// ln2w, ln2b, fcw, fcb, fcprojw, fcprojb, lnfw, lnfb) for `config`
    /// (`{block_size, vocab_size, n_layer, n_head, n_embd}`), with room for batches of up to
    /// `max_batch` sequences.
    pub async fn create(params: Vec<f32>, config: JsValue, max_batch: usize) -> Result<WebGpuGpt, JsError> {
        let config: GptConfig = serde_wasm_bindgen::from_value(config).map_err(|e| {
            JsError::new(&format!("config: {e} (expected {{block_size, vocab_size, n_layer, n_head, n_embd}})"))
        })?;
        let ctx = GpuContext::new().await.map_err(js_error)?;
        let gpt = GpuGpt::new(ctx, config, &params, max_batch).await.map_err(js_error)?;
        Ok(WebGpuGpt { inner: Rc::new(gpt) })
    }

    /// The adapter, as the browser describes it.
    #[wasm_bindgen(getter)]
    pub fn adapter(&self) -> String {
        self.inner.context().adapter().to_string()
    }

    /// Why the device was lost, or undefined while it is alive.
    #[wasm_bindgen(getter, js_name = lostReason)]
    pub fn lost_reason(&self) -> Option<String> {
        self.inner.context().lost()
    }

    /// Destroys the GPU device now (freeing its memory). Every later call rejects with
    /// "WebGPU device lost", exactly as after a real loss: how a page releases the GPU, and how
    /// the tests exercise the fallback to the CPU.
    pub fn destroy(&self) {
        self.inner.context().destroy();
    }

    /// Logits for `tokens` (B, T) → Promise<Float32Array (B, T, V)>.
    pub fn forward(&self, tokens: Vec<u32>, b: usize, t: usize) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let logits = inner.forward(&tokens, b, t).await.map_err(reject)?;
            Ok(Float32Array::new_from_slice(&logits).into())
        })
    }

    /// One training step on the GPU for a batch from `TrainSession.nextBatch()` (`{inputs,
    /// targets, b, t, lr, beta1, beta2, eps, weight_decay, grad_clip}`) → Promise<Float32Array
    /// [loss, grad_norm]>. The parameters change on the GPU only: `readTrainState()` fetches them.
    #[wasm_bindgen(js_name = trainStep)]
    pub fn train_step(&self, batch: JsValue) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let s: super::StepBatchJs = serde_wasm_bindgen::from_value(batch)
                .map_err(|e| JsValue::from(JsError::new(&format!("batch: {e} (pass what TrainSession.nextBatch() returns)"))))?;
            let opt = AdamW { beta1: s.beta1, beta2: s.beta2, eps: s.eps, weight_decay: s.weight_decay };
            let stats = inner.train_step(&s.inputs, &s.targets, s.b, s.t, s.lr, &opt, s.grad_clip).await.map_err(reject)?;
            Ok(Float32Array::new_from_slice(&[stats.loss, stats.grad_norm]).into())
        })
    }

    /// The parameters as they are on the GPU → Promise<Float32Array> (llm.c order).
    #[wasm_bindgen(js_name = readParams)]
    pub fn read_params(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let p = inner.read_params().await.map_err(reject)?;
            Ok(Float32Array::new_from_slice(&p).into())
        })
    }

    /// The parameters and AdamW's state as they are on the GPU → Promise<{params, m, v, t}>
    /// (Float32Arrays in llm.c order, t the AdamW updates taken): what
    /// `TrainSession.setExternalState(params, m, v, t)` takes after GPU training steps. Three
    /// times the bytes of `readParams()`.
    #[wasm_bindgen(js_name = readTrainState)]
    pub fn read_train_state(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let (params, adam) = inner.read_train_state().await.map_err(reject)?;
            let out = Object::new();
            let fields: [(&str, JsValue); 4] = [
                ("params", Float32Array::new_from_slice(&params).into()),
                ("m", Float32Array::new_from_slice(&adam.m).into()),
                ("v", Float32Array::new_from_slice(&adam.v).into()),
                ("t", (adam.t as f64).into()),
            ];
            for (key, value) in fields {
                Reflect::set(&out, &key.into(), &value)?;
            }
            Ok(out.into())
        })
    }

    /// The last forward's attention probabilities → Promise<Float32Array (L, B, NH, T, T)>.
    pub fn attention(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let att = inner.attention().await.map_err(reject)?;
            Ok(Float32Array::new_from_slice(&att).into())
        })
    }
}
