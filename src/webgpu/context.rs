//! Adapter → device → queue, the compiled pipelines, buffer helpers and readback.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Float32Array, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    gpu_buffer_usage, gpu_map_mode, Gpu, GpuBuffer, GpuBufferDescriptor, GpuCommandEncoder, GpuDevice,
    GpuDeviceDescriptor, GpuErrorFilter, GpuPowerPreference, GpuQueue, GpuRequestAdapterOptions,
};

use super::pipelines::Pipelines;
use super::{js_message, GpuError, GpuResult};

/// Features this backend uses when the adapter has them and does without otherwise.
/// `timestamp-query` lets the bench page time passes on the GPU itself.
const OPTIONAL_FEATURES: &[&str] = &["timestamp-query"];

/// A WebGPU device with this backend's pipelines compiled for it.
///
/// Created once per page (or worker) and shared (`Rc`) by [`super::GpuMatmul`] and
/// [`super::GpuGpt`]. When the device is lost, [`GpuContext::lost`] says why and every later call
/// fails with [`GpuError::DeviceLost`], so the caller can move to the CPU backend.
pub struct GpuContext {
    pub(crate) device: GpuDevice,
    pub(crate) queue: GpuQueue,
    pub(crate) pipelines: Pipelines,
    adapter: String,
    features: Vec<String>,
    /// Largest buffer and largest storage binding this device accepts, in bytes.
    max_buffer: f64,
    max_binding: f64,
    lost: Rc<RefCell<Option<String>>>,
}

/// A buffer made for one call (a readback's staging buffer, a one-off matmul's operands),
/// destroyed when dropped: on every way out of the call, an error half-way included, its GPU
/// memory goes at once rather than whenever the JS object is collected.
pub(crate) struct Transient(pub(crate) GpuBuffer);

impl std::ops::Deref for Transient {
    type Target = GpuBuffer;
    fn deref(&self) -> &GpuBuffer {
        &self.0
    }
}

impl Drop for Transient {
    fn drop(&mut self) {
        self.0.destroy();
    }
}

/// `navigator.gpu` in a window or a worker, or a readable reason why there is none.
fn navigator_gpu() -> GpuResult<Gpu> {
    let global = js_sys::global();
    let navigator = Reflect::get(&global, &JsValue::from_str("navigator")).unwrap_or(JsValue::UNDEFINED);
    if navigator.is_undefined() || navigator.is_null() {
        return Err(GpuError::Unavailable("there is no navigator in this context".into()));
    }
    let gpu = Reflect::get(&navigator, &JsValue::from_str("gpu")).unwrap_or(JsValue::UNDEFINED);
    if gpu.is_undefined() || gpu.is_null() {
        return Err(GpuError::Unavailable(
            "navigator.gpu is missing: this browser has no WebGPU, or it is switched off \
             (headless Chromium on a machine without a GPU needs --enable-unsafe-webgpu)"
                .into(),
        ));
    }
    Ok(gpu.unchecked_into())
}

async fn request_adapter(gpu: &Gpu) -> GpuResult<web_sys::GpuAdapter> {
    let options = GpuRequestAdapterOptions::new();
    options.set_power_preference(GpuPowerPreference::HighPerformance);
    let adapter = gpu
        .request_adapter_with_options(&options)
        .await
        .map_err(|e| GpuError::Unavailable(format!("requestAdapter failed: {}", js_message(&e))))?;
    adapter.into_option().ok_or_else(|| {
        GpuError::Unavailable(
            "navigator.gpu exists but gave no adapter (no usable GPU, or WebGPU is blocked for it)".into(),
        )
    })
}

impl GpuContext {
    /// True when `navigator.gpu` exists and gives an adapter. Requests no device.
    pub async fn available() -> bool {
        match navigator_gpu() {
            Ok(gpu) => request_adapter(&gpu).await.is_ok(),
            Err(_) => false,
        }
    }

    /// Requests an adapter and a device, asks for [`OPTIONAL_FEATURES`] the adapter has and for
    /// its largest buffer limits, watches `device.lost`, and compiles every pipeline.
    pub async fn new() -> GpuResult<Rc<GpuContext>> {
        let gpu = navigator_gpu()?;
        let adapter = request_adapter(&gpu).await?;
        let info = adapter.info();
        let mut adapter_name = [info.vendor(), info.architecture(), info.device(), info.description()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if adapter_name.is_empty() {
            adapter_name = "unnamed adapter".into();
        }

        let adapter_features = adapter.features();
        let features: Vec<String> =
            OPTIONAL_FEATURES.iter().filter(|f| adapter_features.has(f)).map(|f| f.to_string()).collect();
        let limits = adapter.limits();
        let (max_buffer, max_binding) = (limits.max_buffer_size(), limits.max_storage_buffer_binding_size());

        let descriptor = GpuDeviceDescriptor::new();
        descriptor.set_label("glassgpt");
        let wanted: Vec<js_sys::JsString> = features.iter().map(|f| js_sys::JsString::from(f.as_str())).collect();
        descriptor.set_required_features(&wanted);
        let required = js_sys::Object::new();
        // Setting plain numbers on a fresh object cannot fail.
        let _ = Reflect::set(&required, &"maxBufferSize".into(), &max_buffer.into());
        let _ = Reflect::set(&required, &"maxStorageBufferBindingSize".into(), &max_binding.into());
        descriptor.set_required_limits(required.unchecked_ref());
        let device = adapter
            .request_device_with_descriptor(&descriptor)
            .await
            .map_err(|e| GpuError::Unavailable(format!("requestDevice failed: {}", js_message(&e))))?;

        let lost = Rc::new(RefCell::new(None));
        {
            let lost = lost.clone();
            let promise = device.lost();
            wasm_bindgen_futures::spawn_local(async move {
                let reason = match promise.await {
                    Ok(info) => format!("{:?}: {}", info.reason(), info.message()),
                    Err(e) => js_message(&e),
                };
                *lost.borrow_mut() = Some(reason);
            });
        }

        let pipelines = Pipelines::new(&device).await?;
        Ok(Rc::new(GpuContext {
            queue: device.queue(),
            device,
            pipelines,
            adapter: adapter_name,
            features,
            max_buffer,
            max_binding,
            lost,
        }))
    }

    /// The adapter's vendor, architecture, device and description, as the browser reports them.
    pub fn adapter(&self) -> &str {
        &self.adapter
    }

    /// The optional features this device was given (from [`OPTIONAL_FEATURES`]).
    pub fn features(&self) -> &[String] {
        &self.features
    }

    /// Why the device was lost, once it has been.
    pub fn lost(&self) -> Option<String> {
        self.lost.borrow().clone()
    }

    /// Destroys the device now: its buffers are freed, `device.lost` resolves ("destroyed"), and
    /// every later call fails with [`GpuError::DeviceLost`], exactly as after a real loss.
    pub fn destroy(&self) {
        self.device.destroy();
    }

    /// `Err(DeviceLost)` once the device is gone.
    pub(crate) fn check_alive(&self) -> GpuResult<()> {
        match self.lost() {
            Some(reason) => Err(GpuError::DeviceLost(reason)),
            None => Ok(()),
        }
    }

    /// A storage buffer of `len` f32s (or u32s), its size rounded up to 16 bytes so the shaders'
    /// vec4 views cover every element. Refuses sizes this device does not allow, naming them.
    pub(crate) fn storage_buffer(&self, label: &str, len: usize) -> GpuResult<GpuBuffer> {
        // In f64: a 32-bit usize would overflow on sizes the device refuses anyway.
        let bytes = ((len.max(1) as f64) * 4.0 / 16.0).ceil() * 16.0;
        let limit = self.max_buffer.min(self.max_binding);
        if bytes > limit {
            return Err(GpuError::Gpu(format!(
                "buffer {label} needs {} bytes; this device binds at most {} bytes",
                bytes as u64, limit as u64
            )));
        }
        let usage = gpu_buffer_usage::STORAGE | gpu_buffer_usage::COPY_DST | gpu_buffer_usage::COPY_SRC;
        self.buffer(label, bytes as usize, usage)
    }

    /// A buffer the CPU maps to read results (`MAP_READ | COPY_DST`) of `bytes` bytes.
    pub(crate) fn staging_buffer(&self, label: &str, bytes: usize) -> GpuResult<GpuBuffer> {
        self.buffer(label, bytes.max(4).div_ceil(4) * 4, gpu_buffer_usage::MAP_READ | gpu_buffer_usage::COPY_DST)
    }

    /// A uniform buffer of `bytes` bytes.
    pub(crate) fn uniform_buffer(&self, label: &str, bytes: usize) -> GpuResult<GpuBuffer> {
        self.buffer(label, bytes.max(16), gpu_buffer_usage::UNIFORM | gpu_buffer_usage::COPY_DST)
    }

    fn buffer(&self, label: &str, bytes: usize, usage: u32) -> GpuResult<GpuBuffer> {
        self.check_alive()?;
        let descriptor = GpuBufferDescriptor::new_with_f64(bytes as f64, usage);
        descriptor.set_label(label);
        self.device
            .create_buffer(&descriptor)
            .map_err(|e| GpuError::Gpu(format!("createBuffer {label} ({bytes} bytes): {}", js_message(&e))))
    }

    /// Queues a copy of `data` into `buffer` at element `offset`.
    pub(crate) fn write_f32(&self, buffer: &GpuBuffer, offset: usize, data: &[f32]) -> GpuResult<()> {
        // SAFETY: f32 has no padding and no invalid bit patterns; the byte view covers exactly
        // `data` and lives for the call (writeBuffer copies it before returning).
        let bytes = unsafe { std::slice::from_raw_parts(data.as_ptr().cast::<u8>(), std::mem::size_of_val(data)) };
        self.write_bytes(buffer, offset * 4, bytes)
    }

    /// Queues a copy of `data` into `buffer` at element `offset`.
    pub(crate) fn write_u32(&self, buffer: &GpuBuffer, offset: usize, data: &[u32]) -> GpuResult<()> {
        // SAFETY: as in write_f32.
        let bytes = unsafe { std::slice::from_raw_parts(data.as_ptr().cast::<u8>(), std::mem::size_of_val(data)) };
        self.write_bytes(buffer, offset * 4, bytes)
    }

    pub(crate) fn write_bytes(&self, buffer: &GpuBuffer, byte_offset: usize, bytes: &[u8]) -> GpuResult<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.queue
            .write_buffer_with_f64_and_u8_slice(buffer, byte_offset as f64, bytes)
            .map_err(|e| GpuError::Gpu(format!("writeBuffer: {}", js_message(&e))))
    }

    /// Starts a command encoder inside validation and out-of-memory error scopes; pair with
    /// [`GpuContext::submit`], which closes the scopes and reports what they caught.
    pub(crate) fn begin(&self) -> GpuResult<GpuCommandEncoder> {
        self.check_alive()?;
        self.device.push_error_scope(GpuErrorFilter::OutOfMemory);
        self.device.push_error_scope(GpuErrorFilter::Validation);
        Ok(self.device.create_command_encoder())
    }

    /// Finishes and submits `encoder` (one submit), then waits for the error scopes of
    /// [`GpuContext::begin`].
    pub(crate) async fn submit(&self, encoder: GpuCommandEncoder) -> GpuResult<()> {
        self.queue.submit(&[encoder.finish()]);
        for scope in ["validation", "out-of-memory"] {
            let popped = self.device.pop_error_scope().await;
            self.check_alive()?;
            match popped {
                Ok(error) => {
                    if let Some(error) = error.into_option() {
                        return Err(GpuError::Gpu(format!("{scope}: {}", error.message())));
                    }
                }
                Err(e) => return Err(GpuError::Gpu(format!("popErrorScope: {}", js_message(&e)))),
            }
        }
        Ok(())
    }

    /// Maps `staging` (already filled by a submitted copy) and returns its first `len` f32s.
    pub(crate) async fn map_read(&self, staging: &GpuBuffer, len: usize) -> GpuResult<Vec<f32>> {
        let bytes = (len * 4) as f64;
        staging.map_async_with_f64_and_f64(gpu_map_mode::READ, 0.0, bytes).await.map_err(|e| match self.lost() {
            Some(reason) => GpuError::DeviceLost(reason),
            None => GpuError::Gpu(format!("mapAsync: {}", js_message(&e))),
        })?;
        let range = staging
            .get_mapped_range_with_f64_and_f64(0.0, bytes)
            .map_err(|e| GpuError::Gpu(format!("getMappedRange: {}", js_message(&e))))?;
        let out = Float32Array::new(&range).to_vec();
        staging.unmap();
        Ok(out)
    }
}

impl Drop for GpuContext {
    fn drop(&mut self) {
        // Frees the GPU memory now rather than at garbage collection; resolves `lost` as
        // "destroyed", which nobody is left to read.
        self.device.destroy();
    }
}
