//! The sizing calculator for JS: plain objects in and out (serde-wasm-bindgen), TypeScript types
//! from `sizing.d.ts`, and errors as exceptions whose message starts with the field's path
//! (`hardware.utilisation: must be in (0, 1], got 1.5`).

use serde::{de::DeserializeOwned, Serialize};
use wasm_bindgen::prelude::*;

use crate::sizing::{self, presets, Architecture, Inputs};

#[wasm_bindgen(typescript_custom_section)]
const SIZING_TS: &'static str = include_str!("sizing.d.ts");

/// Reads a JS object as `T`; an error names the path of the field that did not fit
/// (`training.days: invalid type: string "30", expected f64`) or was not expected
/// (`training.dayz: unknown field; expected one of attention, days, gpus, tokens`).
fn from_js<T: DeserializeOwned + Serialize>(value: JsValue, root: &str) -> Result<T, JsError> {
    let parsed: T =
        serde_path_to_error::deserialize(serde_wasm_bindgen::Deserializer::from(value.clone())).map_err(|e| {
            let path = e.path().to_string();
            let path = if path == "." || path == "?" { root.to_string() } else { path };
            // serde-wasm-bindgen's messages come from a JS Error and read "Error: ...".
            let msg = e.inner().to_string();
            JsError::new(&format!("{path}: {}", msg.strip_prefix("Error: ").unwrap_or(&msg)))
        })?;
    // serde-wasm-bindgen reads only the fields a struct names, so `deny_unknown_fields` never
    // fires: compare the keys given with the keys the parsed value has instead. (Non-finite
    // numbers become null in serde_json; their keys remain, and validate() names them.)
    let given: serde_json::Value =
        serde_wasm_bindgen::from_value(value).map_err(|e| JsError::new(&format!("{root}: {e}")))?;
    let known = serde_json::to_value(&parsed).map_err(|e| JsError::new(&format!("{root}: {e}")))?;
    match first_unknown(&given, &known, "") {
        Some(msg) => Err(JsError::new(&msg)),
        None => Ok(parsed),
    }
}

/// The first key of `given` that `known` lacks, as `path.key: unknown field; expected ...`.
fn first_unknown(given: &serde_json::Value, known: &serde_json::Value, path: &str) -> Option<String> {
    let (serde_json::Value::Object(g), serde_json::Value::Object(k)) = (given, known) else { return None };
    for (key, v) in g {
        let at = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
        match k.get(key) {
            None => {
                let expected: Vec<&str> = k.keys().map(String::as_str).collect();
                return Some(format!("{at}: unknown field; expected one of {}", expected.join(", ")));
            }
            Some(kv) => {
                if let Some(m) = first_unknown(v, kv, &at) {
                    return Some(m);
                }
            }
        }
    }
    None
}

/// Writes `value` as a plain JS object: `null` for `None`, objects for maps.
fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&format!("sizing: cannot convert the result: {e}")))
}

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
