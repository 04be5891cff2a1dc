//! The GPT-3 sizing calculator: what it takes to train and serve a model, as pure functions.
//!
//! One entry point, [`estimate`], takes [`Inputs`] (model, training, inference, hardware,
//! memory) and returns an [`Estimate`] in which every number is a [`Quantity`]: its value, unit,
//! a display string and its formula with the numbers substituted
//! (`6 × N × D = 6 × 1.75e11 × 3e11 = 3.15e23`), so a page can show how each was reached.
//!
//! - [`params`]: parameter count from an architecture, itemised as in nanoGPT's
//!   `transformer_sizing` notebook, with Kaplan's 12·L·d² beside it.
//! - [`estimate`](mod@estimate): training FLOPs (6ND, forward/backward split, optional attention
//!   term), FLOP/s for a deadline, GPUs, servers, costs, the inverse (days for a GPU count),
//!   GPU-hours, energy; inference at a query volume; memory by precision; Chinchilla's 20 tokens
//!   per parameter.
//! - [`presets`]: GPT-1, GPT-2, the eight GPT-3 models, GPUs, servers, and the seed report's
//!   scenario ([`presets::seed_scenario`]), whose outputs are exactly the report's figures.
//! - [`format`]: how numbers are written for people, in one place.
//!
//! Architecture invariant: this module is plain Rust (no wasm-bindgen); `src/wasm/sizing.rs`
//! exports it. Every input is checked ([`Inputs::validate`]) and no output is NaN or infinite.

pub mod check;
pub mod estimate;
pub mod format;
pub mod inputs;
pub mod params;
pub mod presets;
pub mod quantity;

pub use estimate::{estimate, training_compute, Deployment, Estimate};
pub use inputs::{ComputePrecision, Gpu, Inputs, Peaks, Server, TrainingPrecision, WeightPrecision};
pub use params::{count_params, Architecture, ParamCount};
pub use presets::{presets, scenario, seed_scenario, Presets};
pub use quantity::{Quantity, Unit};
