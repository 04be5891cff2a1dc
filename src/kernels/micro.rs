//! Micro-kernels: the innermost loops of the packed GEMM in [`super::gemm`].
//!
//! The loops are written once, generic over a small [`Lanes`] trait (a SIMD register of f32:
//! load, broadcast, multiply-add, sum), and instantiated per instruction set with explicit
//! `core::arch` intrinsics:
//!
//! | flavour      | register     | tile MR×NR | registers used            | where                         |
//! |--------------|--------------|------------|---------------------------|-------------------------------|
//! | wasm simd128 | v128 (f32x4) | 4×8        | 8 acc + 2 B + 1 A of 16   | the browser (both builds)     |
//! | x86 AVX-512F | __m512       | 14×32      | 28 acc + 2 B + 1 A of 32  | native, detected at run time  |
//! | x86 AVX2+FMA | __m256       | 6×16       | 12 acc + 2 B + 1 A of 16  | native, detected at run time  |
//! | x86 SSE2     | __m128       | 6×8        | 12 acc + 2 B + 1 A of 16  | native, any x86-64            |
//! | portable     | [f32; 4]     | 4×8        | whatever LLVM makes of it | other targets (and the tests) |
//!
//! Why 4×8 in wasm, as XNNPACK's `4x8-wasmsimd-x86` kernels: V8 keeps a scratch xmm register
//! for itself and its scheduler stretches live ranges, so a 6×8 tile (15 registers) spills an
//! accumulator to the stack, and the store-to-load round trip sits on that accumulator's
//! dependency chain: measured in Chromium 156 with relaxed SIMD, 6×8 ran at ~33 GFLOPS and 4×8
//! at ~45 (kernel alone, L1-resident panels). Also measured and rejected: unrolling the k loop
//! by 2 or 4 (~34: more live values, spills), XNNPACK's "splat" form, one v128 load of the four
//! rows' A values and lane shuffles (~40), and 5×8 (~32, erratic from run to run). Without
//! relaxed SIMD every flavour tops out at ~27 GFLOPS: a multiply and an add are two
//! instructions on the two FMA ports, so 8 flop/cycle instead of 16.
//!
//! Why explicit intrinsics rather than arrays LLVM autovectorises: LLVM keeps a large
//! accumulator array in memory (an 8×32 f32 array ran at ~1 GFLOPS as stack traffic), while
//! arrays of vector registers with constant indices reliably live in registers.
//!
//! A micro-kernel computes one MR×NR tile of `C += Ã · B̃` from packed panels:
//! `a` holds MR floats per k step (the MR rows of A, k-major), `b` NR floats per k step.

use super::gemm::{self, MatRef};

/// `pack(dst, src, r0, rows, c0, cols)`: see [`gemm::pack`].
pub(crate) type PackFn = fn(&mut [f32], MatRef, usize, usize, usize, usize);

/// One micro-kernel flavour: its tile shape, its two inner loops and the packing that feeds them.
#[derive(Clone, Copy)]
pub(crate) struct MicroKernel {
    /// Rows of C per tile.
    pub mr: usize,
    /// Columns of C per tile.
    pub nr: usize,
    /// `c (MR, NR, row stride ldc) += ã (kc, MR)ᵀ · b̃ (kc, NR)`, for a full tile.
    ///
    /// # Safety
    /// `a` must hold `kc * mr` floats, `b` `kc * nr`, and `c` must be writable at
    /// `i * ldc + j` for every `i < mr`, `j < nr`.
    pub tile: unsafe fn(kc: usize, a: *const f32, b: *const f32, c: *mut f32, ldc: usize),
    /// Four dot products of one row `x (K)` with four rows `w[r * ldw ..][..K]`, for the
    /// matrix-vector path (M = 1) where packing would cost more than the product.
    ///
    /// # Safety
    /// `x` must hold `k` floats and `w` must be readable at `r * ldw + p` for `r < 4`, `p < k`.
    pub dot4: unsafe fn(k: usize, x: *const f32, w: *const f32, ldw: usize) -> [f32; 4],
    /// [`MicroKernel::dot4`] of `blocks` consecutive blocks of four rows laid out by
    /// [`gemm::pack_matvec`] with this flavour's [`MicroKernel::matvec_step`] (`wp` at the first
    /// block's start), block b's four results to `out[4b .. 4b + 4]`: the same arithmetic, bit
    /// for bit, reading one sequential stream instead of four rows (1.3-1.4× in Chromium, where
    /// each row's address is another add; ~1.5× natively), and one call for a run of blocks
    /// (a call per block, through a pointer and returning an array through the stack, was
    /// ~13% of a wasm token).
    ///
    /// # Safety
    /// `x` must hold `k` floats, `wp` `4 * k * blocks` and `out` `4 * blocks`.
    pub dot4_packed: unsafe fn(k: usize, x: *const f32, wp: *const f32, blocks: usize, out: *mut f32),
    /// Floats of one row [`MicroKernel::dot4`] reads per step: two registers.
    pub matvec_step: usize,
    /// `out[j] = Σ_p x[p] · b[p · ldb + j]` for `j < n`, `p < k`: one row of `tile`'s product
    /// with `tile`'s arithmetic for every element (a chain of the flavour's multiply-add over p
    /// in order, from zero, added to a zeroed output per block of [`gemm::KC`] as the GEMM
    /// adds into C). So a row computed here equals, bit for bit, the same row of a [`gemm::gemm`]
    /// into a zeroed C: the KV-cached attention relies on it to match the batched one.
    ///
    /// # Safety
    /// `x` must hold `k` floats, `b` must be readable at `p * ldb + j` for `p < k`, `j < n`,
    /// and `out` writable for `n` floats.
    pub row: unsafe fn(k: usize, x: *const f32, b: *const f32, ldb: usize, out: *mut f32, n: usize),
    /// Packs a block of A into MR-row panels: [`gemm::pack`] with W = MR.
    pub pack_a: PackFn,
    /// Packs a block of Bᵀ into NR-row panels: [`gemm::pack`] with W = NR.
    pub pack_b: PackFn,
    /// What the bench prints: "wasm simd128", "x86-64 avx2+fma", ...
    pub isa: &'static str,
}

/// The fastest micro-kernel this machine runs, chosen once (CPU feature detection on x86-64).
pub(crate) fn select() -> &'static MicroKernel {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        &wasm::KERNEL
    }
    #[cfg(target_arch = "x86_64")]
    {
        use std::sync::OnceLock;
        static CHOSEN: OnceLock<&'static MicroKernel> = OnceLock::new();
        CHOSEN.get_or_init(|| {
            if std::is_x86_feature_detected!("avx512f") {
                &x86::AVX512
            } else if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                &x86::AVX2
            } else {
                &x86::SSE2
            }
        })
    }
    #[cfg(not(any(all(target_arch = "wasm32", target_feature = "simd128"), target_arch = "x86_64")))]
    {
        &portable::KERNEL
    }
}

/// Every micro-kernel this machine can run (for the tests: each one is checked, not only the
/// one [`select`] picks; the portable one is compiled into the tests everywhere).
#[cfg(test)]
pub(crate) fn all_runnable() -> Vec<&'static MicroKernel> {
    #[cfg(target_arch = "x86_64")]
    {
        let mut v: Vec<&'static MicroKernel> = vec![&portable::KERNEL, &x86::SSE2];
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            v.push(&x86::AVX2);
        }
        if std::is_x86_feature_detected!("avx512f") {
            v.push(&x86::AVX512);
        }
        v
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        vec![select(), &portable::KERNEL]
    }
}

// ---------------------------------------------------------------------------------------------
// The generic loops
// ---------------------------------------------------------------------------------------------

/// A SIMD register of `N` f32 lanes. Every method is `#[inline(always)]` so that, inlined into
/// a `#[target_feature]` function, the intrinsics compile to single instructions.
#[allow(dead_code)] // not every method is used by every flavour
trait Lanes: Copy {
    /// Lanes per register.
    const N: usize;
    /// All lanes 0.
    unsafe fn zero() -> Self;
    /// N floats from `p` (unaligned).
    unsafe fn load(p: *const f32) -> Self;
    /// N floats to `p` (unaligned).
    unsafe fn store(p: *mut f32, v: Self);
    /// `*p` in every lane.
    unsafe fn splat(p: *const f32) -> Self;
    /// `a · b + c` (fused where the flavour has FMA).
    unsafe fn madd(a: Self, b: Self, c: Self) -> Self;
    /// `a + b`.
    unsafe fn add(a: Self, b: Self) -> Self;
    /// The sum of the lanes.
    unsafe fn sum(v: Self) -> f32;
    /// `a · b + c` for one float, by the same instruction as [`Lanes::madd`] (fused or not
    /// as it is: relaxed SIMD leaves that to the engine, so no scalar formula can stand in).
    #[inline(always)]
    unsafe fn madd1(a: f32, b: f32, c: f32) -> f32 {
        let mut lanes = [0.0f32; 16];
        debug_assert!(Self::N <= lanes.len());
        // SAFETY: each splat reads one float from a local; the store writes N ≤ 16 floats.
        unsafe {
            Self::store(lanes.as_mut_ptr(), Self::madd(Self::splat(&a), Self::splat(&b), Self::splat(&c)));
        }
        lanes[0]
    }
}

/// `c (MR, NV·N) += ã (kc, MR)ᵀ · b̃ (kc, NV·N)`: per k step, NV loads of B, MR broadcasts of
/// A and MR·NV multiply-adds into MR·NV accumulator registers.
///
/// One plain loop over the two panels' pointers, which LLVM turns into a count-down loop (Node
/// 20's V8 compiles the wasm 4 × 8 relaxed tile's k step to 25 instructions, against 28 for the
/// unrollable `while p + U <= kc` and remainder loop this replaced; in Chromium 148 the two ran
/// alike). Unrolling the k loop gained nothing (module docs).
///
/// # Safety
/// As [`MicroKernel::tile`] with NR = NV·N, and the target must support `V`'s instructions.
#[inline(always)]
unsafe fn tile<V: Lanes, const MR: usize, const NV: usize>(kc: usize, a: *const f32, b: *const f32, c: *mut f32, ldc: usize) {
    let nr = NV * V::N;
    // SAFETY (whole body): the caller guarantees kc·MR floats at a, kc·NR at b, and an
    // (MR, NR) tile at c with row stride ldc; the k step p reads a[p·MR ..][..MR] and
    // b[p·NR ..][..NR], p < kc.
    unsafe {
        let mut acc = [[V::zero(); NV]; MR]; // (MR, NV registers)
        let (mut ap, mut bp) = (a, b);
        for _ in 0..kc {
            let bv: [V; NV] = core::array::from_fn(|v| V::load(bp.add(v * V::N)));
            for (i, acc_i) in acc.iter_mut().enumerate() {
                let ai = V::splat(ap.add(i));
                for v in 0..NV {
                    acc_i[v] = V::madd(ai, bv[v], acc_i[v]);
                }
            }
            ap = ap.add(MR);
            bp = bp.add(nr);
        }
        for (i, acc_i) in acc.iter().enumerate() {
            let ci = c.add(i * ldc);
            for (v, acc_iv) in acc_i.iter().enumerate() {
                let cv = ci.add(v * V::N);
                V::store(cv, V::add(V::load(cv), *acc_iv));
            }
        }
    }
}

/// Four dot products `x · w_r` over K, two registers per row (eight independent chains, enough
/// to hide the multiply-add latency), then a scalar tail. `chunk(r, p)` is where row r's floats
/// p .. p + 2N lie (p a multiple of 2N below the tail), `tail(r, q)` where its float q of the
/// tail lies: [`dot4`] reads plain rows, [`dot4_packed`] the packed layout, by the same loop.
///
/// # Safety
/// As [`MicroKernel::dot4`] for the floats `chunk` and `tail` point at, and the target must
/// support `V`'s instructions.
#[inline(always)]
unsafe fn dot4_by<V: Lanes>(k: usize, x: *const f32, chunk: impl Fn(usize, usize) -> *const f32, tail: impl Fn(usize, usize) -> *const f32) -> [f32; 4] {
    let step = 2 * V::N;
    let k_main = k / step * step;
    // SAFETY (whole body): p + step ≤ k in the loop, q < k in the tail; the caller guarantees
    // k floats at x and the floats chunk and tail point at.
    unsafe {
        let mut acc = [[V::zero(); 2]; 4]; // (4 rows, 2 registers)
        let mut p = 0;
        while p < k_main {
            let x0 = V::load(x.add(p));
            let x1 = V::load(x.add(p + V::N));
            for (r, acc_r) in acc.iter_mut().enumerate() {
                let wr = chunk(r, p);
                acc_r[0] = V::madd(x0, V::load(wr), acc_r[0]);
                acc_r[1] = V::madd(x1, V::load(wr.add(V::N)), acc_r[1]);
            }
            p += step;
        }
        let mut out = [0.0f32; 4];
        for (r, acc_r) in acc.iter().enumerate() {
            let mut s = V::sum(V::add(acc_r[0], acc_r[1]));
            for q in k_main..k {
                s += *x.add(q) * *tail(r, q);
            }
            out[r] = s;
        }
        out
    }
}

/// [`MicroKernel::dot4`]: rows `w + r · ldw`.
///
/// # Safety
/// As [`MicroKernel::dot4`], and the target must support `V`'s instructions.
#[inline(always)]
unsafe fn dot4<V: Lanes>(k: usize, x: *const f32, w: *const f32, ldw: usize) -> [f32; 4] {
    // SAFETY: forwarded contract: row r's float p is at w + r · ldw + p.
    unsafe { dot4_by::<V>(k, x, |r, p| w.add(r * ldw + p), |r, q| w.add(r * ldw + q)) }
}

/// [`MicroKernel::dot4_packed`]: the layout of [`gemm::pack_matvec`] with step 2N.
///
/// # Safety
/// As [`MicroKernel::dot4_packed`], and the target must support `V`'s instructions.
#[inline(always)]
unsafe fn dot4_packed<V: Lanes>(k: usize, x: *const f32, wp: *const f32, blocks: usize, out: *mut f32) {
    let step = 2 * V::N;
    let k_main = k / step * step;
    let tail_len = k - k_main;
    for b in 0..blocks {
        // SAFETY: forwarded contract: block b is the 4k floats from wp + 4kb, the four rows'
        // chunks of each step side by side, then the four rows' tails (see gemm::pack_matvec);
        // out holds its four results at 4b.
        unsafe {
            let wb = wp.add(4 * k * b);
            let d = dot4_by::<V>(k, x, |r, p| wb.add(4 * p + r * step), |r, q| wb.add(4 * k_main + r * tail_len + (q - k_main)));
            out.add(4 * b).cast::<[f32; 4]>().write_unaligned(d);
        }
    }
}

/// [`MicroKernel::row`]: the columns in blocks of four registers (independent chains enough
/// to hide the multiply-add's latency), then of one, then single floats by [`Lanes::madd1`].
/// Each float is the same chain whichever block it falls in.
///
/// # Safety
/// As [`MicroKernel::row`], and the target must support `V`'s instructions.
#[inline(always)]
unsafe fn row<V: Lanes>(k: usize, x: *const f32, b: *const f32, ldb: usize, out: *mut f32, n: usize) {
    /// Columns j .. j + R·N.
    #[inline(always)]
    unsafe fn block<V: Lanes, const R: usize>(k: usize, x: *const f32, b: *const f32, ldb: usize, out: *mut f32, j: usize) {
        // SAFETY (whole body): p < k and j + R·N ≤ n, inside the caller's contract.
        unsafe {
            for r in 0..R {
                V::store(out.add(j + r * V::N), V::zero());
            }
            for pc in (0..k).step_by(gemm::KC) {
                let mut acc = [V::zero(); R];
                for p in pc..k.min(pc + gemm::KC) {
                    let xp = V::splat(x.add(p));
                    for (r, acc_r) in acc.iter_mut().enumerate() {
                        *acc_r = V::madd(xp, V::load(b.add(p * ldb + j + r * V::N)), *acc_r);
                    }
                }
                for (r, acc_r) in acc.iter().enumerate() {
                    let o = out.add(j + r * V::N);
                    V::store(o, V::add(V::load(o), *acc_r));
                }
            }
        }
    }
    // SAFETY (whole body): every column touched is < n, every p < k.
    unsafe {
        let mut j = 0;
        while j + 4 * V::N <= n {
            block::<V, 4>(k, x, b, ldb, out, j);
            j += 4 * V::N;
        }
        while j + V::N <= n {
            block::<V, 1>(k, x, b, ldb, out, j);
            j += V::N;
        }
        for j in j..n {
            let mut o = 0.0f32;
            for pc in (0..k).step_by(gemm::KC) {
                let mut acc = 0.0f32;
                for p in pc..k.min(pc + gemm::KC) {
                    acc = V::madd1(*x.add(p), *b.add(p * ldb + j), acc);
                }
                o += acc;
            }
            *out.add(j) = o;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// wasm32 simd128
// ---------------------------------------------------------------------------------------------

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm {
    use core::arch::wasm32::*;

    use super::{gemm, Lanes, MicroKernel};

    /// f32x4. V8 compiles each op to one SSE/AVX instruction; `v128.load32_splat` is one
    /// `vbroadcastss`.
    #[derive(Clone, Copy)]
    struct F32x4(v128);

    impl Lanes for F32x4 {
        const N: usize = 4;
        #[inline(always)]
        unsafe fn zero() -> Self {
            F32x4(f32x4_splat(0.0))
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            // SAFETY: the caller guarantees 4 floats at p; wasm loads may be unaligned.
            F32x4(unsafe { v128_load(p.cast::<v128>()) })
        }
        #[inline(always)]
        unsafe fn store(p: *mut f32, v: Self) {
            // SAFETY: the caller guarantees 4 writable floats at p.
            unsafe { v128_store(p.cast::<v128>(), v.0) }
        }
        #[inline(always)]
        unsafe fn splat(p: *const f32) -> Self {
            // SAFETY: the caller guarantees a float at p.
            F32x4(unsafe { v128_load32_splat(p.cast::<u32>()) })
        }
        /// One fused `f32x4.relaxed_madd` where relaxed SIMD is enabled (the engine may fuse or
        /// not: the last bit can differ between machines), else a multiply then an add.
        #[inline(always)]
        unsafe fn madd(a: Self, b: Self, c: Self) -> Self {
            #[cfg(target_feature = "relaxed-simd")]
            {
                F32x4(f32x4_relaxed_madd(a.0, b.0, c.0))
            }
            #[cfg(not(target_feature = "relaxed-simd"))]
            {
                F32x4(f32x4_add(c.0, f32x4_mul(a.0, b.0)))
            }
        }
        #[inline(always)]
        unsafe fn add(a: Self, b: Self) -> Self {
            F32x4(f32x4_add(a.0, b.0))
        }
        #[inline(always)]
        unsafe fn sum(v: Self) -> f32 {
            f32x4_extract_lane::<0>(v.0) + f32x4_extract_lane::<1>(v.0) + f32x4_extract_lane::<2>(v.0) + f32x4_extract_lane::<3>(v.0)
        }
    }

    unsafe fn tile_4x8(kc: usize, a: *const f32, b: *const f32, c: *mut f32, ldc: usize) {
        // SAFETY: forwarded contract; simd128 is enabled for the whole module.
        unsafe { super::tile::<F32x4, 4, 2>(kc, a, b, c, ldc) }
    }
    // The next three never inlined: a dot4 is one call per four columns, a row one per head and
    // product, and a copy in each caller would cost the threaded build bytes it does not have
    // (its budget is 200 KB gzipped).
    #[inline(never)]
    unsafe fn dot4_x4(k: usize, x: *const f32, w: *const f32, ldw: usize) -> [f32; 4] {
        // SAFETY: forwarded contract.
        unsafe { super::dot4::<F32x4>(k, x, w, ldw) }
    }
    #[inline(never)]
    unsafe fn dot4_packed_x4(k: usize, x: *const f32, wp: *const f32, blocks: usize, out: *mut f32) {
        // SAFETY: forwarded contract.
        unsafe { super::dot4_packed::<F32x4>(k, x, wp, blocks, out) }
    }
    #[inline(never)]
    unsafe fn row_x4(k: usize, x: *const f32, b: *const f32, ldb: usize, out: *mut f32, n: usize) {
        // SAFETY: forwarded contract.
        unsafe { super::row::<F32x4>(k, x, b, ldb, out, n) }
    }

    /// The kernel the wasm builds use.
    pub(super) static KERNEL: MicroKernel = MicroKernel {
        mr: 4,
        nr: 8,
        tile: tile_4x8,
        dot4: dot4_x4,
        dot4_packed: dot4_packed_x4,
        matvec_step: 2 * F32x4::N,
        row: row_x4,
        pack_a: gemm::pack::<4>,
        pack_b: gemm::pack::<8>,
        isa: if cfg!(target_feature = "relaxed-simd") { "wasm simd128 + relaxed madd" } else { "wasm simd128" },
    };
}

// ---------------------------------------------------------------------------------------------
// x86-64: SSE2 (baseline), AVX2+FMA and AVX-512F (detected at run time)
// ---------------------------------------------------------------------------------------------

#[cfg(target_arch = "x86_64")]
mod x86 {
    use core::arch::x86_64::*;

    use super::{gemm, Lanes, MicroKernel};

    /// __m128, SSE2 only (part of every x86-64): no FMA, so a multiply then an add.
    #[derive(Clone, Copy)]
    struct Sse(__m128);
    /// __m256 with FMA3. Only used inside `#[target_feature(enable = "avx2,fma")]` functions.
    #[derive(Clone, Copy)]
    struct Avx2(__m256);
    /// __m512. Only used inside `#[target_feature(enable = "avx512f")]` functions.
    #[derive(Clone, Copy)]
    struct Avx512(__m512);

    // SAFETY (all three impls): the caller guarantees the memory each method touches, and
    // that the CPU has the flavour's instructions (`select` checks before handing them out).
    impl Lanes for Sse {
        const N: usize = 4;
        #[inline(always)]
        unsafe fn zero() -> Self {
            Sse(unsafe { _mm_setzero_ps() })
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            Sse(unsafe { _mm_loadu_ps(p) })
        }
        #[inline(always)]
        unsafe fn store(p: *mut f32, v: Self) {
            unsafe { _mm_storeu_ps(p, v.0) }
        }
        #[inline(always)]
        unsafe fn splat(p: *const f32) -> Self {
            Sse(unsafe { _mm_set1_ps(*p) })
        }
        #[inline(always)]
        unsafe fn madd(a: Self, b: Self, c: Self) -> Self {
            Sse(unsafe { _mm_add_ps(c.0, _mm_mul_ps(a.0, b.0)) })
        }
        #[inline(always)]
        unsafe fn add(a: Self, b: Self) -> Self {
            Sse(unsafe { _mm_add_ps(a.0, b.0) })
        }
        #[inline(always)]
        unsafe fn sum(v: Self) -> f32 {
            let a: [f32; 4] = unsafe { core::mem::transmute(v.0) };
            (a[0] + a[1]) + (a[2] + a[3])
        }
    }

    impl Lanes for Avx2 {
        const N: usize = 8;
        #[inline(always)]
        unsafe fn zero() -> Self {
            Avx2(unsafe { _mm256_setzero_ps() })
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            Avx2(unsafe { _mm256_loadu_ps(p) })
        }
        #[inline(always)]
        unsafe fn store(p: *mut f32, v: Self) {
            unsafe { _mm256_storeu_ps(p, v.0) }
        }
        #[inline(always)]
        unsafe fn splat(p: *const f32) -> Self {
            Avx2(unsafe { _mm256_broadcast_ss(&*p) })
        }
        #[inline(always)]
        unsafe fn madd(a: Self, b: Self, c: Self) -> Self {
            Avx2(unsafe { _mm256_fmadd_ps(a.0, b.0, c.0) })
        }
        #[inline(always)]
        unsafe fn add(a: Self, b: Self) -> Self {
            Avx2(unsafe { _mm256_add_ps(a.0, b.0) })
        }
        #[inline(always)]
        unsafe fn sum(v: Self) -> f32 {
            let a: [f32; 8] = unsafe { core::mem::transmute(v.0) };
            ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))
        }
    }

    impl Lanes for Avx512 {
        const N: usize = 16;
        #[inline(always)]
        unsafe fn zero() -> Self {
            Avx512(unsafe { _mm512_setzero_ps() })
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            Avx512(unsafe { _mm512_loadu_ps(p) })
        }
        #[inline(always)]
        unsafe fn store(p: *mut f32, v: Self) {
            unsafe { _mm512_storeu_ps(p, v.0) }
        }
        #[inline(always)]
        unsafe fn splat(p: *const f32) -> Self {
            Avx512(unsafe { _mm512_set1_ps(*p) })
        }
        #[inline(always)]
        unsafe fn madd(a: Self, b: Self, c: Self) -> Self {
            Avx512(unsafe { _mm512_fmadd_ps(a.0, b.0, c.0) })
        }
        #[inline(always)]
        unsafe fn add(a: Self, b: Self) -> Self {
            Avx512(unsafe { _mm512_add_ps(a.0, b.0) })
        }
        #[inline(always)]
        unsafe fn sum(v: Self) -> f32 {
            unsafe { _mm512_reduce_add_ps(v.0) }
        }
    }

    // The entry points: each compiles the generic loops with its flavour's features enabled.
    // SAFETY (all): forwarded contracts; `select` only hands out a flavour the CPU supports.

    unsafe fn tile_sse2(kc: usize, a: *const f32, b: *const f32, c: *mut f32, ldc: usize) {
        unsafe { super::tile::<Sse, 6, 2>(kc, a, b, c, ldc) }
    }
    unsafe fn dot4_sse2(k: usize, x: *const f32, w: *const f32, ldw: usize) -> [f32; 4] {
        unsafe { super::dot4::<Sse>(k, x, w, ldw) }
    }
    unsafe fn dot4_packed_sse2(k: usize, x: *const f32, wp: *const f32, blocks: usize, out: *mut f32) {
        unsafe { super::dot4_packed::<Sse>(k, x, wp, blocks, out) }
    }
    unsafe fn row_sse2(k: usize, x: *const f32, b: *const f32, ldb: usize, out: *mut f32, n: usize) {
        unsafe { super::row::<Sse>(k, x, b, ldb, out, n) }
    }
    #[target_feature(enable = "avx2,fma")]
    unsafe fn tile_avx2(kc: usize, a: *const f32, b: *const f32, c: *mut f32, ldc: usize) {
        unsafe { super::tile::<Avx2, 6, 2>(kc, a, b, c, ldc) }
    }
    #[target_feature(enable = "avx2,fma")]
    unsafe fn dot4_avx2(k: usize, x: *const f32, w: *const f32, ldw: usize) -> [f32; 4] {
        unsafe { super::dot4::<Avx2>(k, x, w, ldw) }
    }
    #[target_feature(enable = "avx2,fma")]
    unsafe fn dot4_packed_avx2(k: usize, x: *const f32, wp: *const f32, blocks: usize, out: *mut f32) {
        unsafe { super::dot4_packed::<Avx2>(k, x, wp, blocks, out) }
    }
    #[target_feature(enable = "avx2,fma")]
    unsafe fn row_avx2(k: usize, x: *const f32, b: *const f32, ldb: usize, out: *mut f32, n: usize) {
        unsafe { super::row::<Avx2>(k, x, b, ldb, out, n) }
    }
    #[target_feature(enable = "avx512f")]
    unsafe fn tile_avx512(kc: usize, a: *const f32, b: *const f32, c: *mut f32, ldc: usize) {
        unsafe { super::tile::<Avx512, 14, 2>(kc, a, b, c, ldc) }
    }
    #[target_feature(enable = "avx512f")]
    unsafe fn dot4_avx512(k: usize, x: *const f32, w: *const f32, ldw: usize) -> [f32; 4] {
        unsafe { super::dot4::<Avx512>(k, x, w, ldw) }
    }
    #[target_feature(enable = "avx512f")]
    unsafe fn dot4_packed_avx512(k: usize, x: *const f32, wp: *const f32, blocks: usize, out: *mut f32) {
        unsafe { super::dot4_packed::<Avx512>(k, x, wp, blocks, out) }
    }
    #[target_feature(enable = "avx512f")]
    unsafe fn row_avx512(k: usize, x: *const f32, b: *const f32, ldb: usize, out: *mut f32, n: usize) {
        unsafe { super::row::<Avx512>(k, x, b, ldb, out, n) }
    }

    /// Runs on every x86-64.
    pub(super) static SSE2: MicroKernel = MicroKernel { mr: 6, nr: 8, tile: tile_sse2, dot4: dot4_sse2, dot4_packed: dot4_packed_sse2, matvec_step: 2 * Sse::N, row: row_sse2, pack_a: gemm::pack::<6>, pack_b: gemm::pack::<8>, isa: "x86-64 sse2" };
    /// Needs avx2 and fma (checked by `select`).
    pub(super) static AVX2: MicroKernel = MicroKernel { mr: 6, nr: 16, tile: tile_avx2, dot4: dot4_avx2, dot4_packed: dot4_packed_avx2, matvec_step: 2 * Avx2::N, row: row_avx2, pack_a: gemm::pack::<6>, pack_b: gemm::pack::<16>, isa: "x86-64 avx2+fma" };
    /// Needs avx512f (checked by `select`).
    pub(super) static AVX512: MicroKernel = MicroKernel { mr: 14, nr: 32, tile: tile_avx512, dot4: dot4_avx512, dot4_packed: dot4_packed_avx512, matvec_step: 2 * Avx512::N, row: row_avx512, pack_a: gemm::pack::<14>, pack_b: gemm::pack::<32>, isa: "x86-64 avx512f" };
}

// ---------------------------------------------------------------------------------------------
// Portable: other targets (aarch64, wasm without simd128)
// ---------------------------------------------------------------------------------------------

#[cfg(any(test, not(any(all(target_arch = "wasm32", target_feature = "simd128"), target_arch = "x86_64"))))]
mod portable {
    use super::{gemm, Lanes, MicroKernel};

    /// Four lanes as a plain array; LLVM vectorises what it can (NEON on aarch64).
    #[derive(Clone, Copy)]
    struct X4([f32; 4]);

    impl Lanes for X4 {
        const N: usize = 4;
        #[inline(always)]
        unsafe fn zero() -> Self {
            X4([0.0; 4])
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            // SAFETY: the caller guarantees 4 floats at p.
            X4(unsafe { p.cast::<[f32; 4]>().read_unaligned() })
        }
        #[inline(always)]
        unsafe fn store(p: *mut f32, v: Self) {
            // SAFETY: the caller guarantees 4 writable floats at p.
            unsafe { p.cast::<[f32; 4]>().write_unaligned(v.0) }
        }
        #[inline(always)]
        unsafe fn splat(p: *const f32) -> Self {
            // SAFETY: the caller guarantees a float at p.
            X4([unsafe { *p }; 4])
        }
        #[inline(always)]
        unsafe fn madd(a: Self, b: Self, c: Self) -> Self {
            X4(core::array::from_fn(|l| c.0[l] + a.0[l] * b.0[l]))
        }
        #[inline(always)]
        unsafe fn add(a: Self, b: Self) -> Self {
            X4(core::array::from_fn(|l| a.0[l] + b.0[l]))
        }
        #[inline(always)]
        unsafe fn sum(v: Self) -> f32 {
            (v.0[0] + v.0[1]) + (v.0[2] + v.0[3])
        }
    }

    unsafe fn tile_4x8(kc: usize, a: *const f32, b: *const f32, c: *mut f32, ldc: usize) {
        // SAFETY: forwarded contract.
        unsafe { super::tile::<X4, 4, 2>(kc, a, b, c, ldc) }
    }
    unsafe fn dot4_x4(k: usize, x: *const f32, w: *const f32, ldw: usize) -> [f32; 4] {
        // SAFETY: forwarded contract.
        unsafe { super::dot4::<X4>(k, x, w, ldw) }
    }
    unsafe fn dot4_packed_x4(k: usize, x: *const f32, wp: *const f32, blocks: usize, out: *mut f32) {
        // SAFETY: forwarded contract.
        unsafe { super::dot4_packed::<X4>(k, x, wp, blocks, out) }
    }
    unsafe fn row_x4(k: usize, x: *const f32, b: *const f32, ldb: usize, out: *mut f32, n: usize) {
        // SAFETY: forwarded contract.
        unsafe { super::row::<X4>(k, x, b, ldb, out, n) }
    }

    /// The kernel for targets without a hand-written flavour.
    pub(super) static KERNEL: MicroKernel = MicroKernel { mr: 4, nr: 8, tile: tile_4x8, dot4: dot4_x4, dot4_packed: dot4_packed_x4, matvec_step: 2 * X4::N, row: row_x4, pack_a: gemm::pack::<4>, pack_b: gemm::pack::<8>, isa: "portable" };
}
