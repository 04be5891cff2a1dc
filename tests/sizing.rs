//! The sizing calculator against the seed report's figures, hand-computed cases, published
//! parameter counts, properties, and every validation error.

use glassgpt::config::PosEncoding;
use glassgpt::sizing::presets::{self, model, scenario, seed_scenario};
use glassgpt::sizing::{count_params, estimate, training_compute, Architecture, ComputePrecision, Estimate, Inputs, Quantity};

/// `a` within `rel` relative error of `b`.
fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs()
}

fn seed() -> Estimate {
    estimate(&seed_scenario()).expect("the seed scenario is valid")
}

/// The value rounded to `decimals` after scaling by `scale`, as the report prints it.
fn printed(x: f64, scale: f64, decimals: i32) -> f64 {
    let p = 10f64.powi(decimals);
    (x / scale * p).round() / p
}

// ---------------------------------------------------------------- the seed report, figure by figure

#[test]
fn seed_training_figures() {
    let e = seed();
    let t = &e.training;
    // 3.15*10^23 FLOPs
    assert!(close(t.flops.value, 3.15e23, 1e-12), "{}", t.flops.value);
    assert_eq!(t.flops.display, "3.15 × 10^23 FLOPs");
    assert_eq!(t.flops.formula, "6 × N × D = 6 × 1.75e11 × 3e11 = 3.15e23 (forward + backward)");
    // forward 2ND, backward 4ND
    assert!(close(t.forward.value, 1.05e23, 1e-12));
    assert!(close(t.backward.value, 2.1e23, 1e-12));
    // 121.528 PFLOPS
    assert_eq!(printed(t.flop_per_s.value, 1e15, 3), 121.528);
    assert_eq!(t.flop_per_s.display, "121.528 PFLOP/s");
    // 78 TFLOP/s per A100 = 156 TF32 × 0.5
    assert_eq!(e.hardware.effective.value, 78e12);
    let d = &t.deployment;
    // 1558 GPUs (1558.05 exact; ceil would be 1559)
    assert!(close(d.gpus_exact.value, 1558.0484, 1e-6), "{}", d.gpus_exact.value);
    assert_eq!(d.gpus.value, 1558.0);
    assert_eq!(d.gpus_reported.value, 1558.0);
    // ~$23.37M
    assert_eq!(d.gpu_cost.value, 23_370_000.0);
    assert_eq!(d.gpu_cost.display, "$23.37M");
    // 195 DGX A100, ~$38.805M
    assert_eq!(d.servers.value, 195.0);
    assert_eq!(d.servers_reported.value, 195.0);
    assert_eq!(d.server_cost.value, 38_805_000.0);
    assert_eq!(d.server_cost_reported.display, "$38.805M");
}

#[test]
fn seed_inference_figures() {
    let e = seed();
    let i = &e.inference;
    // 7.9 trillion tokens a day
    assert!(close(i.tokens_per_day.value, 7.9e12, 1e-12));
    assert_eq!(i.tokens_per_day.display, "7.9 × 10^12 tokens");
    let s = i.stated.as_ref().expect("the seed states its FLOPs a day");
    // 4.76*10^24 FLOPs
    assert_eq!(s.flops_per_day.value, 4.76e24);
    assert_eq!(s.flops_per_day.display, "4.76 × 10^24 FLOPs");
    // 55 EFLOPS (55.09)
    assert_eq!(printed(s.flop_per_s.value, 1e18, 0), 55.0);
    assert_eq!(printed(s.flop_per_s.value, 1e18, 2), 55.09);
    let d = &s.deployment;
    // 70.6万 = 706,000 GPUs printed; 706,315 whole
    assert_eq!(d.gpus.value, 706_315.0);
    assert_eq!(d.gpus_reported.value, 706_000.0);
    // ~$10.595B, from the unrounded count
    assert_eq!(printed(d.gpu_cost.value, 1e9, 3), 10.595);
    assert_eq!(d.gpu_cost.display, "$10.595B");
    // 8.8万 = 88,000 servers, ~$17.512B from the rounded count
    assert_eq!(d.servers.value, 88_290.0);
    assert_eq!(d.servers_reported.value, 88_000.0);
    assert_eq!(d.server_cost_reported.value, 17_512_000_000.0);
    assert_eq!(d.server_cost_reported.display, "$17.512B");
    // The stated figure's implied cost per token: 6.03e11 = 3.44 N.
    assert_eq!(printed(s.flops_per_token.value, 1e11, 2), 6.03);
    assert!(s.flops_per_token.formula.contains("3.44"), "{}", s.flops_per_token.formula);
}

#[test]
fn seed_inference_formula_reading_is_2n_per_token() {
    let e = seed();
    let f = &e.inference.formula;
    // 2N = 3.5e11 FLOPs/token; × 7.9e12 tokens = 2.765e24 FLOPs a day; 32.0 EFLOP/s; 410,286 GPUs.
    assert_eq!(f.flops_per_token.value, 3.5e11);
    assert!(close(f.flops_per_day.value, 2.765e24, 1e-12));
    assert_eq!(printed(f.flop_per_s.value, 1e18, 1), 32.0);
    assert_eq!(f.deployment.gpus.value, (2.765e24 / 86_400.0 / 78e12_f64).round());
    assert_eq!(f.deployment.gpus.value, 410_286.0);
    let note = e.inference.note.as_deref().expect("the discrepancy is explained");
    assert!(note.contains("2N") && note.contains("3.44") && note.contains("410,286"), "{note}");
}

#[test]
fn seed_formulas_show_the_numbers() {
    let e = seed();
    let d = &e.training.deployment;
    assert_eq!(e.hardware.effective.formula, "peak × utilisation = 1.56e14 × 0.5 = 7.8e13");
    assert_eq!(e.training.flop_per_s.formula, "FLOPs / (days × 86,400 s) = 3.15e23 / (30 × 86,400) = 1.21528e17");
    assert_eq!(d.gpus_exact.formula, "required / effective = 1.21528e17 / 7.8e13 = 1,558.05");
    assert!(d.gpus.formula.starts_with("round(1,558.05) = 1,558"), "{}", d.gpus.formula);
    assert!(d.gpus.formula.contains("rounding up gives 1,559"), "{}", d.gpus.formula);
    assert_eq!(d.gpu_cost.formula, "GPUs × price = 1,558 × $15,000 = $23.37M");
    assert_eq!(d.servers.formula, "ceil(GPUs / GPUs per server) = ceil(1,558 / 8) = 195");
    let s = &e.inference.stated.as_ref().unwrap().deployment;
    assert!(s.gpus_reported.formula.starts_with("706,315 → 706,000 = 70.6万"), "{}", s.gpus_reported.formula);
    assert!(s.servers_reported.formula.starts_with("88,290 → 88,000 = 8.8万"), "{}", s.servers_reported.formula);
}

#[test]
fn seed_extras_by_hand() {
    let e = seed();
    let t = &e.training;
    // GPU-hours: 3.15e23 / 78e12 / 3600 = 1,121,794.87
    assert!(close(t.gpu_hours.value, 3.15e23 / 78e12 / 3600.0, 1e-12));
    assert_eq!(printed(t.gpu_hours.value, 1.0, 0), 1_121_795.0);
    // Energy: × 0.25 kW (A100 PCIe) × PUE 1.2 = 336,538 kWh
    assert_eq!(printed(t.energy.value, 1.0, 0), 336_538.0);
    // Inverse: 1,558 GPUs take 30.0009 days.
    assert_eq!(t.inverse_gpus.value, 1558.0);
    assert!(close(t.inverse_days.value, 3.15e23 / (1558.0 * 78e12 * 86_400.0), 1e-12));
    assert_eq!(printed(t.inverse_days.value, 1.0, 3), 30.001);
    // D/N = 1.714; Chinchilla 20 N = 3.5e12.
    assert_eq!(printed(t.tokens_per_param.value, 1.0, 3), 1.714);
    assert_eq!(t.chinchilla_tokens.value, 3.5e12);
    // N stated 175e9; the architecture counts 174.6e9.
    assert_eq!(e.model.params.value, 175e9);
    assert!(e.model.params_stated);
    assert_eq!(e.model.count.total.value, 174_604_259_328.0);
}

#[test]
fn seed_memory_by_hand() {
    let e = seed();
    let m = &e.memory;
    // Weights: 175e9 × 4 / 2 / 1 bytes.
    assert_eq!(m.weights_fp32.value, 700e9);
    assert_eq!(m.weights_fp16.value, 350e9);
    assert_eq!(m.weights_int8.value, 175e9);
    // fp32 training with AdamW: 4 + 4 + 8 = 16 B/param = 2.8 TB; 70 A100-40GB to hold it.
    assert_eq!(m.training.total.value, 2.8e12);
    assert_eq!(m.training.total.display, "2.8 TB");
    assert_eq!(m.training.gpus_to_hold.value, 70.0);
    // KV cache, batch 1, context 2048, fp32: 2 × 96 × 2048 × 12288 × 4 bytes = 19.327 GB.
    assert_eq!(m.inference.kv_cache.value, 2.0 * 96.0 * 2048.0 * 12288.0 * 4.0);
    // 1.2 × 700 GB + KV = 859.327 GB → 22 GPUs of 40 GB.
    assert_eq!(m.inference.total.value, 840e9 + 2.0 * 96.0 * 2048.0 * 12288.0 * 4.0);
    assert_eq!(m.inference.gpus_to_hold.value, 22.0);
}

#[test]
fn mixed_precision_is_16_bytes_per_param_too() {
    let mut s = seed_scenario();
    s.memory.training_precision = glassgpt::sizing::TrainingPrecision::Mixed;
    let e = estimate(&s).unwrap();
    let t = &e.memory.training;
    assert_eq!(t.weights.value, 2.0 * 175e9);
    assert_eq!(t.gradients.value, 2.0 * 175e9);
    assert_eq!(t.optimizer.value, 12.0 * 175e9);
    assert_eq!(t.total.value, 16.0 * 175e9);
}

// ---------------------------------------------------------------- hand-computed cases

#[test]
fn small_scenario_by_hand() {
    // N = 1e9 stated, D = 2e10, 1 day, H100 SXM at FP16 989 TFLOP/s × 0.4 = 395.6 TFLOP/s.
    let mut s = seed_scenario();
    s.model.params = Some(1e9);
    s.training.tokens = 2e10;
    s.training.days = 1.0;
    s.hardware.gpu = presets::gpu("h100-sxm").unwrap();
    s.hardware.precision = ComputePrecision::Fp16;
    s.hardware.utilisation = 0.4;
    s.hardware.server = presets::server("dgx-h100").unwrap();
    let e = estimate(&s).unwrap();
    // 6 × 1e9 × 2e10 = 1.2e20 FLOPs; / 86,400 = 1.38889e15 FLOP/s; / 395.6e12 = 3.51084 → 4 GPUs.
    assert_eq!(e.training.flops.value, 1.2e20);
    assert!(close(e.training.flop_per_s.value, 1.2e20 / 86_400.0, 1e-12));
    assert!(close(e.training.deployment.gpus_exact.value, 3.510_841, 1e-6));
    assert_eq!(e.training.deployment.gpus.value, 4.0);
    assert_eq!(e.training.deployment.servers.value, 1.0);
    assert_eq!(e.training.deployment.gpu_cost.value, 4.0 * 30_000.0);
    // Inverse with 4 GPUs: 1.2e20 / (4 × 395.6e12 × 86,400) = 0.87771 days.
    assert!(close(e.training.inverse_days.value, 0.877_710, 1e-5), "{}", e.training.inverse_days.value);
}

#[test]
fn attention_term_matches_kaplan() {
    // Kaplan et al. 2020: C_forward ≈ 2N + 2·n_layer·n_ctx·d_attn per token.
    let mut s = seed_scenario();
    s.training.attention = true;
    s.inference.attention = true;
    let e = estimate(&s).unwrap();
    let a = 2.0 * 96.0 * 2048.0 * 12288.0; // 4.83e9
    assert_eq!(e.training.attention_per_token.value, a);
    assert!(close(e.training.forward.value, (2.0 * 175e9 + a) * 300e9, 1e-12));
    assert!(close(e.training.backward.value, (4.0 * 175e9 + 2.0 * a) * 300e9, 1e-12));
    assert!(close(e.training.flops.value, (6.0 * 175e9 + 3.0 * a) * 300e9, 1e-12));
    assert_eq!(e.inference.formula.flops_per_token.value, 2.0 * 175e9 + a);
    // Off, the term is shown but not added.
    let e0 = seed();
    assert_eq!(e0.training.attention_per_token.value, a);
    assert!(e0.training.attention_per_token.formula.contains("not included"));
}

#[test]
fn gpus_are_at_least_one() {
    let mut s = scenario("gpt2").unwrap();
    s.training.tokens = 1e6;
    let e = estimate(&s).unwrap();
    assert!(e.training.deployment.gpus_exact.value < 0.5);
    assert_eq!(e.training.deployment.gpus.value, 1.0);
    assert_eq!(e.training.deployment.servers.value, 1.0);
}

#[test]
fn a_tiny_run_keeps_its_digits() {
    // The in-page model: 818,048 parameters, 1e6 tokens. 6 × 818,048 × 1e6 = 4.908288e12 FLOPs;
    // over 30 days, 1,893,629.6 FLOP/s; at 7.8e13 effective, 2.42773e-8 GPUs and
    // 4.908288e12 / 7.8e13 / 3,600 = 1.74797e-5 GPU-hours: none of them is "0".
    let mut s = scenario("gpt2").unwrap();
    s.model.arch = Architecture::gpt(4, 4, 128, 128, 65);
    s.training.tokens = 1e6;
    let e = estimate(&s).unwrap();
    let d = &e.training.deployment;
    assert_eq!(e.model.params.value, 818_048.0);
    assert_eq!(d.gpus_exact.display, "2.42773e-8 GPUs");
    assert_eq!(d.gpus.formula, "round(2.42773e-8) = 1 (at least one)");
    assert_eq!(e.training.gpu_hours.display, "1.74797e-5 GPU-hours");
    assert!(e.training.gpu_hours.formula.ends_with("= 1.74797e-5"), "{}", e.training.gpu_hours.formula);
    assert!(e.training.energy.formula.starts_with("GPU-hours × TDP × PUE = 1.74797e-5 × 0.25 kW × 1.2"));
    // With one GPU it takes 4.908288e12 / 7.8e13 = 0.0629268 s.
    assert_eq!(e.training.inverse_days.display, "0.0629268 s");
}

// ---------------------------------------------------------------- published parameter counts

#[test]
fn gpt2_counts_match_the_published_checkpoints() {
    // The Hugging Face / nanoGPT counts of the released GPT-2 checkpoints (tied head).
    for (id, total) in [
        ("gpt2", 124_439_808.0),
        ("gpt2-medium", 354_823_168.0),
        ("gpt2-large", 774_030_080.0),
        ("gpt2-xl", 1_557_611_200.0),
    ] {
        let m = model(id).unwrap();
        assert_eq!(count_params(&m.arch).unwrap().total.value, total, "{id}");
    }
}

#[test]
fn gpt3_counts_are_near_table_2_1() {
    // Table 2.1's round figures; the architecture's counts land within 5% (GPT-3 Medium's
    // "350M" is the loosest, 3% off).
    for m in presets::models().iter().filter(|m| m.id.starts_with("gpt3")) {
        let total = count_params(&m.arch).unwrap().total.value;
        assert!(close(total, m.published_params, 0.05), "{}: {total} vs {}", m.id, m.published_params);
    }
    let big = count_params(&model("gpt3-175b").unwrap().arch).unwrap();
    assert_eq!(printed(big.total.value, 1e9, 1), 174.6);
    // Kaplan's 12·L·d² = 12 × 96 × 12288² = 173,946,175,488.
    assert_eq!(big.kaplan.value, 173_946_175_488.0);
    assert!(big.kaplan.formula.starts_with("12 × n_layer × n_embd² = 12 × 96 × 12,288²"), "{}", big.kaplan.formula);
    let gpt1 = count_params(&model("gpt1").unwrap().arch).unwrap();
    assert!(close(gpt1.total.value, 117e6, 0.01), "{}", gpt1.total.value);
}

#[test]
fn training_compute_is_the_estimates_n_and_6nd() {
    // The model builds carry training_compute() alone (the Train page's plan): it must give the
    // estimate's N and training FLOPs, formulas included, with attention on and off and with a
    // stated N.
    for id in presets::scenario_ids() {
        for (attention, stated) in [(false, None), (true, None), (true, Some(1.5e9))] {
            let mut s = scenario(&id).unwrap();
            s.training.attention = attention;
            if stated.is_some() {
                s.model.params = stated;
            }
            let e = estimate(&s).unwrap();
            let (n, flops) = training_compute(&s.model, &s.training).unwrap();
            assert_eq!(n, e.model.params, "{id}");
            assert_eq!(flops, e.training.flops, "{id}");
        }
    }
    let mut bad = seed_scenario();
    bad.training.tokens = 0.0;
    let err = training_compute(&bad.model, &bad.training).unwrap_err().to_string();
    assert_eq!(err, estimate(&bad).unwrap_err().to_string());
}

#[test]
fn every_scenario_and_gpu_preset_estimates() {
    for id in presets::scenario_ids() {
        let s = scenario(&id).unwrap();
        for g in presets::gpus() {
            let mut s = s.clone();
            if g.peak_tflops.get(s.hardware.precision).is_none() {
                s.hardware.precision = ComputePrecision::Fp16;
            }
            s.hardware.gpu = g;
            estimate(&s).unwrap_or_else(|e| panic!("{id}: {e}"));
        }
    }
    let sin = Architecture { pos_encoding: PosEncoding::Sinusoidal, ..model("gpt2").unwrap().arch };
    assert_eq!(count_params(&sin).unwrap().total.value, 124_439_808.0 - 1024.0 * 768.0);
}

#[test]
fn in_page_model_converts() {
    let cfg = glassgpt::config::GptConfig::default();
    let arch = Architecture::from(&cfg);
    // 4 layers, C = 128, T = 128, V = 65: 65·128 + 128·128 + 4·(12·128² + 13·128) + 2·128.
    let expect = 65.0 * 128.0 + 128.0 * 128.0 + 4.0 * (12.0 * 128.0 * 128.0 + 13.0 * 128.0) + 256.0;
    assert_eq!(count_params(&arch).unwrap().total.value, expect);
}

// ---------------------------------------------------------------- properties

/// A small deterministic generator (xorshift64*), so the property tests need no dependency and
/// fail the same way every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Log-uniform in [lo, hi].
    fn log(&mut self, lo: f64, hi: f64) -> f64 {
        (lo.ln() + self.next() * (hi.ln() - lo.ln())).exp()
    }
}

fn random_inputs(r: &mut Rng) -> Inputs {
    let mut s = seed_scenario();
    s.model.params = Some(r.log(1e6, 1e13).round());
    s.training.tokens = r.log(1e6, 1e14).round();
    s.training.days = r.log(0.01, 1000.0);
    s.hardware.utilisation = r.log(0.01, 1.0);
    s.inference.queries_per_day = r.log(1.0, 1e11);
    s.inference.tokens_per_query = r.log(1.0, 1e5);
    s
}

#[test]
fn doubling_tokens_doubles_flops_and_cost_scales() {
    let mut r = Rng(0x5eed);
    for _ in 0..200 {
        let s = random_inputs(&mut r);
        let mut s2 = s.clone();
        s2.training.tokens *= 2.0;
        let (a, b) = (estimate(&s).unwrap(), estimate(&s2).unwrap());
        assert!(close(b.training.flops.value, 2.0 * a.training.flops.value, 1e-12));
        assert!(close(b.training.gpu_hours.value, 2.0 * a.training.gpu_hours.value, 1e-12));
        assert!(close(b.training.deployment.gpus_exact.value, 2.0 * a.training.deployment.gpus_exact.value, 1e-12));
    }
}

#[test]
fn halving_the_deadline_doubles_gpus_up_to_rounding() {
    let mut r = Rng(0xdead_beef);
    for _ in 0..200 {
        let s = random_inputs(&mut r);
        let mut s2 = s.clone();
        s2.training.days /= 2.0;
        let (a, b) = (estimate(&s).unwrap(), estimate(&s2).unwrap());
        let (ga, gb) = (a.training.deployment.gpus.value, b.training.deployment.gpus.value);
        assert!(close(b.training.deployment.gpus_exact.value, 2.0 * a.training.deployment.gpus_exact.value, 1e-12));
        // round(2x) is within 1 of 2·round(x) (and both are at least 1).
        assert!((gb - 2.0 * ga).abs() <= 1.0 || ga == 1.0, "{ga} -> {gb}");
        // The inverse answers the forward question: the deadline's GPUs take about the deadline.
        let back = a.training.inverse_days.value;
        assert!(close(back * ga, s.training.days * a.training.deployment.gpus_exact.value, 1e-9));
    }
}

/// Every number in an Estimate, via its JSON form; serde_json writes a non-finite f64 as null,
/// so a null where a number belongs shows up as a missing number here.
fn numbers(v: &serde_json::Value, out: &mut Vec<f64>, nulls: &mut usize) {
    match v {
        serde_json::Value::Number(n) => out.push(n.as_f64().unwrap()),
        serde_json::Value::Null => *nulls += 1,
        serde_json::Value::Array(a) => a.iter().for_each(|x| numbers(x, out, nulls)),
        serde_json::Value::Object(o) => o.values().for_each(|x| numbers(x, out, nulls)),
        _ => {}
    }
}

#[test]
fn extreme_inputs_give_finite_outputs_or_a_named_error() {
    let mut r = Rng(42);
    let (mut seed_nums, mut seed_nulls) = (Vec::new(), 0);
    numbers(&serde_json::to_value(seed()).unwrap(), &mut seed_nums, &mut seed_nulls);
    let mut ok = 0;
    for _ in 0..300 {
        let mut s = seed_scenario();
        s.model.params = None;
        let a = &mut s.model.arch;
        a.n_layer = r.log(1.0, 1e4).round();
        a.n_head = 1.0;
        a.n_embd = r.log(1.0, 1e6).round();
        a.d_ff = r.log(1.0, 1e7).round();
        a.block_size = r.log(1.0, 1e8).round();
        a.vocab_size = r.log(1.0, 1e8).round();
        s.training.tokens = r.log(1.0, 1e16);
        s.training.days = r.log(1e-3, 1e5);
        s.training.attention = true;
        s.hardware.utilisation = r.log(1e-3, 1.0);
        s.hardware.gpu.peak_tflops.tf32 = Some(r.log(1e-3, 1e6));
        s.hardware.gpu.price_usd = r.log(1e-3, 1e9);
        s.hardware.server.price_usd = r.log(1e-3, 1e10);
        s.inference.queries_per_day = r.log(1e-3, 1e13);
        s.inference.tokens_per_query = r.log(1e-3, 1e8);
        s.inference.stated_flops_per_day = Some(r.log(1.0, 1e33));
        s.memory.batch_size = r.log(1.0, 1e7).round();
        match estimate(&s) {
            Ok(e) => {
                ok += 1;
                let (mut nums, mut nulls) = (Vec::new(), 0);
                numbers(&serde_json::to_value(&e).unwrap(), &mut nums, &mut nulls);
                assert_eq!(nulls, 0, "a null (NaN or infinity) in {s:?}");
                assert!(nums.iter().all(|x| x.is_finite()));
                assert_eq!(nums.len(), seed_nums.len(), "every quantity present");
            }
            Err(err) => panic!("in-range inputs refused: {err}"),
        }
    }
    assert_eq!(ok, 300);
}

// ---------------------------------------------------------------- validation

fn field_of(s: &Inputs) -> String {
    let e = estimate(s).expect_err("should be refused");
    let f = e.field().expect("an InvalidInput").to_string();
    assert!(e.to_string().starts_with(&format!("{f}: ")), "{e}");
    f
}

#[test]
fn every_invalid_input_names_its_field() {
    type Edit = fn(&mut Inputs, f64);
    let cases: Vec<(&str, Edit, Vec<f64>)> = vec![
        ("model.params", |s, v| s.model.params = Some(v), vec![0.0, -1.0, f64::NAN, f64::INFINITY, 1e20]),
        ("model.arch.n_layer", |s, v| s.model.arch.n_layer = v, vec![0.0, -3.0, 1.5, f64::NAN, 1e9]),
        ("model.arch.n_embd", |s, v| s.model.arch.n_embd = v, vec![0.0, f64::INFINITY, 1e12]),
        ("model.arch.n_head", |s, v| s.model.arch.n_head = v, vec![0.0, 7.0, 2.5, f64::NEG_INFINITY]),
        ("model.arch.d_ff", |s, v| s.model.arch.d_ff = v, vec![0.0, -1.0, 1e12]),
        ("model.arch.block_size", |s, v| s.model.arch.block_size = v, vec![0.0, 1e12, f64::NAN]),
        ("model.arch.vocab_size", |s, v| s.model.arch.vocab_size = v, vec![0.0, 0.5, 1e12]),
        ("training.tokens", |s, v| s.training.tokens = v, vec![0.0, -5.0, f64::NAN, f64::INFINITY, 1e30]),
        ("training.days", |s, v| s.training.days = v, vec![0.0, -30.0, f64::NAN, 1e-9, 1e9]),
        ("training.gpus", |s, v| s.training.gpus = Some(v), vec![0.0, 1.5, -2.0, 1e12]),
        ("inference.queries_per_day", |s, v| s.inference.queries_per_day = v, vec![0.0, -1.0, f64::NAN, 1e20]),
        ("inference.tokens_per_query", |s, v| s.inference.tokens_per_query = v, vec![0.0, f64::INFINITY, 1e12]),
        (
            "inference.stated_flops_per_day",
            |s, v| s.inference.stated_flops_per_day = Some(v),
            vec![0.0, -1.0, f64::NAN, 1e40],
        ),
        ("hardware.gpu.peak_tflops.fp32", |s, v| s.hardware.gpu.peak_tflops.fp32 = v, vec![0.0, -1.0, 1e9]),
        ("hardware.gpu.peak_tflops.tf32", |s, v| s.hardware.gpu.peak_tflops.tf32 = Some(v), vec![0.0, f64::NAN, 1e9]),
        ("hardware.gpu.peak_tflops.fp16", |s, v| s.hardware.gpu.peak_tflops.fp16 = Some(v), vec![-1.0]),
        ("hardware.gpu.peak_tflops.int8", |s, v| s.hardware.gpu.peak_tflops.int8 = Some(v), vec![f64::INFINITY]),
        ("hardware.gpu.memory_gb", |s, v| s.hardware.gpu.memory_gb = v, vec![0.0, -40.0, 1e12]),
        ("hardware.gpu.tdp_w", |s, v| s.hardware.gpu.tdp_w = v, vec![0.0, f64::NAN]),
        ("hardware.gpu.price_usd", |s, v| s.hardware.gpu.price_usd = v, vec![0.0, -15000.0, 1e20]),
        (
            "hardware.utilisation",
            |s, v| s.hardware.utilisation = v,
            vec![0.0, -0.5, 1.5, f64::NAN, f64::INFINITY, 1e-9],
        ),
        ("hardware.server.gpus_per_server", |s, v| s.hardware.server.gpus_per_server = v, vec![0.0, 2.5, 1e9]),
        ("hardware.server.price_usd", |s, v| s.hardware.server.price_usd = v, vec![0.0, f64::NAN, 1e20]),
        ("hardware.pue", |s, v| s.hardware.pue = v, vec![0.5, 0.0, f64::NAN, 100.0]),
        ("memory.batch_size", |s, v| s.memory.batch_size = v, vec![0.0, 1.5, 1e12]),
        ("memory.context", |s, v| s.memory.context = Some(v), vec![0.0, 4096.0, 1.5]),
    ];
    for (field, edit, values) in cases {
        for v in values {
            let mut s = seed_scenario();
            edit(&mut s, v);
            assert_eq!(field_of(&s), field, "{field} = {v}");
        }
    }
}

#[test]
fn validation_messages_read_well() {
    let mut s = seed_scenario();
    s.hardware.utilisation = 1.5;
    assert_eq!(estimate(&s).unwrap_err().to_string(), "hardware.utilisation: must be in (0, 1], got 1.5");
    let mut s = seed_scenario();
    s.model.arch.n_head = 7.0;
    assert_eq!(estimate(&s).unwrap_err().to_string(), "model.arch.n_head: 7 does not divide n_embd = 12288");
    let mut s = seed_scenario();
    s.hardware.gpu = presets::gpu("v100").unwrap();
    assert_eq!(
        estimate(&s).unwrap_err().to_string(),
        "hardware.precision: V100 SXM2 32GB has no TF32 tensor peak; choose another precision"
    );
    assert_eq!(field_of(&s), "hardware.precision");
}

#[test]
fn inputs_round_trip_through_json() {
    let s = seed_scenario();
    let json = serde_json::to_string(&s).unwrap();
    let back: Inputs = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
    // Optional fields may be left out; unknown fields are refused.
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["inference"].as_object_mut().unwrap().remove("stated_flops_per_day");
    let no_stated: Inputs = serde_json::from_value(v.clone()).unwrap();
    assert!(estimate(&no_stated).unwrap().inference.stated.is_none());
    v["training"]["dayz"] = 3.into();
    assert!(serde_json::from_value::<Inputs>(v).is_err());
}

#[test]
fn quantities_serialise_with_value_unit_display_formula() {
    let e = seed();
    let v = serde_json::to_value(&e.training.flops).unwrap();
    assert_eq!(v["unit"], "flops");
    assert_eq!(v["value"], 3.15e23);
    let q: Quantity = serde_json::from_value(v).unwrap();
    assert_eq!(q, e.training.flops);
}

// ---------------------------------------------------------------- the TypeScript declarations

fn keys(v: &serde_json::Value, out: &mut std::collections::BTreeSet<String>) {
    match v {
        serde_json::Value::Array(a) => a.iter().for_each(|x| keys(x, out)),
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                out.insert(k.clone());
                keys(x, out);
            }
        }
        _ => {}
    }
}

#[test]
fn typescript_declares_every_serialised_field() {
    // The .d.ts the bindings put in pkg/: a field the Rust side adds must be declared there.
    let ts = include_str!("../src/wasm/sizing.d.ts");
    let mut all = std::collections::BTreeSet::new();
    let mut attn = seed_scenario();
    attn.training.gpus = Some(3.0);
    attn.memory.context = Some(16.0);
    keys(&serde_json::to_value(&attn).unwrap(), &mut all);
    keys(&serde_json::to_value(seed()).unwrap(), &mut all);
    keys(&serde_json::to_value(presets::presets()).unwrap(), &mut all);
    assert!(all.len() > 100, "{}", all.len());
    for k in all {
        assert!(ts.contains(&format!("  {k}: ")) || ts.contains(&format!("  {k}?: ")), "sizing.d.ts lacks `{k}`");
    }
}
