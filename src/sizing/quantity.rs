//! [`Quantity`]: one output number with its unit, a display string and the formula that made
//! it, numbers substituted. Every number the calculator shows is one of these.

use serde::{Deserialize, Serialize};

use super::format;
use crate::error::{Error, Result};

/// What a [`Quantity`] counts; decides how it is displayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Model parameters (`174.604B`).
    Params,
    /// Tokens (`3 × 10^11`).
    Tokens,
    /// Floating-point operations (`3.15 × 10^23`).
    Flops,
    /// Floating-point operations per second (`121.528 PFLOP/s`).
    FlopPerS,
    /// GPUs, exact or whole (`1,558`).
    Gpus,
    /// Servers (`195`).
    Servers,
    /// US dollars (`$23.37M`).
    Usd,
    /// Days (`30`).
    Days,
    /// GPU-hours (`1,121,795`).
    GpuHours,
    /// Energy in kilowatt-hours, displayed with an SI prefix on Wh (`336.538 MWh`).
    Kwh,
    /// Bytes, decimal prefixes (`350 GB`).
    Bytes,
    /// A plain ratio (`1.714`).
    Ratio,
}

/// One output: its value, unit, a display string for people and the formula with the numbers
/// substituted, e.g. `6 × N × D = 6 × 1.75e11 × 3e11 = 3.15e23`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quantity {
    /// The number itself, never NaN or infinite.
    pub value: f64,
    /// What it counts.
    pub unit: Unit,
    /// The value formatted for people: `3.15 × 10^23 FLOPs`, `121.528 PFLOP/s`, `$23.37M`.
    pub display: String,
    /// How it was computed, symbols then numbers then the result.
    pub formula: String,
}

impl Quantity {
    /// A quantity named `what` (for the error, if any). Refuses a value that is not finite: the
    /// input checks make that unreachable, and this keeps it so.
    pub fn new(what: &str, value: f64, unit: Unit, formula: impl Into<String>) -> Result<Quantity> {
        if !value.is_finite() {
            return Err(Error::invalid(
                "inputs",
                format!("{what} came out as {value}; an input is outside the range the calculator supports"),
            ));
        }
        Ok(Quantity { value, unit, display: display(value, unit), formula: formula.into() })
    }
}

/// `value` formatted for people in `unit`.
pub fn display(value: f64, unit: Unit) -> String {
    match unit {
        Unit::Params => format!("{} params", format::params(value)),
        Unit::Tokens => format!("{} tokens", format::power_of_ten(value)),
        Unit::Flops => format!("{} FLOPs", format::power_of_ten(value)),
        Unit::FlopPerS => format::si(value, "FLOP/s"),
        Unit::Gpus if value.fract() != 0.0 => format!("{} GPUs", format::grouped(value, 2)),
        Unit::Gpus => format!("{} GPUs", format::count(value)),
        Unit::Servers => format!("{} servers", format::count(value)),
        Unit::Usd => format::usd(value),
        Unit::Days => format!("{} days", format::grouped(value, 2)),
        Unit::GpuHours => format!("{} GPU-hours", format::count(value)),
        Unit::Kwh => format::si(value * 1e3, "Wh"),
        Unit::Bytes => format::si(value, "B"),
        Unit::Ratio => format::grouped(value, 3),
    }
}
