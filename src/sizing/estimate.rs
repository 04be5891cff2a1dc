//! [`estimate`]: every output of the calculator from one [`Inputs`], each a [`Quantity`] with
//! its formula. The formula chain is the seed report's (see shared/seed/SEED-NOTES.md):
//!
//! ```text
//! training FLOPs  = 6·N·D                          (2ND forward + 4ND backward)
//! FLOP/s needed   = FLOPs / (days · 86,400)
//! effective/GPU   = peak · utilisation
//! GPUs            = round(FLOP/s needed / effective)   (to nearest, as the report rounds)
//! servers         = ceil(GPUs / GPUs per server)
//! inference       = queries/day · tokens/query · 2N per token   (or FLOPs/day as stated)
//! ```

use serde::{Deserialize, Serialize};

use super::format::{grouped, num, usd};
use super::inputs::{ComputePrecision, Inputs, ModelInputs, TrainingInputs, TrainingPrecision, WeightPrecision};
use super::params::{count_params_at, Architecture, ParamCount};
use super::quantity::{Quantity, Unit};
use crate::error::Result;

/// Seconds in a day.
const DAY_S: f64 = 86_400.0;

/// Tokens per parameter for compute-optimal training (Hoffmann et al. 2022, "Chinchilla").
pub const CHINCHILLA_TOKENS_PER_PARAM: f64 = 20.0;

/// EleutherAI's rule of thumb: inference needs about 1.2× the weights' memory.
pub const INFERENCE_OVERHEAD: f64 = 0.2;

/// Counts from this size on are printed by the report in 万 (ten-thousands) with one decimal,
/// i.e. to the nearest 1,000: 706,315 GPUs → 70.6万 = 706,000.
pub const REPORT_WAN: f64 = 10_000.0;

/// Everything the calculator outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Parameters: the N used and the itemised count.
    pub model: ModelReport,
    /// Peak and effective FLOP/s of one GPU.
    pub hardware: HardwareReport,
    /// Training: FLOPs, the deadline's FLOP/s, GPUs, servers, costs, energy.
    pub training: TrainingReport,
    /// Inference at the query volume.
    pub inference: InferenceReport,
    /// Memory: weights, training state, KV cache, GPUs just to hold them.
    pub memory: MemoryReport,
    /// Plain-language notes: where the scenario departs from the formulas, and how it rounds.
    pub notes: Vec<String>,
}

/// The model's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelReport {
    /// The scenario's label.
    pub name: String,
    /// N, the count every other formula uses: the stated one if given, else the count.
    pub params: Quantity,
    /// Whether N is a stated figure rather than the architecture's count.
    pub params_stated: bool,
    /// The architecture's count, itemised, with Kaplan's approximation.
    pub count: ParamCount,
}

/// One GPU's throughput.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HardwareReport {
    /// The GPU's name.
    pub gpu: String,
    /// The precision the peak is for.
    pub precision: ComputePrecision,
    /// Dense peak, FLOP/s.
    pub peak: Quantity,
    /// peak × utilisation, FLOP/s.
    pub effective: Quantity,
}

/// What a FLOP/s requirement takes in GPUs, servers and money.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    /// required / effective, unrounded.
    pub gpus_exact: Quantity,
    /// Rounded to the nearest whole GPU (at least 1), as the report rounds: 1,558.05 → 1,558.
    pub gpus: Quantity,
    /// As the report prints it: in full below 10,000, else to the nearest 1,000 (706,000).
    pub gpus_reported: Quantity,
    /// gpus × GPU price (the whole count, not the reported one, as the report does).
    pub gpu_cost: Quantity,
    /// ceil(gpus / GPUs per server).
    pub servers: Quantity,
    /// As the report prints it (88,290 → 88,000).
    pub servers_reported: Quantity,
    /// servers × server price.
    pub server_cost: Quantity,
    /// servers_reported × server price: the report prices its rounded count ($17.512B).
    pub server_cost_reported: Quantity,
}

/// Training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingReport {
    /// D.
    pub tokens: Quantity,
    /// Kaplan's attention term, 2·n_layer·n_ctx·d_attn FLOPs per token forward; added to the
    /// totals only when `training.attention` is set.
    pub attention_per_token: Quantity,
    /// Forward FLOPs, 2ND (+ attention).
    pub forward: Quantity,
    /// Backward FLOPs, 4ND (+ 2× attention).
    pub backward: Quantity,
    /// Total, 6ND (+ 3× attention).
    pub flops: Quantity,
    /// FLOP/s the deadline needs.
    pub flop_per_s: Quantity,
    /// GPUs, servers, costs.
    pub deployment: Deployment,
    /// GPU-hours of work: FLOPs / effective / 3,600.
    pub gpu_hours: Quantity,
    /// GPU-hours × TDP × PUE, kWh.
    pub energy: Quantity,
    /// The GPU count of the inverse question.
    pub inverse_gpus: Quantity,
    /// Days that count of GPUs needs.
    pub inverse_days: Quantity,
    /// D / N.
    pub tokens_per_param: Quantity,
    /// 20 × N, compute-optimal tokens (Chinchilla).
    pub chinchilla_tokens: Quantity,
}

/// One reading of the inference load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InferenceReading {
    /// FLOPs per token: 2N (+ attention), or implied by a stated FLOPs/day.
    pub flops_per_token: Quantity,
    /// FLOPs a day.
    pub flops_per_day: Quantity,
    /// FLOPs a day / 86,400.
    pub flop_per_s: Quantity,
    /// GPUs, servers, costs.
    pub deployment: Deployment,
}

/// Inference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InferenceReport {
    /// queries/day × tokens/query.
    pub tokens_per_day: Quantity,
    /// The formula's reading: 2N FLOPs per token (Kaplan et al. 2020).
    pub formula: InferenceReading,
    /// The stated FLOPs/day's reading ("as the report states"), when one is given.
    pub stated: Option<InferenceReading>,
    /// How the two readings differ, in words, when both exist.
    pub note: Option<String>,
}

/// Training state in memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingMemory {
    /// How it is stored.
    pub precision: TrainingPrecision,
    /// Weights.
    pub weights: Quantity,
    /// Gradients.
    pub gradients: Quantity,
    /// AdamW state (and FP32 master weights in mixed precision).
    pub optimizer: Quantity,
    /// Sum, before activations.
    pub total: Quantity,
    /// GPUs just to hold it: ceil(total / GPU memory).
    pub gpus_to_hold: Quantity,
}

/// Inference state in memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InferenceMemory {
    /// How weights are stored.
    pub precision: WeightPrecision,
    /// Weights.
    pub weights: Quantity,
    /// 0.2 × weights: activations and buffers (the 1.2× rule of thumb).
    pub overhead: Quantity,
    /// K and V of every layer for the batch and context.
    pub kv_cache: Quantity,
    /// weights + overhead + KV cache.
    pub total: Quantity,
    /// GPUs just to hold it.
    pub gpus_to_hold: Quantity,
}

/// Memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryReport {
    /// One GPU's memory, bytes.
    pub gpu_memory: Quantity,
    /// Weights at 4 bytes per parameter.
    pub weights_fp32: Quantity,
    /// Weights at 2 bytes per parameter.
    pub weights_fp16: Quantity,
    /// Weights at 1 byte per parameter.
    pub weights_int8: Quantity,
    /// Training state.
    pub training: TrainingMemory,
    /// Inference state.
    pub inference: InferenceMemory,
}

/// How the report prints a count: in full below 10,000, else to the nearest 1,000 (it writes
/// 706,315 as 70.6万).
pub fn report_round(n: f64) -> f64 {
    if n < REPORT_WAN {
        n
    } else {
        (n / 1000.0).round() * 1000.0
    }
}

/// Every output for `inputs`, or the first invalid input, named.
pub fn estimate(inputs: &Inputs) -> Result<Estimate> {
    inputs.validate()?;
    let q = Quantity::new;
    let (m, t, i, h, mem) = (&inputs.model, &inputs.training, &inputs.inference, &inputs.hardware, &inputs.memory);
    let arch = &m.arch;
    let mut notes = Vec::new();

    // ---- model ----
    let count = count_params_at(arch, "model.arch")?;
    let (n, params) = model_params(m, &count, &mut notes)?;
    let nn = num(n);

    // ---- hardware ----
    let g = &h.gpu;
    let peak_tflops = g.peak_tflops.get(h.precision).expect("validate() checked the GPU has this precision");
    let peak_v = peak_tflops * 1e12;
    let peak = q(
        "hardware.peak",
        peak_v,
        Unit::FlopPerS,
        format!(
            "{} peak of {}, dense: {} TFLOP/s = {}",
            h.precision.label(),
            gpu_name(&g.name),
            num(peak_tflops),
            num(peak_v)
        ),
    )?;
    let eff = peak_v * h.utilisation;
    let effective = q(
        "hardware.effective",
        eff,
        Unit::FlopPerS,
        format!("peak × utilisation = {} × {} = {}", num(peak_v), num(h.utilisation), num(eff)),
    )?;
    let deploy = |what: &str, flop_per_s: f64| deployment(what, flop_per_s, eff, inputs);

    // ---- training ----
    let (l, c, ctx) = (arch.n_layer, arch.n_embd, arch.block_size);
    let attn_v = 2.0 * l * ctx * c;
    let attention_per_token = q(
        "training.attention_per_token",
        attn_v,
        Unit::Flops,
        format!(
            "2 × n_layer × n_ctx × d_attn = 2 × {} × {} × {} = {} FLOPs per token forward{}",
            num(l),
            num(ctx),
            num(c),
            num(attn_v),
            if t.attention { "" } else { " (not included: training.attention is off)" }
        ),
    )?;
    let d = t.tokens;
    let nd = num(d);
    let [forward, backward, flops] = training_flops(arch, t, n)?;
    let flops_v = flops.value;
    let fps_v = flops_v / (t.days * DAY_S);
    let flop_per_s = q(
        "training.flop_per_s",
        fps_v,
        Unit::FlopPerS,
        format!("FLOPs / (days × 86,400 s) = {} / ({} × 86,400) = {}", num(flops_v), num(t.days), num(fps_v)),
    )?;
    let training_deployment = deploy("training", fps_v)?;
    let hours_v = flops_v / eff / 3600.0;
    // Whole hours for a real run; a tiny model's fraction of an hour keeps its digits.
    let hours_s = if hours_v < 100.0 { num(hours_v) } else { grouped(hours_v, 0) };
    let gpu_hours = q(
        "training.gpu_hours",
        hours_v,
        Unit::GpuHours,
        format!("FLOPs / effective / 3,600 s = {} / {} / 3,600 = {hours_s}", num(flops_v), num(eff)),
    )?;
    let kwh_v = hours_v * g.tdp_w / 1000.0 * h.pue;
    let energy = q(
        "training.energy",
        kwh_v,
        Unit::Kwh,
        format!(
            "GPU-hours × TDP × PUE = {hours_s} × {} kW × {} = {} kWh (GPUs only, at full board power)",
            num(g.tdp_w / 1000.0),
            num(h.pue),
            num(kwh_v)
        ),
    )?;
    let (inv_g, inv_src) = match t.gpus {
        Some(gpus) => (gpus, "as given (training.gpus)".to_string()),
        None => (training_deployment.gpus.value, "the deadline's whole-GPU count".to_string()),
    };
    let inverse_gpus = q("training.inverse_gpus", inv_g, Unit::Gpus, format!("{}: {}", inv_src, num(inv_g)))?;
    let inv_days_v = flops_v / (inv_g * eff * DAY_S);
    let inverse_days = q(
        "training.inverse_days",
        inv_days_v,
        Unit::Days,
        format!(
            "FLOPs / (GPUs × effective × 86,400 s) = {} / ({} × {} × 86,400) = {}",
            num(flops_v),
            num(inv_g),
            num(eff),
            num(inv_days_v)
        ),
    )?;
    let tpp = d / n;
    let tokens_per_param =
        q("training.tokens_per_param", tpp, Unit::Ratio, format!("D / N = {nd} / {nn} = {}", num(tpp)))?;
    let chin_v = CHINCHILLA_TOKENS_PER_PARAM * n;
    let chinchilla_tokens = q(
        "training.chinchilla_tokens",
        chin_v,
        Unit::Tokens,
        format!("20 × N = 20 × {nn} = {} (compute-optimal, Hoffmann et al. 2022)", num(chin_v)),
    )?;
    let training = TrainingReport {
        tokens: q("training.tokens", d, Unit::Tokens, format!("D = {nd}"))?,
        attention_per_token,
        forward,
        backward,
        flops,
        flop_per_s,
        deployment: training_deployment,
        gpu_hours,
        energy,
        inverse_gpus,
        inverse_days,
        tokens_per_param,
        chinchilla_tokens,
    };

    // ---- inference ----
    let tpd_v = i.queries_per_day * i.tokens_per_query;
    let tokens_per_day = q(
        "inference.tokens_per_day",
        tpd_v,
        Unit::Tokens,
        format!(
            "queries/day × tokens/query = {} × {} = {}",
            num(i.queries_per_day),
            num(i.tokens_per_query),
            num(tpd_v)
        ),
    )?;
    let fpt_v = 2.0 * n + if i.attention { attn_v } else { 0.0 };
    let fpt_formula = if i.attention {
        format!("2 × N + 2 × n_layer × n_ctx × d_attn = 2 × {nn} + {} = {}", num(attn_v), num(fpt_v))
    } else {
        format!("2 × N = 2 × {nn} = {} (forward only, Kaplan et al. 2020)", num(fpt_v))
    };
    let reading =
        |what: &str, flops_per_token: Quantity, fpd_v: f64, fpd_formula: String| -> Result<InferenceReading> {
            let fps_v = fpd_v / DAY_S;
            Ok(InferenceReading {
                flops_per_token,
                flops_per_day: q(&format!("inference.{what}.flops_per_day"), fpd_v, Unit::Flops, fpd_formula)?,
                flop_per_s: q(
                    &format!("inference.{what}.flop_per_s"),
                    fps_v,
                    Unit::FlopPerS,
                    format!("FLOPs/day / 86,400 s = {} / 86,400 = {}", num(fpd_v), num(fps_v)),
                )?,
                deployment: deployment(&format!("inference.{what}"), fps_v, eff, inputs)?,
            })
        };
    let fpd_v = tpd_v * fpt_v;
    let formula = reading(
        "formula",
        q("inference.formula.flops_per_token", fpt_v, Unit::Flops, fpt_formula)?,
        fpd_v,
        format!("tokens/day × FLOPs/token = {} × {} = {}", num(tpd_v), num(fpt_v), num(fpd_v)),
    )?;
    let (stated, note) = match i.stated_flops_per_day {
        None => (None, None),
        Some(s) => {
            let implied = s / tpd_v;
            let times_n = implied / n;
            let r = reading(
                "stated",
                q(
                    "inference.stated.flops_per_token",
                    implied,
                    Unit::Flops,
                    format!(
                        "FLOPs/day / tokens/day = {} / {} = {} = {} × N",
                        num(s),
                        num(tpd_v),
                        num(implied),
                        num(times_n)
                    ),
                )?,
                s,
                format!("as the report states: {}", num(s)),
            )?;
            let note = format!(
                "The stated {} FLOPs a day for {} tokens a day is {} FLOPs per token, {} × N. The standard forward cost \
                 is 2N per token (Kaplan et al. 2020: C_forward ≈ 2N + 2·n_layer·n_ctx·d_attn), which gives {} FLOPs a \
                 day, {} and {} GPUs instead of {} and {}. The stated figure is reproduced as given; where its extra \
                 {}× comes from is not explained.",
                num(s),
                num(tpd_v),
                num(implied),
                num(times_n),
                num(fpd_v),
                formula.flop_per_s.display,
                super::format::count(formula.deployment.gpus.value),
                r.flop_per_s.display,
                super::format::count(r.deployment.gpus.value),
                num(s / fpd_v),
            );
            (Some(r), Some(note))
        }
    };
    let inference = InferenceReport { tokens_per_day, formula, stated, note };

    // ---- memory ----
    let cap = g.memory_gb * 1e9;
    let gpu_memory =
        q("memory.gpu_memory", cap, Unit::Bytes, format!("{} GB × 1e9 = {} bytes", num(g.memory_gb), num(cap)))?;
    let bytes = |what: &str, per_param: f64, why: &str| {
        q(
            what,
            per_param * n,
            Unit::Bytes,
            format!("{} B × N = {} × {nn} = {} bytes{why}", num(per_param), num(per_param), num(per_param * n)),
        )
    };
    let hold = |what: &str, total: f64, why: &str| {
        let gpus = (total / cap).ceil().max(1.0);
        q(
            what,
            gpus,
            Unit::Gpus,
            format!("ceil(total / GPU memory) = ceil({} / {}) = {}{why}", num(total), num(cap), num(gpus)),
        )
    };
    let (wb, gb, ob, opt_why) = match mem.training_precision {
        TrainingPrecision::Fp32 => (4.0, 4.0, 8.0, " (AdamW m and v in fp32)"),
        TrainingPrecision::Mixed => (2.0, 2.0, 12.0, " (fp32 master weights, AdamW m and v)"),
    };
    let train_total = (wb + gb + ob) * n;
    let training_memory = TrainingMemory {
        precision: mem.training_precision,
        weights: bytes("memory.training.weights", wb, "")?,
        gradients: bytes("memory.training.gradients", gb, "")?,
        optimizer: bytes("memory.training.optimizer", ob, opt_why)?,
        total: q(
            "memory.training.total",
            train_total,
            Unit::Bytes,
            format!(
                "({} + {} + {}) B × N = {} × {nn} = {} bytes, before activations",
                num(wb),
                num(gb),
                num(ob),
                num(wb + gb + ob),
                num(train_total)
            ),
        )?,
        gpus_to_hold: hold("memory.training.gpus_to_hold", train_total, " (weights, gradients and optimiser only)")?,
    };
    let p = mem.inference_precision;
    let weights_v = p.bytes() * n;
    let overhead_v = INFERENCE_OVERHEAD * weights_v;
    let context = mem.context.unwrap_or(ctx);
    let kv_v = 2.0 * l * context * c * mem.batch_size * p.bytes();
    let inf_total = weights_v + overhead_v + kv_v;
    let inference_memory = InferenceMemory {
        precision: p,
        weights: bytes("memory.inference.weights", p.bytes(), &format!(" ({})", p.label()))?,
        overhead: q(
            "memory.inference.overhead",
            overhead_v,
            Unit::Bytes,
            format!(
                "0.2 × weights = 0.2 × {} = {} bytes (activations and buffers: the 1.2× rule of thumb)",
                num(weights_v),
                num(overhead_v)
            ),
        )?,
        kv_cache: q(
            "memory.inference.kv_cache",
            kv_v,
            Unit::Bytes,
            format!(
                "2 × n_layer × context × n_embd × batch × bytes = 2 × {} × {} × {} × {} × {} = {} bytes",
                num(l),
                num(context),
                num(c),
                num(mem.batch_size),
                num(p.bytes()),
                num(kv_v)
            ),
        )?,
        total: q(
            "memory.inference.total",
            inf_total,
            Unit::Bytes,
            format!(
                "weights + overhead + KV cache = {} + {} + {} = {} bytes",
                num(weights_v),
                num(overhead_v),
                num(kv_v),
                num(inf_total)
            ),
        )?,
        gpus_to_hold: hold("memory.inference.gpus_to_hold", inf_total, "")?,
    };
    let memory = MemoryReport {
        gpu_memory,
        weights_fp32: bytes("memory.weights_fp32", 4.0, "")?,
        weights_fp16: bytes("memory.weights_fp16", 2.0, "")?,
        weights_int8: bytes("memory.weights_int8", 1.0, "")?,
        training: training_memory,
        inference: inference_memory,
    };

    // ---- notes on rounding ----
    let tr = &training.deployment;
    if tr.gpus.value < tr.gpus_exact.value.ceil() {
        notes.push(format!(
            "GPU counts are rounded to the nearest whole GPU, as the report rounds ({} → {}); rounding up would give {}.",
            num(tr.gpus_exact.value),
            num(tr.gpus.value),
            num(tr.gpus_exact.value.ceil())
        ));
    }
    let reported = inference.stated.as_ref().unwrap_or(&inference.formula);
    let rd = &reported.deployment;
    if rd.gpus_reported.value != rd.gpus.value || rd.servers_reported.value != rd.servers.value {
        notes.push(format!(
            "The report prints counts of 10,000 and more in 万 (ten-thousands) with one decimal, i.e. to the nearest \
             1,000: {} GPUs → {}, {} servers → {}. Its GPU cost uses the unrounded count ({}); its server cost uses \
             the rounded server count ({}, against {} for the whole count).",
            num(rd.gpus.value),
            num(rd.gpus_reported.value),
            num(rd.servers.value),
            num(rd.servers_reported.value),
            rd.gpu_cost.display,
            rd.server_cost_reported.display,
            rd.server_cost.display
        ));
    }

    let hardware = HardwareReport { gpu: gpu_name(&g.name).to_string(), precision: h.precision, peak, effective };
    let model = ModelReport { name: m.name.clone(), params, params_stated: m.params.is_some(), count };
    Ok(Estimate { model, hardware, training, inference, memory, notes })
}

fn gpu_name(name: &str) -> &str {
    if name.is_empty() {
        "the GPU"
    } else {
        name
    }
}

/// N and the training FLOPs (6ND, forward + backward) of `inputs`, exactly as [`estimate`]
/// computes them, without the hardware, deployment, inference and memory sections: what the
/// Train page's plan needs (and all the model's wasm builds carry of the calculator).
pub fn training_compute(model: &ModelInputs, training: &TrainingInputs) -> Result<(Quantity, Quantity)> {
    model.validate()?;
    training.validate()?;
    let count = count_params_at(&model.arch, "model.arch")?;
    let (n, params) = model_params(model, &count, &mut Vec::new())?;
    let [_, _, flops] = training_flops(&model.arch, training, n)?;
    Ok((params, flops))
}

/// N: the stated count if the scenario gives one (with a note when the architecture counts
/// otherwise), else the architecture's.
fn model_params(model: &ModelInputs, count: &ParamCount, notes: &mut Vec<String>) -> Result<(f64, Quantity)> {
    let q = Quantity::new;
    Ok(match model.params {
        Some(stated) => {
            let p = q(
                "model.params",
                stated,
                Unit::Params,
                format!("N as stated: {} (the architecture counts {})", num(stated), num(count.total.value)),
            )?;
            if stated != count.total.value {
                notes.push(format!(
                    "N is the stated {}; the architecture itself counts {} parameters ({}). Every formula uses the stated N.",
                    num(stated),
                    num(count.total.value),
                    super::format::params(count.total.value)
                ));
            }
            (stated, p)
        }
        None => {
            let total = count.total.value;
            (total, q("model.params", total, Unit::Params, format!("N = the architecture's total = {}", num(total)))?)
        }
    })
}

/// Forward (2ND), backward (4ND) and training (6ND) FLOPs for N = `n` on the scenario's D,
/// each with attention's `n_layer · n_ctx · d_attn` per token when `training.attention` is on.
fn training_flops(arch: &Architecture, t: &TrainingInputs, n: f64) -> Result<[Quantity; 3]> {
    let q = Quantity::new;
    let (l, c, ctx) = (arch.n_layer, arch.n_embd, arch.block_size);
    let (nn, d) = (num(n), t.tokens);
    let nd = num(d);
    let a = if t.attention { l * ctx * c } else { 0.0 }; // n_layer · n_ctx · d_attn
    let per_token = |k: f64| k * n + k * a;
    let symbolic = |k: u32| {
        if t.attention {
            format!(
                "({k} × N + {k} × n_layer × n_ctx × d_attn) × D = ({k} × {nn} + {k} × {} × {} × {}) × {nd}",
                num(l),
                num(ctx),
                num(c)
            )
        } else {
            format!("{k} × N × D = {k} × {nn} × {nd}")
        }
    };
    let fwd_v = per_token(2.0) * d;
    let bwd_v = per_token(4.0) * d;
    let flops_v = per_token(6.0) * d;
    Ok([
        q("training.forward", fwd_v, Unit::Flops, format!("{} = {}", symbolic(2), num(fwd_v)))?,
        q("training.backward", bwd_v, Unit::Flops, format!("{} = {}", symbolic(4), num(bwd_v)))?,
        q("training.flops", flops_v, Unit::Flops, format!("{} = {} (forward + backward)", symbolic(6), num(flops_v)))?,
    ])
}

/// GPUs, servers and costs for `flop_per_s` at `eff` FLOP/s per GPU.
fn deployment(what: &str, flop_per_s: f64, eff: f64, inputs: &Inputs) -> Result<Deployment> {
    let q = |name: &str, value: f64, unit: Unit, formula: String| {
        Quantity::new(&format!("{what}.{name}"), value, unit, formula)
    };
    let h = &inputs.hardware;
    let exact = flop_per_s / eff;
    let whole = exact.round().max(1.0);
    // Two decimals, so the rounding the next line does is visible (706,315.29 → 706,315).
    // A small fraction of a GPU keeps its significant digits instead (2.42774e-8).
    let ex = if (0.01..1e12).contains(&exact) { grouped(exact, 2) } else { num(exact) };
    let gpus_exact = q(
        "gpus_exact",
        exact,
        Unit::Gpus,
        format!("required / effective = {} / {} = {ex}", num(flop_per_s), num(eff)),
    )?;
    let mut gpus_formula = format!("round({ex}) = {}", num(whole));
    if whole < exact.ceil() {
        gpus_formula += &format!(" (to nearest, as the report rounds; rounding up gives {})", num(exact.ceil()));
    } else if exact < 0.5 {
        gpus_formula += " (at least one)";
    }
    let gpus = q("gpus", whole, Unit::Gpus, gpus_formula)?;
    let reported = |n: f64| {
        if n < REPORT_WAN {
            format!("{} (printed in full below 10,000)", num(n))
        } else {
            let r = report_round(n);
            format!(
                "{} → {} = {}万 (the report's ten-thousands with one decimal, i.e. to the nearest 1,000)",
                num(n),
                num(r),
                num(r / 1e4)
            )
        }
    };
    let gpus_reported = q("gpus_reported", report_round(whole), Unit::Gpus, reported(whole))?;
    let cost_v = whole * h.gpu.price_usd;
    let gpu_cost = q(
        "gpu_cost",
        cost_v,
        Unit::Usd,
        format!("GPUs × price = {} × {} = {}", num(whole), usd(h.gpu.price_usd), usd(cost_v)),
    )?;
    let per = h.server.gpus_per_server;
    let servers_v = (whole / per).ceil();
    let servers = q(
        "servers",
        servers_v,
        Unit::Servers,
        format!("ceil(GPUs / GPUs per server) = ceil({} / {}) = {}", num(whole), num(per), num(servers_v)),
    )?;
    let servers_rep_v = report_round(servers_v);
    let servers_reported = q("servers_reported", servers_rep_v, Unit::Servers, reported(servers_v))?;
    let sp = h.server.price_usd;
    let server_cost = q(
        "server_cost",
        servers_v * sp,
        Unit::Usd,
        format!("servers × price = {} × {} = {}", num(servers_v), usd(sp), usd(servers_v * sp)),
    )?;
    let server_cost_reported = q(
        "server_cost_reported",
        servers_rep_v * sp,
        Unit::Usd,
        format!("reported servers × price = {} × {} = {}", num(servers_rep_v), usd(sp), usd(servers_rep_v * sp)),
    )?;
    Ok(Deployment {
        gpus_exact,
        gpus,
        gpus_reported,
        gpu_cost,
        servers,
        servers_reported,
        server_cost,
        server_cost_reported,
    })
}
