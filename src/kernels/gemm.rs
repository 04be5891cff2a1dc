//! The packed GEMM behind every fast backend: `C (m, n) += A (m, k) · B (k, n)`, with A and B
//! read through strides so one routine serves the three products of a linear layer:
//!
//! | product                      | m | n | k | A (rs, cs)    | B (rs, cs)    |
//! |------------------------------|---|---|---|---------------|---------------|
//! | out    = inp · Wᵀ            | M | N | K | inp  (K, 1)   | W    (1, K)   |
//! | dinp  += dout · W            | M | K | N | dout (N, 1)   | W    (K, 1)   |
//! | dweight += doutᵀ · inp       | N | K | M | dout (1, N)   | inp  (K, 1)   |
//!
//! The loop nest is the one BLIS, XNNPACK and OpenBLAS use. Blocks of A and B are copied
//! ("packed") into contiguous panels laid out in the order the micro-kernel reads them, so the
//! innermost loop only ever streams unit-stride memory whatever the operands' transposes:
//!
//! ```text
//! for jc in 0..n step NC           B̃ = B[pc.., jc..] packed into NR-wide column panels (L2/L3)
//!   for pc in 0..k step KC
//!     pack B̃ (KC, NC)
//!     for ic in 0..m step MC       Ã = A[ic.., pc..] packed into MR-tall row panels (L2)
//!       pack Ã (MC, KC)
//!       for jr in 0..NC step NR    one B̃ micro-panel (KC × NR, 8-32 KiB) stays in L1
//!         for ir in 0..MC step MR
//!           micro-kernel: C[ic+ir.., jc+jr..] (MR, NR) += Ã panel · B̃ panel
//! ```
//!
//! Edge tiles (m or n not a multiple of the tile) run the same micro-kernel into a local tile
//! and copy back the valid part; packed panels are zero-padded so no stale value is read.
//!
//! With the `threads` feature, [`gemm_par`] runs the same nest with two loops spread over
//! rayon's pool: the packing of B̃ (split by panels; the packed block is then shared by every
//! worker) and the rows of C (split into one block of whole micro-tiles per worker, each
//! packing its own Ã). Workers write disjoint rows of C, so there is no reduction.

use std::cell::RefCell;

use super::micro::MicroKernel;
use super::{par_for, with_thread_buffer, Disjoint};

/// Depth of a packed block (floats of K per panel): a B̃ micro-panel is KC × NR floats and
/// must sit in L1 with room to spare (256 × 8 × 4 B = 8 KiB in wasm, 32 KiB for AVX-512's NR = 32).
pub(crate) const KC: usize = 256;
/// Rows of A packed at once (rounded down to a multiple of MR): Ã = MC × KC floats ≈ 120 KiB, L2.
const MC: usize = 120;
/// Columns of B packed at once: B̃ = KC × NC floats = 1 MiB, L2/L3.
const NC: usize = 1024;

/// Forward products with at most this many rows take the dot-product path (KV-cached
/// generation runs M = 1). Packing W (a transpose) costs as much as a dozen rows of arithmetic:
/// natively (AVX-512) the dot path ran 1×128×384 and 4×128×384 at ~24 GFLOPS where the packed
/// path managed 9 at M = 5, 14 at M = 8 and 23 at M = 16.
pub(crate) const GEMV_MAX_M: usize = 8;

/// A read-only matrix view: element (r, c) is `data[r * rs + c * cs]`.
#[derive(Clone, Copy)]
pub(crate) struct MatRef<'a> {
    pub data: &'a [f32],
    /// Row stride.
    pub rs: usize,
    /// Column stride.
    pub cs: usize,
}

impl<'a> MatRef<'a> {
    /// A row-major (rows, cols) matrix: rs = cols, cs = 1.
    pub fn rows(data: &'a [f32], cols: usize) -> Self {
        MatRef { data, rs: cols, cs: 1 }
    }
    /// The transpose of a row-major (rows, cols) matrix, viewed as (cols, rows): rs = 1, cs = cols.
    pub fn transposed(data: &'a [f32], cols: usize) -> Self {
        MatRef { data, rs: 1, cs: cols }
    }
    /// Swaps rows and columns.
    pub fn t(self) -> Self {
        MatRef { data: self.data, rs: self.cs, cs: self.rs }
    }
    /// Panics unless every element of a (rows, cols) view is inside `data`.
    fn check(&self, what: &str, rows: usize, cols: usize) {
        if rows > 0 && cols > 0 {
            let last = (rows - 1) * self.rs + (cols - 1) * self.cs;
            assert!(last < self.data.len(), "gemm: {what} ({rows}, {cols}) with strides ({}, {}) needs {} floats, has {}", self.rs, self.cs, last + 1, self.data.len());
        }
    }
}

thread_local! {
    /// This thread's Ã buffer, (MC / MR, KC, MR) at most. Grown on first use, then reused:
    /// a training step makes hundreds of GEMM calls and none of them allocates.
    static PACK_A: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    /// This thread's B̃ buffer, (NC / NR, KC, NR) at most. In a parallel GEMM the calling
    /// thread's B̃ is packed by all workers together and then read by all of them.
    static PACK_B: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// `C (m, n) += A (m, k) · B (k, n)` on the calling thread; C is row-major with row stride
/// `ldc`. Panics (a bug, not bad input: the model sizes every buffer) when a view is too short.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm(uk: &MicroKernel, m: usize, n: usize, k: usize, a: MatRef, b: MatRef, c: &mut [f32], ldc: usize) {
    gemm_parts(uk, m, n, k, a, b, c, ldc, 1);
}

/// [`gemm`] across rayon's pool: each (KC, NC) block of B is packed once, its panels split
/// across the workers, and read by all of them; the rows of C are split into `parts` equal
/// blocks of whole micro-tiles, each packing its own rows of A. No two workers write the
/// same float of C, so there is no reduction.
#[cfg(feature = "threads")]
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_par(uk: &MicroKernel, m: usize, n: usize, k: usize, a: MatRef, b: MatRef, c: &mut [f32], ldc: usize, parts: usize) {
    gemm_parts(uk, m, n, k, a, b, c, ldc, parts.max(1));
}

/// The loop nest of the module docs, with the B̃ packing and the row blocks run on `parts`
/// workers (1: all on the calling thread, no rayon).
#[allow(clippy::too_many_arguments)]
fn gemm_parts(uk: &MicroKernel, m: usize, n: usize, k: usize, a: MatRef, b: MatRef, c: &mut [f32], ldc: usize, parts: usize) {
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    a.check("A", m, k);
    b.check("B", k, n);
    assert!(ldc >= n && c.len() >= (m - 1) * ldc + n, "gemm: C ({m}, {n}) with row stride {ldc} needs {} floats, has {}", (m - 1) * ldc + n, c.len());
    let (mr, nr) = (uk.mr, uk.nr);
    let mc = (MC / mr).max(1) * mr;
    let nc = NC.div_ceil(nr) * nr;
    let c = &mut c[..(m - 1) * ldc + n];
    with_thread_buffer(&PACK_B, nc.min(n.div_ceil(nr) * nr) * KC.min(k), |b_buf| {
        for jc in (0..n).step_by(nc) {
            let ncb = nc.min(n - jc);
            for pc in (0..k).step_by(KC) {
                let kcb = KC.min(k - pc);
                // B̃: the (kcb, ncb) block of B as NR-wide column panels = panels of Bᵀ's rows.
                let b_pack = &mut b_buf[..ncb.div_ceil(nr) * nr * kcb];
                for_each_block(b_pack, nr * kcb, ncb.div_ceil(nr), 1, parts, |p0, panels| {
                    (uk.pack_b)(panels, b.t(), jc + p0 * nr, (ncb - p0 * nr).min(panels.len() / kcb), pc, kcb);
                });
                let b_pack: &[f32] = b_pack;
                // Row blocks of C, each with its own Ã.
                for_each_block(c, ldc, m, mr, parts, |r0, c_rows| {
                    let rows = (m - r0).min(c_rows.len().div_ceil(ldc));
                    with_thread_buffer(&PACK_A, mc * kcb, |a_pack| {
                        for ic in (0..rows).step_by(mc) {
                            let mcb = mc.min(rows - ic);
                            (uk.pack_a)(a_pack, a, r0 + ic, mcb, pc, kcb);
                            macro_kernel(uk, mcb, ncb, kcb, a_pack, b_pack, &mut c_rows[ic * ldc + jc..], ldc);
                        }
                    });
                });
            }
        }
    });
}

/// Splits `buf` into at most `blocks` runs of whole `unit`s (`units` of them in all, the last
/// possibly short), each run a multiple of `align` units except the last, dealing the units
/// out as evenly as that allows, and runs `f(first_unit, run)` on each: in parallel on rayon's
/// pool when there is more than one run.
fn for_each_block(buf: &mut [f32], unit: usize, units: usize, align: usize, blocks: usize, f: impl Fn(usize, &mut [f32]) + Sync + Send) {
    let per = units.div_ceil(align).div_ceil(blocks.max(1)) * align; // units per run
    if per >= units {
        return f(0, buf);
    }
    let (len, step) = (buf.len(), per * unit);
    let buf = Disjoint::new(buf);
    par_for(len.div_ceil(step), &|i| {
        let start = i * step;
        // SAFETY: run i alone is handed floats start .. start + step of buf.
        f(i * per, unsafe { buf.range(start, step.min(len - start)) })
    });
}

/// Ã (mcb, kcb) · B̃ (kcb, ncb) added into `c` (mcb rows from its start, row stride ldc):
/// the jr / ir loops over micro-tiles.
#[allow(clippy::too_many_arguments)]
fn macro_kernel(uk: &MicroKernel, mcb: usize, ncb: usize, kcb: usize, a_pack: &[f32], b_pack: &[f32], c: &mut [f32], ldc: usize) {
    let (mr, nr) = (uk.mr, uk.nr);
    assert!(c.len() >= (mcb - 1) * ldc + ncb, "macro_kernel: C block too short");
    for jr in (0..ncb).step_by(nr) {
        let nrb = nr.min(ncb - jr);
        let b_panel = &b_pack[jr * kcb..(jr + nr) * kcb]; // (kcb, NR)
        for ir in (0..mcb).step_by(mr) {
            let mrb = mr.min(mcb - ir);
            let a_panel = &a_pack[ir * kcb..(ir + mr) * kcb]; // (kcb, MR)
            let c0 = ir * ldc + jr;
            if mrb == mr && nrb == nr {
                // SAFETY: panels hold kcb·MR and kcb·NR floats; the tile's last element,
                // c0 + (mr-1)·ldc + nr-1 ≤ (mcb-1)·ldc + ncb-1, is inside c (asserted above).
                unsafe { (uk.tile)(kcb, a_panel.as_ptr(), b_panel.as_ptr(), c.as_mut_ptr().add(c0), ldc) };
            } else {
                edge_tile(uk, kcb, a_panel, b_panel, &mut c[c0..], ldc, mrb, nrb);
            }
        }
    }
}

/// A partial tile (mrb ≤ MR rows, nrb ≤ NR columns): the full micro-kernel into a local
/// zeroed tile, then the valid corner added into C.
#[allow(clippy::too_many_arguments)]
fn edge_tile(uk: &MicroKernel, kc: usize, a_panel: &[f32], b_panel: &[f32], c: &mut [f32], ldc: usize, mrb: usize, nrb: usize) {
    const MAX_TILE: usize = 16 * 32;
    assert!(uk.mr * uk.nr <= MAX_TILE, "micro-kernel tile {}x{} exceeds {MAX_TILE}", uk.mr, uk.nr);
    // Zero only the MR·NR floats the kernel uses (a 2 KiB memset per edge tile is not free
    // in wasm, where edge tiles are common: N = 65 for the head).
    let mut buf = [core::mem::MaybeUninit::<f32>::uninit(); MAX_TILE];
    for t in &mut buf[..uk.mr * uk.nr] {
        t.write(0.0);
    }
    // SAFETY: the first MR·NR floats were just initialised.
    let tile: &mut [f32] = unsafe { &mut *(&mut buf[..uk.mr * uk.nr] as *mut [core::mem::MaybeUninit<f32>] as *mut [f32]) }; // (MR, NR)
    // SAFETY: panels hold kc·MR and kc·NR floats; `tile` holds MR·NR with row stride NR.
    unsafe { (uk.tile)(kc, a_panel.as_ptr(), b_panel.as_ptr(), tile.as_mut_ptr(), uk.nr) };
    for i in 0..mrb {
        let row = &mut c[i * ldc..i * ldc + nrb];
        for (cij, t) in row.iter_mut().zip(&tile[i * uk.nr..]) {
            *cij += t;
        }
    }
}

/// Packs the block `src[r0 .. r0 + rows, c0 .. c0 + cols]` into panels of `W` rows:
/// `dst[(q, c, r)] = src[r0 + q·W + r, c0 + c]` for panel q, column c, row r in the panel,
/// zero-padded up to a whole panel. Layout (⌈rows/W⌉, cols, W), the order micro-kernels read.
///
/// `W` is a constant (the micro-kernel's MR or NR, see [`MicroKernel::pack_a`]) so the
/// per-column loops over W unroll into straight-line moves: packing is a tenth of the
/// work for the model's narrow layers (C = 128) and must not be a loop of tiny memcpy calls.
pub(crate) fn pack<const W: usize>(dst: &mut [f32], src: MatRef, r0: usize, rows: usize, c0: usize, cols: usize) {
    if rows == 0 || cols == 0 {
        return;
    }
    // Every read below is inside this range: checked once here, so the loops can skip
    // per-element bounds checks (they would be the whole cost of packing).
    let last = (r0 + rows - 1) * src.rs + (c0 + cols - 1) * src.cs;
    assert!(last < src.data.len(), "pack: block needs {} floats, view has {}", last + 1, src.data.len());
    let (rs, cs) = (src.rs, src.cs);
    for (q, panel) in dst[..rows.div_ceil(W) * W * cols].chunks_exact_mut(W * cols).enumerate() {
        let live = W.min(rows - q * W); // rows of this panel that exist
        let from = &src.data[(r0 + q * W) * rs + c0 * cs..];
        let (s, d) = (from.as_ptr(), panel.as_mut_ptr().cast::<[f32; W]>());
        // SAFETY (all loops): element (r, c) of the block is at s + r·rs + c·cs ≤ last for
        // r < live, c < cols; the panel holds cols × [f32; W].
        if live == W && rs == 1 {
            // A whole panel whose W rows are contiguous in each column: W-float copies.
            for c in 0..cols {
                unsafe { d.add(c).write(s.add(c * cs).cast::<[f32; W]>().read_unaligned()) };
            }
        } else if live == W {
            // A whole panel of strided rows: gather W floats per column (W streams read in step).
            // In wasm, with contiguous columns, four columns at a time by 4 × 4 transposes.
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            let done = if cs == 1 && W % 4 == 0 { unsafe { transpose_panel::<W>(d, s, rs, cols) } } else { 0 };
            #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
            let done = 0;
            for c in done..cols {
                let col = unsafe { s.add(c * cs) };
                unsafe { d.add(c).write(core::array::from_fn(|r| *col.add(r * rs))) };
            }
        } else {
            // The last, partial panel: the live rows, then zeros.
            for c in 0..cols {
                let col = unsafe { s.add(c * cs) };
                unsafe { d.add(c).write(core::array::from_fn(|r| if r < live { *col.add(r * rs) } else { 0.0 })) };
            }
        }
    }
}

/// Packs the first `cols / 4 * 4` columns of a whole panel of `W` rows (row stride `rs`, columns
/// contiguous) into `d` by 4 × 4 transposes: four 128-bit loads, eight shuffles and four stores
/// for 16 floats, where the gather takes 16 scalar loads and lane inserts. Returns the columns
/// done. (The forward's A and B and the input gradient's A are packed this way.) In a wasm
/// training step (Chromium's profiler, relaxed build, two alternated loads each) packing went
/// from 6.8–6.9% of the samples to 5.7–6.6%.
///
/// # Safety
/// Element (r, c) at `s + r·rs + c` must be readable for r < W, c < cols, and `d` must hold
/// `cols` panels of `W` floats.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
unsafe fn transpose_panel<const W: usize>(d: *mut [f32; W], s: *const f32, rs: usize, cols: usize) -> usize {
    use core::arch::wasm32::{i32x4_shuffle, v128, v128_load, v128_store};
    let dst = d.cast::<f32>();
    let c4 = cols / 4 * 4;
    for c in (0..c4).step_by(4) {
        for g in (0..W).step_by(4) {
            // SAFETY: rows g..g+4 < W, columns c..c+4 ≤ cols (the caller's promise).
            unsafe {
                let row = s.add(g * rs + c);
                let [a0, a1, a2, a3]: [v128; 4] = core::array::from_fn(|i| v128_load(row.add(i * rs).cast()));
                let (t0, t1) = (i32x4_shuffle::<0, 4, 1, 5>(a0, a1), i32x4_shuffle::<2, 6, 3, 7>(a0, a1));
                let (t2, t3) = (i32x4_shuffle::<0, 4, 1, 5>(a2, a3), i32x4_shuffle::<2, 6, 3, 7>(a2, a3));
                v128_store(dst.add(c * W + g).cast(), i32x4_shuffle::<0, 1, 4, 5>(t0, t2));
                v128_store(dst.add((c + 1) * W + g).cast(), i32x4_shuffle::<2, 3, 6, 7>(t0, t2));
                v128_store(dst.add((c + 2) * W + g).cast(), i32x4_shuffle::<0, 1, 4, 5>(t1, t3));
                v128_store(dst.add((c + 3) * W + g).cast(), i32x4_shuffle::<2, 3, 6, 7>(t1, t3));
            }
        }
    }
    c4
}

/// Forward on the dot-product path: `out (m, n) = x (m, k) · w (n, k)ᵀ (+ bias)` for small m,
/// four rows of W at a time, each a contiguous run of K (no packing).
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemv(uk: &MicroKernel, out: &mut [f32], x: &[f32], w: &[f32], bias: Option<&[f32]>, m: usize, k: usize, n: usize) {
    for i in 0..m {
        matvec_cols(uk, &mut out[i * n..(i + 1) * n], &x[i * k..(i + 1) * k], w, None, bias, 0, k);
    }
}

/// Columns `j0 .. j0 + out.len()` of one row's product `out = x (k) · w (n, k)ᵀ (+ bias)`, W
/// row-major with n = w.len() / k rows. Rows in whole blocks of four (4i .. 4i + 4, counted
/// from row 0, wherever the range starts) take [`MicroKernel::dot4`]'s arithmetic and the
/// last n % 4 rows a plain sum, so a column's bits do not depend on how the columns are split
/// (the threaded backend splits them among workers, the KV-cached step among heads). `packed`:
/// W as [`pack_matvec`] lays it out for `uk`, read instead of `w` where given.
#[allow(clippy::too_many_arguments)]
pub(crate) fn matvec_cols(uk: &MicroKernel, out: &mut [f32], x: &[f32], w: &[f32], packed: Option<&[f32]>, bias: Option<&[f32]>, j0: usize, k: usize) {
    let cols = out.len();
    // With k = 0, W says nothing of n: the bias does, if there is one.
    let n = w.len().checked_div(k).or(bias.map(<[f32]>::len)).unwrap_or(j0 + cols);
    let fits = x.len() >= k && j0 + cols <= n && w.len() == n * k && packed.is_none_or(|p| p.len() == w.len()) && bias.is_none_or(|b| b.len() == n);
    assert!(fits, "matvec: columns {j0}..{} of W ({n}, {k}) from x ({}), W {}, packed {:?} and bias {:?} floats", j0 + cols, x.len(), w.len(), packed.map(<[f32]>::len), bias.map(<[f32]>::len));
    let main = n / 4 * 4;
    // From the packed matrix, the whole blocks inside the range in one call, straight into out.
    let (first, last) = (j0.div_ceil(4) * 4, (j0 + cols).min(main) / 4 * 4);
    let (b0, b1) = match packed {
        Some(wp) if first < last => {
            // SAFETY: blocks first .. last ≤ main of the packed matrix (4k floats each from
            // block · k) are inside it (checked), and out's columns first - j0 .. last - j0 too.
            unsafe { (uk.dot4_packed)(k, x.as_ptr(), wp.as_ptr().add(first * k), (last - first) / 4, out.as_mut_ptr().add(first - j0)) };
            (first, last)
        }
        _ => (j0, j0),
    };
    // The other columns one by one, reusing the block of four rows last computed.
    let (mut have, mut d) = (usize::MAX, [0.0f32; 4]);
    for j in (j0..b0).chain(b1..j0 + cols) {
        out[j - j0] = if j < main {
            let block = j / 4 * 4;
            if block != have {
                // SAFETY: rows block .. block + 4 ≤ n of w (k floats each), and the same block
                // of the packed matrix (4k floats from block · k), are inside them (checked).
                unsafe {
                    match packed {
                        Some(wp) => (uk.dot4_packed)(k, x.as_ptr(), wp.as_ptr().add(block * k), 1, d.as_mut_ptr()),
                        None => d = (uk.dot4)(k, x.as_ptr(), w.as_ptr().add(block * k), k),
                    }
                };
                have = block;
            }
            d[j % 4]
        } else {
            x[..k].iter().zip(&w[j * k..]).map(|(a, b)| a * b).sum()
        };
    }
    if let Some(b) = bias {
        for (o, b) in out.iter_mut().zip(&b[j0..]) {
            *o += b;
        }
    }
}

/// Lays out a row-major W (n, k) for [`MicroKernel::dot4_packed`] with the kernel's
/// [`MicroKernel::matvec_step`]: each block of four rows (4k floats from row · k, as in W) holds,
/// for every step of the first k / step · step floats, the four rows' chunks side by side, then
/// the four rows' remaining floats one after another; the last n % 4 rows stay as they are.
pub(crate) fn pack_matvec(dst: &mut [f32], w: &[f32], n: usize, k: usize, step: usize) {
    assert!(w.len() == n * k && dst.len() == n * k && step > 0, "pack_matvec: W has {} floats, dst {}, need {n} · {k}", w.len(), dst.len());
    let (main, k_main) = (n / 4 * 4 * k, k / step * step);
    let tail = k - k_main;
    // Where each float of dst comes from (one loop: small code, ~10 ms for 10 M floats).
    for (i, d) in dst.iter_mut().enumerate() {
        let (block, o) = (i / (4 * k), i % (4 * k));
        let (r, q) = if o < 4 * k_main { (o % (4 * step) / step, o / (4 * step) * step + o % step) } else { ((o - 4 * k_main) / tail, k_main + (o - 4 * k_main) % tail) };
        *d = w[if i < main { (4 * block + r) * k + q } else { i }];
    }
}

/// Fills each of the m rows of `out (m, n)` with `bias (n)`, or zeros: the starting point the
/// forward GEMM accumulates onto.
pub(crate) fn init_rows(out: &mut [f32], bias: Option<&[f32]>, n: usize) {
    match bias {
        Some(b) if n > 0 => out.chunks_exact_mut(n).for_each(|row| row.copy_from_slice(b)),
        _ => out.fill(0.0),
    }
}

/// `dbias (n) += Σ_m dout (m, n)`.
pub(crate) fn add_bias_grad(dbias: &mut [f32], dout: &[f32], n: usize) {
    if n == 0 {
        return;
    }
    for row in dout.chunks_exact(n) {
        for (d, g) in dbias.iter_mut().zip(row) {
            *d += g;
        }
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    /// Runs cover every unit exactly once, start where they say, and all but the last are
    /// whole multiples of `align`, with no more runs than asked for.
    #[test]
    fn blocks_cover_every_unit_once() {
        for (units, unit, align, blocks) in [(1, 3, 6, 2), (7, 2, 6, 2), (12, 1, 6, 2), (13, 4, 8, 3), (2048, 1, 14, 2), (65, 5, 14, 4), (10, 7, 1, 4)] {
            let mut buf: Vec<f32> = vec![0.0; units * unit];
            let seen = std::sync::Mutex::new(Vec::new());
            for_each_block(&mut buf, unit, units, align, blocks, |u0, run| {
                run.iter_mut().for_each(|v| *v += 1.0);
                seen.lock().unwrap().push((u0, run.len() / unit));
            });
            assert!(buf.iter().all(|&v| v == 1.0), "{units} units: not covered exactly once");
            let mut runs = seen.into_inner().unwrap();
            runs.sort();
            assert!(runs.len() <= blocks, "{units} units: {} runs for {blocks} blocks", runs.len());
            let mut next = 0;
            for (i, &(u0, len)) in runs.iter().enumerate() {
                assert_eq!(u0, next, "{units} units: run {i} starts at {u0}");
                assert!(i + 1 == runs.len() || len % align == 0, "{units} units: run {i} has {len} units, align {align}");
                next += len;
            }
            assert_eq!(next, units);
        }
    }
}
