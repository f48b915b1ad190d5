//! The one error type of the hub and its one mapping to GraphQL error codes (ACCESS.md §10).

use std::{error::Error, fmt, sync::Arc};

use async_graphql::ErrorExtensions;
use sea_orm::{DbErr, SqlErr};

/// Everything that can go wrong while serving a partner, in the partner's terms.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// No usable token where one is needed.
    #[error("{0}")]
    Unauthenticated(String),
    /// The viewer may see the object but not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The viewer may see the object but not change this input field; `field` is its input
    /// path (e.g. `patch.permitAtStart`).
    #[error("{message}")]
    ForbiddenField {
        /// The input path.
        field: String,
        /// Why.
        message: String,
    },
    /// The object does not exist for this viewer. The message depends only on the kind of object,
    /// so a hidden record answers exactly like one that never existed.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Invalid input; `field` is the offending input path (e.g. `input.nationality`).
    #[error("{message}")]
    Validation {
        /// The input path.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A change carried a stale `version`.
    #[error("the case was changed by someone else (current version {current_version}); reload it and try again")]
    Conflict {
        /// The version the case has now.
        current_version: i32,
    },
    /// A write met a uniqueness rule of the database: a concurrent request made the same record
    /// (the same case code, the same referral) first.
    #[error("someone else made the same record at the same moment; reload and try again")]
    Duplicate,
    /// A change that lost a race or comes too late (an offer on a closed request, a second
    /// acceptance, the last place taken by someone else); `field` is the input path and
    /// `current_version` the record's version now.
    #[error("{message}")]
    ConflictAt {
        /// The input path.
        field: String,
        /// What happened, in the partner's words.
        message: String,
        /// The record's version now.
        current_version: i32,
    },
    /// A request over one of the hub's limits.
    #[error("{0}")]
    LimitExceeded(String),
    /// Anything unexpected. The detail and its cause are logged, never shown.
    #[error("internal error")]
    Internal(#[source] Internal),
    /// The hub cannot start or a command cannot run (bad settings, bad policy document,
    /// unreachable database). Shown to the operator on the command line, never to partners.
    #[error("{0}")]
    Setup(String),
}

impl ApiError {
    /// A validation error on one input path.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The stable `extensions.code` of this error.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated(_) => "UNAUTHENTICATED",
            ApiError::Forbidden(_) | ApiError::ForbiddenField { .. } => "FORBIDDEN",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::Validation { .. } => "VALIDATION",
            ApiError::Conflict { .. } | ApiError::ConflictAt { .. } | ApiError::Duplicate => {
                "CONFLICT"
            }
            ApiError::LimitExceeded(_) => "LIMIT_EXCEEDED",
            ApiError::Internal(_) | ApiError::Setup(_) => "INTERNAL",
        }
    }
}

/// The hidden detail of an [`ApiError::Internal`], with the error that caused it when there is
/// one (a database error, an I/O error), kept as its `source`.
#[derive(Debug, Clone)]
pub struct Internal {
    detail: String,
    source: Option<Arc<dyn Error + Send + Sync + 'static>>,
}

impl Internal {
    /// An internal error with `detail`, caused by `source`.
    pub fn caused_by(
        detail: impl Into<String>,
        source: impl Error + Send + Sync + 'static,
    ) -> Self {
        Internal {
            detail: detail.into(),
            source: Some(Arc::new(source)),
        }
    }
}

impl fmt::Display for Internal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

impl Error for Internal {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

impl From<String> for Internal {
    fn from(detail: String) -> Self {
        Internal {
            detail,
            source: None,
        }
    }
}

impl From<&str> for Internal {
    fn from(detail: &str) -> Self {
        detail.to_string().into()
    }
}

impl From<DbErr> for ApiError {
    /// A unique index refusing a row is `CONFLICT` (the database's own error code, read by
    /// `sea_orm`, says so); anything else is `INTERNAL`, its cause kept.
    fn from(err: DbErr) -> Self {
        if let Some(SqlErr::UniqueConstraintViolation(_)) = err.sql_err() {
            return ApiError::Duplicate;
        }
        ApiError::Internal(Internal::caused_by(format!("database: {err}"), err))
    }
}

impl From<sea_orm::TransactionError<ApiError>> for ApiError {
    fn from(err: sea_orm::TransactionError<ApiError>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(e) => e.into(),
            sea_orm::TransactionError::Transaction(e) => e,
        }
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        match &err {
            ApiError::Internal(detail) => tracing::error!(%detail, "internal error"),
            ApiError::Setup(detail) => tracing::error!(%detail, "internal error"),
            _ => {}
        }
        let err = match err {
            ApiError::Setup(_) => ApiError::Internal(Internal::from(String::new())),
            other => other,
        };
        let code = err.code();
        async_graphql::Error::new(err.to_string()).extend_with(|_, ext| {
            ext.set("code", code);
            match &err {
                ApiError::Validation { field, .. } | ApiError::ForbiddenField { field, .. } => {
                    ext.set("field", field.as_str())
                }
                ApiError::Conflict { current_version } => {
                    ext.set("currentVersion", *current_version)
                }
                ApiError::ConflictAt {
                    field,
                    current_version,
                    ..
                } => {
                    ext.set("field", field.as_str());
                    ext.set("currentVersion", *current_version)
                }
                _ => {}
            }
        })
    }
}

/// An `INTERNAL` error whose detail is `e` (a loader's error, a value the database should never
/// hold).
pub fn internal(e: impl fmt::Display) -> ApiError {
    ApiError::Internal(e.to_string().into())
}

/// The result type of resolvers and services.
pub type ApiResult<T> = Result<T, ApiError>;
