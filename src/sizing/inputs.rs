//! Everything the calculator takes, grouped as the page groups it: model, training, inference,
//! hardware, memory. Plain serde structs; numbers are `f64` because they arrive from a page, and
//! [`Inputs::validate`] checks each one, naming it by its dotted path (`hardware.utilisation`).

use serde::{Deserialize, Serialize};

use super::check::{finite, positive, whole};
use super::params::Architecture;
use crate::error::{Error, Result};

/// All inputs of one scenario. [`super::presets::seed_scenario`] gives the seed report's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inputs {
    /// The model: its architecture, and optionally a stated parameter count.
    pub model: ModelInputs,
    /// Training: tokens and deadline.
    pub training: TrainingInputs,
    /// Inference: query volume.
    pub inference: InferenceInputs,
    /// GPUs, precision, utilisation, servers, prices.
    pub hardware: HardwareInputs,
    /// Memory: precisions and the KV cache's batch and context.
    pub memory: MemoryInputs,
}

/// The model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelInputs {
    /// A label for tables ("GPT-3 175B").
    #[serde(default)]
    pub name: String,
    /// The shape: counts parameters, and gives the attention FLOPs term and the KV cache.
    pub arch: Architecture,
    /// N as a report states it (the seed's 175e9), used instead of the architecture's count
    /// (174.6e9 for GPT-3 175B), which is shown beside it. `None`: N is the architecture's count.
    #[serde(default)]
    pub params: Option<f64>,
}

/// Training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingInputs {
    /// Training tokens, D (GPT-3: 300e9).
    pub tokens: f64,
    /// The deadline in days (the seed: 30).
    pub days: f64,
    /// Add Kaplan's attention term, 2·n_layer·n_ctx·d_attn FLOPs per token forward (×3 for
    /// forward + backward), to 6N. Off in the seed.
    #[serde(default)]
    pub attention: bool,
    /// For the inverse question, "how many days with this many GPUs?". `None`: the GPU count
    /// the deadline needs.
    #[serde(default)]
    pub gpus: Option<f64>,
}

/// Inference at a query volume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InferenceInputs {
    /// Queries a day (the seed: Google's 3.5e9 searches).
    pub queries_per_day: f64,
    /// Tokens generated or read per query (the seed implies 7.9e12 / 3.5e9 ≈ 2,257).
    pub tokens_per_query: f64,
    /// Add the attention term 2·n_layer·n_ctx·d_attn to 2N FLOPs per token.
    #[serde(default)]
    pub attention: bool,
    /// FLOPs a day as a report states them (the seed's 4.76e24), used "as the report states"
    /// beside the formula's 2N reading. `None`: only the formula.
    #[serde(default)]
    pub stated_flops_per_day: Option<f64>,
}

/// The arithmetic a GPU's peak is quoted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ComputePrecision {
    /// Plain FP32 (CUDA cores).
    Fp32,
    /// TF32 tensor cores: FP32 storage, 10-bit mantissa products (A100 and later). The seed's
    /// "32-bit single precision" A100 figure is this peak at 50% utilisation.
    Tf32,
    /// FP16/BF16 tensor cores.
    Fp16,
    /// INT8 tensor cores (TOPS).
    Int8,
}

impl ComputePrecision {
    /// The name tables use.
    pub fn label(self) -> &'static str {
        match self {
            ComputePrecision::Fp32 => "FP32",
            ComputePrecision::Tf32 => "TF32 tensor",
            ComputePrecision::Fp16 => "FP16/BF16 tensor",
            ComputePrecision::Int8 => "INT8 tensor",
        }
    }
}

/// Dense peak throughput per precision, in TFLOP/s (TOPS for INT8); `None` where the GPU has
/// no such unit (V100: no TF32, no INT8 tensor cores). Dense: the 2:4-sparsity figures NVIDIA
/// also prints are twice these.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Peaks {
    /// FP32 (CUDA cores).
    pub fp32: f64,
    /// TF32 tensor.
    #[serde(default)]
    pub tf32: Option<f64>,
    /// FP16/BF16 tensor.
    #[serde(default)]
    pub fp16: Option<f64>,
    /// INT8 tensor.
    #[serde(default)]
    pub int8: Option<f64>,
}

impl Peaks {
    /// The peak for `p`, if the GPU has one.
    pub fn get(&self, p: ComputePrecision) -> Option<f64> {
        match p {
            ComputePrecision::Fp32 => Some(self.fp32),
            ComputePrecision::Tf32 => self.tf32,
            ComputePrecision::Fp16 => self.fp16,
            ComputePrecision::Int8 => self.int8,
        }
    }
}

/// One GPU model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gpu {
    /// Preset id (`a100-pcie`), empty for a custom GPU.
    #[serde(default)]
    pub id: String,
    /// Name for tables.
    #[serde(default)]
    pub name: String,
    /// Dense peaks per precision, TFLOP/s.
    pub peak_tflops: Peaks,
    /// Memory, GB (1e9 bytes).
    pub memory_gb: f64,
    /// Board power, W.
    pub tdp_w: f64,
    /// Unit price, USD: an estimate, editable (the seed implies $15,000 for an A100).
    pub price_usd: f64,
}

/// One server model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    /// Preset id (`dgx-a100`), empty for a custom server.
    #[serde(default)]
    pub id: String,
    /// Name for tables.
    #[serde(default)]
    pub name: String,
    /// GPUs in one server (DGX A100: 8).
    pub gpus_per_server: f64,
    /// Unit price, USD (DGX A100 launched at $199,000).
    pub price_usd: f64,
}

/// Hardware and prices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HardwareInputs {
    /// The GPU.
    pub gpu: Gpu,
    /// Which of its peaks the work runs at (the seed: TF32).
    pub precision: ComputePrecision,
    /// Fraction of peak achieved, in (0, 1] (the seed implies 0.5).
    pub utilisation: f64,
    /// The server the GPUs go in.
    pub server: Server,
    /// Power usage effectiveness of the data centre (facility power / IT power), >= 1.
    pub pue: f64,
}

/// How training state is stored (bytes per parameter, EleutherAI's "Transformer Math 101").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrainingPrecision {
    /// FP32 weights (4) + FP32 gradients (4) + AdamW m and v (8) = 16 B/param.
    Fp32,
    /// FP16/BF16 weights (2) + gradients (2) + FP32 master weights, m and v (12) = 16 B/param.
    Mixed,
}

/// How weights are stored for inference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WeightPrecision {
    /// 4 bytes per parameter.
    Fp32,
    /// FP16 or BF16: 2 bytes per parameter.
    Fp16,
    /// 1 byte per parameter.
    Int8,
}

impl WeightPrecision {
    /// Bytes per value.
    pub fn bytes(self) -> f64 {
        match self {
            WeightPrecision::Fp32 => 4.0,
            WeightPrecision::Fp16 => 2.0,
            WeightPrecision::Int8 => 1.0,
        }
    }

    /// The name tables use.
    pub fn label(self) -> &'static str {
        match self {
            WeightPrecision::Fp32 => "fp32",
            WeightPrecision::Fp16 => "fp16/bf16",
            WeightPrecision::Int8 => "int8",
        }
    }
}

/// Memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryInputs {
    /// How training state is stored.
    pub training_precision: TrainingPrecision,
    /// How weights (and the KV cache) are stored for inference.
    pub inference_precision: WeightPrecision,
    /// Sequences served at once, B, for the KV cache.
    pub batch_size: f64,
    /// Tokens of context held in the KV cache, at most block_size. `None`: block_size.
    #[serde(default)]
    pub context: Option<f64>,
}

impl ModelInputs {
    /// Checks the model section (field paths as in [`Inputs::validate`]).
    pub fn validate(&self) -> Result<()> {
        self.arch.validate("model.arch")?;
        if let Some(n) = self.params {
            positive("model.params", n, 1.0, 1e15)?;
        }
        Ok(())
    }
}

impl TrainingInputs {
    /// Checks the training section (field paths as in [`Inputs::validate`]).
    pub fn validate(&self) -> Result<()> {
        positive("training.tokens", self.tokens, 1.0, 1e16)?;
        positive("training.days", self.days, 1e-3, 1e5)?;
        if let Some(g) = self.gpus {
            whole("training.gpus", g, 1.0, 1e9)?;
        }
        Ok(())
    }
}

impl Inputs {
    /// Checks every input, naming the first bad one by its path. See [`super::check`] for the
    /// bounds' rationale: with them, no output can overflow.
    pub fn validate(&self) -> Result<()> {
        self.model.validate()?;
        self.training.validate()?;

        let i = &self.inference;
        positive("inference.queries_per_day", i.queries_per_day, 1e-3, 1e13)?;
        positive("inference.tokens_per_query", i.tokens_per_query, 1e-3, 1e8)?;
        if let Some(f) = i.stated_flops_per_day {
            positive("inference.stated_flops_per_day", f, 1.0, 1e33)?;
        }

        let h = &self.hardware;
        let g = &h.gpu;
        positive("hardware.gpu.peak_tflops.fp32", g.peak_tflops.fp32, 1e-3, 1e6)?;
        for (name, v) in [("tf32", g.peak_tflops.tf32), ("fp16", g.peak_tflops.fp16), ("int8", g.peak_tflops.int8)] {
            if let Some(v) = v {
                positive(&format!("hardware.gpu.peak_tflops.{name}"), v, 1e-3, 1e6)?;
            }
        }
        if g.peak_tflops.get(h.precision).is_none() {
            let name = if g.name.is_empty() { "this GPU" } else { &g.name };
            return Err(Error::invalid(
                "hardware.precision",
                format!("{name} has no {} peak; choose another precision", h.precision.label()),
            ));
        }
        positive("hardware.gpu.memory_gb", g.memory_gb, 1e-3, 1e6)?;
        positive("hardware.gpu.tdp_w", g.tdp_w, 1e-3, 1e6)?;
        positive("hardware.gpu.price_usd", g.price_usd, 1e-3, 1e9)?;
        finite("hardware.utilisation", h.utilisation)?;
        if !(h.utilisation > 0.0 && h.utilisation <= 1.0) {
            return Err(Error::invalid("hardware.utilisation", format!("must be in (0, 1], got {}", h.utilisation)));
        }
        if h.utilisation < 1e-3 {
            return Err(Error::invalid(
                "hardware.utilisation",
                format!("{} is below the smallest supported value, 0.001", h.utilisation),
            ));
        }
        whole("hardware.server.gpus_per_server", h.server.gpus_per_server, 1.0, 1e4)?;
        positive("hardware.server.price_usd", h.server.price_usd, 1e-3, 1e10)?;
        finite("hardware.pue", h.pue)?;
        if !(1.0..=10.0).contains(&h.pue) {
            return Err(Error::invalid(
                "hardware.pue",
                format!("must be between 1 (every watt reaches the GPUs) and 10, got {}", h.pue),
            ));
        }

        let mem = &self.memory;
        whole("memory.batch_size", mem.batch_size, 1.0, 1e7)?;
        if let Some(ctx) = mem.context {
            whole("memory.context", ctx, 1.0, 1e8)?;
            if ctx > self.model.arch.block_size {
                return Err(Error::invalid(
                    "memory.context",
                    format!("{ctx} is longer than the model's block_size, {}", self.model.arch.block_size),
                ));
            }
        }
        Ok(())
    }
}
