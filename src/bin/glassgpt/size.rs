//! `glassgpt size`: the sizing calculator in the terminal. Tables of training, inference and
//! memory with every formula, or the whole `Estimate` as JSON (`--json`).

use glassgpt::sizing::{self, presets, quantity::Quantity, Deployment, Estimate, Inputs};
use serde::de::DeserializeOwned;

use crate::args::Args;

/// Help for `glassgpt size`.
pub const USAGE: &str = "usage: glassgpt size [--preset ID] [--options] [--json]

  The seed report's GPT-3 scenario by default; every input can be changed.

  --preset ID               seed (default), or a model: gpt1, gpt2, gpt2-medium, gpt2-large,
                            gpt2-xl, gpt3-small, gpt3-medium, gpt3-large, gpt3-xl, gpt3-2.7b,
                            gpt3-6.7b, gpt3-13b, gpt3-175b
  --params N                state N instead of counting it from the architecture
  --tokens D                training tokens
  --days N                  training deadline
  --train-gpus G            also answer: how many days with G GPUs?
  --attention               add Kaplan's attention term to training and inference FLOPs
  --gpu ID                  a100-pcie, a100-pcie-80gb, a100-sxm, a100-sxm-80gb, h100-sxm,
                            h100-pcie, h200, v100
  --precision P             fp32, tf32, fp16 (FP16/BF16 tensor), int8
  --utilisation U           fraction of peak, in (0, 1]
  --gpu-price USD           price of one GPU
  --server ID               dgx-a100, dgx-h100
  --gpus-per-server N       GPUs in one server
  --server-price USD        price of one server
  --pue X                   data-centre power usage effectiveness (energy line)
  --queries-per-day Q       inference volume
  --tokens-per-query T      tokens per query
  --stated-flops-per-day F  inference FLOPs a day as a report states them
  --no-stated               drop the stated figure: the 2N formula only
  --training-precision P    fp32 or mixed (memory)
  --inference-precision P   fp32, fp16 or int8 (memory)
  --batch B                 sequences in the KV cache
  --context T               tokens of context in the KV cache (default: block_size)
  --json                    print the Estimate (every number and formula) as JSON
";

/// Runs `glassgpt size` with the options after the subcommand.
pub fn run(rest: &[String]) -> Result<(), String> {
    let a = Args::parse(rest, &["json", "attention", "no-stated", "help"])?;
    if a.switch("help") {
        print!("{USAGE}");
        return Ok(());
    }
    let inputs = inputs_from(&a)?;
    let json = a.switch("json");
    a.finish()?;
    let e = sizing::estimate(&inputs).map_err(|e| e.to_string())?;
    if json {
        println!("{}", serde_json::to_string_pretty(&e).map_err(|e| e.to_string())?);
    } else {
        print!("{}", tables(&inputs, &e));
    }
    Ok(())
}

/// The scenario the options describe.
fn inputs_from(a: &Args) -> Result<Inputs, String> {
    let id: String = a.get("preset", "seed".to_string())?;
    let mut s = presets::scenario(&id)
        .ok_or_else(|| format!("--preset: no preset `{id}`; one of {}", presets::scenario_ids().join(", ")))?;
    if let Some(n) = a.opt("params")? {
        s.model.params = Some(n);
    }
    set(&mut s.training.tokens, a.opt("tokens")?);
    set(&mut s.training.days, a.opt("days")?);
    if let Some(g) = a.opt("train-gpus")? {
        s.training.gpus = Some(g);
    }
    if a.switch("attention") {
        s.training.attention = true;
        s.inference.attention = true;
    }
    if let Some(id) = a.opt::<String>("gpu")? {
        let ids: Vec<String> = presets::gpus().into_iter().map(|g| g.id).collect();
        s.hardware.gpu = presets::gpu(&id).ok_or_else(|| format!("--gpu: no GPU `{id}`; one of {}", ids.join(", ")))?;
    }
    if let Some(p) = a.opt::<String>("precision")? {
        s.hardware.precision = enum_value("precision", &p)?;
    }
    set(&mut s.hardware.utilisation, a.opt("utilisation")?);
    set(&mut s.hardware.gpu.price_usd, a.opt("gpu-price")?);
    if let Some(id) = a.opt::<String>("server")? {
        let ids: Vec<String> = presets::servers().into_iter().map(|s| s.id).collect();
        s.hardware.server =
            presets::server(&id).ok_or_else(|| format!("--server: no server `{id}`; one of {}", ids.join(", ")))?;
    }
    set(&mut s.hardware.server.gpus_per_server, a.opt("gpus-per-server")?);
    set(&mut s.hardware.server.price_usd, a.opt("server-price")?);
    set(&mut s.hardware.pue, a.opt("pue")?);
    set(&mut s.inference.queries_per_day, a.opt("queries-per-day")?);
    set(&mut s.inference.tokens_per_query, a.opt("tokens-per-query")?);
    if let Some(f) = a.opt("stated-flops-per-day")? {
        s.inference.stated_flops_per_day = Some(f);
    }
    if a.switch("no-stated") {
        s.inference.stated_flops_per_day = None;
    }
    if let Some(p) = a.opt::<String>("training-precision")? {
        s.memory.training_precision = enum_value("training-precision", &p)?;
    }
    if let Some(p) = a.opt::<String>("inference-precision")? {
        s.memory.inference_precision = enum_value("inference-precision", &p)?;
    }
    set(&mut s.memory.batch_size, a.opt("batch")?);
    if let Some(t) = a.opt("context")? {
        s.memory.context = Some(t);
    }
    Ok(s)
}

fn set(field: &mut f64, value: Option<f64>) {
    if let Some(v) = value {
        *field = v;
    }
}

/// A lowercase enum value (`tf32`, `mixed`) read the way the JSON inputs spell it.
fn enum_value<T: DeserializeOwned>(flag: &str, s: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(s.to_lowercase())).map_err(|e| format!("--{flag}: {e}"))
}

/// Rows of `label  value` with the formula beneath, under a heading.
struct Table(String);

impl Table {
    fn heading(&mut self, h: &str) {
        self.0 += &format!("\n{h}\n{}\n", "─".repeat(h.chars().count()));
    }
    fn row(&mut self, label: &str, q: &Quantity) {
        self.text(label, &q.display, &q.formula);
    }
    fn text(&mut self, label: &str, value: &str, formula: &str) {
        let pad = 30usize.saturating_sub(label.chars().count());
        self.0 += &format!("  {label}{} {value}\n      {formula}\n", " ".repeat(pad));
    }
    fn subheading(&mut self, h: &str) {
        self.0 += &format!("  {h}\n");
    }
    /// GPUs, servers and costs; with `reported`, also the counts as the report prints them.
    fn deployment(&mut self, d: &Deployment, reported: bool) {
        self.row("GPUs (exact)", &d.gpus_exact);
        self.row("GPUs", &d.gpus);
        if reported && d.gpus_reported.value != d.gpus.value {
            self.row("GPUs, as the report prints", &d.gpus_reported);
        }
        self.row("GPU cost", &d.gpu_cost);
        self.row("servers", &d.servers);
        self.row("server cost", &d.server_cost);
        if reported && d.servers_reported.value != d.servers.value {
            self.row("servers, as the report prints", &d.servers_reported);
            self.row("server cost, as the report", &d.server_cost_reported);
        }
    }
}

/// The readable report: model, hardware, training, inference, memory, notes.
fn tables(s: &Inputs, e: &Estimate) -> String {
    let mut t = Table(String::new());
    let h = &s.hardware;
    t.0 += &format!(
        "glassgpt size: {}\n{}, {} at {}% utilisation; {} ({} GPUs, {} each)\n",
        if e.model.name.is_empty() { "custom model" } else { &e.model.name },
        e.hardware.gpu,
        h.precision.label(),
        sizing::format::grouped(h.utilisation * 100.0, 2),
        if h.server.name.is_empty() { "server" } else { &h.server.name },
        sizing::format::count(h.server.gpus_per_server),
        sizing::format::usd(h.server.price_usd)
    );

    let c = &e.model.count;
    t.heading("MODEL");
    t.row("N (used everywhere)", &e.model.params);
    t.row("wte (token embedding)", &c.wte);
    t.row("wpe (position embedding)", &c.wpe);
    t.row("attention, all layers", &c.attention);
    t.row("MLP, all layers", &c.mlp);
    t.row("layer norms", &c.layer_norms);
    t.row("biases (within the above)", &c.biases);
    t.row("lm_head", &c.lm_head);
    t.row("total from architecture", &c.total);
    t.row("Kaplan 12·L·d²", &c.kaplan);

    let tr = &e.training;
    t.heading("TRAINING");
    t.row("tokens D", &tr.tokens);
    t.row("forward FLOPs", &tr.forward);
    t.row("backward FLOPs", &tr.backward);
    t.row("training FLOPs", &tr.flops);
    t.row("attention term per token", &tr.attention_per_token);
    t.row("compute for the deadline", &tr.flop_per_s);
    t.row("peak per GPU", &e.hardware.peak);
    t.row("effective per GPU", &e.hardware.effective);
    t.deployment(&tr.deployment, true);
    t.row("GPU-hours", &tr.gpu_hours);
    t.row("energy", &tr.energy);
    t.row(&format!("days with {} GPUs", sizing::format::count(tr.inverse_gpus.value)), &tr.inverse_days);
    t.row("tokens per parameter", &tr.tokens_per_param);
    t.row("Chinchilla-optimal tokens", &tr.chinchilla_tokens);

    let inf = &e.inference;
    t.heading("INFERENCE");
    t.row("tokens per day", &inf.tokens_per_day);
    if let Some(st) = &inf.stated {
        t.subheading("as the report states:");
        t.row("FLOPs per day", &st.flops_per_day);
        t.row("implied FLOPs per token", &st.flops_per_token);
        t.row("compute", &st.flop_per_s);
        t.deployment(&st.deployment, true);
        t.subheading("the formula's 2N reading:");
    }
    let f = &inf.formula;
    t.row("FLOPs per token", &f.flops_per_token);
    t.row("FLOPs per day", &f.flops_per_day);
    t.row("compute", &f.flop_per_s);
    t.deployment(&f.deployment, inf.stated.is_none());
    if let Some(note) = &inf.note {
        t.0 += &format!("\n  Note: {note}\n");
    }

    let m = &e.memory;
    t.heading("MEMORY");
    t.row("GPU memory", &m.gpu_memory);
    t.row("weights fp32", &m.weights_fp32);
    t.row("weights fp16/bf16", &m.weights_fp16);
    t.row("weights int8", &m.weights_int8);
    let mt = &m.training;
    t.subheading(&format!("training ({}, AdamW):", format!("{:?}", mt.precision).to_lowercase()));
    t.row("weights", &mt.weights);
    t.row("gradients", &mt.gradients);
    t.row("optimiser state", &mt.optimizer);
    t.row("total", &mt.total);
    t.row("GPUs just to hold it", &mt.gpus_to_hold);
    let mi = &m.inference;
    t.subheading(&format!("inference ({}):", mi.precision.label()));
    t.row("weights", &mi.weights);
    t.row("overhead", &mi.overhead);
    t.row("KV cache", &mi.kv_cache);
    t.row("total", &mi.total);
    t.row("GPUs just to hold it", &mi.gpus_to_hold);

    if !e.notes.is_empty() {
        t.heading("NOTES");
        for n in &e.notes {
            t.0 += &format!("  - {n}\n");
        }
    }
    t.0
}
