//! What the pages show: attention maps, the next-character distribution, the embeddings, the
//! position tables and their similarity, and a 2-D projection of the character embeddings.
//!
//! Whatever lives in the model is returned as a borrowed slice (the bindings turn it into a
//! typed-array view over wasm memory); derived views (similarity, PCA) are computed here, in
//! the core, so every front end draws the same numbers.

use crate::error::{Error, Result};
use crate::kernels::Kernels;
use crate::model::gpt::Gpt;
pub use crate::model::params::sinusoidal_table;

impl Gpt {
    /// Token embedding `wte`, (V, C).
    pub fn wte(&self) -> &[f32] {
        self.tensors().wte
    }

    /// Position embedding `wpe`, (block_size, C): learned, or the sinusoidal table.
    pub fn wpe(&self) -> &[f32] {
        self.tensors().wpe
    }

    /// Runs `tokens` and returns the distribution (V) of the character after the last one.
    /// [`Gpt::attention`] then holds the (L, NH, T, T) attention of this input.
    pub fn next_char_probs(&mut self, k: &dyn Kernels, tokens: &[u32]) -> Result<&[f32]> {
        self.forward_logits(k, tokens)?;
        let v = self.config().vocab_size;
        let probs = self.probs();
        Ok(&probs[probs.len() - v..])
    }

    /// Cosine similarity of every pair of rows of `wpe`, (block_size, block_size).
    pub fn position_similarity(&self) -> Vec<f32> {
        let c = self.config();
        cosine_similarity(self.wpe(), c.block_size, c.n_embd).expect("wpe has block_size rows of n_embd")
    }

    /// The character embeddings projected onto their two principal components.
    pub fn embedding_pca(&self) -> Result<Pca2> {
        let c = self.config();
        pca_2d(self.wte(), c.vocab_size, c.n_embd)
    }
}

/// Cosine similarity of every pair of rows of `x` (rows, cols); returns (rows, rows).
/// A zero row has similarity 0 with everything.
pub fn cosine_similarity(x: &[f32], rows: usize, cols: usize) -> Result<Vec<f32>> {
    if x.len() != rows * cols {
        return Err(Error::Shape(format!("cosine_similarity: {} values, expected rows*cols = {rows}*{cols}", x.len())));
    }
    let norms: Vec<f64> = (0..rows).map(|i| row(x, i, cols).iter().map(|&v| (v as f64).powi(2)).sum::<f64>().sqrt()).collect();
    let mut out = vec![0.0f32; rows * rows]; // (rows, rows)
    for i in 0..rows {
        for j in i..rows {
            let d: f64 = row(x, i, cols).iter().zip(row(x, j, cols)).map(|(&a, &b)| a as f64 * b as f64).sum();
            let s = if norms[i] > 0.0 && norms[j] > 0.0 { (d / (norms[i] * norms[j])) as f32 } else { 0.0 };
            out[i * rows + j] = s;
            out[j * rows + i] = s;
        }
    }
    Ok(out)
}

fn row(x: &[f32], i: usize, cols: usize) -> &[f32] {
    &x[i * cols..][..cols]
}

/// A projection onto the first two principal components.
#[derive(Debug, Clone, PartialEq)]
pub struct Pca2 {
    /// (rows, 2): each row's coordinates on the two components.
    pub coords: Vec<f32>,
    /// (2, cols): the unit principal directions, sign fixed so the largest entry is positive.
    pub components: Vec<f32>,
    /// Variance along each component.
    pub variance: [f32; 2],
    /// Total variance of the rows, so the page can say how much the picture shows.
    pub total_variance: f32,
}

/// PCA of `x` (rows, cols) to two dimensions: the covariance in f64, then power iteration with
/// deflation from a fixed start vector (deterministic, no LAPACK).
pub fn pca_2d(x: &[f32], rows: usize, cols: usize) -> Result<Pca2> {
    if x.len() != rows * cols || rows < 2 || cols < 2 {
        return Err(Error::Shape(format!(
            "pca_2d: {} values for rows*cols = {rows}*{cols}; needs at least 2 rows and 2 columns",
            x.len()
        )));
    }
    let mean: Vec<f64> = (0..cols).map(|j| (0..rows).map(|i| x[i * cols + j] as f64).sum::<f64>() / rows as f64).collect();
    let centred: Vec<f64> = (0..rows * cols).map(|k| x[k] as f64 - mean[k % cols]).collect(); // (rows, cols)
    let mut cov = vec![0.0f64; cols * cols]; // (cols, cols)
    for i in 0..rows {
        let r = &centred[i * cols..][..cols];
        for a in 0..cols {
            for b in 0..cols {
                cov[a * cols + b] += r[a] * r[b];
            }
        }
    }
    cov.iter_mut().for_each(|c| *c /= rows as f64);
    let total_variance = (0..cols).map(|a| cov[a * cols + a]).sum::<f64>();

    let mut components = vec![0.0f32; 2 * cols];
    let mut variance = [0.0f32; 2];
    for comp in 0..2 {
        // A start vector unlikely to be orthogonal to the top eigenvector.
        let mut v: Vec<f64> = (0..cols).map(|j| 1.0 + (j as f64 * 0.618_034).fract()).collect();
        let mut lambda = 0.0;
        for _ in 0..1000 {
            let mut w = vec![0.0f64; cols];
            for a in 0..cols {
                w[a] = (0..cols).map(|b| cov[a * cols + b] * v[b]).sum();
            }
            let norm = w.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm == 0.0 {
                break; // no variance left in this direction
            }
            w.iter_mut().for_each(|x| *x /= norm);
            let delta: f64 = w.iter().zip(&v).map(|(a, b)| (a - b).abs()).sum();
            v = w;
            lambda = norm;
            if delta < 1e-12 {
                break;
            }
        }
        let big = v.iter().cloned().fold(0.0f64, |m, x| if x.abs() > m.abs() { x } else { m });
        if big < 0.0 {
            v.iter_mut().for_each(|x| *x = -*x);
        }
        // Deflate: cov -= lambda v vᵀ.
        for a in 0..cols {
            for b in 0..cols {
                cov[a * cols + b] -= lambda * v[a] * v[b];
            }
        }
        variance[comp] = lambda as f32;
        for j in 0..cols {
            components[comp * cols + j] = v[j] as f32;
        }
    }
    let mut coords = vec![0.0f32; rows * 2];
    for i in 0..rows {
        for comp in 0..2 {
            coords[i * 2 + comp] =
                (0..cols).map(|j| centred[i * cols + j] * components[comp * cols + j] as f64).sum::<f64>() as f32;
        }
    }
    Ok(Pca2 { coords, components, variance, total_variance: total_variance as f32 })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points on a line along (3, 4)/5 plus a smaller spread along (-4, 3)/5: the components
    /// are those directions and the variances are the spreads' variances.
    #[test]
    fn pca_recovers_known_axes() {
        let (u, w) = ([0.6, 0.8], [-0.8, 0.6]);
        let mut x = Vec::new();
        let along = [-2.0, -1.0, 0.0, 1.0, 2.0];
        let across = [0.5, -0.5, 0.0, -0.5, 0.5]; // zero mean, orthogonal to `along`
        for i in 0..5 {
            x.push((along[i] * u[0] + across[i] * w[0] + 1.0) as f32);
            x.push((along[i] * u[1] + across[i] * w[1] - 2.0) as f32);
        }
        let p = pca_2d(&x, 5, 2).unwrap();
        assert!((p.components[0] - 0.6).abs() < 1e-5 && (p.components[1] - 0.8).abs() < 1e-5, "{:?}", p.components);
        assert!((p.components[2].abs() - 0.8).abs() < 1e-5 && (p.components[3].abs() - 0.6).abs() < 1e-5);
        assert!((p.variance[0] - 2.0).abs() < 1e-5, "{:?}", p.variance); // mean of along² = 10/5
        assert!((p.variance[1] - 0.2).abs() < 1e-5); // mean of across² = 1/5
        assert!((p.total_variance - 2.2).abs() < 1e-5);
        assert!((p.coords[0] + 2.0).abs() < 1e-5); // the first point sits at -2 along u
        assert!(pca_2d(&x, 4, 2).is_err());
    }

    #[test]
    fn cosine_similarity_hand_values() {
        let x = [1.0, 0.0, 1.0, 1.0, 0.0, 0.0]; // rows (1,0), (1,1), (0,0)
        let s = cosine_similarity(&x, 3, 2).unwrap();
        assert!((s[0] - 1.0).abs() < 1e-7);
        assert!((s[1] - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-7);
        assert_eq!(s[3], s[1]);
        assert_eq!(s[2], 0.0);
        assert!(cosine_similarity(&x, 2, 2).is_err());
    }
}
