//! The model as JS sees it: a [`Model`] handle that owns a [`Gpt`], its vocabulary and a
//! generation session, and hands out results as typed arrays.
//!
//! Methods whose names end in `View` return a `Float32Array` *view* over wasm memory: no copy,
//! but valid only until the next call into the module (memory may grow and move). Copy it
//! (`view.slice()`) before keeping it or posting it to another thread.

use js_sys::{Float32Array, Uint32Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::{js_error, kernels, to_js};
use crate::checkpoint;
use crate::model::inspect::{cosine_similarity, sinusoidal_table};
use crate::model::{Gpt, Sampler, Session};
use crate::rng::Rng;
use crate::tokenizer::{Encoded, Vocab};

/// A loaded GPT with its vocabulary, ready to generate and to be inspected.
#[wasm_bindgen]
pub struct Model {
    gpt: Gpt,
    vocab: Vocab,
    session: Session,
    sampler: Sampler,
    rng: Rng,
    /// The tokens of the last `inspect` (its attention is in the model's activations).
    inspected: Vec<u32>,
}

/// What `config()` returns.
#[derive(Serialize)]
struct ConfigJs {
    block_size: usize,
    vocab_size: usize,
    n_layer: usize,
    n_head: usize,
    n_embd: usize,
    head_size: usize,
    pos_encoding: crate::config::PosEncoding,
    num_parameters: usize,
    vocab: String,
}

/// What `start` and `inspect` say about the text they were given.
#[derive(Serialize)]
struct TextReport {
    /// How many tokens the model sees (the last block_size characters at most).
    t: usize,
    /// The characters the model sees, after replacement.
    text: String,
    /// Characters not in the vocabulary, each with its position in the input, and what it became.
    replaced: Vec<ReplacedJs>,
    replacement: String,
    /// Characters cut from the front because the text was longer than block_size.
    cropped: usize,
    seed: f64,
}

#[derive(Serialize)]
struct ReplacedJs {
    position: usize,
    ch: String,
}

#[derive(Serialize)]
struct PcaJs {
    variance: [f32; 2],
    total_variance: f32,
}

#[wasm_bindgen]
impl Model {
    /// Loads a safetensors checkpoint (nanoGPT tensor names, config and vocabulary in the
    /// metadata). A bad file throws an Error that says exactly what is wrong with it.
    pub fn load(bytes: &[u8]) -> Result<Model, JsError> {
        let (gpt, vocab) = checkpoint::load_model(bytes).map_err(js_error)?;
        Model::new(gpt, vocab)
    }

    /// The model's shape, parameter count and vocabulary.
    pub fn config(&self) -> Result<JsValue, JsError> {
        let c = *self.gpt.config();
        to_js(&ConfigJs {
            block_size: c.block_size,
            vocab_size: c.vocab_size,
            n_layer: c.n_layer,
            n_head: c.n_head,
            n_embd: c.n_embd,
            head_size: c.head_size(),
            pos_encoding: c.pos_encoding,
            num_parameters: self.gpt.num_parameters(),
            vocab: self.vocab.as_string(),
        })
    }

    /// The vocabulary, one character per entry, in id order.
    pub fn vocab(&self) -> String {
        self.vocab.as_string()
    }

    /// Starts a generation: feeds `prompt` (unknown characters replaced and reported; an empty
    /// prompt starts from a newline, as nanoGPT does) and sets the sampler. `seed` undefined
    /// draws one from the browser's entropy. Returns a report of what the model sees.
    pub fn start(&mut self, prompt: &str, temperature: f32, top_k: u32, top_p: f32, seed: Option<f64>) -> Result<JsValue, JsError> {
        let sampler = Sampler { temperature, top_k: top_k as usize, top_p };
        sampler.validate().map_err(js_error)?;
        let seed = match seed {
            Some(s) if s.is_finite() && s >= 0.0 && s <= 9_007_199_254_740_991.0 => s.trunc(),
            Some(s) => return Err(JsError::new(&format!("seed: {s} must be a whole number from 0 to 2^53 - 1"))),
            None => (Rng::entropy_seed().map_err(js_error)? >> 11) as f64,
        };
        let (ids, report) = self.encode_window(prompt, seed);
        self.sampler = sampler;
        self.rng = Rng::new(seed as u64);
        self.session.reset();
        self.session.feed(&self.gpt, kernels(), &ids).map_err(js_error)?;
        to_js(&report)
    }

    /// Samples up to `n` characters and feeds each back; returns them as a string. Call it in
    /// small batches so the worker can stream text and notice a stop; on the threaded build each
    /// call is one piece of work for the pool (`Session::generate`), so not one at a time.
    pub fn generate(&mut self, n: u32) -> Result<String, JsError> {
        let ids = self.session.generate(&self.gpt, kernels(), &self.sampler, &mut self.rng, n as usize).map_err(js_error)?;
        Ok(ids.iter().map(|&id| self.vocab.chars()[id as usize]).collect())
    }

    /// Next-character probabilities (V) of the generation, at temperature 1, as a new array.
    pub fn probs(&self) -> Float32Array {
        Float32Array::from(self.session.probs())
    }

    /// Attention of the newest generated position over the window, (L, NH, block_size).
    #[wasm_bindgen(js_name = lastAttentionView)]
    pub fn last_attention_view(&self) -> Float32Array {
        // SAFETY: a view over memory the model owns; documented as valid until the next call.
        unsafe { Float32Array::view(self.session.attention_last()) }
    }

    /// Runs the model over `text` (its last block_size characters) for inspection. Afterwards
    /// `attentionView()` holds (L, NH, T, T) and `inspectProbs()` the next-character distribution.
    pub fn inspect(&mut self, text: &str) -> Result<JsValue, JsError> {
        let (ids, report) = self.encode_window(text, 0.0);
        self.gpt.forward_logits(kernels(), &ids).map_err(js_error)?;
        self.inspected = ids;
        to_js(&report)
    }

    /// Prepares an inspection that runs elsewhere (the WebGPU forward): tokenises `text` as
    /// `inspect` does and makes those tokens `inspectedTokens()`, without running the CPU model
    /// (so `attentionView()` and `inspectProbs()` still describe the previous CPU inspection).
    #[wasm_bindgen(js_name = encodeForInspect)]
    pub fn encode_for_inspect(&mut self, text: &str) -> Result<JsValue, JsError> {
        let (ids, report) = self.encode_window(text, 0.0);
        self.inspected = ids;
        to_js(&report)
    }

    /// All parameters, flat, in llm.c order (what `WebGpuGpt.create` uploads). A view: copy it
    /// before the next call into the module.
    #[wasm_bindgen(js_name = paramsView)]
    pub fn params_view(&self) -> Float32Array {
        // SAFETY: see the module docs.
        unsafe { Float32Array::view(self.gpt.params()) }
    }

    /// The token ids of the last `inspect`.
    #[wasm_bindgen(js_name = inspectedTokens)]
    pub fn inspected_tokens(&self) -> Uint32Array {
        Uint32Array::from(&self.inspected[..])
    }

    /// Attention probabilities of the last `inspect`, (L, NH, T, T), row = query position.
    #[wasm_bindgen(js_name = attentionView)]
    pub fn attention_view(&self) -> Float32Array {
        let c = self.gpt.config();
        let t = self.inspected.len();
        let n = c.n_layer * c.n_head * t * t;
        let att = self.gpt.attention();
        // SAFETY: see the module docs.
        unsafe { Float32Array::view(&att[..n.min(att.len())]) }
    }

    /// The distribution (V) of the character after the last `inspect`'s text.
    #[wasm_bindgen(js_name = inspectProbs)]
    pub fn inspect_probs(&self) -> Float32Array {
        let v = self.gpt.config().vocab_size;
        let t = self.inspected.len();
        if t == 0 {
            return Float32Array::new_with_length(0);
        }
        Float32Array::from(&self.gpt.probs()[(t - 1) * v..t * v])
    }

    /// The token embedding `wte`, (V, C).
    #[wasm_bindgen(js_name = wteView)]
    pub fn wte_view(&self) -> Float32Array {
        // SAFETY: see the module docs.
        unsafe { Float32Array::view(self.gpt.wte()) }
    }

    /// The position embedding `wpe`, (block_size, C): learned, or the sinusoidal table.
    #[wasm_bindgen(js_name = wpeView)]
    pub fn wpe_view(&self) -> Float32Array {
        // SAFETY: see the module docs.
        unsafe { Float32Array::view(self.gpt.wpe()) }
    }

    /// Cosine similarity of every pair of positions of `wpe`, (block_size, block_size).
    #[wasm_bindgen(js_name = positionSimilarity)]
    pub fn position_similarity(&self) -> Vec<f32> {
        self.gpt.position_similarity()
    }

    /// The character embeddings on their two principal components: `coords` (V, 2) is written
    /// into `out`; returns the variance along each and the total.
    #[wasm_bindgen(js_name = embeddingPca)]
    pub fn embedding_pca(&self, out: &mut [f32]) -> Result<JsValue, JsError> {
        let pca = self.gpt.embedding_pca().map_err(js_error)?;
        if out.len() != pca.coords.len() {
            return Err(JsError::new(&format!("embeddingPca: out has {} floats, expected V*2 = {}", out.len(), pca.coords.len())));
        }
        out.copy_from_slice(&pca.coords);
        to_js(&PcaJs { variance: pca.variance, total_variance: pca.total_variance })
    }

    /// A checkpoint of this model (safetensors bytes).
    pub fn save(&self) -> Result<Vec<u8>, JsError> {
        checkpoint::save_model(&self.gpt, &self.vocab, &Default::default()).map_err(js_error)
    }
}

impl Model {
    pub(crate) fn new(gpt: Gpt, vocab: Vocab) -> Result<Model, JsError> {
        let mut session = Session::new(gpt.config()).map_err(js_error)?;
        // Past block_size, keep the newest half of the window and recompute the cache once per
        // block_size/2 characters, instead of nanoGPT's exact slide that recomputes the whole
        // window for every character (~50x slower). `glassgpt sample --overflow-keep` matches it.
        session.set_overflow_keep((gpt.config().block_size / 2).max(1)).map_err(js_error)?;
        Ok(Model { gpt, vocab, session, sampler: Sampler::default(), rng: Rng::new(0), inspected: Vec::new() })
    }

    /// Encodes `text` lossily, keeps its last block_size tokens (an empty text becomes the
    /// replacement character), and reports what happened.
    fn encode_window(&self, text: &str, seed: f64) -> (Vec<u32>, TextReport) {
        let Encoded { mut ids, replaced } = self.vocab.encode_lossy(text);
        let replacement = self.vocab.replacement();
        if ids.is_empty() {
            ids.push(self.vocab.id('\n').unwrap_or_else(|| self.vocab.id(replacement).unwrap_or(0)));
        }
        let block = self.gpt.config().block_size;
        let cropped = ids.len().saturating_sub(block);
        ids.drain(..cropped);
        let seen: String = ids.iter().map(|&i| self.vocab.chars()[i as usize]).collect();
        let replaced = replaced.into_iter().map(|r| ReplacedJs { position: r.position, ch: r.ch.to_string() }).collect();
        (ids, TextReport { t: seen.chars().count(), text: seen, replaced, replacement: replacement.to_string(), cropped, seed })
    }
}

/// The sinusoidal table of "Attention Is All You Need", (length, d):
/// PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d)).
#[wasm_bindgen(js_name = sinusoidalTable)]
pub fn sinusoidal_table_js(length: usize, d: usize) -> Result<Vec<f32>, JsError> {
    if length == 0 || length > 8192 {
        return Err(JsError::new(&format!("length: {length} must be from 1 to 8192")));
    }
    if d < 2 || d % 2 != 0 || d > 4096 {
        return Err(JsError::new(&format!("d: {d} must be an even number from 2 to 4096")));
    }
    Ok(sinusoidal_table(length, d))
}

/// Cosine similarity of every pair of rows of `x` (rows, cols), (rows, rows).
#[wasm_bindgen(js_name = cosineSimilarity)]
pub fn cosine_similarity_js(x: &[f32], rows: usize, cols: usize) -> Result<Vec<f32>, JsError> {
    cosine_similarity(x, rows, cols).map_err(js_error)
}
