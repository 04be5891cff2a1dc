//! The one error type of the core. Messages say what was wrong and what was expected;
//! only the bindings (`src/wasm`) turn an [`Error`] into a JS exception.

use std::fmt;

/// Everything the core can refuse. Each variant carries a message written for a person.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// An input value outside its domain, naming the field: `n_head: 5 does not divide n_embd = 128`.
    InvalidInput { field: String, message: String },
    /// Tensor shapes that do not fit an operation, naming the op and the shapes.
    Shape(String),
    /// A checkpoint that cannot be loaded or written, saying exactly what is wrong with it.
    Checkpoint(String),
    /// Text the tokenizer cannot encode or ids it cannot decode.
    Tokenizer(String),
    /// A file or stream that could not be read or written.
    Io(String),
}

/// The core's result type.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An [`Error::InvalidInput`] for `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidInput { field: field.into(), message: message.into() }
    }

    /// The input field this error is about, when it is about one (the calculator shows the
    /// message beside that field).
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::InvalidInput { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidInput { field, message } => write!(f, "{field}: {message}"),
            Error::Shape(m) => write!(f, "shape error: {m}"),
            Error::Checkpoint(m) => write!(f, "checkpoint: {m}"),
            Error::Tokenizer(m) => write!(f, "tokenizer: {m}"),
            Error::Io(m) => write!(f, "io: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e.to_string())
    }
}

/// serde's message for a number its field's integer type cannot hold, as a person reads it
/// (the bindings read JS objects with serde): `invalid value: integer `1000000000000000`,
/// expected usize` → `1000000000000000 is too large`, `invalid type: floating point
/// `1e30`, expected u64` (serde writes every digit and a ".0") → `1e30 is too large`, a fraction
/// or a negative number → `must be a whole number ≥ 0, got 2.5`. Any other message (NaN, inf,
/// a string) is returned as it is.
pub fn plain_serde_message(msg: &str) -> String {
    // Bytes and slices only: in the wasm builds float parsing was ~16 KB gzipped; this is ~1.6 KB.
    let b = msg.as_bytes();
    let num = [&b"invalid value: integer `"[..], b"invalid type: floating point `"].into_iter().find_map(|p| {
        let rest = b.strip_prefix(p)?;
        let end = rest.iter().position(|&c| c == b'`')?;
        let ty = rest[end..].strip_prefix(b"`, expected ")?;
        matches!(ty, b"usize" | b"u64" | b"u32" | b"u16" | b"u8").then_some(&rest[..end])
    });
    let Some(num) = num.and_then(|n| std::str::from_utf8(n).ok()) else { return msg.to_string() };
    let digits = num.strip_prefix('-').unwrap_or(num);
    let int = &digits[..digits.bytes().position(|c| c == b'.').unwrap_or(digits.len())];
    let frac = digits.get(int.len() + 1..).unwrap_or("");
    if int.is_empty() || !int.bytes().chain(frac.bytes()).all(|c| c.is_ascii_digit()) {
        return msg.to_string();
    }
    if num.starts_with('-') || frac.bytes().any(|c| c != b'0') || int.bytes().all(|c| c == b'0') {
        return ["must be a whole number ≥ 0, got ", num].concat();
    }
    if int.len() <= 16 {
        return [int, " is too large"].concat();
    }
    // Past 16 digits, short: 1e30, 1.2345e20, not thirty-one digits.
    let kept = int.trim_end_matches('0');
    let dot = if kept.len() > 1 { "." } else { "" };
    [&kept[..1], dot, kept.get(1..7).unwrap_or(&kept[1..]), "e", &(int.len() - 1).to_string(), " is too large"].concat()
}

#[cfg(test)]
mod tests {
    use super::plain_serde_message;

    #[test]
    fn serdes_number_messages_read_plainly() {
        // As serde-wasm-bindgen gives them for the Train page's 1e15, 1e20, 1e30 and 2.5.
        assert_eq!(plain_serde_message("invalid value: integer `1000000000000000`, expected usize"), "1000000000000000 is too large");
        assert_eq!(plain_serde_message("invalid type: floating point `100000000000000000000.0`, expected usize"), "1e20 is too large");
        assert_eq!(plain_serde_message("invalid type: floating point `1000000000000000000000000000000.0`, expected u64"), "1e30 is too large");
        assert_eq!(plain_serde_message("invalid type: floating point `123456789000000000000.0`, expected u64"), "1.234567e20 is too large");
        assert_eq!(plain_serde_message("invalid type: floating point `0.0`, expected usize"), "must be a whole number ≥ 0, got 0.0");
        // Not digits: as serde said it.
        for odd in ["invalid type: floating point `NaN`, expected usize", "invalid type: floating point `inf`, expected u64"] {
            assert_eq!(plain_serde_message(odd), odd);
        }
        assert_eq!(plain_serde_message("invalid type: floating point `2.5`, expected usize"), "must be a whole number ≥ 0, got 2.5");
        assert_eq!(plain_serde_message("invalid value: integer `-4`, expected u64"), "must be a whole number ≥ 0, got -4");
        assert_eq!(plain_serde_message("invalid type: floating point `-0.5`, expected usize"), "must be a whole number ≥ 0, got -0.5");
        // Not a number for an unsigned integer: as it was.
        let other = "invalid type: string \"30\", expected f64";
        assert_eq!(plain_serde_message(other), other);
        assert_eq!(plain_serde_message("invalid type: floating point `2.5`, expected i32"), "invalid type: floating point `2.5`, expected i32");
    }
}
