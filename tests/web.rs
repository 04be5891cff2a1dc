//! Browser unit tests of the bindings (`wasm-pack test --headless --chrome -- --test web`).
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn version_is_the_crate_version() {
    assert_eq!(glassgpt::wasm::version(), env!("CARGO_PKG_VERSION"));
}

#[wasm_bindgen_test]
fn matmul_binding_matches_hand_computed() {
    // (2, 3) · (2, 3)ᵀ
    let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let w = [1.0, 0.0, -1.0, 0.5, 0.5, 0.5];
    let y = glassgpt::wasm::matmul(&x, &w, 2, 3, 2).unwrap();
    assert_eq!(y, vec![-2.0, 3.0, -2.0, 7.5]);
}

#[wasm_bindgen_test]
fn matmul_binding_rejects_wrong_lengths() {
    assert!(glassgpt::wasm::matmul(&[1.0; 5], &[1.0; 6], 2, 3, 2).is_err());
}

/// A checkpoint whose tensor offsets do not fit a 32-bit usize (wasm32's): the loader says they
/// lie past the file's end, as it does natively, not that they are missing.
#[wasm_bindgen_test]
fn checkpoint_offsets_past_32_bits_are_outside_the_file() {
    use glassgpt::checkpoint::{load, save_model};
    use glassgpt::config::{GptConfig, PosEncoding};
    let vocab = glassgpt::tokenizer::Vocab::from_text("abcdefg \n").unwrap();
    let config = GptConfig { block_size: 8, vocab_size: vocab.len(), n_layer: 1, n_head: 2, n_embd: 8, pos_encoding: PosEncoding::Learned };
    let gpt = glassgpt::model::Gpt::new(config, 4).unwrap();
    let bytes = save_model(&gpt, &vocab, &Default::default()).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    header["lm_head.weight"]["data_offsets"] = serde_json::json!([0u64, 1_000_000_000_000u64]);
    let h = serde_json::to_string(&header).unwrap();
    let mut damaged = (h.len() as u64).to_le_bytes().to_vec();
    damaged.extend_from_slice(h.as_bytes());
    damaged.extend_from_slice(&bytes[8 + n..]);
    let e = load(&damaged).err().expect("a damaged checkpoint loaded").to_string();
    assert!(e.contains("lm_head.weight data_offsets [0, 1000000000000] lie outside the"), "{e}");
}
