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
