//! Checkpoints: safetensors files with nanoGPT's tensor names and shapes, so a model trained
//! here loads into nanoGPT's `GPT` and one exported from nanoGPT runs here.
//!
//! The format (written here by hand, it is small): 8 bytes of little-endian header length N,
//! N bytes of JSON `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {..}}`,
//! then the raw little-endian tensor data. We write f32 and read f32, f16 and bf16.
//!
//! | tensor                                  | shape   | ours                  |
//! |-----------------------------------------|---------|-----------------------|
//! | `transformer.wte.weight`                | (V, C)  | wte                   |
//! | `transformer.wpe.weight`                | (T, C)  | wpe                   |
//! | `transformer.h.{i}.ln_1.weight`/`.bias` | (C)     | ln1w / ln1b, layer i  |
//! | `transformer.h.{i}.attn.c_attn.weight`  | (3C, C) | qkvw, layer i         |
//! | `transformer.h.{i}.attn.c_attn.bias`    | (3C)    | qkvb                  |
//! | `transformer.h.{i}.attn.c_proj.*`       | (C, C), (C) | attprojw / attprojb |
//! | `transformer.h.{i}.ln_2.*`              | (C)     | ln2w / ln2b           |
//! | `transformer.h.{i}.mlp.c_fc.*`          | (4C, C), (4C) | fcw / fcb       |
//! | `transformer.h.{i}.mlp.c_proj.*`        | (C, 4C), (C) | fcprojw / fcprojb |
//! | `transformer.ln_f.weight`/`.bias`       | (C)     | lnfw / lnfb           |
//! | `lm_head.weight`                        | (V, C)  | tied: a copy of wte   |
//!
//! Metadata (all strings, as safetensors requires): `config` (the [`GptConfig`] as JSON; nanoGPT's
//! `model_args` dict also reads, its extra keys ignored), `vocab` (the characters in id order,
//! as one string), optionally `step`, plus any other key, kept as is.
//!
//! On load: `_orig_mod.` prefixes (a `torch.compile`d model) are stripped, the causal-mask
//! buffers `transformer.h.{i}.attn.bias` are ignored, and `lm_head.weight` may be absent or must
//! equal `wte`. Everything else is checked: every name, dtype, shape, offset and value, with a
//! message that says what is wrong.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::config::GptConfig;
use crate::error::{Error, Result};
use crate::model::params::ParameterLayout;
use crate::model::Gpt;
use crate::tokenizer::Vocab;

/// Largest header we read: far above any real model's, small enough that a corrupt length
/// cannot make us allocate gigabytes.
const MAX_HEADER_LEN: u64 = 64 << 20;

/// A loaded checkpoint: weights, shape, vocabulary.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// The model's shape.
    pub config: GptConfig,
    /// The characters, id order.
    pub vocab: Vocab,
    /// All parameters, flat, in [`ParameterLayout`] order.
    pub params: Vec<f32>,
    /// Training step at which it was saved, if recorded.
    pub step: Option<u64>,
    /// Other metadata entries (e.g. `val_loss`), as stored.
    pub metadata: BTreeMap<String, String>,
}

impl Checkpoint {
    /// The model these weights describe.
    pub fn into_model(self) -> Result<(Gpt, Vocab)> {
        Ok((Gpt::from_parameters(self.config, self.params)?, self.vocab))
    }
}

/// Where each nanoGPT tensor lives in our flat buffer: (name, shape, offset).
fn tensor_table(config: &GptConfig, layout: &ParameterLayout) -> Vec<(String, Vec<usize>, usize)> {
    let (v, t, c) = (config.vocab_size, config.block_size, config.n_embd);
    let off = |name: &str| layout.spec(name).expect("every layout tensor is named").offset;
    let mut table = vec![
        ("transformer.wte.weight".to_string(), vec![v, c], off("wte")),
        ("transformer.wpe.weight".to_string(), vec![t, c], off("wpe")),
    ];
    for i in 0..config.n_layer {
        let per_layer: [(&str, &str, Vec<usize>); 12] = [
            ("ln_1.weight", "ln1w", vec![c]),
            ("ln_1.bias", "ln1b", vec![c]),
            ("attn.c_attn.weight", "qkvw", vec![3 * c, c]),
            ("attn.c_attn.bias", "qkvb", vec![3 * c]),
            ("attn.c_proj.weight", "attprojw", vec![c, c]),
            ("attn.c_proj.bias", "attprojb", vec![c]),
            ("ln_2.weight", "ln2w", vec![c]),
            ("ln_2.bias", "ln2b", vec![c]),
            ("mlp.c_fc.weight", "fcw", vec![4 * c, c]),
            ("mlp.c_fc.bias", "fcb", vec![4 * c]),
            ("mlp.c_proj.weight", "fcprojw", vec![c, 4 * c]),
            ("mlp.c_proj.bias", "fcprojb", vec![c]),
        ];
        for (suffix, ours, shape) in per_layer {
            let size: usize = shape.iter().product();
            table.push((format!("transformer.h.{i}.{suffix}"), shape, off(ours) + i * size));
        }
    }
    table.push(("transformer.ln_f.weight".to_string(), vec![c], off("lnfw")));
    table.push(("transformer.ln_f.bias".to_string(), vec![c], off("lnfb")));
    table
}

/// The safetensors bytes of a model: f32 weights under nanoGPT's names (`lm_head.weight` written
/// as a copy of `wte`, as nanoGPT's `state_dict()` has it), config, vocabulary, step, and
/// `extra` metadata.
pub fn save(config: &GptConfig, vocab: &Vocab, params: &[f32], step: Option<u64>, extra: &BTreeMap<String, String>) -> Result<Vec<u8>> {
    let layout = ParameterLayout::new(config)?;
    if params.len() != layout.num_parameters {
        return Err(Error::Shape(format!("{} parameters given, the config needs {}", params.len(), layout.num_parameters)));
    }
    if vocab.len() != config.vocab_size {
        return Err(Error::invalid("vocab_size", format!("the vocabulary has {} characters, the config says {}", vocab.len(), config.vocab_size)));
    }
    let mut table = tensor_table(config, &layout);
    let wte_offset = table[0].2;
    table.push(("lm_head.weight".to_string(), vec![config.vocab_size, config.n_embd], wte_offset));

    // The header as JSON text, written directly (no `serde_json::Value` in the wasm builds):
    // every object's keys sorted, as serde_json prints a map, so the bytes are what they were.
    let quote = |s: &str| serde_json::to_string(s).expect("a string serialises");
    let object = |entries: &BTreeMap<String, String>| {
        let fields: Vec<String> = entries.iter().map(|(k, v)| format!("{}:{v}", quote(k))).collect();
        format!("{{{}}}", fields.join(","))
    };
    let mut meta = BTreeMap::new();
    for (k, v) in extra {
        meta.insert(k.clone(), quote(v));
    }
    meta.insert("format".into(), quote("pt"));
    meta.insert("config".into(), quote(&serde_json::to_string(config).expect("config serialises")));
    meta.insert("vocab".into(), quote(&vocab.as_string()));
    if let Some(s) = step {
        meta.insert("step".into(), quote(&s.to_string()));
    }
    let mut header = BTreeMap::new();
    header.insert("__metadata__".to_string(), object(&meta));
    let mut begin = 0usize;
    for (name, shape, _) in &table {
        let bytes = shape.iter().product::<usize>() * 4;
        let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
        header.insert(name.clone(), format!("{{\"data_offsets\":[{begin},{}],\"dtype\":\"F32\",\"shape\":[{}]}}", begin + bytes, dims.join(",")));
        begin += bytes;
    }
    let mut header = object(&header);
    while (8 + header.len()) % 8 != 0 {
        header.push(' '); // align the data to 8 bytes, as the reference writer does
    }
    let mut out = Vec::with_capacity(8 + header.len() + begin);
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for (_, shape, offset) in &table {
        let n: usize = shape.iter().product();
        for x in &params[*offset..*offset + n] {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    Ok(out)
}

/// Saves a [`Gpt`]'s weights; see [`save`].
pub fn save_model(gpt: &Gpt, vocab: &Vocab, extra: &BTreeMap<String, String>) -> Result<Vec<u8>> {
    save(gpt.config(), vocab, gpt.params(), Some(gpt.step()), extra)
}

/// One tensor entry of the header.
struct Entry {
    dtype: Dtype,
    shape: Vec<usize>,
    begin: usize,
    end: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dtype {
    F32,
    F16,
    BF16,
}

impl Dtype {
    fn size(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::F16 | Dtype::BF16 => 2,
        }
    }
}

fn bad(msg: impl Into<String>) -> Error {
    Error::Checkpoint(msg.into())
}

/// Reads a checkpoint from safetensors bytes, validating everything (see the module docs).
pub fn load(bytes: &[u8]) -> Result<Checkpoint> {
    if bytes.len() < 8 {
        return Err(bad(format!("the file is {} bytes; a safetensors file starts with an 8-byte header length", bytes.len())));
    }
    let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
    let available = (bytes.len() - 8) as u64;
    if n > available {
        return Err(bad(format!("the header length is {n} bytes but only {available} bytes follow it (truncated or not a safetensors file)")));
    }
    if n > MAX_HEADER_LEN {
        return Err(bad(format!("the header length {n} is larger than the supported {MAX_HEADER_LEN} bytes")));
    }
    let n = n as usize;
    let header = std::str::from_utf8(&bytes[8..8 + n]).map_err(|e| bad(format!("the header is not UTF-8: {e}")))?;
    let data = &bytes[8 + n..];
    let header: Value = serde_json::from_str(header.trim_end()).map_err(|e| bad(format!("the header is not valid JSON: {e}")))?;
    let Value::Object(header) = header else {
        return Err(bad("the header is not a JSON object"));
    };

    let mut metadata = BTreeMap::new();
    let mut entries: BTreeMap<String, Entry> = BTreeMap::new();
    for (name, value) in header {
        if name == "__metadata__" {
            let Value::Object(m) = value else { return Err(bad("__metadata__ is not a JSON object")) };
            for (k, v) in m {
                let Value::String(s) = v else { return Err(bad(format!("metadata {k} is not a string"))) };
                metadata.insert(k, s);
            }
            continue;
        }
        let entry = parse_entry(&name, &value, data.len())?;
        let name = name.strip_prefix("_orig_mod.").unwrap_or(&name).to_string();
        entries.insert(name, entry);
    }

    // As the safetensors spec requires: the tensors tile the data exactly, in some order, with
    // no gaps or overlaps. This also bounds what the tensors can ask us to allocate by the
    // size of the file.
    let mut ranges: Vec<(usize, usize, &str)> = entries.iter().map(|(n, e)| (e.begin, e.end, n.as_str())).collect();
    crate::sort::sort_by(&mut ranges, |a, b| a.cmp(b));
    let mut covered = 0;
    for (begin, end, name) in ranges {
        if begin != covered {
            let what = if begin > covered { "leaves a gap before it" } else { "overlaps the tensor before it" };
            return Err(bad(format!("tensor {name} starts at data byte {begin} and {what} (byte {covered})")));
        }
        covered = end;
    }
    if covered != data.len() {
        return Err(bad(format!("the tensors cover {covered} data bytes but the file has {} after the header", data.len())));
    }

    let config_json = metadata.remove("config").ok_or_else(|| bad("the metadata has no config (a JSON GptConfig under \"config\")"))?;
    let config = parse_config(&config_json)?;
    let vocab_chars = metadata.remove("vocab").ok_or_else(|| bad("the metadata has no vocab (the characters under \"vocab\")"))?;
    let vocab = Vocab::from_chars(vocab_chars.chars().collect()).map_err(|e| bad(format!("metadata vocab: {e}")))?;
    if vocab.len() != config.vocab_size {
        return Err(bad(format!("the vocab has {} characters but the config says vocab_size = {}", vocab.len(), config.vocab_size)));
    }
    let step = match metadata.remove("step") {
        None => None,
        Some(s) => Some(s.parse::<u64>().map_err(|_| bad(format!("metadata step {s:?} is not a whole number")))?),
    };
    metadata.remove("format");

    let layout = ParameterLayout::new(&config)?;
    let table = tensor_table(&config, &layout);
    // Every name and shape first, so a config that does not match the tensors is reported as
    // such before anything is allocated for it.
    for (name, shape, _) in &table {
        let entry = entries.get(name).ok_or_else(|| bad(format!("the checkpoint has no tensor {name} (expected shape {shape:?})")))?;
        if &entry.shape != shape {
            return Err(bad(format!("checkpoint tensor {name} has shape {:?}, expected {shape:?}", entry.shape)));
        }
    }
    let mut params = vec![0.0f32; layout.num_parameters];
    for (name, shape, offset) in table {
        let entry = entries.remove(&name).expect("checked above");
        let n: usize = shape.iter().product();
        convert(&name, &entry, data, &mut params[offset..offset + n])?;
    }
    if let Some(entry) = entries.remove("lm_head.weight") {
        let shape = vec![config.vocab_size, config.n_embd];
        if entry.shape != shape {
            return Err(bad(format!("checkpoint tensor lm_head.weight has shape {:?}, expected {shape:?}", entry.shape)));
        }
        let mut head = vec![0.0f32; config.vocab_size * config.n_embd];
        convert("lm_head.weight", &entry, data, &mut head)?;
        let wte = &params[..head.len()];
        if let Some(i) = (0..head.len()).find(|&i| head[i] != wte[i]) {
            return Err(bad(format!(
                "lm_head.weight differs from transformer.wte.weight at index {i} ({} vs {}); glassgpt ties the two",
                head[i], wte[i]
            )));
        }
    }
    let mask_buffer = |n: &str| n.strip_prefix("transformer.h.").is_some_and(|r| r.ends_with(".attn.bias"));
    if let Some(extra) = entries.keys().find(|n| !mask_buffer(n)) {
        return Err(bad(format!("unexpected tensor {extra} for a model with n_layer = {}", config.n_layer)));
    }
    Ok(Checkpoint { config, vocab, params, step, metadata })
}

/// Loads a checkpoint straight into a model.
pub fn load_model(bytes: &[u8]) -> Result<(Gpt, Vocab)> {
    load(bytes)?.into_model()
}

fn parse_config(s: &str) -> Result<GptConfig> {
    let v: Value = serde_json::from_str(s).map_err(|e| bad(format!("metadata config is not valid JSON: {e}")))?;
    if v.get("bias") == Some(&Value::Bool(false)) {
        return Err(bad("metadata config has bias = false; glassgpt's model has biases in every linear layer and LayerNorm"));
    }
    let config: GptConfig = serde_json::from_value(v).map_err(|e| bad(format!("metadata config: {e}")))?;
    config.validate().map_err(|e| bad(format!("metadata config: {e}")))?;
    Ok(config)
}

fn parse_entry(name: &str, v: &Value, data_len: usize) -> Result<Entry> {
    let dtype = match v.get("dtype").and_then(Value::as_str) {
        Some("F32") => Dtype::F32,
        Some("F16") => Dtype::F16,
        Some("BF16") => Dtype::BF16,
        Some(other) => return Err(bad(format!("tensor {name} has dtype {other}; glassgpt reads F32, F16 and BF16"))),
        None => return Err(bad(format!("tensor {name} has no dtype string"))),
    };
    // Read as u64 and checked against the file before anything becomes a usize (32 bits on
    // wasm32): an offset or a dimension past the file is "outside" or "too large", whatever its size.
    let shape = v
        .get("shape")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().map(Value::as_u64).collect::<Option<Vec<u64>>>())
        .ok_or_else(|| bad(format!("tensor {name} has no shape (a list of non-negative integers)")))?;
    let (begin, end) = v
        .get("data_offsets")
        .and_then(Value::as_array)
        .filter(|a| a.len() == 2)
        .and_then(|a| Some((a[0].as_u64()?, a[1].as_u64()?)))
        .ok_or_else(|| bad(format!("tensor {name} has no data_offsets [begin, end] (two non-negative integers)")))?;
    let too_large = || bad(format!("tensor {name} shape {shape:?} is too large"));
    let numel = shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d)).ok_or_else(too_large)?;
    let want = numel.checked_mul(dtype.size() as u64).ok_or_else(too_large)?;
    if begin > end || end > data_len as u64 {
        return Err(bad(format!("tensor {name} data_offsets [{begin}, {end}] lie outside the {data_len} data bytes (truncated file?)")));
    }
    if end - begin != want {
        return Err(bad(format!("tensor {name} has {} data bytes, expected {want} for shape {shape:?} in {dtype:?}", end - begin)));
    }
    // The offsets are within data_len now, a usize; a dimension may still not be (beside a 0).
    let shape = shape.iter().map(|&d| usize::try_from(d).map_err(|_| too_large())).collect::<Result<Vec<usize>>>()?;
    Ok(Entry { dtype, shape, begin: begin as usize, end: end as usize })
}

/// Converts an entry's bytes to f32 into `out`, refusing NaN and infinities.
fn convert(name: &str, e: &Entry, data: &[u8], out: &mut [f32]) -> Result<()> {
    let raw = &data[e.begin..e.end];
    match e.dtype {
        Dtype::F32 => raw.chunks_exact(4).zip(out.iter_mut()).for_each(|(b, o)| *o = f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        Dtype::F16 => raw.chunks_exact(2).zip(out.iter_mut()).for_each(|(b, o)| *o = f16_to_f32(u16::from_le_bytes([b[0], b[1]]))),
        Dtype::BF16 => raw.chunks_exact(2).zip(out.iter_mut()).for_each(|(b, o)| *o = bf16_to_f32(u16::from_le_bytes([b[0], b[1]]))),
    }
    if let Some(i) = out.iter().position(|x| !x.is_finite()) {
        return Err(bad(format!("checkpoint tensor {name} has a non-finite value ({}) at index {i}", out[i])));
    }
    Ok(())
}

/// IEEE half precision to f32 (exact: every f16 is an f32).
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let mant = (h & 0x3ff) as u32;
    match exp {
        0 => {
            let v = mant as f32 * (1.0 / 16_777_216.0); // subnormal: mant * 2^-24
            if sign != 0 { -v } else { v }
        }
        31 => f32::from_bits(sign | 0x7f80_0000 | (mant << 13)),
        _ => f32::from_bits(sign | ((exp + 112) << 23) | (mant << 13)),
    }
}

/// bfloat16 to f32 (exact: bf16 is the top half of an f32).
pub fn bf16_to_f32(b: u16) -> f32 {
    f32::from_bits((b as u32) << 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_conversions_hand_values() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95); // nearest f16 to 1/3
        assert_eq!(f16_to_f32(0x0001), 5.960_464_5e-8); // smallest subnormal, 2^-24
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert!(f16_to_f32(0x7c00).is_infinite() && f16_to_f32(0x7e00).is_nan());
        assert_eq!(bf16_to_f32(0x3f80), 1.0);
        assert_eq!(bf16_to_f32(0xc040), -3.0);
    }
}
