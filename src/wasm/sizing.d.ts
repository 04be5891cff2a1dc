// ---- sizing: the GPT-3 sizing calculator (src/sizing, exported by src/wasm/sizing.rs) ----
// Plain objects in and out. Every output number is a Quantity: value, unit, display, formula.
// tests/sizing.rs checks that every key the Rust side serialises is declared here.

/** How positions enter the model. */
export type PosEncoding = "learned" | "sinusoidal";
/** The arithmetic a GPU's peak is quoted for ("fp16" is FP16/BF16 tensor). */
export type ComputePrecision = "fp32" | "tf32" | "fp16" | "int8";
/** Training state storage: fp32 (4+4+8 B/param) or mixed precision + AdamW (2+2+12 B/param). */
export type TrainingPrecision = "fp32" | "mixed";
/** Inference weight storage. */
export type WeightPrecision = "fp32" | "fp16" | "int8";

/** A decoder-only transformer, nanoGPT's names (GPT-3 paper's: n_layers, d_model, n_heads, n_ctx). */
export interface Architecture {
  n_layer: number;
  n_head: number;
  /** d_model; must be divisible by n_head. */
  n_embd: number;
  /** MLP hidden width, 4 × n_embd in GPT-2/3. */
  d_ff: number;
  /** n_ctx. */
  block_size: number;
  vocab_size: number;
  /** Biases in linear layers and LayerNorms (default true). */
  bias?: boolean;
  /** LM head shares wte (default true). */
  tied_head?: boolean;
  /** Default "learned". */
  pos_encoding?: PosEncoding;
}

export interface ModelInputs {
  name?: string;
  arch: Architecture;
  /** N as a report states it; null/absent: counted from the architecture. */
  params?: number | null;
}

export interface TrainingInputs {
  /** Training tokens D. */
  tokens: number;
  /** Deadline in days. */
  days: number;
  /** Add Kaplan's attention term 2·n_layer·n_ctx·d_attn per token forward. */
  attention?: boolean;
  /** For "how many days with this many GPUs?"; null: the deadline's GPU count. */
  gpus?: number | null;
}

export interface InferenceInputs {
  queries_per_day: number;
  tokens_per_query: number;
  attention?: boolean;
  /** FLOPs a day "as the report states" (the seed's 4.76e24); null: only the 2N formula. */
  stated_flops_per_day?: number | null;
}

/** Dense peaks, TFLOP/s (TOPS for int8); null where the GPU has no such unit. */
export interface Peaks {
  fp32: number;
  tf32?: number | null;
  fp16?: number | null;
  int8?: number | null;
}

export interface Gpu {
  id?: string;
  name?: string;
  peak_tflops: Peaks;
  memory_gb: number;
  tdp_w: number;
  price_usd: number;
}

export interface Server {
  id?: string;
  name?: string;
  gpus_per_server: number;
  price_usd: number;
}

export interface HardwareInputs {
  gpu: Gpu;
  precision: ComputePrecision;
  /** Fraction of peak, in (0, 1]. */
  utilisation: number;
  server: Server;
  /** Data-centre power usage effectiveness, 1 to 10. */
  pue: number;
}

export interface MemoryInputs {
  training_precision: TrainingPrecision;
  inference_precision: WeightPrecision;
  batch_size: number;
  /** KV-cache context; null: block_size. */
  context?: number | null;
}

/** Every input of a scenario. Start from seedScenario() and edit it. */
export interface Inputs {
  model: ModelInputs;
  training: TrainingInputs;
  inference: InferenceInputs;
  hardware: HardwareInputs;
  memory: MemoryInputs;
}

export type Unit =
  | "params" | "tokens" | "flops" | "flop_per_s" | "gpus" | "servers"
  | "usd" | "days" | "gpu_hours" | "kwh" | "bytes" | "ratio";

/** One output: value (never NaN/Infinity), unit, display ("$23.37M"), formula with numbers. */
export interface Quantity {
  value: number;
  unit: Unit;
  display: string;
  formula: string;
}

/** Parameters by tensor (attn_*, mlp_*, ln and block are per block) and by kind. */
export interface ParamCount {
  wte: Quantity;
  wpe: Quantity;
  ln: Quantity;
  attn_c_attn: Quantity;
  attn_c_proj: Quantity;
  mlp_c_fc: Quantity;
  mlp_c_proj: Quantity;
  block: Quantity;
  blocks: Quantity;
  lm_head: Quantity;
  total: Quantity;
  embeddings: Quantity;
  attention: Quantity;
  mlp: Quantity;
  layer_norms: Quantity;
  biases: Quantity;
  non_embedding: Quantity;
  /** 12·L·d² (2·L·d·(2d + d_ff) when d_ff ≠ 4d). */
  kaplan: Quantity;
}

export interface ModelReport {
  name: string;
  /** N used by every formula. */
  params: Quantity;
  params_stated: boolean;
  count: ParamCount;
}

export interface HardwareReport {
  gpu: string;
  precision: ComputePrecision;
  peak: Quantity;
  effective: Quantity;
}

/** GPUs, servers and costs for a FLOP/s requirement. */
export interface Deployment {
  gpus_exact: Quantity;
  /** Rounded to nearest (as the report rounds), at least 1. */
  gpus: Quantity;
  /** As the report prints: in full below 10,000, else to the nearest 1,000 (70.6万). */
  gpus_reported: Quantity;
  gpu_cost: Quantity;
  servers: Quantity;
  servers_reported: Quantity;
  server_cost: Quantity;
  /** Reported servers × price: the report's $17.512B. */
  server_cost_reported: Quantity;
}

export interface TrainingReport {
  tokens: Quantity;
  attention_per_token: Quantity;
  forward: Quantity;
  backward: Quantity;
  flops: Quantity;
  flop_per_s: Quantity;
  deployment: Deployment;
  gpu_hours: Quantity;
  energy: Quantity;
  inverse_gpus: Quantity;
  inverse_days: Quantity;
  tokens_per_param: Quantity;
  chinchilla_tokens: Quantity;
}

export interface InferenceReading {
  flops_per_token: Quantity;
  flops_per_day: Quantity;
  flop_per_s: Quantity;
  deployment: Deployment;
}

export interface InferenceReport {
  tokens_per_day: Quantity;
  /** The 2N-per-token reading. */
  formula: InferenceReading;
  /** "As the report states", when stated_flops_per_day is given. */
  stated: InferenceReading | null;
  /** The discrepancy between the two, in words. */
  note: string | null;
}

export interface TrainingMemory {
  precision: TrainingPrecision;
  weights: Quantity;
  gradients: Quantity;
  optimizer: Quantity;
  total: Quantity;
  gpus_to_hold: Quantity;
}

export interface InferenceMemory {
  precision: WeightPrecision;
  weights: Quantity;
  overhead: Quantity;
  kv_cache: Quantity;
  total: Quantity;
  gpus_to_hold: Quantity;
}

export interface MemoryReport {
  gpu_memory: Quantity;
  weights_fp32: Quantity;
  weights_fp16: Quantity;
  weights_int8: Quantity;
  training: TrainingMemory;
  inference: InferenceMemory;
}

export interface Estimate {
  model: ModelReport;
  hardware: HardwareReport;
  training: TrainingReport;
  inference: InferenceReport;
  memory: MemoryReport;
  notes: string[];
}

export interface ModelPreset {
  id: string;
  name: string;
  arch: Architecture;
  published_params: number;
  training_tokens: number | null;
  source: string;
}

export interface Presets {
  models: ModelPreset[];
  gpus: Gpu[];
  servers: Server[];
}
