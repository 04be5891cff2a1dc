//! The compute pipelines (one per WGSL file) and [`Plan`]: a list of dispatches with their
//! uniforms and bind groups built once, encoded into a compute pass as often as needed.
//!
//! Every op takes its buffers as [`View`]s (a buffer and an element offset), so one parameter
//! buffer in llm.c order and one buffer per activation kind serve every layer: the offsets go in
//! the uniforms, no sub-range bindings (and their 256-byte alignment rules) are needed.

use wasm_bindgen::JsCast;
use web_sys::{
    GpuAutoLayoutMode, GpuBindGroup, GpuBindGroupDescriptor, GpuBindGroupEntry, GpuBuffer, GpuBufferBinding,
    GpuCompilationMessage, GpuComputePassEncoder, GpuComputePipeline, GpuComputePipelineDescriptor, GpuDevice,
    GpuProgrammableStage, GpuShaderModuleDescriptor,
};

use super::context::{GpuContext, Transient};
use super::{js_message, GpuError, GpuResult};
use crate::error::Error;

/// A shader of one workgroup per row with `shaders/reduce.wgsl` (workgroup_sum, workgroup_max)
/// prepended: WGSL has no include. Compiler messages' line numbers count the prelude's lines too.
macro_rules! with_reductions {
    ($path:literal) => {
        concat!(include_str!("shaders/reduce.wgsl"), include_str!($path))
    };
}

const MATMUL_WGSL: &str = include_str!("shaders/matmul.wgsl");
const MATMUL_DBIAS_WGSL: &str = include_str!("shaders/matmul_dbias.wgsl");
const LAYERNORM_WGSL: &str = with_reductions!("shaders/layernorm.wgsl");
const GELU_WGSL: &str = include_str!("shaders/gelu.wgsl");
const RESIDUAL_WGSL: &str = include_str!("shaders/residual.wgsl");
const ENCODER_WGSL: &str = include_str!("shaders/encoder.wgsl");
const ATTENTION_WGSL: &str = with_reductions!("shaders/attention.wgsl");
const CROSSENTROPY_WGSL: &str = with_reductions!("shaders/crossentropy.wgsl");
const LAYERNORM_BACKWARD_WGSL: &str = with_reductions!("shaders/layernorm_backward.wgsl");
const LAYERNORM_BACKWARD_PARAMS_WGSL: &str = include_str!("shaders/layernorm_backward_params.wgsl");
const GELU_BACKWARD_WGSL: &str = include_str!("shaders/gelu_backward.wgsl");
const ATTENTION_BACKWARD_QUERY_WGSL: &str = with_reductions!("shaders/attention_backward_query.wgsl");
const ATTENTION_BACKWARD_KEY_WGSL: &str = include_str!("shaders/attention_backward_key.wgsl");
const ENCODER_BACKWARD_WGSL: &str = include_str!("shaders/encoder_backward.wgsl");
const GRADNORM_WGSL: &str = include_str!("shaders/gradnorm.wgsl");
const ADAMW_WGSL: &str = include_str!("shaders/adamw.wgsl");

/// Output tile edge of `matmul.wgsl`.
const MATMUL_TILE: usize = 64;
/// Workgroup size of the elementwise shaders (encoder, residual, gelu).
const ELEMENTWISE_WG: usize = 256;
/// Workgroups of gradnorm.wgsl's first stage (its `PARTS`).
pub(crate) const GRADNORM_PARTS: usize = 64;
/// WebGPU's guaranteed `maxComputeWorkgroupsPerDimension`.
const MAX_WORKGROUPS: usize = 65535;
/// `minUniformBufferOffsetAlignment`'s guaranteed value: each dispatch's uniforms get a slot this big.
const UNIFORM_SLOT: usize = 256;

/// One compiled pipeline per kernel.
pub(crate) struct Pipelines {
    matmul: GpuComputePipeline,
    matmul_dbias: GpuComputePipeline,
    layernorm: GpuComputePipeline,
    gelu: GpuComputePipeline,
    residual: GpuComputePipeline,
    encoder: GpuComputePipeline,
    attention: GpuComputePipeline,
    crossentropy: GpuComputePipeline,
    layernorm_backward: GpuComputePipeline,
    layernorm_backward_params: GpuComputePipeline,
    gelu_backward: GpuComputePipeline,
    attention_backward_query: GpuComputePipeline,
    attention_backward_key: GpuComputePipeline,
    encoder_backward: GpuComputePipeline,
    gradnorm: GpuComputePipeline,
    adamw: GpuComputePipeline,
}

/// Compiles one WGSL file; on failure the error carries the compiler's messages with line numbers.
async fn compile(device: &GpuDevice, name: &str, code: &str) -> GpuResult<GpuComputePipeline> {
    let descriptor = GpuShaderModuleDescriptor::new(code);
    descriptor.set_label(name);
    let module = device.create_shader_module(&descriptor);
    let stage = GpuProgrammableStage::new(&module);
    stage.set_entry_point("main");
    let pipeline = GpuComputePipelineDescriptor::new_with_gpu_auto_layout_mode(GpuAutoLayoutMode::Auto, &stage);
    pipeline.set_label(name);
    match device.create_compute_pipeline_async(&pipeline).await {
        Ok(p) => Ok(p),
        Err(e) => {
            let mut message = format!("pipeline {name}: {}", js_message(&e));
            if let Ok(info) = module.get_compilation_info().await {
                for m in info.messages().iter() {
                    let m: GpuCompilationMessage = m.unchecked_into();
                    // Integers, not f64s: formatting floats would pull float printing into the wasm.
                    let (line, col) = (m.line_num() as u64, m.line_pos() as u64);
                    message.push_str(&format!("\n  {name}:{line}:{col}: {}", m.message()));
                }
            }
            Err(GpuError::Gpu(message))
        }
    }
}

impl Pipelines {
    pub(crate) async fn new(device: &GpuDevice) -> GpuResult<Pipelines> {
        Ok(Pipelines {
            matmul: compile(device, "matmul.wgsl", MATMUL_WGSL).await?,
            matmul_dbias: compile(device, "matmul_dbias.wgsl", MATMUL_DBIAS_WGSL).await?,
            layernorm: compile(device, "layernorm.wgsl", LAYERNORM_WGSL).await?,
            gelu: compile(device, "gelu.wgsl", GELU_WGSL).await?,
            residual: compile(device, "residual.wgsl", RESIDUAL_WGSL).await?,
            encoder: compile(device, "encoder.wgsl", ENCODER_WGSL).await?,
            attention: compile(device, "attention.wgsl", ATTENTION_WGSL).await?,
            crossentropy: compile(device, "crossentropy.wgsl", CROSSENTROPY_WGSL).await?,
            layernorm_backward: compile(device, "layernorm_backward.wgsl", LAYERNORM_BACKWARD_WGSL).await?,
            layernorm_backward_params: compile(device, "layernorm_backward_params.wgsl", LAYERNORM_BACKWARD_PARAMS_WGSL)
                .await?,
            gelu_backward: compile(device, "gelu_backward.wgsl", GELU_BACKWARD_WGSL).await?,
            attention_backward_query: compile(device, "attention_backward_query.wgsl", ATTENTION_BACKWARD_QUERY_WGSL)
                .await?,
            attention_backward_key: compile(device, "attention_backward_key.wgsl", ATTENTION_BACKWARD_KEY_WGSL).await?,
            encoder_backward: compile(device, "encoder_backward.wgsl", ENCODER_BACKWARD_WGSL).await?,
            gradnorm: compile(device, "gradnorm.wgsl", GRADNORM_WGSL).await?,
            adamw: compile(device, "adamw.wgsl", ADAMW_WGSL).await?,
        })
    }
}

/// A buffer and an element offset into it: where an operand starts.
#[derive(Clone)]
pub(crate) struct View<'a> {
    pub buffer: &'a GpuBuffer,
    pub off: usize,
}

/// `buffer` from element `off`.
pub(crate) fn at(buffer: &GpuBuffer, off: usize) -> View<'_> {
    View { buffer, off }
}

/// How the reduction operand of a matmul sits in memory (see `matmul.wgsl`).
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Layout {
    /// Contiguous along the reduction axis: A(i, p) = a[i * stride + p], B(p, j) = b[j * stride + p].
    ReductionContiguous,
    /// Contiguous along the output axis: A(i, p) = a[p * stride + i], B(p, j) = b[p * stride + j].
    OutputContiguous,
}

/// One operand of [`Plan::matmul`].
pub(crate) struct Operand<'a> {
    pub view: View<'a>,
    pub stride: usize,
    pub layout: Layout,
}

struct Step {
    pipeline: GpuComputePipeline,
    bind_group: GpuBindGroup,
    workgroups: (u32, u32),
}

struct PendingStep<'a> {
    pipeline: GpuComputePipeline,
    slot: usize,
    buffers: Vec<&'a GpuBuffer>, // bindings 1, 2, ...
    workgroups: (u32, u32),
}

/// Dispatches recorded once (uniforms written, bind groups created) and encoded into a compute
/// pass by [`Plan::encode`] as often as needed. Each dispatch is its own usage scope in WebGPU, so
/// one pass carries a whole forward with the writes of each dispatch visible to the next.
pub(crate) struct Plan {
    steps: Vec<Step>,
    /// Freed with the plan (work already submitted still completes): a one-call plan, such as
    /// `GpuMatmul`'s, leaves nothing for the garbage collector.
    _uniforms: Transient,
}

impl Plan {
    /// Sets pipelines and bind groups and dispatches every step, in order.
    pub(crate) fn encode(&self, pass: &GpuComputePassEncoder) {
        for step in &self.steps {
            pass.set_pipeline(&step.pipeline);
            pass.set_bind_group(0, Some(&step.bind_group));
            pass.dispatch_workgroups_with_workgroup_count_y(step.workgroups.0, step.workgroups.1);
        }
    }
}

/// Records the steps of a [`Plan`].
pub(crate) struct PlanBuilder<'a> {
    ctx: &'a GpuContext,
    uniforms: Vec<u8>,
    steps: Vec<PendingStep<'a>>,
}

/// The 2D grid that covers `n` workgroups within the per-dimension limit.
fn grid(n: usize) -> GpuResult<(u32, u32)> {
    let n = n.max(1);
    let x = n.min(MAX_WORKGROUPS);
    let y = n.div_ceil(x);
    if y > MAX_WORKGROUPS {
        return Err(Error::Shape(format!("{n} workgroups is more than one dispatch can hold")).into());
    }
    Ok((x as u32, y as u32))
}

/// A u32 for a uniform, or a shape error naming the value.
fn u32_of(name: &str, v: usize) -> GpuResult<u32> {
    u32::try_from(v).map_err(|_| Error::Shape(format!("{name} = {v} does not fit the shaders' 32-bit indices")).into())
}

impl<'a> PlanBuilder<'a> {
    pub(crate) fn new(ctx: &'a GpuContext) -> Self {
        PlanBuilder { ctx, uniforms: Vec::new(), steps: Vec::new() }
    }

    fn push(
        &mut self,
        pipeline: &GpuComputePipeline,
        uniforms: &[(&str, usize)],
        buffers: Vec<&'a GpuBuffer>,
        workgroups: (u32, u32),
    ) -> GpuResult<()> {
        let slot = self.uniforms.len();
        for &(name, v) in uniforms {
            self.uniforms.extend_from_slice(&u32_of(name, v)?.to_le_bytes());
        }
        self.uniforms.resize(slot + UNIFORM_SLOT, 0);
        self.steps.push(PendingStep { pipeline: pipeline.clone(), slot, buffers, workgroups });
        Ok(())
    }

    /// `out (M, N) = A (M, P) · B (P, N) + bias (N)`, or `out += A · B` when `accumulate`
    /// (see `matmul.wgsl` for how the three products of a linear layer map onto it).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn matmul(
        &mut self,
        out: View<'a>,
        a: Operand<'a>,
        b: Operand<'a>,
        bias: Option<View<'a>>,
        accumulate: bool,
        m: usize,
        n: usize,
        p: usize,
    ) -> GpuResult<()> {
        let (gx, gy) = (n.div_ceil(MATMUL_TILE), m.div_ceil(MATMUL_TILE));
        if gx > MAX_WORKGROUPS || gy > MAX_WORKGROUPS {
            return Err(Error::Shape(format!(
                "matmul ({m}, {p}) x ({p}, {n}) needs more than {MAX_WORKGROUPS} tiles on one side"
            ))
            .into());
        }
        let vec4 = |op: &Operand| usize::from(op.view.off % 4 == 0 && op.stride % 4 == 0);
        let trans = |op: &Operand| usize::from(op.layout == Layout::OutputContiguous);
        // An absent bias binds B's buffer again (read-only twice is allowed) and is never read.
        let bias_view = bias.clone().unwrap_or(View { buffer: b.view.buffer, off: 0 });
        self.push(
            &self.ctx.pipelines.matmul.clone(),
            &[
                ("m", m),
                ("n", n),
                ("p", p),
                ("a_off", a.view.off),
                ("a_stride", a.stride),
                ("a_trans", trans(&a)),
                ("b_off", b.view.off),
                ("b_stride", b.stride),
                ("b_trans", trans(&b)),
                ("bias_off", bias_view.off),
                ("has_bias", usize::from(bias.is_some())),
                ("accumulate", usize::from(accumulate)),
                ("out_off", out.off),
                ("out_stride", n),
                ("a_vec4", vec4(&a)),
                ("b_vec4", vec4(&b)),
            ],
            vec![a.view.buffer, b.view.buffer, bias_view.buffer, out.buffer],
            (gx.max(1) as u32, gy.max(1) as u32),
        )
    }

    /// The forward product of a linear layer: `out (M, N) = inp (M, K) · weight (N, K)ᵀ + bias (N)`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn linear_forward(
        &mut self,
        out: View<'a>,
        inp: View<'a>,
        weight: View<'a>,
        bias: Option<View<'a>>,
        m: usize,
        k: usize,
        n: usize,
    ) -> GpuResult<()> {
        let a = Operand { view: inp, stride: k, layout: Layout::ReductionContiguous };
        let b = Operand { view: weight, stride: k, layout: Layout::ReductionContiguous };
        self.matmul(out, a, b, bias, false, m, n, k)
    }

    /// `dinp (M, K) += dout (M, N) · weight (N, K)`.
    pub(crate) fn linear_backward_dinp(
        &mut self,
        dinp: View<'a>,
        dout: View<'a>,
        weight: View<'a>,
        m: usize,
        k: usize,
        n: usize,
    ) -> GpuResult<()> {
        self.linear_backward_dinp_into(dinp, dout, weight, true, m, k, n)
    }

    /// `dinp (M, K) (+)= dout (M, N) · weight (N, K)`: added into dinp when `accumulate`, else
    /// written over it (a training step's activation gradients are written once, with no clear).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn linear_backward_dinp_into(
        &mut self,
        dinp: View<'a>,
        dout: View<'a>,
        weight: View<'a>,
        accumulate: bool,
        m: usize,
        k: usize,
        n: usize,
    ) -> GpuResult<()> {
        let a = Operand { view: dout, stride: n, layout: Layout::ReductionContiguous };
        let b = Operand { view: weight, stride: k, layout: Layout::OutputContiguous };
        self.matmul(dinp, a, b, None, accumulate, m, k, n)
    }

    /// `dweight (N, K) += dout (M, N)ᵀ · inp (M, K)`.
    pub(crate) fn linear_backward_dweight(
        &mut self,
        dweight: View<'a>,
        dout: View<'a>,
        inp: View<'a>,
        m: usize,
        k: usize,
        n: usize,
    ) -> GpuResult<()> {
        let a = Operand { view: dout, stride: n, layout: Layout::OutputContiguous };
        let b = Operand { view: inp, stride: k, layout: Layout::OutputContiguous };
        self.matmul(dweight, a, b, None, true, n, k, m)
    }

    /// `dbias (N) += Σ_m dout (M, N)`.
    pub(crate) fn linear_backward_dbias(
        &mut self,
        dbias: View<'a>,
        dout: View<'a>,
        m: usize,
        n: usize,
    ) -> GpuResult<()> {
        let groups = n.div_ceil(64);
        if groups > MAX_WORKGROUPS {
            return Err(
                Error::Shape(format!("dbias of {n} columns needs more than {MAX_WORKGROUPS} workgroups")).into()
            );
        }
        self.push(
            &self.ctx.pipelines.matmul_dbias.clone(),
            &[("m", m), ("n", n), ("dout_off", dout.off), ("dbias_off", dbias.off)],
            vec![dout.buffer, dbias.buffer],
            (groups as u32, 1),
        )
    }

    /// `out (R, C) = layernorm(inp (R, C)) · weight + bias`, with mean (R) and rstd (R) at `stats_off`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn layernorm(
        &mut self,
        out: View<'a>,
        inp: View<'a>,
        weight: View<'a>,
        bias_off: usize,
        mean: &'a GpuBuffer,
        rstd: &'a GpuBuffer,
        stats_off: usize,
        rows: usize,
        c: usize,
    ) -> GpuResult<()> {
        self.push(
            &self.ctx.pipelines.layernorm.clone(),
            &[
                ("rows", rows),
                ("c", c),
                ("inp_off", inp.off),
                ("out_off", out.off),
                ("w_off", weight.off),
                ("b_off", bias_off),
                ("stat_off", stats_off),
            ],
            vec![inp.buffer, weight.buffer, out.buffer, mean, rstd],
            grid(rows)?,
        )
    }

    /// `out (N) = GELU(x (N))`.
    pub(crate) fn gelu(&mut self, out: View<'a>, x: View<'a>, n: usize) -> GpuResult<()> {
        self.push(
            &self.ctx.pipelines.gelu.clone(),
            &[("n", n), ("x_off", x.off), ("out_off", out.off)],
            vec![x.buffer, out.buffer],
            grid(n.div_ceil(ELEMENTWISE_WG))?,
        )
    }

    /// `out (N) = x (N) + y (N)`.
    pub(crate) fn residual(&mut self, out: View<'a>, x: View<'a>, y: View<'a>, n: usize) -> GpuResult<()> {
        self.push(
            &self.ctx.pipelines.residual.clone(),
            &[("n", n), ("x_off", x.off), ("y_off", y.off), ("out_off", out.off)],
            vec![x.buffer, y.buffer, out.buffer],
            grid(n.div_ceil(ELEMENTWISE_WG))?,
        )
    }

    /// `out (B, T, C) = wte[tokens] + wpe[t]`, with wte and wpe in `params` at the given offsets.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn encoder(
        &mut self,
        out: View<'a>,
        tokens: &'a GpuBuffer,
        params: &'a GpuBuffer,
        wte_off: usize,
        wpe_off: usize,
        b: usize,
        t: usize,
        c: usize,
    ) -> GpuResult<()> {
        let n = b * t * c;
        self.push(
            &self.ctx.pipelines.encoder.clone(),
            &[("n", n), ("c", c), ("t", t), ("wte_off", wte_off), ("wpe_off", wpe_off), ("out_off", out.off)],
            vec![tokens, params, out.buffer],
            grid(n.div_ceil(ELEMENTWISE_WG))?,
        )
    }

    /// Causal attention: `att (B, NH, T, T)` probabilities and `out (B, T, C)` from `qkv (B, T, 3C)`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn attention(
        &mut self,
        out: View<'a>,
        att: View<'a>,
        qkv: View<'a>,
        b: usize,
        t: usize,
        c: usize,
        nh: usize,
    ) -> GpuResult<()> {
        self.push(
            &self.ctx.pipelines.attention.clone(),
            &[
                ("b", b),
                ("t", t),
                ("c", c),
                ("nh", nh),
                ("qkv_off", qkv.off),
                ("att_off", att.off),
                ("out_off", out.off),
            ],
            vec![qkv.buffer, att.buffer, out.buffer],
            grid(b * nh * t)?,
        )
    }

    /// Softmax + mean cross-entropy over `logits (R, V)`: `losses (R)`, and the logits overwritten
    /// by their gradient `(softmax - onehot(targets)) / R`.
    pub(crate) fn crossentropy(
        &mut self,
        logits: View<'a>,
        targets: &'a GpuBuffer,
        losses: &'a GpuBuffer,
        rows: usize,
        v: usize,
    ) -> GpuResult<()> {
        self.push(
            &self.ctx.pipelines.crossentropy.clone(),
            &[("rows", rows), ("v", v), ("logits_off", logits.off)],
            vec![targets, logits.buffer, losses],
            grid(rows)?,
        )
    }

    /// LayerNorm backward: `dinp (R, C) (+)= ...` (overwritten unless `accumulate`), and
    /// `dweight`, `dbias` (C each, at `dw_off`, `db_off` in `grads`) `+=` their sums over rows.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn layernorm_backward(
        &mut self,
        dinp: View<'a>,
        accumulate: bool,
        grads: &'a GpuBuffer,
        dw_off: usize,
        db_off: usize,
        dout: View<'a>,
        inp: View<'a>,
        weight: View<'a>,
        mean: &'a GpuBuffer,
        rstd: &'a GpuBuffer,
        stats_off: usize,
        rows: usize,
        c: usize,
    ) -> GpuResult<()> {
        self.push(
            &self.ctx.pipelines.layernorm_backward.clone(),
            &[
                ("rows", rows),
                ("c", c),
                ("dout_off", dout.off),
                ("inp_off", inp.off),
                ("dinp_off", dinp.off),
                ("w_off", weight.off),
                ("stat_off", stats_off),
                ("accumulate", usize::from(accumulate)),
            ],
            vec![dout.buffer, inp.buffer, weight.buffer, mean, rstd, dinp.buffer],
            grid(rows)?,
        )?;
        self.push(
            &self.ctx.pipelines.layernorm_backward_params.clone(),
            &[
                ("rows", rows),
                ("c", c),
                ("dout_off", dout.off),
                ("inp_off", inp.off),
                ("dw_off", dw_off),
                ("db_off", db_off),
                ("stat_off", stats_off),
            ],
            vec![dout.buffer, inp.buffer, mean, rstd, grads],
            grid(c.div_ceil(64))?,
        )
    }

    /// GELU backward in place: `d (N) *= gelu'(x (N))`.
    pub(crate) fn gelu_backward(&mut self, d: View<'a>, x: View<'a>, n: usize) -> GpuResult<()> {
        self.push(
            &self.ctx.pipelines.gelu_backward.clone(),
            &[("n", n), ("x_off", x.off), ("d_off", d.off)],
            vec![x.buffer, d.buffer],
            grid(n.div_ceil(ELEMENTWISE_WG))?,
        )
    }

    /// Attention backward: `dqkv (B, T, 3C)` written from `dout (B, T, C)`, the forward's `qkv`
    /// and `att`, with `dpre` (B, NH, T, T) as scratch: by query rows, then by key rows.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn attention_backward(
        &mut self,
        dqkv: View<'a>,
        dpre: &'a GpuBuffer,
        dout: View<'a>,
        qkv: View<'a>,
        att: View<'a>,
        b: usize,
        t: usize,
        c: usize,
        nh: usize,
    ) -> GpuResult<()> {
        let uniforms = [
            ("b", b),
            ("t", t),
            ("c", c),
            ("nh", nh),
            ("qkv_off", qkv.off),
            ("att_off", att.off),
            ("dout_off", dout.off),
            ("dqkv_off", dqkv.off),
        ];
        let buffers = vec![qkv.buffer, att.buffer, dout.buffer, dpre, dqkv.buffer];
        self.push(&self.ctx.pipelines.attention_backward_query.clone(), &uniforms, buffers.clone(), grid(b * nh * t)?)?;
        self.push(&self.ctx.pipelines.attention_backward_key.clone(), &uniforms, buffers, grid(b * nh * t)?)
    }

    /// Embedding backward: `dwte += ` the rows of `dout (B, T, C)` by token, and (when `wpe_off`
    /// is given, learned positions) `dwpe += ` their sums over the batch; both in `grads`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn encoder_backward(
        &mut self,
        grads: &'a GpuBuffer,
        wte_off: usize,
        wpe_off: Option<usize>,
        dout: View<'a>,
        tokens: &'a GpuBuffer,
        b: usize,
        t: usize,
        c: usize,
        v: usize,
    ) -> GpuResult<()> {
        let n = v * c + t * c;
        self.push(
            &self.ctx.pipelines.encoder_backward.clone(),
            &[
                ("v", v),
                ("c", c),
                ("t", t),
                ("b", b),
                ("dout_off", dout.off),
                ("wte_off", wte_off),
                ("wpe_off", wpe_off.unwrap_or(0)),
                ("has_wpe", usize::from(wpe_off.is_some())),
            ],
            vec![tokens, dout.buffer, grads],
            grid(n.div_ceil(ELEMENTWISE_WG))?,
        )
    }

    /// The gradients' global norm and clipping factor into `out` (2): two dispatches through
    /// `partial` ([`GRADNORM_PARTS`] floats); the largest norm is `hyper[7]`.
    pub(crate) fn gradnorm(
        &mut self,
        out: &'a GpuBuffer,
        partial: &'a GpuBuffer,
        grads: &'a GpuBuffer,
        hyper: &'a GpuBuffer,
        n: usize,
    ) -> GpuResult<()> {
        let pipeline = self.ctx.pipelines.gradnorm.clone();
        self.push(&pipeline, &[("n", n), ("stage", 0)], vec![grads, partial, out, hyper], (GRADNORM_PARTS as u32, 1))?;
        self.push(&pipeline, &[("n", n), ("stage", 1)], vec![grads, partial, out, hyper], (1, 1))
    }

    /// AdamW on `n` parameters from element `off` (weight decay when `decay`), reading the
    /// step's hyperparameters from `hyper` (8) and the clipping factor from `norm` (2).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn adamw(
        &mut self,
        params: &'a GpuBuffer,
        grads: &'a GpuBuffer,
        m: &'a GpuBuffer,
        v: &'a GpuBuffer,
        hyper: &'a GpuBuffer,
        norm: &'a GpuBuffer,
        off: usize,
        n: usize,
        decay: bool,
    ) -> GpuResult<()> {
        self.push(
            &self.ctx.pipelines.adamw.clone(),
            &[("n", n), ("off", off), ("decay", usize::from(decay))],
            vec![params, grads, m, v, hyper, norm],
            grid(n.div_ceil(ELEMENTWISE_WG))?,
        )
    }

    /// Writes the uniforms into one buffer and creates every bind group.
    pub(crate) fn finish(self, label: &str) -> GpuResult<Plan> {
        let uniforms = self.ctx.uniform_buffer(label, self.uniforms.len())?;
        self.ctx.write_bytes(&uniforms, 0, &self.uniforms)?;
        let mut steps = Vec::with_capacity(self.steps.len());
        for pending in self.steps {
            let slot = GpuBufferBinding::new(&uniforms);
            slot.set_offset_f64(pending.slot as f64);
            slot.set_size(UNIFORM_SLOT as u32);
            let mut entries = vec![GpuBindGroupEntry::new_with_gpu_buffer_binding(0, &slot)];
            for (i, buffer) in pending.buffers.iter().enumerate() {
                entries
                    .push(GpuBindGroupEntry::new_with_gpu_buffer_binding(i as u32 + 1, &GpuBufferBinding::new(buffer)));
            }
            let layout = pending.pipeline.get_bind_group_layout(0);
            let bind_group = self.ctx.device.create_bind_group(&GpuBindGroupDescriptor::new(&entries, &layout));
            steps.push(Step { pipeline: pending.pipeline, bind_group, workgroups: pending.workgroups });
        }
        Ok(Plan { steps, _uniforms: Transient(uniforms) })
    }
}
