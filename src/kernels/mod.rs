//! Matmul kernels: the one place the model's time goes.
//!
//! A linear layer in nanoGPT/llm.c layout is `y = x · Wᵀ + b` with `x` (M, K), `W` (N, K),
//! `b` (N). Every backend implements the forward product and the two backward products of
//! that layer behind the small [`Kernels`] trait, and every backend is checked against
//! [`scalar::Scalar`], the reference that stays forever.
//!
//! | backend             | name               | what                                                   |
//! |---------------------|--------------------|--------------------------------------------------------|
//! | [`scalar::Scalar`]  | "scalar"           | plain loops, the reference                             |
//! | [`simd::Simd`]      | "simd128" / "simd" | packed, register-blocked GEMM on one thread            |
//! | `threads::Threads`  | "threads"          | the same kernels split across rayon's pool (`threads`) |
//!
//! Code map: `gemm` holds the one packed GEMM (`C += A·B` through strides) that serves all
//! three products, sequential or across rayon's pool; `micro` its inner loops, written once
//! over a small SIMD-register trait and instantiated for wasm simd128 (optionally relaxed-SIMD
//! FMA) and, natively, AVX-512 / AVX2+FMA / SSE2 picked at run time; [`bench`](mod@bench) the
//! timing used by the native bench (`src/bin/bench.rs`) and the bench page.

pub mod bench;
pub(crate) mod gemm;
pub(crate) mod micro;
pub mod scalar;
pub mod simd;
#[cfg(feature = "threads")]
mod team;
#[cfg(feature = "threads")]
pub mod threads;
#[cfg(test)]
mod tests;

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

    /// Columns `j0 .. j0 + out.len()` of one row's product `out = x (K) · w (N, K)ᵀ + bias (N)`,
    /// w row-major (N = w.len() / K): the KV-cached step's products, whose columns a team
    /// splits. `packed` is w laid out for this machine's matrix-vector kernel (the crate's
    /// `pack_matvec`; `Gpt` keeps one), or empty: callers outside the crate pass `&[]`.
    /// Each column gets the bits [`Kernels::matmul_forward`] gives it for M = 1, however the
    /// columns are split.
    #[allow(clippy::too_many_arguments)]
    fn matvec(&self, out: &mut [f32], x: &[f32], w: &[f32], packed: &[f32], bias: Option<&[f32]>, j0: usize, k: usize) {
        let _ = packed;
        let cols = out.len();
        // Columns are independent dot products in the scalar reference.
        self.matmul_forward(out, &x[..k], &w[j0 * k..][..cols * k], bias.map(|b| &b[j0..][..cols]), 1, k, cols);
    }

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

    /// Threads this backend spreads its work over: 1 but for the threaded backend, whose
    /// pool size it is. Training uses it to split a batch into data-parallel shards.
    fn threads(&self) -> usize {
        1
    }

    /// Runs `task(i)` for every `i` in `0..n`, in any order: on the calling thread here, spread
    /// over rayon's pool by the threaded backend. The model hands it work that is independent
    /// by construction (one attention head of one sequence, one run of GELU's elements) and
    /// computed the same way whichever thread runs it, so every backend gives the same bits.
    fn for_each_task(&self, n: usize, task: &(dyn Fn(usize) + Sync)) {
        (0..n).for_each(task)
    }

    /// Runs `f`, which makes many calls to this backend, where those calls' parallel work is
    /// cheapest to start: here on the calling thread; the threaded backend runs it on one of its
    /// pool's workers (see [`on_pool`], the typed way to call it).
    fn install(&self, f: &mut (dyn FnMut() + Send)) {
        f()
    }
}

/// Runs `f` through [`Kernels::install`] and returns what it returns: a whole forward pass or
/// training step on the threaded backend's pool, so that each of its parallel sections is forked
/// by a worker that takes a share itself, instead of being handed in from outside the pool,
/// which costs two cross-thread wake-ups a section (a worker's, then the caller's). A 1 × 128
/// forward has ~40 sections of 0.1-0.5 ms each; on these VMs the wake-ups made the threaded
/// forward slower than one thread.
pub fn on_pool<R: Send>(k: &dyn Kernels, f: impl FnOnce() -> R + Send) -> R {
    let (mut f, mut out) = (Some(f), None);
    k.install(&mut || {
        if let Some(f) = f.take() {
            out = Some(f());
        }
    });
    out.expect("Kernels::install must run its closure")
}

/// Runs `f` on this thread's reusable buffer `key`, grown to at least `len` floats: how the GEMM's
/// packed panels and the attention's per-head scratch avoid allocating on every call. If the
/// buffer is already in use on this thread (a rayon worker that, while waiting inside a parallel
/// section, picks up another task needing it), `f` gets a fresh buffer instead of a panic.
pub(crate) fn with_thread_buffer<R>(key: &'static std::thread::LocalKey<std::cell::RefCell<Vec<f32>>>, len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    key.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            if buf.len() < len {
                buf.resize(len, 0.0);
            }
            f(&mut buf[..len])
        }
        Err(_) => f(&mut vec![0.0; len]),
    })
}

/// The panic of [`Disjoint::range`], out of line: one call at each of its many call sites.
#[cold]
#[inline(never)]
fn outside(start: usize, len: usize, have: usize) -> ! {
    panic!("Disjoint::range {start}+{len} outside {have}")
}

/// A mutable slice that parallel tasks write through, each task to its own ranges: how the
/// tasks of [`par_for`] and [`Kernels::for_each_task`], which are `Fn` (shared), get their
/// disjoint outputs.
pub(crate) struct Disjoint<'a, T = f32> {
    ptr: *mut T,
    len: usize,
    _borrow: std::marker::PhantomData<&'a mut [T]>,
}

// SAFETY: a Disjoint only hands out ranges through the unsafe `range`, whose callers promise
// that no two live ranges overlap; the elements move between threads, so T must be Send.
unsafe impl<T: Send> Send for Disjoint<'_, T> {}
unsafe impl<T: Send> Sync for Disjoint<'_, T> {}

impl<'a, T> Disjoint<'a, T> {
    pub(crate) fn new(slice: &'a mut [T]) -> Self {
        Disjoint { ptr: slice.as_mut_ptr(), len: slice.len(), _borrow: std::marker::PhantomData }
    }

    /// `len` elements from `start`. Panics when out of bounds.
    ///
    /// # Safety
    /// While the returned slice is alive, no other call may return a range overlapping it.
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn range(&self, start: usize, len: usize) -> &mut [T] {
        if start.checked_add(len).is_none_or(|end| end > self.len) {
            outside(start, len, self.len);
        }
        // SAFETY: in bounds (asserted); exclusive by the caller's promise; the borrow 'a keeps
        // the memory alive and unaliased by anything outside the tasks.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(start), len) }
    }
}

/// Runs `task(i)` for every `i` in `0..n`: across rayon's pool with the `threads` feature, else
/// in order on this thread. Every parallel loop in the crate comes through here (the GEMM's
/// blocks, the model's tasks, the training shards), so the threaded wasm build carries one copy
/// of rayon's splitting machinery instead of one per loop.
/// Inside [`Kernels::install`] on the threaded backend the loop goes to its hot team
/// ([`team`]), elsewhere to rayon.
pub(crate) fn par_for(n: usize, task: &(dyn Fn(usize) + Sync)) {
    #[cfg(feature = "threads")]
    if n > 1 {
        if team::run_loop(n, task) {
            return;
        }
        use rayon::prelude::*;
        return (0..n).into_par_iter().for_each(task);
    }
    (0..n).for_each(task)
}

/// Lays out a row-major W (n, k) into `dst` (n · k floats) for this machine's matrix-vector
/// kernel: the `packed` argument of [`Kernels::matvec`].
pub(crate) fn pack_matvec(dst: &mut [f32], w: &[f32], n: usize, k: usize) {
    gemm::pack_matvec(dst, w, n, k, micro::select().matvec_step);
}

/// Runs `task(i)` for every `i` in `0..n`: on the threaded backend's team when this thread
/// leads an awake one (inside [`on_pool`]), else in order here. For work too small to be worth
/// waking a pool for, such as one generated token's products (~10-60 K multiply-adds each),
/// which the team splits in about a microsecond a loop.
pub(crate) fn each_small_task(k: &dyn Kernels, n: usize, task: &(dyn Fn(usize) + Sync)) {
    #[cfg(feature = "threads")]
    if team::loops_go_to_team() {
        return k.for_each_task(n, task);
    }
    let _ = k;
    (0..n).for_each(task)
}

static SCALAR: scalar::Scalar = scalar::Scalar;
static SIMD: simd::Simd = simd::Simd;
#[cfg(feature = "threads")]
static THREADS: threads::Threads = threads::Threads;

/// The threaded wasm build: whether `initThreadPool` has finished (the page calls
/// `poolStarted()` then). Until it has, [`best`] is the single-thread backend and rayon is never
/// asked anything (that would fix a one-thread global pool for good), so a page loads its model
/// and generates while the pool's workers start. Natively rayon's pool starts on demand.
#[cfg(all(feature = "threads", target_arch = "wasm32"))]
pub static POOL_STARTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Set while a reader has chosen one thread in a threaded build (the playground's "CPU threads",
/// wasm `useThreads(false)`): [`best`] is then the single-thread SIMD backend, pool or not.
#[cfg(feature = "threads")]
pub static ONE_THREAD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The fastest CPU backend here: "threads" when the `threads` feature is on and rayon's pool
/// has started with more than one thread (and no one chose [`ONE_THREAD`]), else the
/// single-thread SIMD one (the same bits).
pub fn best() -> &'static dyn Kernels {
    #[cfg(all(feature = "threads", target_arch = "wasm32"))]
    if !POOL_STARTED.load(std::sync::atomic::Ordering::Acquire) {
        return &SIMD;
    }
    #[cfg(feature = "threads")]
    if ONE_THREAD.load(std::sync::atomic::Ordering::Acquire) {
        return &SIMD;
    }
    #[cfg(feature = "threads")]
    if rayon::current_num_threads() > 1 {
        return &THREADS;
    }
    &SIMD
}

/// A backend by name: "scalar", "simd128" or "simd" (the same single-thread SIMD backend, under
/// the wasm name or the native one), "threads" (only with the `threads` feature). `None` for
/// anything else.
pub fn by_name(name: &str) -> Option<&'static dyn Kernels> {
    match name {
        "scalar" => Some(&SCALAR),
        "simd128" | "simd" => Some(&SIMD),
        #[cfg(feature = "threads")]
        "threads" => Some(&THREADS),
        _ => None,
    }
}

/// Every backend in this build, slowest first (for a page's menu, a CLI flag's help, the bench):
/// the threaded one in the browser only once its pool has started (rayon has no threads before).
pub fn all() -> Vec<&'static dyn Kernels> {
    #[allow(unused_mut)]
    let mut v: Vec<&'static dyn Kernels> = vec![&SCALAR, &SIMD];
    #[cfg(all(feature = "threads", target_arch = "wasm32"))]
    if !POOL_STARTED.load(std::sync::atomic::Ordering::Acquire) {
        return v;
    }
    #[cfg(feature = "threads")]
    v.push(&THREADS);
    v
}
