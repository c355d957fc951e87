//! Errors: a malformed pattern, a bad environment variable, a failed installation.

use std::fmt;

/// A malformed log pattern: where (a 0-based character position in the pattern) and what.
///
/// ```
/// let err = trace_log::Formatter::pattern("%d %-5levle %msg").unwrap_err();
/// assert_eq!(err.position(), 6);
/// assert_eq!(err.problem(), "unknown conversion word \"levle\"");
/// assert_eq!(
///     err.to_string(),
///     "invalid log pattern at position 6: unknown conversion word \"levle\" (in \"%d %-5levle %msg\")"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    pattern: String,
    position: usize,
    problem: String,
}

impl PatternError {
    /// `byte_offset` is converted to a character position.
    pub(crate) fn at(
        pattern: &str,
        byte_offset: usize,
        problem: impl Into<String>,
    ) -> PatternError {
        let byte_offset = byte_offset.min(pattern.len());
        let position = pattern
            .char_indices()
            .take_while(|(i, _)| *i < byte_offset)
            .count();
        PatternError {
            pattern: pattern.to_owned(),
            position,
            problem: problem.into(),
        }
    }

    /// The 0-based character position of the problem in the pattern.
    ///
    /// ```
    /// let err = trace_log::Formatter::pattern("[%thread] %").unwrap_err();
    /// assert_eq!(err.position(), 10);
    /// ```
    pub fn position(&self) -> usize {
        self.position
    }

    /// What is wrong, in words.
    ///
    /// ```
    /// let err = trace_log::Formatter::pattern("%logger{abc}").unwrap_err();
    /// assert!(err.problem().contains("length"));
    /// ```
    pub fn problem(&self) -> &str {
        &self.problem
    }

    /// The pattern that was rejected.
    ///
    /// ```
    /// let err = trace_log::Formatter::pattern("%X{").unwrap_err();
    /// assert_eq!(err.pattern(), "%X{");
    /// ```
    pub fn pattern(&self) -> &str {
        &self.pattern
    }
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid log pattern at position {}: {} (in {:?})",
            self.position, self.problem, self.pattern
        )
    }
}

impl std::error::Error for PatternError {}

/// Why the formatter, layer or subscriber could not be built or installed.
///
/// ```
/// let err = trace_log::builder().ignore_env().pattern("%q").formatter().unwrap_err();
/// assert!(matches!(err, trace_log::Error::Pattern(_)));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The pattern (from the builder or `TRACE_LOG_PATTERN`) is malformed.
    Pattern(PatternError),
    /// An environment variable has a value that cannot be used.
    Env {
        /// The variable's name.
        var: &'static str,
        /// What it holds (lossy if it is not UTF-8).
        value: String,
        /// Why it cannot be used.
        problem: String,
    },
    /// The filter directives (from `RUST_LOG` or the builder) do not parse.
    Filter {
        /// Where they came from (`RUST_LOG` or `the builder`).
        source: &'static str,
        /// The parser's message.
        message: String,
    },
    /// A global subscriber or `log` logger is already installed.
    Init(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Pattern(e) => e.fmt(f),
            Error::Env {
                var,
                value,
                problem,
            } => write!(f, "environment variable {var}={value:?}: {problem}"),
            Error::Filter { source, message } => {
                write!(f, "invalid log filter from {source}: {message}")
            }
            Error::Init(m) => write!(f, "cannot install the log subscriber: {m}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Pattern(e) => Some(e),
            _ => None,
        }
    }
}

impl From<PatternError> for Error {
    fn from(e: PatternError) -> Error {
        Error::Pattern(e)
    }
}
