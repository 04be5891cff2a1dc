//! The model's shape, with a commented default on every field (as nanoGPT's `GPTConfig`).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How positions enter the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PosEncoding {
    /// A trained table `wpe` (block_size, C), as in GPT-2 and nanoGPT.
    #[default]
    Learned,
    /// The fixed table of "Attention Is All You Need":
    /// PE(pos, 2i) = sin(pos / 10000^(2i/C)), PE(pos, 2i+1) = cos(pos / 10000^(2i/C)).
    /// Stored in `wpe` like the learned one, but never updated by the optimiser.
    Sinusoidal,
}

/// A GPT-2 style decoder: n_layer pre-LayerNorm blocks of causal self-attention and a 4C MLP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GptConfig {
    /// Longest context the model sees, T_max. Sizes `wpe` and the KV cache.
    pub block_size: usize, // 128
    /// Number of distinct characters, V.
    pub vocab_size: usize, // 65 for Shakespeare
    /// Number of transformer blocks, L.
    pub n_layer: usize, // 4
    /// Attention heads per block, NH; must divide n_embd.
    pub n_head: usize, // 4
    /// Width of the residual stream, C.
    pub n_embd: usize, // 128
    /// Learned or sinusoidal positions.
    #[serde(default)]
    pub pos_encoding: PosEncoding, // learned
}

impl Default for GptConfig {
    /// The tiny GPT the performance targets are stated for: 4 layers, 4 heads, C = 128, T = 128.
    fn default() -> Self {
        GptConfig { block_size: 128, vocab_size: 65, n_layer: 4, n_head: 4, n_embd: 128, pos_encoding: PosEncoding::Learned }
    }
}

impl GptConfig {
    /// Head size, HS = C / NH.
    pub fn head_size(&self) -> usize {
        self.n_embd / self.n_head
    }

    /// Checks every field, naming the first one that is wrong.
    pub fn validate(&self) -> Result<()> {
        let positive = [
            ("block_size", self.block_size),
            ("vocab_size", self.vocab_size),
            ("n_layer", self.n_layer),
            ("n_head", self.n_head),
            ("n_embd", self.n_embd),
        ];
        for (field, v) in positive {
            if v == 0 {
                return Err(Error::invalid(field, "must be at least 1"));
            }
        }
        if self.n_embd % self.n_head != 0 {
            return Err(Error::invalid(
                "n_head",
                format!("{} does not divide n_embd = {}", self.n_head, self.n_embd),
            ));
        }
        if self.pos_encoding == PosEncoding::Sinusoidal && self.n_embd % 2 != 0 {
            return Err(Error::invalid("n_embd", format!("sinusoidal positions need an even width, got {}", self.n_embd)));
        }
        // A generous ceiling that keeps a page from asking for gigabytes by a typo.
        let limits = [("block_size", self.block_size, 4096), ("vocab_size", self.vocab_size, 65536), ("n_layer", self.n_layer, 64), ("n_embd", self.n_embd, 4096)];
        for (field, v, max) in limits {
            if v > max {
                return Err(Error::invalid(field, format!("{v} is larger than the supported {max}")));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_names_the_field() {
        assert!(GptConfig::default().validate().is_ok());
        let bad = GptConfig { n_head: 5, ..GptConfig::default() };
        assert_eq!(bad.validate().unwrap_err().field(), Some("n_head"));
        let zero = GptConfig { n_layer: 0, ..GptConfig::default() };
        assert_eq!(zero.validate().unwrap_err().field(), Some("n_layer"));
    }
}
