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
        // A fraction of a GPU keeps its significant digits: 2.42774e-8, not 0.
        Unit::Gpus if value.fract() != 0.0 && value.abs() < 0.01 => format!("{} GPUs", format::num(value)),
        Unit::Gpus if value.fract() != 0.0 => format!("{} GPUs", format::grouped(value, 2)),
        Unit::Gpus => format!("{} {}", format::count(value), plural(value, "GPU", "GPUs")),
        Unit::Servers => format!("{} {}", format::count(value), plural(value, "server", "servers")),
        Unit::Usd => format::usd(value),
        Unit::Days => days(value),
        Unit::GpuHours if value.fract() != 0.0 && value.abs() < 100.0 => format!("{} GPU-hours", format::num(value)),
        Unit::GpuHours => format!("{} GPU-hours", format::count(value)),
        Unit::Kwh => format::si(value * 1e3, "Wh"),
        Unit::Bytes => format::si(value, "B"),
        Unit::Ratio => format::grouped(value, 3),
    }
}

/// A duration given in days: in days from one day up (`30 days`), below that in hours, minutes
/// or seconds (`5.5 hours`, `0.062927 s`), so a tiny model's run does not read "0 days".
fn days(value: f64) -> String {
    let a = value.abs();
    if a >= 1.0 || a == 0.0 {
        format!("{} {}", format::grouped(value, 2), plural(value, "day", "days"))
    } else if a * 24.0 >= 1.0 {
        format!("{} hours", format::grouped(value * 24.0, 2))
    } else if a * 1440.0 >= 1.0 {
        format!("{} minutes", format::grouped(value * 1440.0, 2))
    } else {
        format!("{} s", format::num(value * 86_400.0))
    }
}

/// "1 GPU", "2 GPUs": a count of exactly one reads in the singular.
fn plural(value: f64, one: &'static str, many: &'static str) -> &'static str {
    if value == 1.0 {
        one
    } else {
        many
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_of_one_are_singular() {
        assert_eq!(display(1.0, Unit::Gpus), "1 GPU");
        assert_eq!(display(1.0, Unit::Servers), "1 server");
        assert_eq!(display(2.0, Unit::Servers), "2 servers");
        assert_eq!(display(1558.0, Unit::Gpus), "1,558 GPUs");
        assert_eq!(display(1.5, Unit::Gpus), "1.5 GPUs");
    }

    #[test]
    fn small_values_keep_their_digits() {
        assert_eq!(display(2.42774e-8, Unit::Gpus), "2.42774e-8 GPUs");
        assert_eq!(display(30.0009, Unit::Days), "30 days");
        assert_eq!(display(1.0, Unit::Days), "1 day");
        // 0.25 days = 6 hours; 0.01 days = 14.4 minutes; 7.28319e-7 days = 0.0629268 s.
        assert_eq!(display(0.25, Unit::Days), "6 hours");
        assert_eq!(display(0.01, Unit::Days), "14.4 minutes");
        assert_eq!(display(7.28319e-7, Unit::Days), "0.0629268 s");
        assert_eq!(display(1.7e-5, Unit::GpuHours), "1.7e-5 GPU-hours");
        assert_eq!(display(1_121_795.2, Unit::GpuHours), "1,121,795 GPU-hours");
    }
}
