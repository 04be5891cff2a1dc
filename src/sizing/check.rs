//! Input checks shared by the sizing inputs. Each names the field (a dotted path into
//! [`super::Inputs`], e.g. `hardware.utilisation`) and says what was expected, so the page can
//! show the message beside the field.
//!
//! The upper bounds are "absurdly large" limits, generous for any real scenario, chosen so that
//! no product or quotient the calculator forms can overflow to infinity.

use crate::error::{Error, Result};

/// `v` as a message quotes it: as written when short (`0.5`, `30`, `1234567.5`), else in
/// e-notation (`1e300`, not three hundred digits; `1e-30`, not thirty zeros).
fn shown(v: f64) -> String {
    let plain = format!("{v}");
    if plain.len() <= 16 {
        plain
    } else {
        format!("{v:e}")
    }
}

/// `v` must be a finite number.
pub fn finite(field: &str, v: f64) -> Result<()> {
    if v.is_nan() {
        return Err(Error::invalid(field, "must be a number, got NaN"));
    }
    if v.is_infinite() {
        return Err(Error::invalid(field, format!("must be finite, got {v}")));
    }
    Ok(())
}

/// `v` must lie in `[min, max]` with `min > 0`: zero and negatives are refused as "must be
/// positive", tiny positive values as below the smallest supported.
pub fn positive(field: &str, v: f64, min: f64, max: f64) -> Result<()> {
    finite(field, v)?;
    if v <= 0.0 {
        return Err(Error::invalid(field, format!("must be positive, got {}", shown(v))));
    }
    if v < min {
        return Err(Error::invalid(field, format!("{} is below the smallest supported value, {}", shown(v), shown(min))));
    }
    if v > max {
        return Err(Error::invalid(field, format!("{} is absurdly large (at most {max:e})", shown(v))));
    }
    Ok(())
}

/// `v` must be a whole number in `[min, max]`, `min >= 1`.
pub fn whole(field: &str, v: f64, min: f64, max: f64) -> Result<()> {
    finite(field, v)?;
    if v.fract() != 0.0 {
        return Err(Error::invalid(field, format!("must be a whole number, got {}", shown(v))));
    }
    if v < min {
        return Err(Error::invalid(field, format!("must be at least {min}, got {}", shown(v))));
    }
    if v > max {
        return Err(Error::invalid(field, format!("{} is absurdly large (at most {max:e})", shown(v))));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_check_names_the_field_and_the_problem() {
        let e = positive("training.days", 0.0, 1e-3, 1e5).unwrap_err();
        assert_eq!(e.to_string(), "training.days: must be positive, got 0");
        let e = positive("training.days", f64::NAN, 1e-3, 1e5).unwrap_err();
        assert_eq!(e.to_string(), "training.days: must be a number, got NaN");
        let e = positive("x", f64::INFINITY, 1e-3, 1e5).unwrap_err();
        assert_eq!(e.to_string(), "x: must be finite, got inf");
        let e = positive("x", 1e-9, 1e-3, 1e5).unwrap_err();
        assert!(e.to_string().contains("below the smallest"), "{e}");
        let e = positive("x", 1e9, 1e-3, 1e5).unwrap_err();
        assert!(e.to_string().contains("absurdly large"), "{e}");
        let e = whole("n_layer", 1.5, 1.0, 10.0).unwrap_err();
        assert_eq!(e.to_string(), "n_layer: must be a whole number, got 1.5");
        assert!(whole("n_layer", 0.0, 1.0, 10.0).is_err());
        assert!(whole("n_layer", 10.0, 1.0, 10.0).is_ok());
        assert!(positive("x", 1e5, 1e-3, 1e5).is_ok());
    }

    #[test]
    fn extreme_values_are_quoted_short() {
        // Formatted plainly, 1e300 is 301 digits and 1e-30 has 30 zeros: a message beside a
        // field on a phone must not be that wide.
        let e = positive("training.tokens", 1e300, 1.0, 1e16).unwrap_err();
        assert_eq!(e.to_string(), "training.tokens: 1e300 is absurdly large (at most 1e16)");
        let e = positive("hardware.peak", 1e-30, 1e-3, 1e20).unwrap_err();
        assert_eq!(e.to_string(), "hardware.peak: 1e-30 is below the smallest supported value, 0.001");
        let e = whole("x", 1234567.5, 1.0, 1e9).unwrap_err();
        assert_eq!(e.to_string(), "x: must be a whole number, got 1234567.5");
    }
}
