//! Checkpoints: save -> load gives the same logits; every kind of damage gives an error that
//! says what is wrong, never a panic; f16 and bf16 weights load.

use std::collections::BTreeMap;

use glassgpt::checkpoint::{load, load_model, save, save_model};
use glassgpt::config::{GptConfig, PosEncoding};
use glassgpt::kernels::scalar::Scalar;
use glassgpt::model::Gpt;
use glassgpt::tokenizer::Vocab;
use glassgpt::Error;
use serde_json::Value;

fn model() -> (Gpt, Vocab) {
    let vocab = Vocab::from_text("abcdefg \n").unwrap();
    let config = GptConfig { block_size: 8, vocab_size: vocab.len(), n_layer: 2, n_head: 2, n_embd: 8, pos_encoding: PosEncoding::Learned };
    (Gpt::new(config, 4).unwrap(), vocab)
}

fn saved() -> Vec<u8> {
    let (gpt, vocab) = model();
    let extra = BTreeMap::from([("val_loss".to_string(), "1.234".to_string())]);
    save_model(&gpt, &vocab, &extra).unwrap()
}

/// Splits safetensors bytes into (header JSON, data) — written here, independent of the loader.
fn split(bytes: &[u8]) -> (serde_json::Map<String, Value>, Vec<u8>) {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    (header.as_object().unwrap().clone(), bytes[8 + n..].to_vec())
}

fn join(header: &serde_json::Map<String, Value>, data: &[u8]) -> Vec<u8> {
    let h = serde_json::to_string(header).unwrap();
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(data);
    out
}

/// Re-lays out the tensors of `header` contiguously (taking each one's bytes from `data` at its
/// old offsets), as a writer would after adding or removing tensors.
fn repack(header: &serde_json::Map<String, Value>, data: &[u8]) -> Vec<u8> {
    let mut h = header.clone();
    let mut out = Vec::new();
    for (name, entry) in h.iter_mut() {
        if name == "__metadata__" {
            continue;
        }
        let offs = &entry["data_offsets"];
        let (b, e) = (offs[0].as_u64().unwrap() as usize, offs[1].as_u64().unwrap() as usize);
        let start = out.len();
        out.extend_from_slice(&data[b..e]);
        entry["data_offsets"] = serde_json::json!([start, out.len()]);
    }
    join(&h, &out)
}

fn checkpoint_error(bytes: &[u8]) -> String {
    match load(bytes) {
        Err(Error::Checkpoint(m)) => m,
        Err(other) => panic!("expected a checkpoint error, got {other:?}"),
        Ok(_) => panic!("a damaged checkpoint loaded"),
    }
}

#[test]
fn round_trip_gives_identical_logits() {
    let (mut gpt, vocab) = model();
    let bytes = saved();
    let ckpt = load(&bytes).unwrap();
    assert_eq!(ckpt.config, *gpt.config());
    assert_eq!(ckpt.vocab, vocab);
    assert_eq!(ckpt.step, Some(0));
    assert_eq!(ckpt.metadata.get("val_loss").map(String::as_str), Some("1.234"));
    let (mut loaded, _) = ckpt.into_model().unwrap();
    assert_eq!(loaded.params(), gpt.params());
    let tokens = [0, 3, 5, 8, 1];
    let a = gpt.forward_logits(&Scalar, &tokens).unwrap().to_vec();
    assert_eq!(loaded.forward_logits(&Scalar, &tokens).unwrap(), &a[..]);
}

/// Names and shapes are nanoGPT's state_dict, checked against a list written out here.
/// The header is written by hand (no `serde_json::Value` in the wasm builds): it must be exactly
/// what serde_json prints for the same JSON (keys sorted, strings escaped), padded with spaces,
/// and metadata with quotes, backslashes, control and non-ASCII characters must come back intact.
#[test]
fn the_header_is_serde_jsons_rendering_of_itself() {
    let (gpt, vocab) = model();
    let odd = "a \"quoted\" \\ path\n\ttab \u{1} é 🦀";
    let extra = BTreeMap::from([("note \"x\"".to_string(), odd.to_string()), ("val_loss".to_string(), "1.234".to_string())]);
    let bytes = save_model(&gpt, &vocab, &extra).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    assert_eq!((8 + n) % 8, 0, "data aligned to 8 bytes");
    let text = std::str::from_utf8(&bytes[8..8 + n]).unwrap();
    let parsed: Value = serde_json::from_str(text).unwrap();
    assert_eq!(text.trim_end_matches(' '), serde_json::to_string(&parsed).unwrap());
    assert_eq!(parsed["__metadata__"]["note \"x\""], odd);
    assert_eq!(parsed["transformer.wte.weight"], serde_json::json!({"dtype": "F32", "shape": [9, 8], "data_offsets": [0, 9 * 8 * 4]}));
    assert_eq!(load(&bytes).unwrap().metadata.get("note \"x\"").map(String::as_str), Some(odd));
}

#[test]
fn tensor_names_and_shapes_are_nanogpts() {
    let (header, _) = split(&saved());
    let shape = |name: &str| -> Vec<u64> {
        header[name]["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap()).collect()
    };
    assert_eq!(shape("transformer.wte.weight"), [9, 8]);
    assert_eq!(shape("transformer.wpe.weight"), [8, 8]);
    assert_eq!(shape("transformer.h.1.ln_1.weight"), [8]);
    assert_eq!(shape("transformer.h.1.attn.c_attn.weight"), [24, 8]);
    assert_eq!(shape("transformer.h.1.attn.c_attn.bias"), [24]);
    assert_eq!(shape("transformer.h.0.attn.c_proj.weight"), [8, 8]);
    assert_eq!(shape("transformer.h.0.mlp.c_fc.weight"), [32, 8]);
    assert_eq!(shape("transformer.h.0.mlp.c_fc.bias"), [32]);
    assert_eq!(shape("transformer.h.0.mlp.c_proj.weight"), [8, 32]);
    assert_eq!(shape("transformer.ln_f.bias"), [8]);
    assert_eq!(shape("lm_head.weight"), [9, 8]);
    // 2 + 12 per layer + 2 + lm_head, plus the metadata.
    assert_eq!(header.len(), 2 + 2 * 12 + 2 + 1 + 1);
    let meta = header["__metadata__"].as_object().unwrap();
    assert_eq!(meta["vocab"], "\n abcdefg");
    let config: Value = serde_json::from_str(meta["config"].as_str().unwrap()).unwrap();
    assert_eq!(config["n_head"], 2);
    // Each tensor's bytes are the f32 values of our buffer: c_attn of layer 1 = qkvw layer 1.
    let (gpt, _) = model();
    let (header, data) = split(&saved());
    let off = header["transformer.h.1.attn.c_attn.weight"]["data_offsets"][0].as_u64().unwrap() as usize;
    let first = f32::from_le_bytes(data[off..off + 4].try_into().unwrap());
    let qkvw = gpt.layout().spec("qkvw").unwrap();
    assert_eq!(first, gpt.params()[qkvw.offset + 24 * 8]);
}

#[test]
fn damaged_files_are_errors_that_say_what_is_wrong() {
    let bytes = saved();
    let (header, data) = split(&bytes);

    assert!(checkpoint_error(&bytes[..5]).contains("8-byte header length"));
    assert!(checkpoint_error(&bytes[..bytes.len() - 10]).contains("outside the"), "truncated data");
    assert!(checkpoint_error(&bytes[..100]).contains("only 92 bytes follow"), "truncated header");

    let mut wrong_len = bytes.clone();
    wrong_len[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(checkpoint_error(&wrong_len).contains("header length"));
    let mut short_len = bytes.clone();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap());
    short_len[..8].copy_from_slice(&(n - 7).to_le_bytes());
    assert!(checkpoint_error(&short_len).contains("not valid JSON"));

    let mut h = header.clone();
    h.get_mut("transformer.wpe.weight").unwrap()["shape"] = serde_json::json!([4, 16]);
    let msg = checkpoint_error(&join(&h, &data));
    assert_eq!(msg, "checkpoint tensor transformer.wpe.weight has shape [4, 16], expected [8, 8]");

    let mut h = header.clone();
    h.remove("transformer.h.1.mlp.c_fc.bias");
    assert!(checkpoint_error(&join(&h, &data)).contains("leaves a gap"), "a hole in the data");
    assert_eq!(checkpoint_error(&repack(&h, &data)), "the checkpoint has no tensor transformer.h.1.mlp.c_fc.bias (expected shape [32])");

    let mut h = header.clone();
    let extra = h["transformer.ln_f.bias"].clone();
    h.insert("transformer.h.2.ln_1.bias".into(), extra);
    assert!(checkpoint_error(&join(&h, &data)).contains("overlaps"), "two tensors on the same bytes");
    assert!(checkpoint_error(&repack(&h, &data)).contains("unexpected tensor transformer.h.2.ln_1.bias"));

    let mut nan = data.clone();
    let off = header["transformer.h.0.ln_2.weight"]["data_offsets"][0].as_u64().unwrap() as usize + 4 * 3;
    nan[off..off + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    assert_eq!(checkpoint_error(&join(&header, &nan)), "checkpoint tensor transformer.h.0.ln_2.weight has a non-finite value (NaN) at index 3");

    // Offsets past the file, however large (10^12 does not fit wasm32's usize: tests/web.rs), and
    // offsets that are not integers.
    let mut h = header.clone();
    h.get_mut("lm_head.weight").unwrap()["data_offsets"] = serde_json::json!([0u64, 1_000_000_000_000u64]);
    assert!(checkpoint_error(&join(&h, &data)).contains("lm_head.weight data_offsets [0, 1000000000000] lie outside the"));
    let mut h = header.clone();
    h.get_mut("lm_head.weight").unwrap()["data_offsets"] = serde_json::json!([0, -4]);
    assert!(checkpoint_error(&join(&h, &data)).contains("lm_head.weight has no data_offsets [begin, end] (two non-negative integers)"));

    let mut h = header.clone();
    h.get_mut("transformer.wte.weight").unwrap()["dtype"] = "I64".into();
    assert!(checkpoint_error(&join(&h, &data)).contains("dtype I64"));

    let mut h = header.clone();
    h.get_mut("__metadata__").unwrap().as_object_mut().unwrap().remove("config");
    assert!(checkpoint_error(&join(&h, &data)).contains("no config"));

    let mut h = header.clone();
    h.get_mut("__metadata__").unwrap()["vocab"] = "abc".into();
    assert!(checkpoint_error(&join(&h, &data)).contains("3 characters but the config says vocab_size = 9"));

    // lm_head must be wte: a different head cannot be represented here.
    let mut head = data.clone();
    let off = header["lm_head.weight"]["data_offsets"][0].as_u64().unwrap() as usize;
    head[off..off + 4].copy_from_slice(&0.5f32.to_le_bytes());
    assert!(checkpoint_error(&join(&header, &head)).contains("lm_head.weight differs"));
    // ... but may be absent.
    let mut h = header.clone();
    h.remove("lm_head.weight");
    assert!(load(&repack(&h, &data)).is_ok());
    // torch.compile's prefix and the causal-mask buffer are accepted.
    let mut h = serde_json::Map::new();
    for (k, v) in &header {
        let k = if k.starts_with("transformer.") { format!("_orig_mod.{k}") } else { k.clone() };
        h.insert(k, v.clone());
    }
    h.insert("transformer.h.0.attn.bias".into(), header["transformer.ln_f.bias"].clone());
    assert!(load(&repack(&h, &data)).is_ok());
    // A config far larger than the tensors is refused by shape, before any allocation.
    let mut h = header.clone();
    h.get_mut("__metadata__").unwrap()["config"] =
        r#"{"block_size":4096,"vocab_size":9,"n_layer":64,"n_head":64,"n_embd":4096}"#.into();
    assert!(checkpoint_error(&join(&h, &data)).contains("has shape [9, 8], expected [9, 4096]"));
}

/// Rewrites every tensor as f16 or bf16 (converted here, independently) and loads it.
#[test]
fn half_precision_weights_load() {
    let (gpt, _) = model();
    let (header, data) = split(&saved());
    for dtype in ["F16", "BF16"] {
        let mut h = header.clone();
        let mut out = Vec::new();
        let names: Vec<String> = header.keys().filter(|k| *k != "__metadata__").cloned().collect();
        for name in names {
            let offs = &header[&name]["data_offsets"];
            let (b, e) = (offs[0].as_u64().unwrap() as usize, offs[1].as_u64().unwrap() as usize);
            let start = out.len();
            for ch in data[b..e].chunks_exact(4) {
                let x = f32::from_le_bytes(ch.try_into().unwrap());
                let half = if dtype == "BF16" { (x.to_bits() >> 16) as u16 } else { to_f16(x) };
                out.extend_from_slice(&half.to_le_bytes());
            }
            let entry = h.get_mut(&name).unwrap();
            entry["dtype"] = dtype.into();
            entry["data_offsets"] = serde_json::json!([start, out.len()]);
        }
        let (loaded, _) = load_model(&join(&h, &out)).unwrap();
        let tol = if dtype == "BF16" { 1.0 / 128.0 } else { 1.0 / 1024.0 };
        for (a, b) in loaded.params().iter().zip(gpt.params()) {
            assert!((a - b).abs() <= tol * b.abs() + 1e-7, "{dtype}: {a} vs {b}");
        }
    }
}

/// f32 -> f16, round to nearest, for the normal and subnormal range the weights use.
fn to_f16(x: f32) -> u16 {
    let sign = if x < 0.0 { 0x8000u16 } else { 0 };
    let a = x.abs();
    if a == 0.0 {
        return sign;
    }
    let e = a.log2().floor() as i32;
    if e < -14 {
        return sign | (a / 2f32.powi(-24)).round() as u16; // subnormal
    }
    let mant = ((a / 2f32.powi(e) - 1.0) * 1024.0).round() as u32;
    let (e, mant) = if mant == 1024 { (e + 1, 0) } else { (e, mant) };
    sign | (((e + 15) as u16) << 10) | mant as u16
}

#[test]
fn save_checks_its_inputs() {
    let (gpt, vocab) = model();
    let other = Vocab::from_text("xyz").unwrap();
    assert!(save(gpt.config(), &other, gpt.params(), None, &BTreeMap::new()).is_err());
    assert!(save(gpt.config(), &vocab, &gpt.params()[1..], None, &BTreeMap::new()).is_err());
}
