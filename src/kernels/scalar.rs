//! The scalar reference: plain loops, obviously right, kept forever. Every fast kernel is
//! tested against it.

use super::Kernels;

/// The reference backend.
#[derive(Debug, Default, Clone, Copy)]
pub struct Scalar;

impl Kernels for Scalar {
    fn name(&self) -> &'static str {
        "scalar"
    }

    fn matmul_forward(
        &self,
        out: &mut [f32],
        inp: &[f32],
        weight: &[f32],
        bias: Option<&[f32]>,
        m: usize,
        k: usize,
        n: usize,
    ) {
        assert_shapes("matmul_forward", out.len(), inp.len(), weight.len(), bias.map(<[f32]>::len), m, k, n);
        for i in 0..m {
            let x = &inp[i * k..(i + 1) * k]; // (K)
            for j in 0..n {
                let w = &weight[j * k..(j + 1) * k]; // (K)
                let mut acc = bias.map_or(0.0, |b| b[j]);
                for p in 0..k {
                    acc += x[p] * w[p];
                }
                out[i * n + j] = acc;
            }
        }
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
        assert_shapes("matmul_backward", dout.len(), inp.len(), weight.len(), dbias.as_ref().map(|b| b.len()), m, k, n);
        assert_eq!(dinp.len(), m * k, "matmul_backward: dinp has {} elements, expected M*K = {}", dinp.len(), m * k);
        assert_eq!(dweight.len(), n * k, "matmul_backward: dweight has {} elements, expected N*K = {}", dweight.len(), n * k);
        for i in 0..m {
            for j in 0..n {
                let d = dout[i * n + j];
                for p in 0..k {
                    dinp[i * k + p] += d * weight[j * k + p];
                    dweight[j * k + p] += d * inp[i * k + p];
                }
            }
        }
        if let Some(db) = dbias {
            for i in 0..m {
                for j in 0..n {
                    db[j] += dout[i * n + j];
                }
            }
        }
    }
}

/// Panics with the op and the shapes when slice lengths do not match (M, K, N). Kernels are
/// internal: the model sizes every buffer, so a mismatch here is a bug, not bad input.
#[allow(clippy::too_many_arguments)]
pub(crate) fn assert_shapes(op: &str, out: usize, inp: usize, weight: usize, bias: Option<usize>, m: usize, k: usize, n: usize) {
    assert_eq!(out, m * n, "{op}: out has {out} elements, expected M*N = {m}*{n}");
    assert_eq!(inp, m * k, "{op}: inp has {inp} elements, expected M*K = {m}*{k}");
    assert_eq!(weight, n * k, "{op}: weight has {weight} elements, expected N*K = {n}*{k}");
    if let Some(b) = bias {
        assert_eq!(b, n, "{op}: bias has {b} elements, expected N = {n}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-computed 2×3 · (2×3)ᵀ + b case.
    #[test]
    fn forward_matches_hand_computed() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // (2, 3)
        let w = [1.0, 0.0, -1.0, 0.5, 0.5, 0.5]; // (2, 3)
        let b = [10.0, -1.0];
        let mut y = [0.0; 4];
        Scalar.matmul_forward(&mut y, &x, &w, Some(&b), 2, 3, 2);
        // row 0: [1-3+10, 3-1] ; row 1: [4-6+10, 7.5-1]
        assert_eq!(y, [8.0, 2.0, 8.0, 6.5]);
    }

    /// Backward against finite differences of L = Σ y ⊙ g for a fixed g.
    #[test]
    fn backward_matches_finite_differences() {
        let (m, k, n) = (3, 4, 2);
        let x: Vec<f32> = (0..m * k).map(|i| ((i * 7 % 5) as f32 - 2.0) * 0.3).collect();
        let w: Vec<f32> = (0..n * k).map(|i| ((i * 3 % 7) as f32 - 3.0) * 0.2).collect();
        let b = vec![0.1, -0.2];
        let g: Vec<f32> = (0..m * n).map(|i| (i as f32 - 2.5) * 0.5).collect();
        let loss = |x: &[f32], w: &[f32], b: &[f32]| -> f64 {
            let mut y = vec![0.0; m * n];
            Scalar.matmul_forward(&mut y, x, w, Some(b), m, k, n);
            y.iter().zip(&g).map(|(a, b)| (*a as f64) * (*b as f64)).sum()
        };
        let (mut dx, mut dw, mut db) = (vec![0.0; m * k], vec![0.0; n * k], vec![0.0; n]);
        Scalar.matmul_backward(&mut dx, &mut dw, Some(&mut db), &g, &x, &w, m, k, n);
        let h = 1e-2f32;
        let fd = |f: &dyn Fn(f32) -> f64| (f(h) - f(-h)) / (2.0 * h as f64);
        for i in 0..m * k {
            let num = fd(&|e| { let mut x2 = x.clone(); x2[i] += e; loss(&x2, &w, &b) });
            assert!((num - dx[i] as f64).abs() < 1e-3, "dinp[{i}]: {num} vs {}", dx[i]);
        }
        for i in 0..n * k {
            let num = fd(&|e| { let mut w2 = w.clone(); w2[i] += e; loss(&x, &w2, &b) });
            assert!((num - dw[i] as f64).abs() < 1e-3, "dweight[{i}]: {num} vs {}", dw[i]);
        }
        for i in 0..n {
            let num = fd(&|e| { let mut b2 = b.clone(); b2[i] += e; loss(&x, &w, &b2) });
            assert!((num - db[i] as f64).abs() < 1e-3, "dbias[{i}]: {num} vs {}", db[i]);
        }
    }
}
