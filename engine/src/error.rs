//! What can end a session, typed, each with the help a person can act on.

use planner::PlanError;
use providers::ProviderError;
use state::StateError;

/// Why a session operation failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// Reading resources from AWS failed: every failure, one per line.
    #[error("{}", .0.join("\n"))]
    Refresh(Vec<String>),
    /// A built-in that needs AWS could not be read.
    #[error("reading the account id from STS: {0}")]
    Account(ProviderError),
    /// Looking for what an interrupted apply may have created failed.
    #[error("{0}")]
    Adopt(String),
    /// Something the user must do differently: a message and what to do.
    #[error("{message}")]
    Refused { message: String, help: String },
    /// The engine's own invariant broke (never expected).
    #[error("internal error: {0}")]
    Internal(String),
}

impl EngineError {
    /// A refusal with its help line.
    pub fn refused(message: impl Into<String>, help: impl Into<String>) -> EngineError {
        EngineError::Refused {
            message: message.into(),
            help: help.into(),
        }
    }

    /// What to do about it, where strata knows.
    pub fn help(&self) -> Option<&str> {
        match self {
            EngineError::Refused { help, .. } => Some(help),
            _ => None,
        }
    }
}
