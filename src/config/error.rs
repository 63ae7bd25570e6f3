//! What can be wrong with a configuration. Every variant names the key(s)
//! involved so that `ferrozk: <error>` on stderr is enough to fix the file.

use std::path::PathBuf;

use thiserror::Error;

/// A configuration that cannot be used.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file name does not say which syntax it uses.
    #[error("{}: unknown config format; expected a .cfg, .conf or .properties file (zoo.cfg syntax) or a .toml file", path.display())]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// A problem inside a file, wrapped with the file's name.
    #[error("{}: {error}", path.display())]
    InFile {
        /// The file.
        path: PathBuf,
        /// The problem.
        error: Box<ConfigError>,
    },
    /// Malformed properties syntax (only a bad `\uXXXX` escape can be).
    #[error("line {line}: {message}")]
    Syntax {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Malformed TOML, or a TOML value of a type no key accepts.
    #[error("invalid TOML: {message}")]
    Toml {
        /// The TOML parser's or our message.
        message: String,
    },
    /// A value that does not parse as what its key needs.
    #[error("invalid value {value:?} for {key}: expected {expected}")]
    InvalidValue {
        /// The key, as written.
        key: String,
        /// The value, as written (trimmed).
        value: String,
        /// What the key accepts.
        expected: String,
    },
    /// A required key is absent.
    #[error("{key} is not set: {reason}")]
    Missing {
        /// The missing key.
        key: String,
        /// Why it is required.
        reason: String,
    },
    /// Keys whose values contradict each other.
    #[error("{key} conflicts with {other}: {message}")]
    Conflict {
        /// The key at fault.
        key: String,
        /// The key it conflicts with.
        other: String,
        /// How.
        message: String,
    },
}

impl ConfigError {
    /// An [`InvalidValue`](Self::InvalidValue) error.
    pub fn invalid(key: &str, value: &str, expected: impl Into<String>) -> Self {
        ConfigError::InvalidValue {
            key: key.to_owned(),
            value: value.to_owned(),
            expected: expected.into(),
        }
    }

    /// A [`Conflict`](Self::Conflict) error.
    pub fn conflict(key: &str, other: &str, message: impl Into<String>) -> Self {
        ConfigError::Conflict {
            key: key.to_owned(),
            other: other.to_owned(),
            message: message.into(),
        }
    }

    /// A [`Missing`](Self::Missing) error.
    pub fn missing(key: &str, reason: impl Into<String>) -> Self {
        ConfigError::Missing {
            key: key.to_owned(),
            reason: reason.into(),
        }
    }
}
