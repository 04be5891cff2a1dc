//! The sizing calculator for JS: plain objects in and out (serde-wasm-bindgen), TypeScript types
//! from `sizing.d.ts`, and errors as exceptions whose message starts with the field's path
//! (`hardware.utilisation: must be in (0, 1], got 1.5`).

use wasm_bindgen::prelude::*;

use super::{from_js, to_js};
use crate::sizing::{self, presets, Architecture, Inputs};

#[wasm_bindgen(typescript_custom_section)]
const SIZING_TS: &'static str = include_str!("sizing.d.ts");


/// Every output for a scenario (an `Inputs` object; start from `seedScenario()`). Throws an
/// `Error` whose message starts with the path of the first invalid field.
#[wasm_bindgen(js_name = estimate, unchecked_return_type = "Estimate")]
pub fn estimate(#[wasm_bindgen(unchecked_param_type = "Inputs")] inputs: JsValue) -> Result<JsValue, JsError> {
    let inputs: Inputs = from_js(inputs, "inputs")?;
    let e = sizing::estimate(&inputs).map_err(|e| JsError::new(&e.to_string()))?;
    to_js(&e)
}

/// The seed report's GPT-3 scenario, whose estimate prints the report's figures.
#[wasm_bindgen(js_name = seedScenario, unchecked_return_type = "Inputs")]
pub fn seed_scenario() -> Result<JsValue, JsError> {
    to_js(&presets::seed_scenario())
}

/// A named scenario: "seed", or a model preset id ("gpt3-175b", "gpt2", ...) on the seed's
/// hardware. Throws for an unknown id.
#[wasm_bindgen(js_name = scenario, unchecked_return_type = "Inputs")]
pub fn scenario(id: &str) -> Result<JsValue, JsError> {
    match presets::scenario(id) {
        Some(s) => to_js(&s),
        None => {
            Err(JsError::new(&format!("preset: no scenario `{id}`; one of {}", presets::scenario_ids().join(", "))))
        }
    }
}

/// Model, GPU and server presets.
#[wasm_bindgen(js_name = presets, unchecked_return_type = "Presets")]
pub fn presets_js() -> Result<JsValue, JsError> {
    to_js(&presets::presets())
}

/// The itemised parameter count of an `Architecture` object.
#[wasm_bindgen(js_name = paramCount, unchecked_return_type = "ParamCount")]
pub fn param_count(#[wasm_bindgen(unchecked_param_type = "Architecture")] arch: JsValue) -> Result<JsValue, JsError> {
    let arch: Architecture = from_js(arch, "arch")?;
    let count = sizing::count_params(&arch).map_err(|e| JsError::new(&e.to_string()))?;
    to_js(&count)
}
