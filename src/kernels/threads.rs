//! The threaded backend (feature `threads`): the single-thread SIMD kernels of
//! [`super::simd`] split across rayon's pool. Natively that is an ordinary thread pool; in the
//! threaded wasm build it is wasm-bindgen-rayon's pool of Web Workers.
//!
//! Every split is over rows of the output, so no two workers ever write the same float and
//! no reduction is needed:
//! - forward `out (M, N)` and `dinp (M, K)`: blocks of M;
//! - `dweight (N, K)`: blocks of N (its rows), each worker reading all of `dout` and `inp`;
//! - forward with M ≤ [`GEMV_MAX_M`] (generation): blocks of columns of each output row.
//!
//! Each worker packs its own panels (thread-local buffers), which duplicates the packing of
//! B: O(k·n) per worker against O(m·n·k / workers) of arithmetic.

use rayon::prelude::*;

use super::gemm::{self, MatRef, GEMV_MAX_M};
use super::micro::{self, MicroKernel};
use super::scalar::assert_shapes;
use super::simd::{self, assert_backward_shapes};
use super::Kernels;

/// Products smaller than this many multiply-adds run on the calling thread: below it the
/// pool's wake-up (a few µs) costs more than the second core gives.
const PAR_MIN_MACS: usize = 1 << 16;

/// The threaded backend. Uses whatever pool rayon's global registry has; `best()` only picks it
/// when that pool has more than one thread.
#[derive(Debug, Default, Clone, Copy)]
pub struct Threads;

impl Threads {
    /// Threads in the pool the work is split across.
    pub fn n_threads(&self) -> usize {
        rayon::current_num_threads()
    }
}

/// Rows per block when splitting `rows` output rows across `threads`: equal blocks, one per
/// thread, rounded up to whole micro-tiles so only the last block has a ragged edge.
fn rows_per_block(rows: usize, mr: usize, threads: usize) -> usize {
    rows.div_ceil(threads).div_ceil(mr).max(1) * mr
}

/// Runs `f(r0, block)` over blocks of whole rows of `c (rows, ldc)` in parallel.
fn par_rows(c: &mut [f32], ldc: usize, rows: usize, mr: usize, f: impl Fn(usize, &mut [f32]) + Sync + Send) {
    let per = rows_per_block(rows, mr, rayon::current_num_threads());
    c[..rows * ldc].par_chunks_mut(per * ldc).enumerate().for_each(|(b, block)| f(b * per, block));
}

impl Kernels for Threads {
    fn name(&self) -> &'static str {
        "threads"
    }

    fn matmul_forward(&self, out: &mut [f32], inp: &[f32], weight: &[f32], bias: Option<&[f32]>, m: usize, k: usize, n: usize) {
        assert_shapes("matmul_forward", out.len(), inp.len(), weight.len(), bias.map(<[f32]>::len), m, k, n);
        let uk = micro::select();
        let threads = rayon::current_num_threads();
        if threads == 1 || m * n * k < PAR_MIN_MACS || n == 0 {
            return simd::forward(uk, out, inp, weight, bias, m, k, n);
        }
        if m <= GEMV_MAX_M {
            // One row at a time, its columns split: each worker streams its own rows of W.
            let per = n.div_ceil(threads).div_ceil(4) * 4;
            for (x, row) in inp.chunks_exact(k.max(1)).zip(out.chunks_exact_mut(n)) {
                row.par_chunks_mut(per).enumerate().for_each(|(b, cols)| gemm::gemv_cols(uk, cols, x, weight, bias, b * per, k));
            }
            return;
        }
        gemm::init_rows(out, bias, n);
        par_rows(out, n, m, uk.mr, |r0, block| {
            let rows = block.len() / n;
            gemm::gemm(uk, rows, n, k, MatRef::rows(&inp[r0 * k..], k), MatRef::transposed(weight, k), block, n);
        });
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
        let uk: &MicroKernel = micro::select();
        if rayon::current_num_threads() == 1 || m * n * k < PAR_MIN_MACS || k == 0 {
            simd::backward_dinp(uk, dinp, dout, weight, m, k, n);
            simd::backward_dweight(uk, dweight, dout, inp, m, k, n);
        } else {
            // dinp (M, K) += dout (M, N) · W (N, K): blocks of M.
            par_rows(dinp, k, m, uk.mr, |r0, block| {
                let rows = block.len() / k;
                gemm::gemm(uk, rows, k, n, MatRef::rows(&dout[r0 * n..], n), MatRef::rows(weight, k), block, k);
            });
            // dweight (N, K) += dout (M, N)ᵀ · inp (M, K): blocks of N.
            par_rows(dweight, k, n, uk.mr, |j0, block| {
                let rows = block.len() / k;
                simd::backward_dweight_rows(uk, block, dout, inp, j0, rows, m, k, n);
            });
        }
        if let Some(db) = dbias {
            gemm::add_bias_grad(db, dout, n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks cover every row exactly once, in whole micro-tiles except the last.
    #[test]
    fn row_blocks_cover_all_rows() {
        for (rows, mr, threads) in [(1, 6, 2), (7, 6, 2), (12, 6, 2), (13, 8, 3), (2048, 6, 2), (65, 8, 4)] {
            let per = rows_per_block(rows, mr, threads);
            assert_eq!(per % mr, 0);
            let blocks = rows.div_ceil(per);
            assert!(blocks <= threads, "{rows} rows, mr {mr}: {blocks} blocks for {threads} threads");
            assert!(per * blocks >= rows && per * (blocks - 1) < rows);
        }
    }
}
