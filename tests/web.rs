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
