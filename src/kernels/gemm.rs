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

use std::cell::RefCell;

use super::micro::MicroKernel;

/// Depth of a packed block (floats of K per panel): a B̃ micro-panel is KC × NR floats and
/// must sit in L1 with room to spare (256 × 16 × 4 B = 16 KiB).
const KC: usize = 256;
/// Rows of A packed at once (rounded down to a multiple of MR): Ã = MC × KC floats ≈ 96-128 KiB, L2.
const MC: usize = 120;
/// Columns of B packed at once: B̃ = KC × NC floats = 1 MiB, L2/L3.
const NC: usize = 1024;

/// Forward products with at most this many rows take the dot-product path: packing W costs
/// as much as ~this many rows of arithmetic, and KV-cached generation runs M = 1.
pub(crate) const GEMV_MAX_M: usize = 4;

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
    fn t(self) -> Self {
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

/// Pack buffers, one pair per thread (each rayon worker packs its own), grown on first use and
/// then reused: a training step makes hundreds of GEMM calls and none of them allocates.
struct Scratch {
    a: Vec<f32>, // (MC / MR, KC, MR) at most
    b: Vec<f32>, // (NC / NR, KC, NR) at most
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = const { RefCell::new(Scratch { a: Vec::new(), b: Vec::new() }) };
}

/// `C (m, n) += A (m, k) · B (k, n)`; C is row-major with row stride `ldc`.
///
/// Panics (a bug, not bad input: the model sizes every buffer) when a view is too short.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm(uk: &MicroKernel, m: usize, n: usize, k: usize, a: MatRef, b: MatRef, c: &mut [f32], ldc: usize) {
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    a.check("A", m, k);
    b.check("B", k, n);
    assert!(ldc >= n && c.len() >= (m - 1) * ldc + n, "gemm: C ({m}, {n}) with row stride {ldc} needs {} floats, has {}", (m - 1) * ldc + n, c.len());
    let (mr, nr) = (uk.mr, uk.nr);
    let mc = (MC / mr).max(1) * mr;
    let nc = NC.div_ceil(nr) * nr;
    SCRATCH.with(|cell| {
        // Re-entrance cannot happen (gemm calls nothing that calls gemm), but a fresh buffer
        // is a better answer than a panic if it ever does.
        let mut fresh = None;
        let mut guard = cell.try_borrow_mut().ok();
        let s = match guard.as_deref_mut() {
            Some(s) => s,
            None => fresh.insert(Scratch { a: Vec::new(), b: Vec::new() }),
        };
        grow(&mut s.a, mc * KC.min(k));
        grow(&mut s.b, nc.min(n.div_ceil(nr) * nr) * KC.min(k));
        for jc in (0..n).step_by(nc) {
            let ncb = nc.min(n - jc);
            for pc in (0..k).step_by(KC) {
                let kcb = KC.min(k - pc);
                // B̃: the (kcb, ncb) block of B as NR-wide column panels = panels of Bᵀ's rows.
                (uk.pack_b)(&mut s.b, b.t(), jc, ncb, pc, kcb);
                for ic in (0..m).step_by(mc) {
                    let mcb = mc.min(m - ic);
                    (uk.pack_a)(&mut s.a, a, ic, mcb, pc, kcb);
                    for jr in (0..ncb).step_by(nr) {
                        let nrb = nr.min(ncb - jr);
                        let b_panel = &s.b[jr * kcb..(jr + nr) * kcb]; // (kcb, NR)
                        for ir in (0..mcb).step_by(mr) {
                            let mrb = mr.min(mcb - ir);
                            let a_panel = &s.a[ir * kcb..(ir + mr) * kcb]; // (kcb, MR)
                            let c0 = (ic + ir) * ldc + jc + jr;
                            if mrb == mr && nrb == nr {
                                // SAFETY: panels hold kcb·MR and kcb·NR floats; the tile's last
                                // element (c0 + (mr-1)·ldc + nr-1) ≤ (m-1)·ldc + n-1 < c.len().
                                unsafe { (uk.tile)(kcb, a_panel.as_ptr(), b_panel.as_ptr(), c.as_mut_ptr().add(c0), ldc) };
                            } else {
                                edge_tile(uk, kcb, a_panel, b_panel, &mut c[c0..], ldc, mrb, nrb);
                            }
                        }
                    }
                }
            }
        }
    });
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

/// Grows a pack buffer to at least `len` floats (never shrinks: the next call reuses it).
fn grow(buf: &mut Vec<f32>, len: usize) {
    if buf.len() < len {
        buf.resize(len, 0.0);
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
            for c in 0..cols {
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

/// Forward on the dot-product path: `out (m, n) = x (m, k) · w (n, k)ᵀ (+ bias)` for small m,
/// four rows of W at a time, each a contiguous run of K (no packing).
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemv(uk: &MicroKernel, out: &mut [f32], x: &[f32], w: &[f32], bias: Option<&[f32]>, m: usize, k: usize, n: usize) {
    for i in 0..m {
        gemv_cols(uk, &mut out[i * n..(i + 1) * n], &x[i * k..(i + 1) * k], w, bias, 0, k);
    }
}

/// One output row, columns `j0 .. j0 + out.len()`: `out[j] = x · w[j0 + j] (+ bias)`, x (k).
/// The threaded backend hands each worker a column range of the row.
pub(crate) fn gemv_cols(uk: &MicroKernel, out: &mut [f32], x: &[f32], w: &[f32], bias: Option<&[f32]>, j0: usize, k: usize) {
    let cols = out.len();
    assert!(x.len() >= k && w.len() >= (j0 + cols) * k, "gemv: x has {} floats, w {}, need {k} and {}", x.len(), w.len(), (j0 + cols) * k);
    let main = cols / 4 * 4;
    for j in (0..main).step_by(4) {
        // SAFETY: rows j0+j .. j0+j+4 of w (k floats each) are inside w, checked above.
        let d = unsafe { (uk.dot4)(k, x.as_ptr(), w.as_ptr().add((j0 + j) * k), k) };
        out[j..j + 4].copy_from_slice(&d);
    }
    for j in main..cols {
        let wj = &w[(j0 + j) * k..(j0 + j + 1) * k];
        out[j] = x[..k].iter().zip(wj).map(|(a, b)| a * b).sum();
    }
    if let Some(b) = bias {
        for (o, b) in out.iter_mut().zip(&b[j0..j0 + cols]) {
            *o += b;
        }
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

