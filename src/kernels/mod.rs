//! Matmul kernels: the one place the model's time goes.
//!
//! A linear layer in nanoGPT/llm.c layout is `y = x · Wᵀ + b` with `x` (M, K), `W` (N, K),
//! `b` (N). Every backend implements the forward product and the two backward products of
//! that layer behind the small [`Kernels`] trait, and every backend is checked against
//! [`scalar::Scalar`], the reference that stays forever.

pub mod scalar;

/// The matmuls of a linear layer. Implementations must give [`scalar::Scalar`]'s results to
/// float tolerance on every shape, including 1×1 and shapes that are not multiples of a tile.
pub trait Kernels: Sync {
    /// A short name for the page and the bench: "scalar", "simd128", "threads", ...
    fn name(&self) -> &'static str;

    /// `out (M, N) = inp (M, K) · weight (N, K)ᵀ + bias (N)`. `out` is overwritten.
    #[allow(clippy::too_many_arguments)]
    fn matmul_forward(
        &self,
        out: &mut [f32],
        inp: &[f32],
        weight: &[f32],
        bias: Option<&[f32]>,
        m: usize,
        k: usize,
        n: usize,
    );

    /// The backward products of [`Kernels::matmul_forward`], accumulated (`+=`) into the
    /// gradients as llm.c does, so several uses of one weight add up:
    /// `dinp (M, K) += dout (M, N) · weight (N, K)`,
    /// `dweight (N, K) += dout (M, N)ᵀ · inp (M, K)`,
    /// `dbias (N) += Σ_m dout (M, N)`.
    #[allow(clippy::too_many_arguments)]
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
    );
}
