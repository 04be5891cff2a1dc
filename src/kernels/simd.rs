//! The single-thread fast backend: the packed GEMM of `gemm` with the best
//! micro-kernel this machine runs (wasm simd128 in the browser; AVX-512, AVX2+FMA or SSE2 on
//! x86-64, chosen at run time; autovectorised loops elsewhere).

use super::gemm::{self, MatRef, GEMV_MAX_M};
use super::micro::{self, MicroKernel};
use super::scalar::assert_shapes;
use super::Kernels;

/// The single-thread SIMD backend. Named "simd128" in the wasm build (where it is the wasm
/// simd128 kernel) and "simd" natively (where the instruction set is [`Simd::isa`]);
/// [`super::by_name`] accepts either name on both.
#[derive(Debug, Default, Clone, Copy)]
pub struct Simd;

impl Simd {
    /// The instruction set the micro-kernel uses here: "wasm simd128", "x86-64 avx2+fma", ...
    pub fn isa(&self) -> &'static str {
        micro::select().isa
    }
}

impl Kernels for Simd {
    fn name(&self) -> &'static str {
        if cfg!(target_arch = "wasm32") { "simd128" } else { "simd" }
    }

    fn matmul_forward(&self, out: &mut [f32], inp: &[f32], weight: &[f32], bias: Option<&[f32]>, m: usize, k: usize, n: usize) {
        assert_shapes("matmul_forward", out.len(), inp.len(), weight.len(), bias.map(<[f32]>::len), m, k, n);
        forward(micro::select(), out, inp, weight, bias, m, k, n);
    }

    fn matvec(&self, out: &mut [f32], x: &[f32], w: &[f32], packed: &[f32], bias: Option<&[f32]>, j0: usize, k: usize) {
        gemm::matvec_cols(micro::select(), out, x, w, (!packed.is_empty()).then_some(packed), bias, j0, k);
    }

    fn matmul_backward(
        &self,
        dinp: &mut [f32],
        dweight: &mut [f32],
        dbias: Option<&mut [f32]>,
        dout: &[f32],
        inp: &[f32],
        weight: &[f32],
        m: usize,
        k: usize,
        n: usize,
    ) {
        assert_backward_shapes(dinp, dweight, dbias.as_deref(), dout, inp, weight, m, k, n);
        let uk = micro::select();
        backward_dinp(uk, dinp, dout, weight, m, k, n);
        backward_dweight(uk, dweight, dout, inp, m, k, n);
        if let Some(db) = dbias {
            gemm::add_bias_grad(db, dout, n);
        }
    }
}

/// `out (m, n) = inp (m, k) · weight (n, k)ᵀ + bias`: the dot-product path for a few rows
/// (generation), the packed GEMM onto bias-filled rows otherwise.
#[allow(clippy::too_many_arguments)]
pub(crate) fn forward(uk: &MicroKernel, out: &mut [f32], inp: &[f32], weight: &[f32], bias: Option<&[f32]>, m: usize, k: usize, n: usize) {
    if m <= GEMV_MAX_M {
        gemm::gemv(uk, out, inp, weight, bias, m, k, n);
    } else {
        gemm::init_rows(out, bias, n);
        gemm::gemm(uk, m, n, k, MatRef::rows(inp, k), MatRef::transposed(weight, k), out, n);
    }
}

/// `dinp (m, k) += dout (m, n) · weight (n, k)`.
pub(crate) fn backward_dinp(uk: &MicroKernel, dinp: &mut [f32], dout: &[f32], weight: &[f32], m: usize, k: usize, n: usize) {
    gemm::gemm(uk, m, k, n, MatRef::rows(dout, n), MatRef::rows(weight, k), dinp, k);
}

/// `dweight (n, k) += dout (m, n)ᵀ · inp (m, k)`.
pub(crate) fn backward_dweight(uk: &MicroKernel, dweight: &mut [f32], dout: &[f32], inp: &[f32], m: usize, k: usize, n: usize) {
    gemm::gemm(uk, n, k, m, MatRef::transposed(dout, n), MatRef::rows(inp, k), dweight, k);
}

/// The shape checks of [`Kernels::matmul_backward`], shared by the fast backends.
#[allow(clippy::too_many_arguments)]
pub(crate) fn assert_backward_shapes(
    dinp: &[f32],
    dweight: &[f32],
    dbias: Option<&[f32]>,
    dout: &[f32],
    inp: &[f32],
    weight: &[f32],
    m: usize,
    k: usize,
    n: usize,
) {
    assert_shapes("matmul_backward", dout.len(), inp.len(), weight.len(), dbias.map(<[f32]>::len), m, k, n);
    assert_eq!(dinp.len(), m * k, "matmul_backward: dinp has {} elements, expected M*K = {}", dinp.len(), m * k);
    assert_eq!(dweight.len(), n * k, "matmul_backward: dweight has {} elements, expected N*K = {}", dweight.len(), n * k);
}
