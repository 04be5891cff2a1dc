//! A backend against the scalar reference on a training step: `tests/model_backends.rs` runs it
//! natively on every backend (the threaded one in pools of two and three threads), and
//! `tests/web_kernels.rs` on simd128 (and relaxed SIMD) in the browser. (Not in the wasm builds'
//! API: the threaded one has no room in its size budget; its pool is checked in the browser by
//! the e2e tests instead.)
//!
//! Two training steps of a small GPT (B = 4, T = 67, C = 96, 3 heads, V = 53, 2 layers) from the
//! same seed on the backend and on [`Scalar`]: the losses and gradient norms, every parameter
//! tensor's gradient, and what the steps changed in every tensor. Every matmul product of a
//! linear layer is in them (the forward in the loss, `dinp` and `dweight` and `dbias` in the
//! gradients), and nothing takes a short cut: the products (M = B · T = 268 rows, up to 268 · 96 ·
//! 384 = 9.9 M multiply-adds) are above the threaded backend's split threshold (2^20), T = 67 and
//! V = 53 end in partial micro-tiles, and the sequences span three of the attention's causal
//! panels (32 query rows).

use crate::config::GptConfig;
use crate::kernels::scalar::Scalar;
use crate::kernels::Kernels;
use crate::model::train::{TrainConfig, Trainer};
use crate::model::Gpt;
use crate::Result;

/// The largest relative error of each result against the scalar reference.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Agreement {
    /// The two steps' losses and gradient norms: |got − scalar| / |scalar|.
    pub loss: f64,
    /// The gradients after the second step: ‖got − scalar‖ / ‖scalar‖ per parameter tensor.
    pub gradients: f64,
    /// What the two steps changed (AdamW's updates): ‖got − scalar‖ / ‖scalar − initial‖ per
    /// parameter tensor.
    pub update: f64,
}

impl Agreement {
    /// Float tolerance: 1e-5 for the losses (seen: 0), 1e-4 for the gradients (seen: below
    /// 1e-6), 5e-3 for the updates (seen: 3e-4; AdamW divides by √v, which magnifies the
    /// rounding of the smallest gradients). A wrong product or a lost block of rows is off by
    /// far more than any of these.
    pub const TOLERANCE: Agreement = Agreement { loss: 1e-5, gradients: 1e-4, update: 5e-3 };

    /// The results as (name, relative error, tolerance).
    pub fn rows(&self) -> [(&'static str, f64, f64); 3] {
        let t = Self::TOLERANCE;
        [("loss", self.loss, t.loss), ("gradients", self.gradients, t.gradients), ("update", self.update, t.update)]
    }

    /// Whether every result is within [`Agreement::TOLERANCE`] (a NaN never is).
    pub fn agrees(&self) -> bool {
        self.rows().iter().all(|&(_, e, tol)| e <= tol)
    }
}

/// ‖a − b‖ / ‖b − base‖ (0 when a and b are equal; a NaN anywhere gives NaN); without a base,
/// the plain relative error ‖a − b‖ / ‖b‖.
#[inline(never)]
fn relative_error(a: &[f32], b: &[f32], base: Option<&[f32]>) -> f64 {
    let (mut d2, mut b2) = (0.0f64, 0.0f64);
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        let b0 = base.map_or(0.0, |p| p[i]);
        d2 += (x as f64 - y as f64).powi(2);
        b2 += (y as f64 - b0 as f64).powi(2);
    }
    if d2 == 0.0 {
        return 0.0;
    }
    d2.sqrt() / b2.sqrt().max(1e-30)
}

/// The larger of two errors, keeping a NaN (which `f64::max` would drop) so that it fails.
fn worst(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// The check's GPT: 2 layers of 3 heads, C = 96, T = 67, V = 53.
fn config() -> GptConfig {
    GptConfig { block_size: 67, vocab_size: 53, n_layer: 2, n_head: 3, n_embd: 96, ..GptConfig::default() }
}

/// Two steps at batch 4 on `k` (as data-parallel shards on `shards` replicas when above 1):
/// the model after them, and each step's loss and gradient norm.
fn steps(k: &dyn Kernels, shards: usize) -> Result<(Gpt, [f32; 4])> {
    let mut gpt = Gpt::new(config(), 9)?;
    let mut trainer = Trainer::new(TrainConfig { batch_size: 4, ..TrainConfig::default() }, &mut gpt)?;
    // A token stream with structure, so that the gradients are not those of noise.
    let ids: Vec<u32> = (0..4000u32).map(|i| (i * 7 + i / 11 + (i * i) % 13) % 53).collect();
    let mut replicas = if shards > 1 { trainer.replicas(&gpt, shards)? } else { Vec::new() };
    let mut stats = [0.0; 4];
    for i in 0..2 {
        let s = if shards > 1 { trainer.step_sharded(&mut gpt, &mut replicas, k, &ids)? } else { trainer.step(&mut gpt, k, &ids)? };
        (stats[2 * i], stats[2 * i + 1]) = (s.loss, s.grad_norm);
    }
    Ok((gpt, stats))
}

/// `k` against [`Scalar`] on two training steps (on `shards` data-parallel replicas when above
/// 1, as the Train page steps on threads; `k` then runs each shard).
pub fn against_scalar(k: &dyn Kernels, shards: usize) -> Result<Agreement> {
    let ((got, got_stats), (want, want_stats)) = (steps(k, shards)?, steps(&Scalar, 1)?);
    let init = Gpt::new(config(), 9)?;
    let mut a = Agreement::default();
    for (x, y) in got_stats.iter().zip(&want_stats) {
        a.loss = worst(a.loss, ((x - y) as f64 / *y as f64).abs());
    }
    for spec in &init.layout().specs {
        let r = spec.offset..spec.offset + spec.size;
        a.gradients = worst(a.gradients, relative_error(&got.grads()[r.clone()], &want.grads()[r.clone()], None));
        let p0 = &init.params()[r.clone()];
        a.update = worst(a.update, relative_error(&got.params()[r.clone()], &want.params()[r], Some(p0)));
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_error_by_hand() {
        assert_eq!(relative_error(&[3.0, 4.0], &[3.0, 4.0], None), 0.0);
        assert!((relative_error(&[3.0, 4.5], &[3.0, 4.0], None) - 0.1).abs() < 1e-12); // 0.5 / 5
        // Against the change from a base: ‖(3, 4.5) − (3, 4)‖ / ‖(3, 4) − (0, 3)‖ = 0.5 / √10.
        assert!((relative_error(&[3.0, 4.5], &[3.0, 4.0], Some(&[0.0, 3.0])) - 0.5 / 10f64.sqrt()).abs() < 1e-12);
        assert!(relative_error(&[f32::NAN], &[1.0], None).is_nan());
    }

    #[test]
    fn agreement_fails_on_any_result_past_tolerance_or_nan() {
        assert!(Agreement::default().agrees());
        assert!(Agreement::TOLERANCE.agrees());
        assert!(!Agreement { gradients: 2e-4, ..Agreement::default() }.agrees());
        assert!(!Agreement { update: f64::NAN, ..Agreement::default() }.agrees());
        assert!(worst(worst(0.0, f64::NAN), 1.0).is_nan());
    }
}
