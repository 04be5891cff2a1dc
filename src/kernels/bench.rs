//! Timing matmuls, for the native bench (`src/bin/bench.rs`) and the wasm bench page alike.
//!
//! The clock is passed in (`Instant` natively, `performance.now()` in the page: wasm32 has no
//! `std::time::Instant`), so this module stays plain Rust. Each sample repeats the product
//! until it lasts at least `min_sample_s`, so coarse browser timers (5-100 µs) do not swamp
//! small sizes; the statistics are over samples taken after a warm-up.

use super::Kernels;

/// Which products to time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `out (M, N) = inp (M, K) · W (N, K)ᵀ + b`: 2·M·N·K FLOPs.
    Forward,
    /// `dinp += dout · W`, `dweight += doutᵀ · inp`, `dbias += Σ dout`: 4·M·N·K FLOPs (the bias sum is not counted).
    Backward,
}

impl Op {
    /// FLOPs of one call on an (M, K) × (N, K)ᵀ layer.
    pub fn flops(self, m: usize, k: usize, n: usize) -> f64 {
        let mnk = m as f64 * n as f64 * k as f64;
        match self {
            Op::Forward => 2.0 * mnk,
            Op::Backward => 4.0 * mnk,
        }
    }
}

/// How long to measure.
#[derive(Debug, Clone, Copy)]
pub struct BenchConfig {
    /// Timed samples; the median, min and max are over these.
    pub samples: usize,
    /// Each sample repeats the call until it lasts at least this long (seconds).
    pub min_sample_s: f64,
}

impl Default for BenchConfig {
    fn default() -> Self {
        BenchConfig { samples: 15, min_sample_s: 0.02 }
    }
}

/// Seconds per call over the samples, and what that is in GFLOPS.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    /// Median seconds per call.
    pub median_s: f64,
    /// Fastest sample, seconds per call.
    pub min_s: f64,
    /// Slowest sample, seconds per call.
    pub max_s: f64,
    /// FLOPs of one call.
    pub flops: f64,
    /// Calls per sample (chosen so a sample lasts at least `min_sample_s`).
    pub calls_per_sample: usize,
}

impl Stats {
    /// GFLOPS at the median time.
    pub fn gflops(&self) -> f64 {
        self.flops / self.median_s / 1e9
    }
    /// GFLOPS of the fastest sample.
    pub fn gflops_best(&self) -> f64 {
        self.flops / self.min_s / 1e9
    }
    /// GFLOPS of the slowest sample.
    pub fn gflops_worst(&self) -> f64 {
        self.flops / self.max_s / 1e9
    }
}

/// Deterministic values in [-1, 1) (a xorshift generator: the bench needs no `rand`).
pub fn fill_uniform(buf: &mut [f32], seed: u64) {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for v in buf {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        *v = (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0;
    }
}

/// Times `op` on an (M, K) × (N, K)ᵀ layer with `kernels`. `clock` returns seconds from any
/// fixed origin. Allocates its operands once, then only calls the kernel. The calls run as the
/// model makes them: inside [`super::on_pool`] (on a pool worker, for the threaded backend).
pub fn bench_matmul(
    kernels: &dyn Kernels,
    op: Op,
    m: usize,
    k: usize,
    n: usize,
    config: BenchConfig,
    clock: &mut (dyn FnMut() -> f64 + Send),
) -> Stats {
    super::on_pool(kernels, || {
        let mut inp = vec![0.0f32; m * k]; // (M, K)
        let mut weight = vec![0.0f32; n * k]; // (N, K)
        let mut bias = vec![0.0f32; n]; // (N)
        let mut dout = vec![0.0f32; m * n]; // (M, N)
        fill_uniform(&mut inp, 1);
        fill_uniform(&mut weight, 2);
        fill_uniform(&mut bias, 3);
        fill_uniform(&mut dout, 4);
        let mut out = vec![0.0f32; m * n]; // (M, N)
        let mut dinp = vec![0.0f32; m * k]; // (M, K)
        let mut dweight = vec![0.0f32; n * k]; // (N, K)
        let mut dbias = vec![0.0f32; n]; // (N)
        let mut call = || match op {
            Op::Forward => kernels.matmul_forward(&mut out, &inp, &weight, Some(&bias), m, k, n),
            Op::Backward => kernels.matmul_backward(&mut dinp, &mut dweight, Some(&mut dbias), &dout, &inp, &weight, m, k, n),
        };

        // Warm-up (pack buffers, caches, the thread pool, JIT tiers), then calibrate the calls
        // per sample by doubling until one batch lasts min_sample_s.
        call();
        let mut calls = 1usize;
        loop {
            let t0 = clock();
            for _ in 0..calls {
                call();
            }
            // A minimum that is not a finite number (NaN, from any caller) ends the calibration
            // at once instead of doubling the calls for ever.
            if clock() - t0 >= config.min_sample_s || !config.min_sample_s.is_finite() || calls >= 1 << 30 {
                break;
            }
            calls *= 2;
        }

        let mut per_call: Vec<f64> = (0..config.samples.max(1))
            .map(|_| {
                let t0 = clock();
                for _ in 0..calls {
                    call();
                }
                (clock() - t0) / calls as f64
            })
            .collect();
        crate::sort::sort_by(&mut per_call, f64::total_cmp);
        let len = per_call.len();
        let median_s = if len % 2 == 1 { per_call[len / 2] } else { 0.5 * (per_call[len / 2 - 1] + per_call[len / 2]) };
        Stats { median_s, min_s: per_call[0], max_s: per_call[len - 1], flops: op.flops(m, k, n), calls_per_sample: calls }
    })
}

/// The bench's shapes for a model of width C over B·T rows and vocabulary V, as (label, M, K, N):
/// the five linear layers of a GPT block and the head.
pub fn model_shapes(bt: usize, c: usize, v: usize) -> Vec<(String, usize, usize, usize)> {
    vec![
        ("attn.c_attn (BT,C)x(3C,C)ᵀ".to_string(), bt, c, 3 * c),
        ("attn.c_proj (BT,C)x(C,C)ᵀ".to_string(), bt, c, c),
        ("mlp.c_fc   (BT,C)x(4C,C)ᵀ".to_string(), bt, c, 4 * c),
        ("mlp.c_proj (BT,4C)x(C,4C)ᵀ".to_string(), bt, 4 * c, c),
        ("lm_head    (BT,C)x(V,C)ᵀ".to_string(), bt, c, v),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flops_count_multiply_adds_twice() {
        assert_eq!(Op::Forward.flops(2, 3, 4), 48.0);
        assert_eq!(Op::Backward.flops(2, 3, 4), 96.0);
    }

    #[test]
    fn uniform_values_stay_in_range_and_vary() {
        let mut v = vec![0.0; 1000];
        fill_uniform(&mut v, 7);
        assert!(v.iter().all(|x| (-1.0..1.0).contains(x)));
        let mean = v.iter().sum::<f32>() / 1000.0;
        assert!(mean.abs() < 0.1, "mean {mean}");
        assert!(v.windows(2).all(|w| w[0] != w[1]));
    }

    /// A fake clock advancing 1 ms per reading: the statistics follow from it exactly.
    #[test]
    fn stats_come_from_the_clock() {
        let mut t = 0.0;
        let mut clock = || {
            t += 1e-3;
            t
        };
        let cfg = BenchConfig { samples: 5, min_sample_s: 0.0 };
        let s = bench_matmul(&super::super::scalar::Scalar, Op::Forward, 2, 3, 4, cfg, &mut clock);
        assert_eq!(s.calls_per_sample, 1);
        assert!((s.median_s - 1e-3).abs() < 1e-12 && (s.min_s - 1e-3).abs() < 1e-12);
        assert!((s.gflops() - 48.0 / 1e-3 / 1e9).abs() < 1e-9);
    }

    /// A minimum that is not a finite number is no minimum: one call per sample. (Without its
    /// own check, NaN kept the calibration doubling the calls up to 2^30 of them: a hung page.)
    /// The clock counts its readings and stops the test at once if the calibration goes on.
    #[test]
    fn a_nan_minimum_sample_does_not_hang_the_calibration() {
        for min_sample_s in [f64::NAN, f64::INFINITY] {
            let (mut t, mut reads) = (0.0, 0);
            let mut clock = || {
                reads += 1;
                assert!(reads < 50, "min_sample_s = {min_sample_s}: the calibration did not stop");
                t += 1e-3;
                t
            };
            let cfg = BenchConfig { samples: 3, min_sample_s };
            let s = bench_matmul(&super::super::scalar::Scalar, Op::Forward, 1, 1, 1, cfg, &mut clock);
            assert_eq!(s.calls_per_sample, 1);
        }
    }
}
