//! The sizing bindings as JS sees them: plain objects in and out, errors as exceptions whose
//! message starts with the field's path. Run with
//! `wasm-pack test --headless --chrome -- --test web_sizing` (part of `cargo xtask test`).
#![cfg(target_arch = "wasm32")]

use glassgpt::wasm::sizing::{estimate, param_count, presets_js, scenario, seed_scenario};
use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// `obj.a.b.c`.
fn get(obj: &JsValue, path: &str) -> JsValue {
    path.split('.').fold(obj.clone(), |o, k| Reflect::get(&o, &JsValue::from_str(k)).unwrap())
}

fn set(obj: &JsValue, path: &str, v: JsValue) {
    let (parent, key) = path.rsplit_once('.').unwrap();
    Reflect::set(&get(obj, parent), &JsValue::from_str(key), &v).unwrap();
}

fn message(r: Result<JsValue, wasm_bindgen::JsError>) -> String {
    let e: JsValue = r.expect_err("should throw").into();
    e.dyn_into::<js_sys::Error>().unwrap().message().into()
}

#[wasm_bindgen_test]
fn seed_scenario_gives_the_seed_figures() {
    let e = estimate(seed_scenario().unwrap()).unwrap();
    assert_eq!(get(&e, "training.deployment.gpus.value").as_f64(), Some(1558.0));
    assert_eq!(get(&e, "training.flop_per_s.display").as_string().unwrap(), "121.528 PFLOP/s");
    assert_eq!(get(&e, "inference.stated.deployment.gpus_reported.value").as_f64(), Some(706_000.0));
    assert_eq!(get(&e, "inference.stated.deployment.server_cost_reported.display").as_string().unwrap(), "$17.512B");
    // A plain object, not a Map; None is null.
    assert!(!e.is_instance_of::<js_sys::Map>());
    let g = estimate(scenario("gpt2").unwrap()).unwrap();
    assert!(get(&g, "inference.stated").is_null());
}

#[wasm_bindgen_test]
fn errors_start_with_the_field() {
    let s = seed_scenario().unwrap();
    set(&s, "hardware.utilisation", JsValue::from_f64(1.5));
    assert_eq!(message(estimate(s)), "hardware.utilisation: must be in (0, 1], got 1.5");
    let s = seed_scenario().unwrap();
    set(&s, "training.days", JsValue::from_f64(f64::NAN));
    assert_eq!(message(estimate(s)), "training.days: must be a number, got NaN");
    let s = seed_scenario().unwrap();
    set(&s, "training.days", JsValue::from_str("30"));
    assert!(message(estimate(s)).starts_with("training.days: invalid type"));
    let s = seed_scenario().unwrap();
    set(&s, "training.dayz", JsValue::from_f64(3.0));
    assert!(message(estimate(s)).starts_with("training.dayz: unknown field"));
    assert!(message(scenario("gpt5")).starts_with("preset: no scenario `gpt5`"));
}

#[wasm_bindgen_test]
fn presets_and_param_count() {
    let p = presets_js().unwrap();
    let models: js_sys::Array = get(&p, "models").dyn_into().unwrap();
    assert_eq!(models.length(), 13);
    let gpt2 = models.iter().find(|m| get(m, "id").as_string().as_deref() == Some("gpt2")).unwrap();
    let count = param_count(get(&gpt2, "arch")).unwrap();
    assert_eq!(get(&count, "total.value").as_f64(), Some(124_439_808.0));
}
