//! Deterministic elementary functions and the two vector helpers the layers are built on.
//!
//! `f32::exp`, `f64::ln`, `sin`, `cos` and `tanh` are libm calls: glibc natively and a Rust
//! port of musl's libm on wasm32. They may differ in the last bit, and one flipped bit in a
//! softmax can change a sampled character. Everything here uses only `+ - * /`, `sqrt`, `floor`
//! and bit casts, which IEEE 754 defines exactly, so the same inputs give the same bits natively
//! and in the browser. Accuracy: `exp` ≈ 1 ulp (Cephes `expf`), the f64 functions ≈ 1e-15
//! relative over the ranges the model uses.
//!
//! [`dot`] and [`axpy`] are written so the compiler vectorises them (eight independent lanes,
//! no reordering of a single sum), which also fixes their summation order on every platform.

// The constants are quoted as their sources (Cephes, fdlibm) print them.
#![allow(clippy::excessive_precision)]

/// The constants of [`exp`] and [`tanh`] as data. In a loop, V8 does not keep a 128-bit
/// constant in a register: it rebuilds it before each use, a few instructions each time, and
/// GELU's vectorised loop uses 22 of them. A loop that takes its constants from [`consts`] and
/// calls [`exp_with`] / [`tanh_with`] gets them as ordinary values, which stay in registers or
/// are reloaded from the stack: the same operations, the same bits, and in Chromium 148
/// GELU over 262,144 floats took 0.76-0.88 ms instead of 1.04-1.21.
#[derive(Clone, Copy)]
pub struct Consts {
    log2e: f32,
    /// ln 2 split in two so that n * ln2_hi is exact for the n we meet (Cephes).
    ln2_hi: f32,
    ln2_lo: f32,
    /// 1.5 * 2^23: adding it rounds to the nearest integer and leaves it in the low mantissa bits.
    magic: f32,
    lo: f32,
    hi: f32,
    /// Cephes expf's polynomial, highest power first.
    poly: [f32; 6],
    pub one: f32,
    pub two: f32,
}

const CONSTS: Consts = Consts {
    log2e: std::f32::consts::LOG2_E,
    ln2_hi: 0.693_359_4,
    ln2_lo: -2.121_944_4e-4,
    magic: 12_582_912.0,
    lo: -87.0,
    hi: 88.0,
    poly: [1.987_569_1e-4, 1.398_199_9e-3, 8.333_452e-3, 4.166_579_6e-2, 1.666_666_5e-1, 5.000_000_1e-1],
    one: 1.0,
    two: 2.0,
};

/// [`Consts`] the optimiser cannot see through (so cannot turn back into literals): call it
/// once before a loop.
#[inline(always)]
pub fn consts() -> Consts {
    core::hint::black_box(CONSTS)
}

/// `e^x` in f32, branch-free so loops over it vectorise. Inputs are clamped to [-87, 88]
/// (results between 1.6e-38 and 1.7e38): softmax and GELU never need more.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    exp_with(x, &CONSTS)
}

/// [`exp`] with its constants passed in (see [`Consts`]).
#[inline(always)]
pub fn exp_with(x: f32, k: &Consts) -> f32 {
    let x = x.clamp(k.lo, k.hi);
    let shifted = x * k.log2e + k.magic;
    let n = shifted - k.magic; // round(x / ln 2)
    let r = x - n * k.ln2_hi - n * k.ln2_lo; // |r| <= ln2 / 2
    // Cephes expf: e^r = 1 + r + r² P(r), about 1 ulp on |r| <= ln2 / 2.
    let p = ((((k.poly[0] * r + k.poly[1]) * r + k.poly[2]) * r + k.poly[3]) * r + k.poly[4]) * r + k.poly[5];
    let er = k.one + r + r * r * p;
    let ni = (shifted.to_bits() as i32).wrapping_sub(k.magic.to_bits() as i32); // n as an integer
    let pow2 = f32::from_bits(((ni + 127) << 23) as u32); // 2^n, n in [-126, 127]
    er * pow2
}

/// `tanh(x)` in f32 as `1 - 2 / (e^{2x} + 1)`: absolute error about 1e-7, which is what GELU
/// needs (it adds 1 to the result).
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    tanh_with(x, &CONSTS)
}

/// [`tanh`] with its constants passed in (see [`Consts`]).
#[inline(always)]
pub fn tanh_with(x: f32, k: &Consts) -> f32 {
    k.one - k.two / (exp_with(k.two * x, k) + k.one)
}

/// `e^x` in f64 (for tables and the learning-rate schedule, not for inner loops).
pub fn exp_f64(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let x = x.clamp(-708.0, 709.0);
    const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;
    let n = (x * std::f64::consts::LOG2_E + 0.5).floor();
    let r = (x - n * LN2_HI) - n * LN2_LO; // |r| <= 0.35
    // Taylor series to r^14: the first omitted term is below 1e-17.
    let mut term = 1.0;
    let mut sum = 1.0;
    for i in 1..=14 {
        term *= r / i as f64;
        sum += term;
    }
    sum * f64::from_bits(((n as i64 + 1023) as u64) << 52)
}

/// Natural logarithm in f64. `ln(0) = -inf`; negative or NaN input gives NaN.
pub fn ln_f64(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x.is_infinite() {
        return x;
    }
    // Subnormals: scale into the normal range first.
    let (x, extra) = if x < f64::MIN_POSITIVE { (x * 2f64.powi(54), -54.0) } else { (x, 0.0) };
    let bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000); // [1, 2)
    if m > std::f64::consts::SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    // ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.172.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut poly = 0.0;
    for k in (0..=10).rev() {
        poly = poly * s2 + 1.0 / (2 * k + 1) as f64;
    }
    2.0 * s * poly + (e as f64 + extra) * std::f64::consts::LN_2
}

/// Reduces x to r in [-pi/4, pi/4] and the quadrant, x = q pi/2 + r (Cody–Waite, exact enough
/// for |x| < 1e6).
fn reduce_half_pi(x: f64) -> (f64, i64) {
    const PIO2_1: f64 = 1.570_796_326_734_125_614_17; // first 33 bits of pi/2
    const PIO2_1T: f64 = 6.077_100_506_506_192_249_32e-11; // pi/2 - PIO2_1
    let q = (x * std::f64::consts::FRAC_2_PI + 0.5).floor();
    ((x - q * PIO2_1) - q * PIO2_1T, q as i64)
}

fn sin_poly(r: f64) -> f64 {
    let r2 = r * r;
    let mut poly = 0.0;
    // Σ (-1)^k r^(2k+1) / (2k+1)! for k = 0..=8.
    for k in (0..=8).rev() {
        let f = (1..=(2 * k + 1)).fold(1.0, |a, i| a * i as f64);
        let c = if k % 2 == 0 { 1.0 / f } else { -1.0 / f };
        poly = poly * r2 + c;
    }
    r * poly
}

fn cos_poly(r: f64) -> f64 {
    let r2 = r * r;
    let mut poly = 0.0;
    for k in (0..=9).rev() {
        let f = (1..=(2 * k)).fold(1.0, |a, i| a * i as f64);
        let c = if k % 2 == 0 { 1.0 / f } else { -1.0 / f };
        poly = poly * r2 + c;
    }
    poly
}

/// `sin(x)` in f64.
pub fn sin_f64(x: f64) -> f64 {
    if !x.is_finite() {
        return f64::NAN;
    }
    let (r, q) = reduce_half_pi(x);
    match q.rem_euclid(4) {
        0 => sin_poly(r),
        1 => cos_poly(r),
        2 => -sin_poly(r),
        _ => -cos_poly(r),
    }
}

/// `cos(x)` in f64.
pub fn cos_f64(x: f64) -> f64 {
    if !x.is_finite() {
        return f64::NAN;
    }
    let (r, q) = reduce_half_pi(x);
    match q.rem_euclid(4) {
        0 => cos_poly(r),
        1 => -sin_poly(r),
        2 => -cos_poly(r),
        _ => sin_poly(r),
    }
}

/// `Σ a[i] b[i]` over equal-length slices, in eight interleaved partial sums (vectorises).
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    let mut acc = [0.0f32; 8];
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// `y += alpha x` over equal-length slices.
#[inline(always)]
pub fn axpy(y: &mut [f32], alpha: f32, x: &[f32]) {
    debug_assert_eq!(y.len(), x.len());
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
}

/// Defines `pub fn NAME(args) { body }` and, on x86-64, a second build of the same body with
/// AVX2 enabled, chosen at run time. AVX2 without FMA does the same IEEE operations in the same
/// order as SSE2 and wasm simd128, eight lanes at a time, so every build gives the same bits.
/// The body's helpers must be `#[inline(always)]` to be compiled into each build.
macro_rules! with_avx2 {
    ($(#[$meta:meta])* pub fn $name:ident($($arg:ident : $ty:ty),* $(,)?) $body:block) => {
        $(#[$meta])*
        pub fn $name($($arg: $ty),*) {
            #[inline(always)]
            fn body($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                unsafe fn avx2($($arg: $ty),*) {
                    body($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU supports AVX2, checked just above.
                    return unsafe { avx2($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}
pub(crate) use with_avx2;

#[cfg(test)]
mod tests {
    use super::*;

    /// Against the platform's libm, which is independent of these polynomials.
    #[test]
    fn exp_and_tanh_match_libm() {
        let mut worst = 0.0f64;
        for i in -8700..=8800 {
            let x = i as f32 * 0.01;
            let (ours, std) = (exp(x) as f64, (x as f64).exp());
            worst = worst.max(((ours - std) / std).abs());
        }
        assert!(worst < 3e-7, "exp worst relative error {worst}");
        for i in -2000..=2000 {
            let x = i as f32 * 0.005;
            let want = (x as f64).tanh();
            assert!((tanh(x) as f64 - want).abs() < 2e-7, "tanh({x}) = {} vs {want}", tanh(x));
        }
        assert_eq!(tanh(100.0), 1.0);
        assert_eq!(tanh(-100.0), -1.0);
        assert_eq!(exp(-1000.0), exp(-87.0));
        assert!(exp(f32::NAN).is_nan());
    }

    /// The constants passed as data are the literals: the same bits for every input.
    #[test]
    fn constants_as_data_give_the_same_bits() {
        let k = consts();
        for i in -100_000..=100_000 {
            let x = i as f32 * 1e-3;
            assert_eq!(exp_with(x, &k).to_bits(), exp(x).to_bits(), "exp({x})");
            assert_eq!(tanh_with(x, &k).to_bits(), tanh(x).to_bits(), "tanh({x})");
        }
        for x in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 1e30, -1e30] {
            assert_eq!(exp_with(x, &k).to_bits(), exp(x).to_bits(), "exp({x})");
        }
    }

    #[test]
    fn f64_functions_match_libm() {
        for i in 1..2000 {
            let x = i as f64 * 0.37;
            assert!((ln_f64(x) - x.ln()).abs() <= 1e-15 * x.ln().abs().max(1.0), "ln({x})");
            assert!((sin_f64(x) - x.sin()).abs() < 1e-14, "sin({x})");
            assert!((cos_f64(x) - x.cos()).abs() < 1e-14, "cos({x})");
            let y = x / 30.0 - 30.0;
            assert!(((exp_f64(y) - y.exp()) / y.exp()).abs() < 1e-15, "exp({y})");
        }
        assert!((ln_f64(1e-310) - 1e-310f64.ln()).abs() < 1e-12);
        assert_eq!(ln_f64(0.0), f64::NEG_INFINITY);
        assert!(ln_f64(-1.0).is_nan());
    }

    #[test]
    fn dot_and_axpy_against_plain_loops() {
        for n in [0, 1, 7, 8, 9, 33] {
            let a: Vec<f32> = (0..n).map(|i| i as f32 * 0.5 - 3.0).collect();
            let b: Vec<f32> = (0..n).map(|i| 1.0 - i as f32 * 0.25).collect();
            let want: f64 = a.iter().zip(&b).map(|(x, y)| *x as f64 * *y as f64).sum();
            assert!((dot(&a, &b) as f64 - want).abs() < 1e-4, "n = {n}");
            let mut y = b.clone();
            axpy(&mut y, 2.0, &a);
            for i in 0..n {
                assert_eq!(y[i], b[i] + 2.0 * a[i]);
            }
        }
    }
}
