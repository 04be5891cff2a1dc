//! One linear layer's products on the GPU, uploading the operands and reading the result back on
//! every call. This is the entry point for tests, the bench page and spot checks from JS; the
//! model ([`super::GpuGpt`]) keeps its buffers on the GPU and never pays these copies.

use std::rc::Rc;

use super::context::{GpuContext, Transient};
use super::pipelines::{at, PlanBuilder};
use super::GpuResult;
use crate::error::Error;

/// The matmuls of a linear layer in nanoGPT layout (`y = x · Wᵀ + b`, x (M, K), W (N, K)) on a
/// [`GpuContext`], with the same contract as [`crate::kernels::Kernels`].
pub struct GpuMatmul {
    ctx: Rc<GpuContext>,
}

fn check_dims(m: usize, k: usize, n: usize) -> Result<(), Error> {
    for (field, v) in [("m", m), ("k", k), ("n", n)] {
        if v == 0 {
            return Err(Error::invalid(field, "must be at least 1"));
        }
    }
    // Every size below (elements and bytes of each operand, and the three gradients back to
    // back) must fit a usize, which is 32 bits on wasm32.
    let bytes = |a: usize, b: usize| a.checked_mul(b).and_then(|e| e.checked_mul(4));
    let fits = bytes(m, k).is_some()
        && bytes(n, k).is_some()
        && bytes(m, n).is_some()
        && (m * k).checked_add(n * k).and_then(|s| s.checked_add(n)).and_then(|s| s.checked_mul(4)).is_some();
    if !fits {
        return Err(Error::Shape(format!("matmul ({m}, {k}) x ({n}, {k})ᵀ is too large to index on this platform")));
    }
    Ok(())
}

fn check_len(op: &str, name: &str, len: usize, expected: usize, shape: &str) -> Result<(), Error> {
    if len != expected {
        return Err(Error::Shape(format!("{op}: {name} has {len} elements, expected {shape} = {expected}")));
    }
    Ok(())
}

impl GpuMatmul {
    /// Matmuls on `ctx`'s device.
    pub fn new(ctx: Rc<GpuContext>) -> Self {
        GpuMatmul { ctx }
    }

    /// The context this runs on.
    pub fn context(&self) -> &Rc<GpuContext> {
        &self.ctx
    }

    /// `out (M, N) = inp (M, K) · weight (N, K)ᵀ + bias (N)`.
    pub async fn forward(
        &self,
        inp: &[f32],
        weight: &[f32],
        bias: Option<&[f32]>,
        m: usize,
        k: usize,
        n: usize,
    ) -> GpuResult<Vec<f32>> {
        check_dims(m, k, n)?;
        check_len("matmul_forward", "inp", inp.len(), m * k, "M*K")?;
        check_len("matmul_forward", "weight", weight.len(), n * k, "N*K")?;
        if let Some(bias) = bias {
            check_len("matmul_forward", "bias", bias.len(), n, "N")?;
        }
        let ctx = &*self.ctx;
        // Every buffer here is destroyed when this returns, however it returns.
        let inp_buf = Transient(ctx.storage_buffer("inp", m * k)?); // (M, K)
        let weight_buf = Transient(ctx.storage_buffer("weight", n * k)?); // (N, K)
        let bias_buf = Transient(ctx.storage_buffer("bias", n)?); // (N)
        let out_buf = Transient(ctx.storage_buffer("out", m * n)?); // (M, N)
        let staging = Transient(ctx.staging_buffer("out staging", m * n * 4)?);
        ctx.write_f32(&inp_buf, 0, inp)?;
        ctx.write_f32(&weight_buf, 0, weight)?;
        if let Some(bias) = bias {
            ctx.write_f32(&bias_buf, 0, bias)?;
        }

        let mut plan = PlanBuilder::new(ctx);
        plan.linear_forward(
            at(&out_buf, 0),
            at(&inp_buf, 0),
            at(&weight_buf, 0),
            bias.map(|_| at(&bias_buf, 0)),
            m,
            k,
            n,
        )?;
        let plan = plan.finish("matmul_forward uniforms")?;

        let encoder = ctx.begin()?;
        let pass = encoder.begin_compute_pass();
        plan.encode(&pass);
        pass.end();
        encoder
            .copy_buffer_to_buffer_with_f64_and_f64_and_f64(&out_buf, 0.0, &staging, 0.0, (m * n * 4) as f64)
            .map_err(|e| super::GpuError::Gpu(format!("copyBufferToBuffer: {}", super::js_message(&e))))?;
        ctx.submit(encoder).await?;
        ctx.map_read(&staging, m * n).await
    }

    /// The backward products, accumulated into the given gradients as llm.c does:
    /// `dinp (M, K) += dout (M, N) · weight (N, K)`, `dweight (N, K) += dout (M, N)ᵀ · inp (M, K)`,
    /// `dbias (N) += Σ_m dout`. Returns the updated `(dinp, dweight, dbias)`.
    #[allow(clippy::too_many_arguments)]
    pub async fn backward(
        &self,
        dinp: &[f32],
        dweight: &[f32],
        dbias: Option<&[f32]>,
        dout: &[f32],
        inp: &[f32],
        weight: &[f32],
        m: usize,
        k: usize,
        n: usize,
    ) -> GpuResult<(Vec<f32>, Vec<f32>, Option<Vec<f32>>)> {
        check_dims(m, k, n)?;
        let op = "matmul_backward";
        check_len(op, "dinp", dinp.len(), m * k, "M*K")?;
        check_len(op, "dweight", dweight.len(), n * k, "N*K")?;
        check_len(op, "dout", dout.len(), m * n, "M*N")?;
        check_len(op, "inp", inp.len(), m * k, "M*K")?;
        check_len(op, "weight", weight.len(), n * k, "N*K")?;
        if let Some(dbias) = dbias {
            check_len(op, "dbias", dbias.len(), n, "N")?;
        }
        let ctx = &*self.ctx;
        let buffers = [
            ("dinp", m * k, dinp),
            ("dweight", n * k, dweight),
            ("dbias", n, dbias.unwrap_or(&[])),
            ("dout", m * n, dout),
            ("inp", m * k, inp),
            ("weight", n * k, weight),
        ];
        // Every buffer here is destroyed when this returns, however it returns.
        let mut gpu = Vec::with_capacity(buffers.len());
        for (label, len, data) in buffers {
            let buffer = Transient(ctx.storage_buffer(label, len)?);
            ctx.write_f32(&buffer, 0, data)?;
            gpu.push(buffer);
        }
        let [dinp_buf, dweight_buf, dbias_buf, dout_buf, inp_buf, weight_buf] = &gpu[..] else {
            unreachable!("six buffers were pushed")
        };
        // One staging buffer holds the three results back to back: dinp, dweight, dbias.
        let total = m * k + n * k + n;
        let staging = Transient(ctx.staging_buffer("backward staging", total * 4)?);

        let mut plan = PlanBuilder::new(ctx);
        plan.linear_backward_dinp(at(dinp_buf, 0), at(dout_buf, 0), at(weight_buf, 0), m, k, n)?;
        plan.linear_backward_dweight(at(dweight_buf, 0), at(dout_buf, 0), at(inp_buf, 0), m, k, n)?;
        if dbias.is_some() {
            plan.linear_backward_dbias(at(dbias_buf, 0), at(dout_buf, 0), m, n)?;
        }
        let plan = plan.finish("matmul_backward uniforms")?;

        let encoder = ctx.begin()?;
        let pass = encoder.begin_compute_pass();
        plan.encode(&pass);
        pass.end();
        let mut offset = 0;
        for (src, len) in [(dinp_buf, m * k), (dweight_buf, n * k), (dbias_buf, n)] {
            encoder
                .copy_buffer_to_buffer_with_f64_and_f64_and_f64(
                    src,
                    0.0,
                    &staging,
                    (offset * 4) as f64,
                    (len * 4) as f64,
                )
                .map_err(|e| super::GpuError::Gpu(format!("copyBufferToBuffer: {}", super::js_message(&e))))?;
            offset += len;
        }
        ctx.submit(encoder).await?;
        let all = ctx.map_read(&staging, total).await?;
        let (new_dinp, rest) = all.split_at(m * k);
        let (new_dweight, new_dbias) = rest.split_at(n * k);
        Ok((new_dinp.to_vec(), new_dweight.to_vec(), dbias.map(|_| new_dbias.to_vec())))
    }
}
