//! The errors clients see, each with its `extensions.code`.
//!
//! Domain services return [`AppError`]; the GraphQL layer turns it into a GraphQL error.
//! Internal errors are logged here, once, with their cause, and shown to clients only as
//! `INTERNAL` with no details.

use async_graphql::ErrorExtensions;

use crate::store::StoreError;

/// One problem with a piece of input, located by its path (e.g. `input.regionCode`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// Where in the input the problem is, as GraphQL field names joined by dots.
    pub path: String,
    /// What is wrong, for a person.
    pub message: String,
}

impl Problem {
    /// A problem at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self { path: path.into(), message: message.into() }
    }
}

/// An error as a client should understand it.
///
/// Deliberately not `Display`: async-graphql converts any `Display` type into an error without
/// a code, and this type must always carry its code across `?`. Use [`AppError::message`].
#[derive(Debug)]
pub enum AppError {
    /// The thing asked for does not exist.
    NotFound(String),
    /// The input is wrong; every problem found is listed.
    BadUserInput(Vec<Problem>),
    /// The write contradicts what is stored (e.g. a key reused with other data).
    Conflict(String),
    /// The caller is known but may not do this.
    Forbidden(String),
    /// The caller could not be identified.
    Unauthenticated(String),
    /// A result (a sum) is larger than its type in the API can carry; a wrong number is never served.
    OutOfRange(String),
    /// The database cannot serve right now (unreachable, disk full, read-only); retry later.
    Unavailable(String),
    /// The request ran out of time and its database work was stopped.
    Timeout(String),
    /// Something broke on our side; details go to the log only.
    Internal(anyhow::Error),
}

fn summarize(problems: &[Problem]) -> String {
    match problems {
        [] => "invalid input".to_owned(),
        [one] => format!("{}: {}", one.path, one.message),
        [first, rest @ ..] => format!("{}: {} (and {} more problems)", first.path, first.message, rest.len()),
    }
}

impl AppError {
    /// A single input problem.
    pub fn bad_input(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadUserInput(vec![Problem::new(path, message)])
    }

    /// The message shown to clients (never internal details).
    pub fn message(&self) -> String {
        match self {
            Self::NotFound(m)
            | Self::Conflict(m)
            | Self::Forbidden(m)
            | Self::Unauthenticated(m)
            | Self::OutOfRange(m) => m.clone(),
            Self::BadUserInput(problems) => summarize(problems),
            Self::Unavailable(m) | Self::Timeout(m) => m.clone(),
            Self::Internal(_) => "internal error".to_owned(),
        }
    }

    /// The `extensions.code` this error carries.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "NOT_FOUND",
            Self::BadUserInput(_) => "BAD_USER_INPUT",
            Self::Conflict(_) => "CONFLICT",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::OutOfRange(_) => "OUT_OF_RANGE",
            Self::Unavailable(_) => "UNAVAILABLE",
            Self::Timeout(_) => "TIMEOUT",
            Self::Internal(_) => "INTERNAL",
        }
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        if error.is_interrupted() {
            return Self::Timeout("the request took too long and its database work was stopped".to_owned());
        }
        if error.is_unavailable() {
            tracing::error!(%error, "the database cannot serve");
            return Self::Unavailable("the database is unavailable or cannot take writes; try again later".to_owned());
        }
        Self::Internal(error.into())
    }
}

/// Result of a domain service call.
pub type AppResult<T> = Result<T, AppError>;

impl ErrorExtensions for AppError {
    fn extend(&self) -> async_graphql::Error {
        if let Self::Internal(cause) = self {
            tracing::error!(error = ?cause, "internal error while resolving a request");
        }
        let problems = match self {
            Self::BadUserInput(problems) => Some(problems.clone()),
            _ => None,
        };
        async_graphql::Error::new(self.message()).extend_with(|_, extensions| {
            extensions.set("code", self.code());
            if let Some(problems) = &problems {
                let list: Vec<async_graphql::Value> = problems
                    .iter()
                    .map(|p| {
                        let mut map = async_graphql::indexmap::IndexMap::new();
                        map.insert(async_graphql::Name::new("path"), async_graphql::Value::from(p.path.as_str()));
                        map.insert(async_graphql::Name::new("message"), async_graphql::Value::from(p.message.as_str()));
                        async_graphql::Value::Object(map)
                    })
                    .collect();
                extensions.set("problems", list);
            }
        })
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(error: AppError) -> Self {
        error.extend()
    }
}
