//! Parameter count from an architecture, itemised as in nanoGPT's `transformer_sizing`
//! notebook, with Kaplan et al.'s 12·L·d² approximation beside it.
//!
//! The architecture is nanoGPT's GPT-2: token embedding `wte` (V, C), position embedding `wpe`
//! (T, C), n_layer pre-LayerNorm blocks (`ln_1`, `attn.c_attn` (3C, C), `attn.c_proj` (C, C),
//! `ln_2`, `mlp.c_fc` (d_ff, C), `mlp.c_proj` (C, d_ff)), a final `ln_f`, and an LM head (V, C)
//! that is tied to `wte` in GPT-2 and GPT-3.

use serde::{Deserialize, Serialize};

use super::check::whole;
use super::format::int;
use super::quantity::{Quantity, Unit};
use crate::config::{GptConfig, PosEncoding};
use crate::error::{Error, Result};

/// A decoder-only transformer's shape, in nanoGPT's names (the GPT-3 paper's in brackets).
/// Numbers are `f64` because they arrive from a page; each must be a whole number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Architecture {
    /// Transformer blocks, L [n_layers].
    pub n_layer: f64,
    /// Attention heads per block, NH [n_heads]; must divide n_embd.
    pub n_head: f64,
    /// Width of the residual stream, C [d_model]; also Kaplan's d_attn.
    pub n_embd: f64,
    /// Hidden width of the MLP [d_ff]; 4 × n_embd in GPT-2 and GPT-3.
    pub d_ff: f64,
    /// Context length, T [n_ctx]: rows of `wpe`, the n_ctx of the attention FLOPs term.
    pub block_size: f64,
    /// Vocabulary size, V: rows of `wte`.
    pub vocab_size: f64,
    /// Biases in the linear layers and LayerNorms, as GPT-2 and GPT-3 have (nanoGPT's `bias`).
    #[serde(default = "yes")]
    pub bias: bool,
    /// The LM head shares `wte` (GPT-2, GPT-3); when false it is its own (V, C) matrix.
    #[serde(default = "yes")]
    pub tied_head: bool,
    /// Learned positions (`wpe` is a parameter) or sinusoidal (computed, no parameters).
    #[serde(default)]
    pub pos_encoding: PosEncoding,
}

fn yes() -> bool {
    true
}

impl Architecture {
    /// A GPT-2/GPT-3 style architecture: d_ff = 4C, biases, tied head, learned positions.
    pub fn gpt(n_layer: u32, n_head: u32, n_embd: u32, block_size: u32, vocab_size: u32) -> Architecture {
        Architecture {
            n_layer: n_layer.into(),
            n_head: n_head.into(),
            n_embd: n_embd.into(),
            d_ff: (4 * n_embd).into(),
            block_size: block_size.into(),
            vocab_size: vocab_size.into(),
            bias: true,
            tied_head: true,
            pos_encoding: PosEncoding::Learned,
        }
    }

    /// Checks every field; `path` prefixes the field names in errors (`model.arch`).
    pub fn validate(&self, path: &str) -> Result<()> {
        let f = |name: &str| if path.is_empty() { name.to_string() } else { format!("{path}.{name}") };
        whole(&f("n_layer"), self.n_layer, 1.0, 1e4)?;
        whole(&f("n_embd"), self.n_embd, 1.0, 1e6)?;
        whole(&f("n_head"), self.n_head, 1.0, 1e5)?;
        whole(&f("d_ff"), self.d_ff, 1.0, 1e7)?;
        whole(&f("block_size"), self.block_size, 1.0, 1e8)?;
        whole(&f("vocab_size"), self.vocab_size, 1.0, 1e8)?;
        if self.n_embd % self.n_head != 0.0 {
            return Err(Error::invalid(
                f("n_head"),
                format!("{} does not divide n_embd = {}", self.n_head, self.n_embd),
            ));
        }
        Ok(())
    }

    /// Head size, HS = C / NH.
    pub fn head_size(&self) -> f64 {
        self.n_embd / self.n_head
    }
}

impl From<&GptConfig> for Architecture {
    /// The in-page model's shape (nanoGPT's GPT: 4C MLP, biases, tied head).
    fn from(c: &GptConfig) -> Architecture {
        Architecture {
            n_layer: c.n_layer as f64,
            n_head: c.n_head as f64,
            n_embd: c.n_embd as f64,
            d_ff: 4.0 * c.n_embd as f64,
            block_size: c.block_size as f64,
            vocab_size: c.vocab_size as f64,
            bias: true,
            tied_head: true,
            pos_encoding: c.pos_encoding,
        }
    }
}

/// Parameters by tensor (per block where marked) and by kind, each with its formula.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamCount {
    /// Token embedding `wte`, V × C.
    pub wte: Quantity,
    /// Position embedding `wpe`, T × C (0 for sinusoidal positions).
    pub wpe: Quantity,
    /// One LayerNorm (`ln_1`, `ln_2`, `ln_f` are alike): C weights (+ C biases).
    pub ln: Quantity,
    /// Per block: `attn.c_attn`, the fused q, k, v projection, 3C × C (+ 3C).
    pub attn_c_attn: Quantity,
    /// Per block: `attn.c_proj`, C × C (+ C).
    pub attn_c_proj: Quantity,
    /// Per block: `mlp.c_fc`, C × d_ff (+ d_ff).
    pub mlp_c_fc: Quantity,
    /// Per block: `mlp.c_proj`, d_ff × C (+ C).
    pub mlp_c_proj: Quantity,
    /// One block: ln_1 + attention + ln_2 + MLP.
    pub block: Quantity,
    /// All blocks: n_layer × block.
    pub blocks: Quantity,
    /// The LM head: 0 when tied to `wte`, else V × C.
    pub lm_head: Quantity,
    /// Everything: wte + wpe + blocks + ln_f + lm_head.
    pub total: Quantity,
    /// By kind: embeddings, wte + wpe.
    pub embeddings: Quantity,
    /// By kind: attention projections over all layers (weights and biases).
    pub attention: Quantity,
    /// By kind: MLPs over all layers (weights and biases).
    pub mlp: Quantity,
    /// By kind: the 2·n_layer + 1 LayerNorms (weights and biases).
    pub layer_norms: Quantity,
    /// By kind: every bias (linear layers and LayerNorms); 0 without biases.
    pub biases: Quantity,
    /// Total less `wte`, `wpe` and an untied head: the N of Kaplan et al. (2020), which excludes
    /// "all vocabulary and positional embeddings".
    pub non_embedding: Quantity,
    /// Kaplan's approximation 2·L·C·(2C + d_ff), which is 12·L·C² when d_ff = 4C: weight
    /// matrices of the blocks only, no biases, norms or embeddings.
    pub kaplan: Quantity,
}

/// Counts `arch`'s parameters, itemised; checks `arch` first (field names prefixed by `path`).
pub fn count_params_at(arch: &Architecture, path: &str) -> Result<ParamCount> {
    arch.validate(path)?;
    let (l, c, dff, t, v) = (arch.n_layer, arch.n_embd, arch.d_ff, arch.block_size, arch.vocab_size);
    let b = if arch.bias { 1.0 } else { 0.0 };
    let p = |what: &str, value: f64, formula: String| Quantity::new(what, value, Unit::Params, formula);
    let (nc, nl, ndff, nt, nv) = (int(c), int(l), int(dff), int(t), int(v));

    let wte = p("wte", v * c, format!("vocab_size × n_embd = {nv} × {nc} = {}", int(v * c)))?;
    let wpe = match arch.pos_encoding {
        PosEncoding::Learned => p("wpe", t * c, format!("block_size × n_embd = {nt} × {nc} = {}", int(t * c)))?,
        PosEncoding::Sinusoidal => p("wpe", 0.0, "0 (sinusoidal positions are computed, not learned)".into())?,
    };
    // With biases each linear layer of width `out` adds `out` parameters, each LayerNorm C.
    // `term(weights, bias)` writes "weights [+ bias]", symbols and numbers alike.
    let term = |w: String, bias: String| if arch.bias { format!("{w} + {bias}") } else { w };
    let ln_v = (1.0 + b) * c;
    let ln_formula = if arch.bias { format!("2 × n_embd = 2 × {nc}") } else { format!("n_embd = {nc} (no bias)") };
    let ln = p("ln", ln_v, format!("{ln_formula} = {}", int(ln_v)))?;
    let c_attn_v = 3.0 * c * c + b * 3.0 * c;
    let c_attn = p(
        "attn_c_attn",
        c_attn_v,
        format!(
            "{} = {} = {}",
            term("3 × n_embd²".into(), "3 × n_embd".into()),
            term(format!("3 × {nc}²"), format!("3 × {nc}")),
            int(c_attn_v)
        ),
    )?;
    let c_proj_v = c * c + b * c;
    let c_proj = p(
        "attn_c_proj",
        c_proj_v,
        format!(
            "{} = {} = {}",
            term("n_embd²".into(), "n_embd".into()),
            term(format!("{nc}²"), nc.clone()),
            int(c_proj_v)
        ),
    )?;
    let c_fc_v = c * dff + b * dff;
    let c_fc = p(
        "mlp_c_fc",
        c_fc_v,
        format!(
            "{} = {} = {}",
            term("n_embd × d_ff".into(), "d_ff".into()),
            term(format!("{nc} × {ndff}"), ndff.clone()),
            int(c_fc_v)
        ),
    )?;
    let m_proj_v = dff * c + b * c;
    let m_proj = p(
        "mlp_c_proj",
        m_proj_v,
        format!(
            "{} = {} = {}",
            term("d_ff × n_embd".into(), "n_embd".into()),
            term(format!("{ndff} × {nc}"), nc.clone()),
            int(m_proj_v)
        ),
    )?;
    let block_v = 2.0 * ln_v + c_attn_v + c_proj_v + c_fc_v + m_proj_v;
    let block = p(
        "block",
        block_v,
        format!(
            "ln_1 + c_attn + attn.c_proj + ln_2 + c_fc + mlp.c_proj = {} + {} + {} + {} + {} + {} = {}",
            int(ln_v),
            int(c_attn_v),
            int(c_proj_v),
            int(ln_v),
            int(c_fc_v),
            int(m_proj_v),
            int(block_v)
        ),
    )?;
    let blocks_v = l * block_v;
    let blocks = p("blocks", blocks_v, format!("n_layer × block = {nl} × {} = {}", int(block_v), int(blocks_v)))?;
    let head_v = if arch.tied_head { 0.0 } else { v * c };
    let lm_head = if arch.tied_head {
        p("lm_head", 0.0, "0 (tied: the head reuses wte)".into())?
    } else {
        p("lm_head", head_v, format!("vocab_size × n_embd = {nv} × {nc} = {}", int(head_v)))?
    };
    let total_v = wte.value + wpe.value + blocks_v + ln_v + head_v;
    let total = p(
        "total",
        total_v,
        format!(
            "wte + wpe + blocks + ln_f + lm_head = {} + {} + {} + {} + {} = {}",
            int(wte.value),
            int(wpe.value),
            int(blocks_v),
            int(ln_v),
            int(head_v),
            int(total_v)
        ),
    )?;

    let emb_v = wte.value + wpe.value;
    let embeddings =
        p("embeddings", emb_v, format!("wte + wpe = {} + {} = {}", int(wte.value), int(wpe.value), int(emb_v)))?;
    let attn_v = l * (c_attn_v + c_proj_v);
    let attention = p(
        "attention",
        attn_v,
        format!("n_layer × (c_attn + c_proj) = {nl} × ({} + {}) = {}", int(c_attn_v), int(c_proj_v), int(attn_v)),
    )?;
    let mlp_v = l * (c_fc_v + m_proj_v);
    let mlp = p(
        "mlp",
        mlp_v,
        format!("n_layer × (c_fc + c_proj) = {nl} × ({} + {}) = {}", int(c_fc_v), int(m_proj_v), int(mlp_v)),
    )?;
    let norms_v = (2.0 * l + 1.0) * ln_v;
    let layer_norms = p(
        "layer_norms",
        norms_v,
        format!("(2 × n_layer + 1) × ln = (2 × {nl} + 1) × {} = {}", int(ln_v), int(norms_v)),
    )?;
    let biases_v = b * (l * (3.0 * c + c + dff + c) + (2.0 * l + 1.0) * c);
    let biases = if arch.bias {
        p("biases", biases_v, format!(
            "n_layer × (3 × n_embd + n_embd + d_ff + n_embd) + (2 × n_layer + 1) × n_embd = {nl} × (3 × {nc} + {nc} + {ndff} + {nc}) + (2 × {nl} + 1) × {nc} = {}",
            int(biases_v)
        ))?
    } else {
        p("biases", 0.0, "0 (bias = false)".into())?
    };
    let non_emb_v = total_v - emb_v - head_v;
    let non_embedding = p(
        "non_embedding",
        non_emb_v,
        format!(
            "total − wte − wpe − lm_head = {} − {} − {} − {} = {}",
            int(total_v),
            int(wte.value),
            int(wpe.value),
            int(head_v),
            int(non_emb_v)
        ),
    )?;
    let kaplan_v = 2.0 * l * c * (2.0 * c + dff);
    let kaplan_formula = if dff == 4.0 * c {
        format!("12 × n_layer × n_embd² = 12 × {nl} × {nc}² = {}", int(kaplan_v))
    } else {
        format!(
            "2 × n_layer × n_embd × (2 × n_embd + d_ff) = 2 × {nl} × {nc} × (2 × {nc} + {ndff}) = {}",
            int(kaplan_v)
        )
    };
    let kaplan = p("kaplan", kaplan_v, kaplan_formula)?;

    Ok(ParamCount {
        wte,
        wpe,
        ln,
        attn_c_attn: c_attn,
        attn_c_proj: c_proj,
        mlp_c_fc: c_fc,
        mlp_c_proj: m_proj,
        block,
        blocks,
        lm_head,
        total,
        embeddings,
        attention,
        mlp,
        layer_norms,
        biases,
        non_embedding,
        kaplan,
    })
}

/// Counts `arch`'s parameters, itemised (errors name bare fields: `n_head`).
pub fn count_params(arch: &Architecture) -> Result<ParamCount> {
    count_params_at(arch, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpt2_small_matches_nanogpt_and_hugging_face() {
        let pc = count_params(&Architecture::gpt(12, 12, 768, 1024, 50257)).unwrap();
        assert_eq!(pc.total.value, 124_439_808.0);
        // nanoGPT's get_num_params() subtracts wpe only (the tied wte is the head): 123,653,376;
        // Kaplan's N also drops wte.
        assert_eq!(pc.total.value - pc.wpe.value, 123_653_376.0);
        assert_eq!(pc.block.value, 7_087_872.0);
        assert!(pc.total.formula.ends_with("= 124,439,808"), "{}", pc.total.formula);
    }

    #[test]
    fn kinds_add_up_to_the_total() {
        for arch in [
            Architecture::gpt(12, 12, 768, 1024, 50257),
            Architecture {
                bias: false,
                tied_head: false,
                pos_encoding: PosEncoding::Sinusoidal,
                ..Architecture::gpt(3, 2, 10, 7, 11)
            },
        ] {
            let pc = count_params(&arch).unwrap();
            let by_kind =
                pc.embeddings.value + pc.attention.value + pc.mlp.value + pc.layer_norms.value + pc.lm_head.value;
            assert_eq!(by_kind, pc.total.value);
        }
    }

    #[test]
    fn hand_counted_tiny_model_without_biases_untied() {
        // L=1, C=2, d_ff=3, T=5, V=7, no biases, untied, learned positions:
        // wte 14, wpe 10, ln 2 ×3 = 6, c_attn 12, c_proj 4, c_fc 6, c_proj 6, head 14 → 72.
        let arch = Architecture {
            n_layer: 1.0,
            n_head: 1.0,
            n_embd: 2.0,
            d_ff: 3.0,
            block_size: 5.0,
            vocab_size: 7.0,
            bias: false,
            tied_head: false,
            pos_encoding: PosEncoding::Learned,
        };
        let pc = count_params(&arch).unwrap();
        assert_eq!(pc.total.value, 72.0);
        assert_eq!(pc.biases.value, 0.0);
        assert_eq!(pc.non_embedding.value, 72.0 - 14.0 - 10.0 - 14.0);
        // Kaplan: 2·1·2·(4 + 3) = 28 = the block's weight matrices 12 + 4 + 6 + 6.
        assert_eq!(pc.kaplan.value, 28.0);
    }
}
