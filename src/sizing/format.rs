//! Numbers written for people: in formulas (`1.75e11`, `1,558.05`) and in displays
//! (`3.15 × 10^23`, `121.528 PFLOP/s`, `$23.37M`, `1,558`). One place, so the CLI, the JSON and
//! the page agree to the digit.

/// A number for a formula: plain with thousands separators and up to 6 significant digits when
/// 0.001 <= |x| < 1e6 (`86,400`, `1,558.05`, `0.5`), else e-notation with up to 6 significant
/// digits (`1.75e11`, `3.15e23`). Trailing zeros are dropped.
pub fn num(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let a = x.abs();
    if !(1e-3..1e6).contains(&a) {
        return sci(x, 6);
    }
    let decimals = (5 - a.log10().floor() as i32).max(0) as usize;
    grouped(x, decimals)
}

/// A whole number for a formula, exact: `124,439,808`; e-notation from 1e15 on, where f64
/// stops holding every integer.
pub fn int(x: f64) -> String {
    if x.abs() >= 1e15 || x.fract() != 0.0 {
        num(x)
    } else {
        grouped(x, 0)
    }
}

/// `x` in e-notation with at most `sig` significant digits, trailing zeros dropped: `1.75e11`.
pub fn sci(x: f64, sig: usize) -> String {
    let s = format!("{:.*e}", sig.saturating_sub(1), x);
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    format!("{}e{exp}", trim_zeros(mantissa))
}

/// `x` with thousands separators and at most `decimals` decimals, trailing zeros dropped:
/// `grouped(1558.0513, 2)` is `1,558.05`.
pub fn grouped(x: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, x.abs());
    let s = trim_zeros(&s);
    let (int, frac) = s.split_once('.').map_or((s.as_str(), None), |(i, f)| (i, Some(f)));
    let mut out = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    // "-0" is not a number anyone wants to read.
    if x < 0.0 && out.chars().any(|c| c.is_ascii_digit() && c != '0') {
        out.insert(0, '-');
    }
    out
}

/// A whole count: `1,558`, `706,315`; e-notation from 1e15 on.
pub fn count(x: f64) -> String {
    if x.abs() >= 1e15 {
        sci(x, 4)
    } else {
        grouped(x.round(), 0)
    }
}

/// A large quantity as `3.15 × 10^23` (up to 4 significant digits); plain below a million.
pub fn power_of_ten(x: f64) -> String {
    let a = x.abs();
    if a != 0.0 && !(1e-3..1e6).contains(&a) {
        let s = sci(x, 4);
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        if m == "1" {
            return format!("10^{e}");
        }
        return format!("{m} × 10^{e}");
    }
    num(x)
}

/// `x` scaled to an SI prefix with up to 3 decimals: `si(1.21528e17, "FLOP/s")` is
/// `121.528 PFLOP/s`. Decimal prefixes (1 GB = 1e9 bytes, as GPU memory is sold).
pub fn si(x: f64, unit: &str) -> String {
    const PREFIXES: [(f64, &str); 8] =
        [(1e24, "Y"), (1e21, "Z"), (1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")];
    let a = x.abs();
    if a >= 1e27 {
        return format!("{} {unit}", power_of_ten(x));
    }
    for (scale, p) in PREFIXES {
        // Round first, so 999.9996e15 prints as 1 E rather than 1,000 P.
        if (a / scale * 1000.0).round() / 1000.0 >= 1.0 {
            return format!("{} {p}{unit}", grouped(x / scale, 3));
        }
    }
    format!("{} {unit}", num(x))
}

/// Dollars: `$15,000` below a million, then `$23.37M`, `$38.805M`, `$10.595B`, `$1.2T` (up to 3
/// decimals of the scaled figure, trailing zeros dropped).
pub fn usd(x: f64) -> String {
    const SCALES: [(f64, &str); 3] = [(1e12, "T"), (1e9, "B"), (1e6, "M")];
    let a = x.abs();
    if a >= 1e15 {
        return format!("${}", sci(x, 4));
    }
    for (scale, s) in SCALES {
        if (a / scale * 1000.0).round() / 1000.0 >= 1.0 {
            return format!("${}{s}", grouped(x / scale, 3));
        }
    }
    format!("${}", grouped(x, 2))
}

/// A parameter count for people: `124.44M`, `174.604B` (up to 3 decimals of the scaled figure).
pub fn params(x: f64) -> String {
    const SCALES: [(f64, &str); 4] = [(1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")];
    let a = x.abs();
    if a >= 1e15 {
        return power_of_ten(x);
    }
    for (scale, s) in SCALES {
        if (a / scale * 1000.0).round() / 1000.0 >= 1.0 {
            return format!("{}{s}", grouped(x / scale, 3));
        }
    }
    grouped(x, 0)
}

fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_numbers() {
        assert_eq!(num(1.75e11), "1.75e11");
        assert_eq!(num(3e11), "3e11");
        assert_eq!(num(3.15e23), "3.15e23");
        assert_eq!(num(86_400.0), "86,400");
        assert_eq!(num(1558.0513), "1,558.05");
        assert_eq!(num(0.5), "0.5");
        assert_eq!(num(-2.5), "-2.5");
        assert_eq!(num(3.15e23 / 2.592e6), "1.21528e17");
    }

    #[test]
    fn displays() {
        assert_eq!(power_of_ten(3.15e23), "3.15 × 10^23");
        assert_eq!(power_of_ten(1e20), "10^20");
        assert_eq!(si(3.15e23 / 2.592e6, "FLOP/s"), "121.528 PFLOP/s");
        assert_eq!(si(78e12, "FLOP/s"), "78 TFLOP/s");
        assert_eq!(si(999.9996e15, "FLOP/s"), "1 EFLOP/s");
        assert_eq!(usd(1558.0 * 15_000.0), "$23.37M");
        assert_eq!(usd(195.0 * 199_000.0), "$38.805M");
        assert_eq!(usd(706_315.0 * 15_000.0), "$10.595B");
        assert_eq!(usd(88_000.0 * 199_000.0), "$17.512B");
        assert_eq!(usd(15_000.0), "$15,000");
        assert_eq!(count(1558.0), "1,558");
        assert_eq!(count(706_315.3), "706,315");
        assert_eq!(params(124_439_808.0), "124.44M");
        assert_eq!(params(174_604_259_328.0), "174.604B");
    }
}
