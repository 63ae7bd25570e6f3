//! The client's error type: server error codes with the op and path they
//! answered, and the connection-level failures.

use ferrozk_proto::error::ErrorCode;
use ferrozk_proto::jute::DecodeError;
use ferrozk_proto::multi::{MultiDecodeError, MultiResult};
use ferrozk_proto::ops::OpCode;
use ferrozk_proto::path::InvalidPath;

use super::hosts::ConnectStringError;

/// Why a client call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with an error code.
    #[error("{code} from {op:?} {path}")]
    Zk {
        /// The code from the reply header.
        code: ErrorCode,
        /// The request.
        op: OpCode,
        /// The client path it named ("" if none).
        path: String,
    },
    /// The server answered with a code ZooKeeper does not define.
    #[error("unknown error code {code} from {op:?} {path}")]
    UnknownCode {
        /// The raw code.
        code: i32,
        /// The request.
        op: OpCode,
        /// The client path it named.
        path: String,
    },
    /// An op of a multi failed, so none was applied.
    #[error("multi op {index} failed with {code}")]
    Multi {
        /// The first failing op's code.
        code: ErrorCode,
        /// Its index.
        index: usize,
        /// Every op's result (ZooKeeper's `getResults()`).
        results: Vec<MultiResult>,
    },
    /// The connection was lost before the reply arrived; the request may or
    /// may not have been applied. The session survives; retry after reconnect.
    #[error("connection loss")]
    ConnectionLoss,
    /// The session expired; this client is finished.
    #[error("session expired")]
    SessionExpired,
    /// Authentication failed (the server closes the session); this client
    /// is finished.
    #[error("authentication failed")]
    AuthFailed,
    /// `close()` was called; this client is finished.
    #[error("client closed")]
    Closed,
    /// No reply within the configured request timeout.
    #[error("request timed out")]
    Timeout,
    /// A path given to the client is invalid (checked before sending).
    #[error(transparent)]
    InvalidPath(#[from] InvalidPath),
    /// The connect string is invalid.
    #[error(transparent)]
    ConnectString(#[from] ConnectStringError),
    /// A socket error.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// A reply could not be decoded.
    #[error("bad reply: {0}")]
    Decode(#[from] DecodeError),
    /// The server broke the protocol (xid out of order, bad frame).
    #[error("protocol violation: {0}")]
    Protocol(String),
}

impl From<MultiDecodeError> for Error {
    fn from(e: MultiDecodeError) -> Error {
        match e {
            MultiDecodeError::Record(d) => Error::Decode(d),
            MultiDecodeError::BadOp(t) => Error::Protocol(format!("op type {t} in multi reply")),
        }
    }
}

impl Error {
    /// The ZooKeeper error code this error stands for, if any
    /// (connection loss and expiry included, as `KeeperException` does).
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Zk { code, .. } | Error::Multi { code, .. } => Some(*code),
            Error::ConnectionLoss => Some(ErrorCode::ConnectionLoss),
            Error::SessionExpired => Some(ErrorCode::SessionExpired),
            Error::AuthFailed => Some(ErrorCode::AuthFailed),
            Error::Timeout => Some(ErrorCode::OperationTimeout),
            _ => None,
        }
    }

    /// The error for reply code `err` (non-zero) to `op` on `path`.
    pub(crate) fn from_code(err: i32, op: OpCode, path: &str) -> Error {
        match ErrorCode::from_i32(err) {
            Some(code) => Error::Zk {
                code,
                op,
                path: path.to_string(),
            },
            None => Error::UnknownCode {
                code: err,
                op,
                path: path.to_string(),
            },
        }
    }
}

/// Turns multi results into an error if an op failed, as
/// `ZooKeeper.multi` does: the first non-zero `ErrorResult` wins and the
/// error carries every result.
pub fn check_multi(results: Vec<MultiResult>) -> Result<Vec<MultiResult>, Error> {
    let failed = results.iter().enumerate().find_map(|(i, r)| match r {
        MultiResult::Error(e) if *e != 0 => Some((i, *e)),
        _ => None,
    });
    match failed {
        None => Ok(results),
        Some((index, e)) => Err(Error::Multi {
            code: ErrorCode::from_i32(e).unwrap_or(ErrorCode::SystemError),
            index,
            results,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_multi_reports_the_first_failure() {
        let rs = vec![
            MultiResult::Error(0),
            MultiResult::Error(-101),
            MultiResult::Error(-2),
        ];
        match check_multi(rs.clone()) {
            Err(Error::Multi {
                code,
                index,
                results,
            }) => {
                assert_eq!((code, index), (ErrorCode::NoNode, 1));
                assert_eq!(results, rs);
            }
            other => panic!("{other:?}"),
        }
        let ok = vec![MultiResult::Check, MultiResult::Delete];
        assert_eq!(check_multi(ok.clone()).unwrap(), ok);
    }
}
