//! A small seeded random number generator, bit-identical natively and in wasm.
//!
//! PCG32 (O'Neill's XSH-RR output on a 64-bit LCG): a seed gives the same stream everywhere,
//! which makes initialisation, batch sampling and text generation reproducible across the CLI
//! and the browser. Normal draws use Box–Muller with the deterministic `ln`/`cos` of
//! [`crate::model::math`], not libm.

use crate::error::{Error, Result};
use crate::model::math::{cos_f64, ln_f64};

/// PCG32 random number generator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng {
    state: u64,
    inc: u64,
}

impl Rng {
    const MULT: u64 = 6_364_136_223_846_793_005;

    /// A generator whose whole stream is fixed by `seed`.
    pub fn new(seed: u64) -> Rng {
        let mut r = Rng { state: 0, inc: (0xda3e_39cb_94b9_5bdb << 1) | 1 };
        r.next_u32();
        r.state = r.state.wrapping_add(seed);
        r.next_u32();
        r
    }

    /// A fresh seed from the operating system or the browser's `crypto.getRandomValues`.
    pub fn entropy_seed() -> Result<u64> {
        getrandom::u64().map_err(|e| Error::invalid("seed", format!("no random seed available: {e}")))
    }

    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        let old = self.state;
        self.state = old.wrapping_mul(Self::MULT).wrapping_add(self.inc);
        let xorshifted = (((old >> 18) ^ old) >> 27) as u32;
        let rot = (old >> 59) as u32;
        xorshifted.rotate_right(rot)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        ((self.next_u32() as u64) << 32) | self.next_u32() as u64
    }

    /// Uniform in [0, 1) with 24 random bits.
    pub fn uniform_f32(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0)
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn uniform_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Uniform integer in [0, n) (Lemire's multiply-shift; the bias for n ≪ 2^32 is negligible
    /// for picking batch offsets). `n` must be positive.
    pub fn below(&mut self, n: usize) -> usize {
        debug_assert!(n > 0);
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// A standard normal draw (Box–Muller, one value per call).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform_f64(); // (0, 1]: ln is finite
        let u2 = self.uniform_f64();
        (-2.0 * ln_f64(u1)).sqrt() * cos_f64(std::f64::consts::TAU * u2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first outputs of the reference pcg32 (pcg32_srandom(42, 54) in pcg-c-basic gives
    /// 0xa15c02b7 0x7b47f409 ...). Our stream id is fixed, so check the generator against an
    /// independent re-implementation with the reference's seeding instead.
    #[test]
    fn matches_reference_pcg32() {
        // pcg-c-basic: srandom(initstate=42, initseq=54).
        let mut r = Rng { state: 0, inc: (54u64 << 1) | 1 };
        r.next_u32();
        r.state = r.state.wrapping_add(42);
        r.next_u32();
        let got: Vec<u32> = (0..6).map(|_| r.next_u32()).collect();
        assert_eq!(got, [0xa15c02b7, 0x7b47f409, 0xba1d3330, 0x83d2f293, 0xbfa4784b, 0xcbed606e]);
    }

    #[test]
    fn normal_has_unit_moments_and_is_reproducible() {
        let mut r = Rng::new(7);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| r.normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.01, "variance {var}");
        let mut again = Rng::new(7);
        assert_eq!(again.normal(), xs[0]);
        assert_ne!(Rng::new(8).normal(), xs[0]);
    }

    #[test]
    fn below_stays_in_range() {
        let mut r = Rng::new(1);
        let mut seen = [0usize; 5];
        for _ in 0..5000 {
            seen[r.below(5)] += 1;
        }
        assert!(seen.iter().all(|&c| c > 900), "{seen:?}");
    }
}
