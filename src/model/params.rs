//! All parameters in one contiguous buffer, with a size table (llm.c's `ParameterTensors`).
//!
//! The 16 tensors lie in the order below; the gradients and AdamW's `m` and `v` use the same
//! layout, so the optimiser is one flat loop and the checkpoint a list of ranges.
//!
//! ```text
//! wte      (V, C)          token embedding, also the LM head (tied)
//! wpe      (maxT, C)       position embedding (learned, or the fixed sinusoidal table)
//! ln1w     (L, C)          ln1b     (L, C)
//! qkvw     (L, 3C, C)      qkvb     (L, 3C)
//! attprojw (L, C, C)       attprojb (L, C)
//! ln2w     (L, C)          ln2b     (L, C)
//! fcw      (L, 4C, C)      fcb      (L, 4C)
//! fcprojw  (L, C, 4C)      fcprojb  (L, C)
//! lnfw     (C)             lnfb     (C)
//! ```

use crate::config::{GptConfig, PosEncoding};
use crate::error::Result;
use crate::model::math::{cos_f64, exp_f64, sin_f64};
use crate::rng::Rng;

/// Number of parameter tensors.
pub const NUM_PARAMETER_TENSORS: usize = 16;

/// The 16 parameter tensors, generic over what holds each: a size, a slice, a mutable slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ParameterTensors<S> {
    /// (V, C) token embedding; the LM head reads it too.
    pub wte: S,
    /// (maxT, C) position embedding.
    pub wpe: S,
    /// (L, C) first LayerNorm's weight.
    pub ln1w: S,
    /// (L, C) first LayerNorm's bias.
    pub ln1b: S,
    /// (L, 3C, C) query/key/value projection weight (nanoGPT's `attn.c_attn.weight`).
    pub qkvw: S,
    /// (L, 3C) query/key/value projection bias.
    pub qkvb: S,
    /// (L, C, C) attention output projection weight (`attn.c_proj.weight`).
    pub attprojw: S,
    /// (L, C) attention output projection bias.
    pub attprojb: S,
    /// (L, C) second LayerNorm's weight.
    pub ln2w: S,
    /// (L, C) second LayerNorm's bias.
    pub ln2b: S,
    /// (L, 4C, C) MLP up-projection weight (`mlp.c_fc.weight`).
    pub fcw: S,
    /// (L, 4C) MLP up-projection bias.
    pub fcb: S,
    /// (L, C, 4C) MLP down-projection weight (`mlp.c_proj.weight`).
    pub fcprojw: S,
    /// (L, C) MLP down-projection bias.
    pub fcprojb: S,
    /// (C) final LayerNorm's weight.
    pub lnfw: S,
    /// (C) final LayerNorm's bias.
    pub lnfb: S,
}

impl<S> ParameterTensors<S> {
    fn from_array(a: [S; NUM_PARAMETER_TENSORS]) -> Self {
        let [wte, wpe, ln1w, ln1b, qkvw, qkvb, attprojw, attprojb, ln2w, ln2b, fcw, fcb, fcprojw, fcprojb, lnfw, lnfb] = a;
        ParameterTensors { wte, wpe, ln1w, ln1b, qkvw, qkvb, attprojw, attprojb, ln2w, ln2b, fcw, fcb, fcprojw, fcprojb, lnfw, lnfb }
    }
}

/// What the optimiser does with one tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decay {
    /// A matrix (2-D per layer): AdamW's weight decay applies (nanoGPT decays every ≥2-D tensor,
    /// embeddings included).
    Matrix,
    /// A bias or LayerNorm parameter: no weight decay.
    Vector,
}

/// One entry of the size table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorSpec {
    /// llm.c's name: "wte", "qkvw", ...
    pub name: &'static str,
    /// Shape, with the layer dimension first for per-layer tensors: qkvw is [L, 3C, C].
    pub shape: Vec<usize>,
    /// Start in the flat buffer.
    pub offset: usize,
    /// Number of elements.
    pub size: usize,
    /// Weight decay or not.
    pub decay: Decay,
}

/// The size table: where each tensor lies in the one buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterLayout {
    /// The 16 tensors in buffer order.
    pub specs: Vec<TensorSpec>,
    /// Total number of parameters (wte counted once: the LM head is tied).
    pub num_parameters: usize,
}

impl ParameterLayout {
    /// The layout for `config` (llm.c's `fill_in_parameter_sizes`).
    pub fn new(config: &GptConfig) -> Result<ParameterLayout> {
        config.validate()?;
        let (v, t, l, c) = (config.vocab_size, config.block_size, config.n_layer, config.n_embd);
        use Decay::*;
        let table: [(&'static str, Vec<usize>, Decay); NUM_PARAMETER_TENSORS] = [
            ("wte", vec![v, c], Matrix),
            ("wpe", vec![t, c], Matrix),
            ("ln1w", vec![l, c], Vector),
            ("ln1b", vec![l, c], Vector),
            ("qkvw", vec![l, 3 * c, c], Matrix),
            ("qkvb", vec![l, 3 * c], Vector),
            ("attprojw", vec![l, c, c], Matrix),
            ("attprojb", vec![l, c], Vector),
            ("ln2w", vec![l, c], Vector),
            ("ln2b", vec![l, c], Vector),
            ("fcw", vec![l, 4 * c, c], Matrix),
            ("fcb", vec![l, 4 * c], Vector),
            ("fcprojw", vec![l, c, 4 * c], Matrix),
            ("fcprojb", vec![l, c], Vector),
            ("lnfw", vec![c], Vector),
            ("lnfb", vec![c], Vector),
        ];
        let mut offset = 0;
        let specs = table
            .into_iter()
            .map(|(name, shape, decay)| {
                let size = shape.iter().product();
                let spec = TensorSpec { name, shape, offset, size, decay };
                offset += size;
                spec
            })
            .collect();
        Ok(ParameterLayout { specs, num_parameters: offset })
    }

    /// The size of each tensor, in buffer order.
    pub fn sizes(&self) -> ParameterTensors<usize> {
        let mut a = [0; NUM_PARAMETER_TENSORS];
        for (s, spec) in a.iter_mut().zip(&self.specs) {
            *s = spec.size;
        }
        ParameterTensors::from_array(a)
    }

    /// Views `buf` (params, grads, m or v) as its 16 tensors.
    pub fn split<'a>(&self, buf: &'a [f32]) -> ParameterTensors<&'a [f32]> {
        assert_eq!(buf.len(), self.num_parameters, "parameter buffer has the wrong length");
        let mut parts: [&'a [f32]; NUM_PARAMETER_TENSORS] = Default::default();
        let mut rest = buf;
        for (p, spec) in parts.iter_mut().zip(&self.specs) {
            let (a, r) = rest.split_at(spec.size);
            *p = a;
            rest = r;
        }
        ParameterTensors::from_array(parts)
    }

    /// Views `buf` as its 16 tensors, mutably.
    pub fn split_mut<'a>(&self, buf: &'a mut [f32]) -> ParameterTensors<&'a mut [f32]> {
        assert_eq!(buf.len(), self.num_parameters, "parameter buffer has the wrong length");
        let mut parts: [&'a mut [f32]; NUM_PARAMETER_TENSORS] = Default::default();
        let mut rest = buf;
        for (p, spec) in parts.iter_mut().zip(&self.specs) {
            let (a, r) = std::mem::take(&mut rest).split_at_mut(spec.size);
            *p = a;
            rest = r;
        }
        ParameterTensors::from_array(parts)
    }

    /// The spec named `name` ("wte", "qkvw", ...).
    pub fn spec(&self, name: &str) -> Option<&TensorSpec> {
        self.specs.iter().find(|s| s.name == name)
    }
}

/// Fresh parameters initialised as GPT-2 / nanoGPT do: weights and embeddings ~ N(0, 0.02),
/// the two residual projections (`attn.c_proj`, `mlp.c_proj`) ~ N(0, 0.02 / sqrt(2 L)),
/// biases 0, LayerNorm weights 1. With sinusoidal positions `wpe` holds the fixed table.
/// The draws come from [`Rng`] seeded with `seed`, so a seed gives the same model everywhere.
pub fn init_parameters(config: &GptConfig, layout: &ParameterLayout, seed: u64) -> Vec<f32> {
    let mut params = vec![0.0f32; layout.num_parameters];
    let mut rng = Rng::new(seed);
    let proj_std = 0.02 / (2.0 * config.n_layer as f64).sqrt();
    {
        let t = layout.split_mut(&mut params);
        let mut normal = |buf: &mut [f32], std: f64| buf.iter_mut().for_each(|x| *x = (rng.normal() * std) as f32);
        normal(t.wte, 0.02);
        match config.pos_encoding {
            PosEncoding::Learned => normal(t.wpe, 0.02),
            PosEncoding::Sinusoidal => t.wpe.copy_from_slice(&sinusoidal_table(config.block_size, config.n_embd)),
        }
        normal(t.qkvw, 0.02);
        normal(t.attprojw, proj_std);
        normal(t.fcw, 0.02);
        normal(t.fcprojw, proj_std);
        for w in [t.ln1w, t.ln2w, t.lnfw] {
            w.fill(1.0);
        }
        // Biases stay 0.
    }
    params
}

/// The sinusoidal position table of "Attention Is All You Need", (length, d) row-major:
/// PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d)).
/// An odd `d` leaves the last column as a sine. Computed with the deterministic f64 functions,
/// so the table is bit-identical natively and in wasm.
pub fn sinusoidal_table(length: usize, d: usize) -> Vec<f32> {
    let mut table = vec![0.0f32; length * d]; // (length, d)
    let ln_10000 = 9.210_340_371_976_184; // ln(10000)
    for i in (0..d).step_by(2) {
        let inv_freq = exp_f64(-ln_10000 * i as f64 / d as f64);
        for pos in 0..length {
            let angle = pos as f64 * inv_freq;
            table[pos * d + i] = sin_f64(angle) as f32;
            if i + 1 < d {
                table[pos * d + i + 1] = cos_f64(angle) as f32;
            }
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The default 4-layer C = 128 model: 818,048 parameters by hand:
    /// wte 65*128 + wpe 128*128 + 4 * (12 C² + 13 C) + 2 C.
    #[test]
    fn layout_counts_match_hand_computation() {
        let layout = ParameterLayout::new(&GptConfig::default()).unwrap();
        let c = 128;
        assert_eq!(layout.num_parameters, 65 * c + 128 * c + 4 * (12 * c * c + 13 * c) + 2 * c);
        assert_eq!(layout.num_parameters, 818_048);
        let sizes = layout.sizes();
        assert_eq!(sizes.qkvw, 4 * 3 * c * c);
        assert_eq!(layout.spec("fcprojw").unwrap().shape, vec![4, c, 4 * c]);
        let last = layout.specs.last().unwrap();
        assert_eq!(last.offset + last.size, layout.num_parameters);
    }

    #[test]
    fn init_follows_gpt2() {
        let config = GptConfig { n_layer: 2, n_embd: 64, vocab_size: 50, block_size: 32, ..GptConfig::default() };
        let layout = ParameterLayout::new(&config).unwrap();
        let p = init_parameters(&config, &layout, 1);
        let t = layout.split(&p);
        let std = |x: &[f32]| (x.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / x.len() as f64).sqrt();
        assert!((std(t.qkvw) - 0.02).abs() < 0.001, "{}", std(t.qkvw));
        assert!((std(t.fcprojw) - 0.01).abs() < 0.0005, "{}", std(t.fcprojw)); // 0.02 / sqrt(4)
        assert!(t.ln1w.iter().chain(t.lnfw.iter()).all(|&x| x == 1.0));
        assert!(t.qkvb.iter().chain(t.fcb.iter()).chain(t.lnfb.iter()).all(|&x| x == 0.0));
        assert_eq!(p, init_parameters(&config, &layout, 1));
        assert_ne!(p, init_parameters(&config, &layout, 2));
    }

    /// Hand values: PE(1, 0) = sin 1, PE(1, 1) = cos 1, PE(2, 2) = sin(2 / 10000^(2/4)) = sin 0.02.
    #[test]
    fn sinusoidal_table_hand_values() {
        let t = sinusoidal_table(3, 4);
        assert_eq!(&t[0..4], &[0.0, 1.0, 0.0, 1.0]);
        assert!((t[4] - 1f32.sin()).abs() < 1e-7);
        assert!((t[5] - 1f32.cos()).abs() < 1e-7);
        assert!((t[2 * 4 + 2] - 0.02f32.sin()).abs() < 1e-7);
        assert!((t[2 * 4 + 3] - 0.02f32.cos()).abs() < 1e-7);
    }
}
