//! Fuzzes the checkpoint loader: `cargo +nightly fuzz run checkpoint -- -max_total_time=60`.
//!
//! Each input is tried twice: as raw bytes, and as edits to a valid checkpoint (triples of a
//! 16-bit position and a byte to write there; a leftover byte truncates the file), so the
//! fuzzer reaches the header's JSON and the validation behind it without a seed corpus.
//! The loader must return Ok or Err and never panic; whatever loads must run.
#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use glassgpt::checkpoint::{load, save_model};
use glassgpt::config::GptConfig;
use glassgpt::kernels::scalar::Scalar;
use glassgpt::model::Gpt;
use glassgpt::tokenizer::Vocab;
use libfuzzer_sys::fuzz_target;

fn valid() -> &'static [u8] {
    static VALID: OnceLock<Vec<u8>> = OnceLock::new();
    VALID.get_or_init(|| {
        let vocab = Vocab::from_text("ab \n").unwrap();
        let config = GptConfig { block_size: 4, vocab_size: vocab.len(), n_layer: 1, n_head: 2, n_embd: 4, ..GptConfig::default() };
        let gpt = Gpt::new(config, 1).unwrap();
        save_model(&gpt, &vocab, &BTreeMap::new()).unwrap()
    })
}

fn check(bytes: &[u8]) {
    if let Ok(ckpt) = load(bytes) {
        let (mut gpt, vocab) = ckpt.into_model().expect("a loaded checkpoint makes a model");
        let n = gpt.config().block_size.min(3);
        let tokens: Vec<u32> = (0..n as u32).map(|i| i % vocab.len() as u32).collect();
        // Finite but huge weights may overflow to inf in the logits; running must still work.
        gpt.forward_logits(&Scalar, &tokens).expect("a loaded model runs");
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    let mut bytes = valid().to_vec();
    let edits = data.chunks_exact(3);
    let rest = edits.remainder().to_vec();
    for e in edits {
        let pos = u16::from_le_bytes([e[0], e[1]]) as usize % bytes.len();
        bytes[pos] = e[2];
    }
    if let Some(&cut) = rest.first() {
        let keep = bytes.len() * cut as usize / 256;
        bytes.truncate(keep);
    }
    check(&bytes);
});
