//! How a command fails: zkCli's exception classes as one enum, each with
//! the message zkCli prints on stderr and its exit code.

use ferrozk_client::{Error as ZkError, ErrorCode};

use crate::words::FlagError;

/// A failed command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CliError {
    /// Bad flags or too few arguments (`CliParseException`): the usage or
    /// Commons CLI's message.
    #[error("{0}")]
    Parse(String),
    /// A command that cannot run as given (`MalformedCommandException`).
    #[error("{0}")]
    Malformed(String),
    /// A path the client refuses (`MalformedPathException`).
    #[error("{0}")]
    MalformedPath(String),
    /// The server (or the connection) failed the request
    /// (`CliWrapperException` around a `KeeperException`).
    #[error("{}", keeper_message(*.code, .path))]
    Keeper {
        /// The error code.
        code: ErrorCode,
        /// The path the request named, as the user gave it.
        path: String,
    },
    /// No such command (`CommandNotFoundException`, exit code 127).
    #[error("Command not found: {0}")]
    NotFound(String),
    /// A command that already printed its failure and exits with this code
    /// (`redo` of a failed command, `quit` after one).
    #[error("")]
    Exit(i32),
    /// Anything else (a file that cannot be read, a bad JSON document, a
    /// connection that could not be made), with its own message.
    #[error("{0}")]
    Other(String),
}

impl From<FlagError> for CliError {
    /// zkCli wraps Commons CLI's exception as the cause of its own, so
    /// the message carries the exception's class name.
    fn from(e: FlagError) -> CliError {
        let class = match e {
            FlagError::Unrecognized(_) => "UnrecognizedOptionException",
            FlagError::MissingValue(_) => "MissingArgumentException",
        };
        CliError::Parse(format!("org.apache.commons.cli.{class}: {e}"))
    }
}

impl CliError {
    /// The process exit code zkCli uses for this failure.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::NotFound(_) => 127,
            CliError::Exit(code) => *code,
            _ => 1,
        }
    }

    /// The error of a client call on `path` (the path as the user typed
    /// it: ZooKeeper's exceptions carry the client path).
    pub fn from_client(e: ZkError, path: &str) -> CliError {
        match e {
            ZkError::InvalidPath(p) => CliError::MalformedPath(p.java_message()),
            ZkError::Multi { code, .. } => CliError::Keeper {
                code,
                path: path.to_string(),
            },
            e => match e.code() {
                Some(code) => CliError::Keeper {
                    code,
                    path: path.to_string(),
                },
                None => CliError::Other(e.to_string()),
            },
        }
    }

    /// The error code, for the JSON form.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            CliError::Keeper { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// `KeeperException.getCodeMessage`.
pub fn code_message(code: ErrorCode) -> String {
    use ErrorCode::*;
    match code {
        Ok => "ok",
        SystemError => "SystemError",
        RuntimeInconsistency => "RuntimeInconsistency",
        DataInconsistency => "DataInconsistency",
        ConnectionLoss => "ConnectionLoss",
        MarshallingError => "MarshallingError",
        NewConfigNoQuorum => "NewConfigNoQuorum",
        ReconfigInProgress => "ReconfigInProgress",
        Unimplemented => "Unimplemented",
        OperationTimeout => "OperationTimeout",
        BadArguments => "BadArguments",
        ApiError => "APIError",
        NoNode => "NoNode",
        NoAuth => "NoAuth",
        BadVersion => "BadVersion",
        NoChildrenForEphemerals => "NoChildrenForEphemerals",
        NodeExists => "NodeExists",
        InvalidAcl => "InvalidACL",
        AuthFailed => "AuthFailed",
        NotEmpty => "Directory not empty",
        SessionExpired => "Session expired",
        InvalidCallback => "Invalid callback",
        SessionMoved => "Session moved",
        NotReadOnly => "Not a read-only call",
        EphemeralOnLocalSession => "Ephemeral node on local session",
        NoWatcher => "No such watcher",
        ReconfigDisabled => "Reconfig is disabled",
        SessionClosedRequireSaslAuth => "Session closed because client failed to authenticate",
        QuotaExceeded => "Quota has exceeded",
        ThrottledOp => "Op throttled due to high load",
        UnknownSession | RequestTimeout => return format!("Unknown error {}", code.code()),
    }
    .to_string()
}

/// `KeeperException.getMessage`: `KeeperErrorCode = NoNode for /a`.
pub fn keeper_exception_message(code: ErrorCode, path: &str) -> String {
    if path.is_empty() {
        format!("KeeperErrorCode = {}", code_message(code))
    } else {
        format!("KeeperErrorCode = {} for {path}", code_message(code))
    }
}

/// `CliWrapperException.getMessage`: the friendly text for the codes zkCli
/// knows, else the exception's own message.
fn keeper_message(code: ErrorCode, path: &str) -> String {
    use ErrorCode::*;
    match code {
        NoNode => format!("Node does not exist: {path}"),
        NoChildrenForEphemerals => format!("Ephemerals cannot have children: {path}"),
        NodeExists => format!("Node already exists: {path}"),
        NotEmpty => format!("Node not empty: {path}"),
        NotReadOnly => format!("Not a read-only call: {path}"),
        InvalidAcl => format!("Acl is not valid : {path}"),
        NoAuth => format!("Insufficient permission : {path}"),
        BadArguments => format!("Arguments are not valid : {path}"),
        BadVersion => format!("version No is not valid : {path}"),
        ReconfigInProgress => {
            "Another reconfiguration is in progress -- concurrent reconfigs not supported (yet)"
                .to_string()
        }
        NewConfigNoQuorum => {
            "No quorum of new config is connected and up-to-date with the leader \
of last commmitted config - try invoking reconfiguration after new servers are connected and synced"
                .to_string()
        }
        QuotaExceeded => format!("Quota has exceeded : {path}"),
        _ => keeper_exception_message(code, path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_zkclis() {
        let e = |code| CliError::Keeper {
            code,
            path: "/a".into(),
        };
        assert_eq!(e(ErrorCode::NoNode).to_string(), "Node does not exist: /a");
        assert_eq!(
            e(ErrorCode::NoAuth).to_string(),
            "Insufficient permission : /a"
        );
        assert_eq!(
            e(ErrorCode::ConnectionLoss).to_string(),
            "KeeperErrorCode = ConnectionLoss for /a"
        );
        assert_eq!(CliError::NotFound("x".into()).exit_code(), 127);
    }
}
