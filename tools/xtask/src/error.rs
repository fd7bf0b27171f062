//! The one error type of xtask: a message for the user, printed once by `main`.

use std::fmt;

/// A failure to report to the user; `main` prints it and exits non-zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
}

impl Error {
    /// An error with the given message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// This error with `context` in front: "context: message".
    pub fn context(self, context: impl fmt::Display) -> Self {
        Self::new(format!("{context}: {}", self.message))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(error: std::io::Error) -> Self {
        Self::new(error.to_string())
    }
}

/// The result type used throughout xtask.
pub type Result<T> = std::result::Result<T, Error>;

/// Adds context to the error of a fallible operation.
pub trait Context<T> {
    /// On error, prefix the message with `context`.
    fn context(self, context: impl fmt::Display) -> Result<T>;

    /// On error, prefix the message with the result of `context`, computed only then.
    fn with_context<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T>;
}

impl<T, E: fmt::Display> Context<T> for std::result::Result<T, E> {
    fn context(self, context: impl fmt::Display) -> Result<T> {
        self.map_err(|error| Error::new(format!("{context}: {error}")))
    }

    fn with_context<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|error| Error::new(format!("{}: {error}", context())))
    }
}
