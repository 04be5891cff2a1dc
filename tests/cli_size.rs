//! `glassgpt size` as a user runs it: the built binary prints the seed report's figures.
#![cfg(not(target_arch = "wasm32"))]

use std::process::Command;

fn size(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_glassgpt")).arg("size").args(args).output().expect("runs");
    (out.status.success(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn default_tables_show_every_seed_figure() {
    let (ok, out, err) = size(&[]);
    assert!(ok, "{err}");
    for figure in [
        "3.15 × 10^23 FLOPs",
        "6 × N × D = 6 × 1.75e11 × 3e11 = 3.15e23",
        "121.528 PFLOP/s",
        "1,558 GPUs",
        "$23.37M",
        "195 servers",
        "$38.805M",
        "7.9 × 10^12 tokens",
        "4.76 × 10^24 FLOPs",
        "55.093 EFLOP/s",
        "706,000 GPUs",
        "706,315 GPUs",
        "$10.595B",
        "88,000 servers",
        "$17.512B",
        // the 2N reading beside it, and the note
        "32.002 EFLOP/s",
        "The stated 4.76e24 FLOPs a day",
    ] {
        assert!(out.contains(figure), "missing {figure:?} in:\n{out}");
    }
}

#[test]
fn json_is_the_estimate() {
    let (ok, out, err) = size(&["--json"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(v["training"]["deployment"]["gpus"]["value"], 1558.0);
    assert_eq!(v["inference"]["stated"]["deployment"]["gpus_reported"]["value"], 706_000.0);
    assert_eq!(v["inference"]["stated"]["deployment"]["server_cost_reported"]["value"], 17_512_000_000.0);
    assert_eq!(v["training"]["flops"]["formula"], "6 × N × D = 6 × 1.75e11 × 3e11 = 3.15e23 (forward + backward)");
}

#[test]
fn presets_and_options_change_the_answer() {
    let (ok, out, err) = size(&["--preset", "gpt2", "--json"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["model"]["params"]["value"], 124_439_808.0);
    assert!(v["inference"]["stated"].is_null());
    // Half the deadline: twice the exact GPUs.
    let (_, out, _) = size(&["--days", "15", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let exact = v["training"]["deployment"]["gpus_exact"]["value"].as_f64().unwrap();
    assert!((exact - 2.0 * 1558.0484).abs() < 0.01, "{exact}");
    let (ok, out, err) = size(&["--gpu", "h100-sxm", "--precision", "fp16", "--utilisation", "0.4", "--json"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["hardware"]["effective"]["value"], 989e12 * 0.4);
}

#[test]
fn bad_input_fails_with_the_field_named() {
    let (ok, _, err) = size(&["--utilisation", "1.5"]);
    assert!(!ok);
    assert!(err.contains("hardware.utilisation: must be in (0, 1], got 1.5"), "{err}");
    let (ok, _, err) = size(&["--gpu", "v100"]);
    assert!(!ok);
    assert!(err.contains("hardware.precision: V100 SXM2 32GB has no TF32"), "{err}");
    let (ok, _, err) = size(&["--dayz", "3"]);
    assert!(!ok);
    assert!(err.contains("unknown option --dayz"), "{err}");
    let (ok, _, err) = size(&["--preset", "gpt5"]);
    assert!(!ok);
    assert!(err.contains("--preset: no preset `gpt5`"), "{err}");
    let (ok, _, err) = size(&["--precision", "fp64"]);
    assert!(!ok);
    assert!(err.contains("--precision"), "{err}");
}
