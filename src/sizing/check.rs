//! Input checks shared by the sizing inputs. Each names the field (a dotted path into
//! [`super::Inputs`], e.g. `hardware.utilisation`) and says what was expected, so the page can
//! show the message beside the field.
//!
//! The upper bounds are "absurdly large" limits, generous for any real scenario, chosen so that
//! no product or quotient the calculator forms can overflow to infinity.

use crate::error::{Error, Result};

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
        return Err(Error::invalid(field, format!("must be positive, got {v}")));
    }
    if v < min {
        return Err(Error::invalid(field, format!("{v} is below the smallest supported value, {min}")));
    }
    if v > max {
        return Err(Error::invalid(field, format!("{v} is absurdly large (at most {max:e})")));
    }
    Ok(())
}

/// `v` must be a whole number in `[min, max]`, `min >= 1`.
pub fn whole(field: &str, v: f64, min: f64, max: f64) -> Result<()> {
    finite(field, v)?;
    if v.fract() != 0.0 {
        return Err(Error::invalid(field, format!("must be a whole number, got {v}")));
    }
    if v < min {
        return Err(Error::invalid(field, format!("must be at least {min}, got {v}")));
    }
    if v > max {
        return Err(Error::invalid(field, format!("{v} is absurdly large (at most {max:e})")));
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
}
