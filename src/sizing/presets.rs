//! Presets: models (GPT-1, GPT-2, the eight GPT-3 models), GPUs, servers, and the scenarios
//! built from them, first of all the seed report's. Parameter counts are not stored: they follow
//! from the architecture ([`super::params`]); `published_params` is what each paper printed.

use serde::{Deserialize, Serialize};

use super::inputs::{
    ComputePrecision, Gpu, HardwareInputs, InferenceInputs, Inputs, MemoryInputs, ModelInputs, Peaks, Server,
    TrainingInputs, TrainingPrecision, WeightPrecision,
};
use super::params::Architecture;

/// A model preset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelPreset {
    /// Short id for the CLI and URLs (`gpt3-175b`).
    pub id: String,
    /// Name for tables (`GPT-3 175B`).
    pub name: String,
    /// The shape.
    pub arch: Architecture,
    /// The parameter count its paper printed (GPT-2's "117M" counts 124.4M by its own shape).
    pub published_params: f64,
    /// Training tokens where the paper states them (GPT-3: 300e9).
    pub training_tokens: Option<f64>,
    /// Where the numbers come from, and anything odd about them.
    pub source: String,
}

/// Every preset, for a page's drop-downs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Presets {
    /// Models.
    pub models: Vec<ModelPreset>,
    /// GPUs.
    pub gpus: Vec<Gpu>,
    /// Servers.
    pub servers: Vec<Server>,
}

/// GPT-2 and GPT-3 vocabulary: 50,257 BPE tokens.
const GPT2_VOCAB: u32 = 50_257;

/// The model presets: GPT-1, GPT-2 small/medium/large/XL, GPT-3 Table 2.1.
pub fn models() -> Vec<ModelPreset> {
    let gpt2 = "Radford et al. 2019, Table 2; n_ctx 1024, vocabulary 50,257. The paper's counts predate a recount: its \"117M\" model has 124.4M parameters by this shape.";
    let gpt3 = "Brown et al. 2020 (arXiv:2005.14165), Table 2.1; n_ctx 2048, d_ff = 4 d_model, vocabulary 50,257, 300B training tokens.";
    let m = |id: &str, name: &str, arch: Architecture, published: f64, tokens: Option<f64>, source: &str| ModelPreset {
        id: id.into(),
        name: name.into(),
        arch,
        published_params: published,
        training_tokens: tokens,
        source: source.into(),
    };
    let t3 = Some(300e9);
    vec![
        m(
            "gpt1",
            "GPT-1",
            Architecture::gpt(12, 12, 768, 512, 40_478),
            117e6,
            None,
            "Radford et al. 2018; n_ctx 512, vocabulary 40,478 (40,000 BPE merges). GPT-1 is post-LayerNorm with no final ln_f; this counts the pre-LN layout, 1,536 more.",
        ),
        m("gpt2", "GPT-2 small", Architecture::gpt(12, 12, 768, 1024, GPT2_VOCAB), 117e6, None, gpt2),
        m("gpt2-medium", "GPT-2 medium", Architecture::gpt(24, 16, 1024, 1024, GPT2_VOCAB), 345e6, None, gpt2),
        m("gpt2-large", "GPT-2 large", Architecture::gpt(36, 20, 1280, 1024, GPT2_VOCAB), 762e6, None, gpt2),
        m("gpt2-xl", "GPT-2 XL", Architecture::gpt(48, 25, 1600, 1024, GPT2_VOCAB), 1542e6, None, gpt2),
        m("gpt3-small", "GPT-3 Small", Architecture::gpt(12, 12, 768, 2048, GPT2_VOCAB), 125e6, t3, gpt3),
        m("gpt3-medium", "GPT-3 Medium", Architecture::gpt(24, 16, 1024, 2048, GPT2_VOCAB), 350e6, t3, gpt3),
        m("gpt3-large", "GPT-3 Large", Architecture::gpt(24, 16, 1536, 2048, GPT2_VOCAB), 760e6, t3, gpt3),
        m(
            "gpt3-xl",
            "GPT-3 XL",
            Architecture::gpt(24, 16, 2048, 2048, GPT2_VOCAB),
            1.3e9,
            t3,
            "Brown et al. 2020, Table 2.1, which prints n_heads 24 and d_head 128: 3,072, not d_model 2,048, and 24 does not divide 2,048. The 1.3B total fits d_attn = d_model, so this preset uses 16 heads of 128 (as GPT-Neo 1.3B does). Heads change neither parameters nor FLOPs.",
        ),
        m("gpt3-2.7b", "GPT-3 2.7B", Architecture::gpt(32, 32, 2560, 2048, GPT2_VOCAB), 2.7e9, t3, gpt3),
        m("gpt3-6.7b", "GPT-3 6.7B", Architecture::gpt(32, 32, 4096, 2048, GPT2_VOCAB), 6.7e9, t3, gpt3),
        m(
            "gpt3-13b",
            "GPT-3 13B",
            Architecture::gpt(40, 40, 5120, 2048, GPT2_VOCAB),
            13e9,
            t3,
            "Brown et al. 2020, Table 2.1, which prints d_model 5140: a typo for 5120 = 40 heads × 128 (5140 is not divisible by 40).",
        ),
        m("gpt3-175b", "GPT-3 175B", Architecture::gpt(96, 96, 12288, 2048, GPT2_VOCAB), 175e9, t3, gpt3),
    ]
}

/// The GPU presets. Dense peaks from NVIDIA's datasheets; prices are rough street estimates
/// (the A100's $15,000 is the one the seed implies), meant to be edited.
pub fn gpus() -> Vec<Gpu> {
    let a100 = Peaks { fp32: 19.5, tf32: Some(156.0), fp16: Some(312.0), int8: Some(624.0) };
    let h100_sxm = Peaks { fp32: 67.0, tf32: Some(494.7), fp16: Some(989.0), int8: Some(1979.0) };
    let h100_pcie = Peaks { fp32: 51.0, tf32: Some(378.0), fp16: Some(756.0), int8: Some(1513.0) };
    let g = |id: &str, name: &str, peak_tflops: Peaks, memory_gb: f64, tdp_w: f64, price_usd: f64| Gpu {
        id: id.into(),
        name: name.into(),
        peak_tflops,
        memory_gb,
        tdp_w,
        price_usd,
    };
    vec![
        g("a100-pcie", "A100 PCIe 40GB", a100, 40.0, 250.0, 15_000.0),
        g("a100-pcie-80gb", "A100 PCIe 80GB", a100, 80.0, 300.0, 17_000.0),
        g("a100-sxm", "A100 SXM4 40GB", a100, 40.0, 400.0, 15_000.0),
        g("a100-sxm-80gb", "A100 SXM4 80GB", a100, 80.0, 400.0, 17_000.0),
        g("h100-sxm", "H100 SXM5 80GB", h100_sxm, 80.0, 700.0, 30_000.0),
        g("h100-pcie", "H100 PCIe 80GB", h100_pcie, 80.0, 350.0, 25_000.0),
        // H200: the H100 SXM's compute with 141 GB of HBM3e.
        g("h200", "H200 SXM 141GB", h100_sxm, 141.0, 700.0, 32_000.0),
        // V100 has FP16 tensor cores only: no TF32, no INT8 tensor.
        g(
            "v100",
            "V100 SXM2 32GB",
            Peaks { fp32: 15.7, tf32: None, fp16: Some(125.0), int8: None },
            32.0,
            300.0,
            8_000.0,
        ),
    ]
}

/// The server presets. The DGX A100 launched at $199,000 (the seed's figure); the DGX H100 has
/// no list price, its figure is an assumption to edit.
pub fn servers() -> Vec<Server> {
    vec![
        Server { id: "dgx-a100".into(), name: "DGX A100".into(), gpus_per_server: 8.0, price_usd: 199_000.0 },
        Server { id: "dgx-h100".into(), name: "DGX H100".into(), gpus_per_server: 8.0, price_usd: 400_000.0 },
    ]
}

/// Every preset.
pub fn presets() -> Presets {
    Presets { models: models(), gpus: gpus(), servers: servers() }
}

/// The model preset with this id.
pub fn model(id: &str) -> Option<ModelPreset> {
    models().into_iter().find(|m| m.id == id)
}

/// The GPU preset with this id.
pub fn gpu(id: &str) -> Option<Gpu> {
    gpus().into_iter().find(|g| g.id == id)
}

/// The server preset with this id.
pub fn server(id: &str) -> Option<Server> {
    servers().into_iter().find(|s| s.id == id)
}

/// The seed report's model: GPT-3 175B, N stated as 175e9.
pub fn seed_model() -> ModelInputs {
    let gpt3 = model("gpt3-175b").expect("the GPT-3 175B preset exists");
    ModelInputs { name: "GPT-3 175B (as the report states)".into(), arch: gpt3.arch, params: Some(175e9) }
}

/// The seed report's training: 300 billion tokens in 30 days.
pub fn seed_training() -> TrainingInputs {
    TrainingInputs { tokens: 300e9, days: 30.0, attention: false, gpus: None }
}

/// The seed report's GPT-3 scenario (Guosen Securities, 2023-04-24): N = 175e9 as stated, D =
/// 300e9, 30 days, A100 PCIe at TF32 (156 TFLOP/s) and 50% utilisation = 78 TFLOP/s, $15,000 a
/// GPU, DGX A100 (8 GPUs, $199,000); 3.5e9 searches a day at the implied 7.9e12 / 3.5e9 tokens
/// each, and the report's 4.76e24 inference FLOPs a day as stated. Its outputs are the report's
/// figures; see `tests/sizing.rs`.
pub fn seed_scenario() -> Inputs {
    Inputs {
        model: seed_model(),
        training: seed_training(),
        inference: InferenceInputs {
            queries_per_day: 3.5e9,
            tokens_per_query: 7.9e12 / 3.5e9,
            attention: false,
            stated_flops_per_day: Some(4.76e24),
        },
        hardware: HardwareInputs {
            gpu: gpu("a100-pcie").expect("the A100 PCIe preset exists"),
            precision: ComputePrecision::Tf32,
            utilisation: 0.5,
            server: server("dgx-a100").expect("the DGX A100 preset exists"),
            pue: 1.2,
        },
        // "32-bit single precision", as the report assumes.
        memory: MemoryInputs {
            training_precision: TrainingPrecision::Fp32,
            inference_precision: WeightPrecision::Fp32,
            batch_size: 1.0,
            context: None,
        },
    }
}

/// A named scenario: `seed` (the report's), or a model preset id, which is the seed's hardware,
/// deadline and query volume with that model's architecture, its own parameter count, its
/// training tokens (the seed's 300e9 where the paper gives none), and the formula's 2N for
/// inference (the report's stated FLOPs a day belong to its GPT-3 only).
pub fn scenario(id: &str) -> Option<Inputs> {
    if id == "seed" {
        return Some(seed_scenario());
    }
    let m = model(id)?;
    let mut s = seed_scenario();
    s.model = ModelInputs { name: m.name, arch: m.arch, params: None };
    s.training.tokens = m.training_tokens.unwrap_or(s.training.tokens);
    s.inference.stated_flops_per_day = None;
    Some(s)
}

/// The ids [`scenario`] accepts.
pub fn scenario_ids() -> Vec<String> {
    std::iter::once("seed".to_string()).chain(models().into_iter().map(|m| m.id)).collect()
}
