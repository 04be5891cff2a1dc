//! The threaded backend (feature `threads`): the kernels of [`super::simd`] across rayon's
//! pool. Natively that is an ordinary thread pool; in the threaded wasm build it is
//! wasm-bindgen-rayon's pool of Web Workers.
//!
//! The three products all run the packed GEMM in parallel (`gemm::gemm_par`): the rows of the
//! output are split, so no two workers ever write the same float and no reduction is needed:
//! - forward `out (M, N)` and `dinp (M, K)`: blocks of M;
//! - `dweight (N, K)`: blocks of N (its rows), each worker reading all of `dout` and `inp`;
//! - forward with M ≤ 8 (`GEMV_MAX_M`, generation): blocks of columns of each output row.
//!
//! Each block of the B operand is packed once, by all workers together, and shared; each
//! worker packs its own rows of A.
//!
//! [`Kernels::for_each_task`] runs the model's other parallel work on the same pool: attention
//! one (sequence, head) per task, GELU, LayerNorm and softmax in runs of rows. The model hands a
//! whole forward pass or training step to the pool at once ([`Kernels::install`]), so these
//! sections are forked by a worker, with the other workers already awake and waiting for them.

use super::gemm::{self, MatRef, GEMV_MAX_M};
use super::micro;
use super::scalar::assert_shapes;
use super::simd::{self, assert_backward_shapes};
use super::team::{self, Team};
use super::{par_for, Disjoint, Kernels};

/// Products smaller than this many multiply-adds run on the calling thread: waking the pool
/// costs microseconds, and 64³ (0.26 M multiply-adds, ~5 µs on one core) ran slower split.
const PAR_MIN_MACS: u64 = 1 << 20;

/// The same on a hot team (inside [`Kernels::install`]), whose workers are awake and join a
/// loop in about a microsecond: every product of one generated token but the smallest (the
/// 128 × 65 head) is split, by columns. Natively that took generation from 6,000-6,400 to
/// 7,400-9,500 tokens/s on two threads; in Chromium ~1.3× (5,100-6,500 against 3,800-6,000 tokens/s,
/// alternated loads on a slow phase of the VM).
const TEAM_MIN_MACS: u64 = 1 << 14;

/// Multiply-adds of an (M, K) × (N, K)ᵀ product, in u64 (M·N·K overflows wasm32's usize at 2048³).
fn macs(m: usize, k: usize, n: usize) -> u64 {
    m as u64 * k as u64 * n as u64
}

/// [`gemm::matvec_cols`] with the columns split among `threads` tasks, blocks a multiple of four
/// wide (a column's bits do not depend on the split).
#[allow(clippy::too_many_arguments)]
fn matvec_split(uk: &micro::MicroKernel, out: &mut [f32], x: &[f32], w: &[f32], packed: Option<&[f32]>, bias: Option<&[f32]>, j0: usize, k: usize, threads: usize) {
    let cols = out.len();
    let per = cols.div_ceil(threads).next_multiple_of(4);
    let out = Disjoint::new(out);
    par_for(cols.div_ceil(per), &|b| {
        let c0 = b * per;
        // SAFETY: task b alone writes columns c0 .. c0 + per of out.
        gemm::matvec_cols(uk, unsafe { out.range(c0, per.min(cols - c0)) }, x, w, packed, bias, j0 + c0, k);
    });
}

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

impl Kernels for Threads {
    fn name(&self) -> &'static str {
        "threads"
    }

    fn matmul_forward(&self, out: &mut [f32], inp: &[f32], weight: &[f32], bias: Option<&[f32]>, m: usize, k: usize, n: usize) {
        assert_shapes("matmul_forward", out.len(), inp.len(), weight.len(), bias.map(<[f32]>::len), m, k, n);
        let uk = micro::select();
        // Small products never touch the pool, not even to count it.
        let min = if team::loops_go_to_team() { TEAM_MIN_MACS } else { PAR_MIN_MACS };
        if macs(m, k, n) < min {
            return simd::forward(uk, out, inp, weight, bias, m, k, n);
        }
        let threads = rayon::current_num_threads();
        if threads == 1 {
            return simd::forward(uk, out, inp, weight, bias, m, k, n);
        }
        if m <= GEMV_MAX_M {
            // One row at a time, its columns split: each worker streams its own rows of W.
            // (k > 0 here: the product has at least TEAM_MIN_MACS multiply-adds.)
            for (x, row) in inp.chunks_exact(k).zip(out.chunks_exact_mut(n)) {
                matvec_split(uk, row, x, weight, None, bias, 0, k, threads);
            }
            return;
        }
        gemm::init_rows(out, bias, n);
        gemm::gemm_par(uk, m, n, k, MatRef::rows(inp, k), MatRef::transposed(weight, k), out, n, threads);
    }

    /// The columns split among the pool's workers (blocks a multiple of four wide) when there
    /// are enough multiply-adds for it: [`TEAM_MIN_MACS`] on a hot team, else [`PAR_MIN_MACS`].
    fn matvec(&self, out: &mut [f32], x: &[f32], w: &[f32], packed: &[f32], bias: Option<&[f32]>, j0: usize, k: usize) {
        let (uk, cols, threads) = (micro::select(), out.len(), rayon::current_num_threads());
        let packed = (!packed.is_empty()).then_some(packed);
        let min = if team::loops_go_to_team() { TEAM_MIN_MACS } else { PAR_MIN_MACS };
        if threads == 1 || macs(1, k, cols) < min {
            return gemm::matvec_cols(uk, out, x, w, packed, bias, j0, k);
        }
        matvec_split(uk, out, x, w, packed, bias, j0, k, threads);
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
        let threads = rayon::current_num_threads();
        if threads == 1 || macs(m, k, n) < PAR_MIN_MACS {
            simd::backward_dinp(uk, dinp, dout, weight, m, k, n);
            simd::backward_dweight(uk, dweight, dout, inp, m, k, n);
        } else {
            // dinp (M, K) += dout (M, N) · W (N, K): blocks of M.
            gemm::gemm_par(uk, m, k, n, MatRef::rows(dout, n), MatRef::rows(weight, k), dinp, k, threads);
            // dweight (N, K) += dout (M, N)ᵀ · inp (M, K): blocks of N.
            gemm::gemm_par(uk, n, k, m, MatRef::transposed(dout, n), MatRef::rows(inp, k), dweight, k, threads);
        }
        if let Some(db) = dbias {
            gemm::add_bias_grad(db, dout, n);
        }
    }

    fn threads(&self) -> usize {
        rayon::current_num_threads()
    }

    fn for_each_task(&self, n: usize, task: &(dyn Fn(usize) + Sync)) {
        if rayon::current_num_threads() == 1 {
            (0..n).for_each(task)
        } else {
            par_for(n, task)
        }
    }

    /// On a worker of the pool (this thread, if it is one), as the leader of a [`Team`] of all
    /// the pool's workers: every parallel loop inside `f` ([`par_for`]) is run by the team, whose
    /// members wait between loops spinning before they sleep (see [`super::team`]). A caller
    /// from outside the pool sleeps meanwhile. Inside a team already (a nested `install`, or a
    /// team's task), or on a one-thread pool, `f` just runs here. A sleeping worker takes
    /// 0.1-1 ms to wake on these VMs, longer than most of a forward pass's sections (a 1 × 128
    /// forward has ~40 of 0.1-0.5 ms).
    /// Measured in Chromium on the 2-core VM, the threaded 1 × 128 forward: 12.6-15.9 ms with the
    /// sections handed to the pool one by one from outside, 8.3-13.5 with `f` on a worker and
    /// plain fork-join inside, ~10 with the other workers busy-waiting in rayon, against ~10 on
    /// one thread; natively 9.6-10.5 ms, then 3.9-4.5 (one thread 6-7).
    ///
    /// The helpers are spawned into this worker's deque before `f` starts: thieves take them
    /// first, and if none does (every other worker busy elsewhere) this worker runs them itself
    /// after `f`, when they return at once; `f` never waits for a helper that has not joined.
    fn install(&self, f: &mut (dyn FnMut() + Send)) {
        let threads = rayon::current_num_threads();
        if threads == 1 || team::inside() {
            return f();
        }
        let team = Team::new();
        rayon::scope(|s| {
            for _ in 1..threads {
                s.spawn(|_| team.help());
            }
            team.lead(f)
        })
    }
}
