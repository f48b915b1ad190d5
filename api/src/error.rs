//! The one error type of the hub and its one mapping to GraphQL error codes (ACCESS.md §10).

use async_graphql::ErrorExtensions;

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
    ForbiddenField { field: String, message: String },
    /// The object does not exist for this viewer. The message depends only on the kind of object,
    /// so a hidden record answers exactly like one that never existed.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Invalid input; `field` is the offending input path (e.g. `input.nationality`).
    #[error("{message}")]
    Validation { field: String, message: String },
    /// A change carried a stale `version`.
    #[error("the case was changed by someone else (current version {current_version}); reload it and try again")]
    Conflict { current_version: i32 },
    /// A change that lost a race or comes too late (an offer on a closed request, a second
    /// acceptance, the last place taken by someone else); `field` is the input path and
    /// `current_version` the record's version now.
    #[error("{message}")]
    ConflictAt {
        field: String,
        message: String,
        current_version: i32,
    },
    /// A request over one of the hub's limits.
    #[error("{0}")]
    LimitExceeded(String),
    /// Anything unexpected. The detail is logged, never shown.
    #[error("internal error")]
    Internal(String),
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
            ApiError::Conflict { .. } | ApiError::ConflictAt { .. } => "CONFLICT",
            ApiError::LimitExceeded(_) => "LIMIT_EXCEEDED",
            ApiError::Internal(_) | ApiError::Setup(_) => "INTERNAL",
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        ApiError::Internal(format!("database: {err}"))
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
        if let ApiError::Internal(detail) | ApiError::Setup(detail) = &err {
            tracing::error!(%detail, "internal error");
        }
        let err = match err {
            ApiError::Setup(_) => ApiError::Internal(String::new()),
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

/// The result type of resolvers and services.
pub type ApiResult<T> = Result<T, ApiError>;
