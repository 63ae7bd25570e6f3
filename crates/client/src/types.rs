//! The client's vocabulary: create modes, watch events and states, watch
//! kinds, multi ops, and the well-known ACLs (`ZooDefs.Ids`).
//!
//! Everything here is a pure value with its wire mapping; nothing does IO.

use bytes::Bytes;

use ferrozk_proto::multi::MultiOp;
use ferrozk_proto::ops::{perms, OpCode};
use ferrozk_proto::records::data::{Id, ACL};
use ferrozk_proto::records::proto::*;

/// How a node is created (`CreateMode`). The TTL variants carry the TTL in
/// milliseconds and need a server with extended types enabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CreateMode {
    /// Stays until deleted.
    Persistent,
    /// Deleted when the creating session ends.
    Ephemeral,
    /// Persistent, with a 10-digit monotonically increasing suffix.
    PersistentSequential,
    /// Ephemeral, with a sequence suffix.
    EphemeralSequential,
    /// Deleted by the server once it has had children and has none left.
    Container,
    /// Persistent, deleted when unmodified for the TTL and childless.
    PersistentWithTtl(i64),
    /// Persistent sequential with a TTL.
    PersistentSequentialWithTtl(i64),
}

impl CreateMode {
    /// The `flags` field of the create request.
    pub fn flags(self) -> i32 {
        match self {
            CreateMode::Persistent => 0,
            CreateMode::Ephemeral => 1,
            CreateMode::PersistentSequential => 2,
            CreateMode::EphemeralSequential => 3,
            CreateMode::Container => 4,
            CreateMode::PersistentWithTtl(_) => 5,
            CreateMode::PersistentSequentialWithTtl(_) => 6,
        }
    }

    /// The TTL in ms, for the TTL modes.
    pub fn ttl_ms(self) -> Option<i64> {
        match self {
            CreateMode::PersistentWithTtl(t) | CreateMode::PersistentSequentialWithTtl(t) => {
                Some(t)
            }
            _ => None,
        }
    }

    /// Whether the server appends a sequence number.
    pub fn is_sequential(self) -> bool {
        matches!(
            self,
            CreateMode::PersistentSequential
                | CreateMode::EphemeralSequential
                | CreateMode::PersistentSequentialWithTtl(_)
        )
    }

    /// The opcode that creates a node in this mode. Containers and TTL nodes
    /// have their own opcodes (both answer like create2); for the others
    /// `with_stat` picks create2 over create.
    pub fn opcode(self, with_stat: bool) -> OpCode {
        match self {
            CreateMode::Container => OpCode::CreateContainer,
            CreateMode::PersistentWithTtl(_) | CreateMode::PersistentSequentialWithTtl(_) => {
                OpCode::CreateTtl
            }
            _ if with_stat => OpCode::Create2,
            _ => OpCode::Create,
        }
    }

    /// The request for `path` in this mode: a `CreateTTLRequest` for TTL
    /// modes, a `CreateRequest` otherwise.
    pub(crate) fn request(
        self,
        path: String,
        data: Option<Bytes>,
        acl: Vec<ACL>,
        with_stat: bool,
    ) -> MultiOp {
        let flags = self.flags();
        match self.ttl_ms() {
            Some(ttl) => MultiOp::CreateTtl(CreateTTLRequest {
                path,
                data,
                acl,
                flags,
                ttl,
            }),
            None => MultiOp::Create(
                self.opcode(with_stat),
                CreateRequest {
                    path,
                    data,
                    acl,
                    flags,
                },
            ),
        }
    }
}

pub use ferrozk_proto::ops::EventType;

/// The session's state, in a [`WatchedEvent`] (`Watcher.Event.KeeperState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
#[allow(missing_docs)]
pub enum KeeperState {
    Disconnected = 0,
    SyncConnected = 3,
    /// An `addAuth` failed; the client is finished.
    AuthFailed = 4,
    ConnectedReadOnly = 5,
    SaslAuthenticated = 6,
    /// The server declared the session expired; the client is finished.
    Expired = -112,
    /// `close()` was called; the client is finished.
    Closed = 7,
}

impl KeeperState {
    /// Maps a wire value; `None` for values ZooKeeper does not define.
    pub fn from_i32(v: i32) -> Option<KeeperState> {
        use KeeperState::*;
        [
            Disconnected,
            SyncConnected,
            AuthFailed,
            ConnectedReadOnly,
            SaslAuthenticated,
            Expired,
            Closed,
        ]
        .into_iter()
        .find(|s| *s as i32 == v)
    }

    /// Whether no further request can succeed.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            KeeperState::AuthFailed | KeeperState::Expired | KeeperState::Closed
        )
    }
}

/// A watch notification or a session-state change, in arrival order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchedEvent {
    /// What happened.
    pub event_type: EventType,
    /// The session state when it happened.
    pub keeper_state: KeeperState,
    /// The node (client view, chroot removed); `None` for state changes.
    pub path: Option<String>,
    /// The zxid the server sent with the notification; -1 for events the
    /// client generates itself.
    pub zxid: i64,
}

impl WatchedEvent {
    pub(crate) fn state(state: KeeperState) -> WatchedEvent {
        WatchedEvent {
            event_type: EventType::None,
            keeper_state: state,
            path: None,
            zxid: -1,
        }
    }
}

/// The mode of `addWatch` (`AddWatchMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum AddWatchMode {
    /// Data and child events on the node itself, not removed when fired.
    Persistent = 0,
    /// Data events on the node and every descendant, not removed when fired.
    PersistentRecursive = 1,
}

/// Which watches `removeWatches`/`checkWatches` act on (`Watcher.WatcherType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
#[allow(missing_docs)]
pub enum WatcherType {
    Children = 1,
    /// Data and exist watches.
    Data = 2,
    Any = 3,
    Persistent = 4,
    PersistentRecursive = 5,
}

/// One operation of a `multi` or `multiRead`, in client paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Create a node.
    Create {
        /// Node path.
        path: String,
        /// Initial data.
        data: Option<Bytes>,
        /// Initial ACL.
        acl: Vec<ACL>,
        /// Create mode.
        mode: CreateMode,
    },
    /// Delete a node if its version matches (-1: any).
    Delete {
        /// Node path.
        path: String,
        /// Expected version.
        version: i32,
    },
    /// Set data if the version matches (-1: any).
    SetData {
        /// Node path.
        path: String,
        /// New data.
        data: Option<Bytes>,
        /// Expected version.
        version: i32,
    },
    /// Fail the transaction unless the node's version matches.
    Check {
        /// Node path.
        path: String,
        /// Expected version.
        version: i32,
    },
    /// Read a node's data (multiRead only).
    GetData {
        /// Node path.
        path: String,
    },
    /// List a node's children (multiRead only).
    GetChildren {
        /// Node path.
        path: String,
    },
}

impl Op {
    /// Create `path` with `data`.
    pub fn create(path: &str, data: &[u8], acl: Vec<ACL>, mode: CreateMode) -> Op {
        Op::Create {
            path: path.into(),
            data: Some(Bytes::copy_from_slice(data)),
            acl,
            mode,
        }
    }
    /// Delete `path` at `version`.
    pub fn delete(path: &str, version: i32) -> Op {
        Op::Delete {
            path: path.into(),
            version,
        }
    }
    /// Set `path`'s data at `version`.
    pub fn set_data(path: &str, data: &[u8], version: i32) -> Op {
        Op::SetData {
            path: path.into(),
            data: Some(Bytes::copy_from_slice(data)),
            version,
        }
    }
    /// Check `path` is at `version`.
    pub fn check(path: &str, version: i32) -> Op {
        Op::Check {
            path: path.into(),
            version,
        }
    }
    /// Read `path`.
    pub fn get_data(path: &str) -> Op {
        Op::GetData { path: path.into() }
    }
    /// List `path`'s children.
    pub fn get_children(path: &str) -> Op {
        Op::GetChildren { path: path.into() }
    }

    /// The client path the op acts on.
    pub fn path(&self) -> &str {
        match self {
            Op::Create { path, .. }
            | Op::Delete { path, .. }
            | Op::SetData { path, .. }
            | Op::Check { path, .. }
            | Op::GetData { path }
            | Op::GetChildren { path } => path,
        }
    }

    /// The wire op, with the path already mapped to the server's view.
    pub(crate) fn into_multi_op(self, server_path: String) -> MultiOp {
        match self {
            Op::Create {
                data, acl, mode, ..
            } => mode.request(server_path, data, acl, false),
            Op::Delete { version, .. } => MultiOp::Delete(DeleteRequest {
                path: server_path,
                version,
            }),
            Op::SetData { data, version, .. } => MultiOp::SetData(SetDataRequest {
                path: server_path,
                data,
                version,
            }),
            Op::Check { version, .. } => MultiOp::Check(CheckVersionRequest {
                path: server_path,
                version,
            }),
            Op::GetData { .. } => MultiOp::GetData(GetDataRequest {
                path: server_path,
                watch: false,
            }),
            Op::GetChildren { .. } => MultiOp::GetChildren(GetChildrenRequest {
                path: server_path,
                watch: false,
            }),
        }
    }
}

/// The well-known ACLs of `ZooDefs.Ids`.
pub mod acls {
    use super::*;

    fn one(perms: i32, scheme: &str, id: &str) -> Vec<ACL> {
        vec![ACL {
            perms,
            id: Id {
                scheme: scheme.into(),
                id: id.into(),
            },
        }]
    }

    /// world:anyone with every permission (`OPEN_ACL_UNSAFE`).
    pub fn open_unsafe() -> Vec<ACL> {
        one(perms::ALL, "world", "anyone")
    }

    /// Every permission for the creator's authenticated ids (`CREATOR_ALL_ACL`).
    pub fn creator_all() -> Vec<ACL> {
        one(perms::ALL, "auth", "")
    }

    /// world:anyone may read (`READ_ACL_UNSAFE`).
    pub fn read_unsafe() -> Vec<ACL> {
        one(perms::READ, "world", "anyone")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_mode_flags_match_zookeeper() {
        let modes = [
            (CreateMode::Persistent, 0),
            (CreateMode::Ephemeral, 1),
            (CreateMode::PersistentSequential, 2),
            (CreateMode::EphemeralSequential, 3),
            (CreateMode::Container, 4),
            (CreateMode::PersistentWithTtl(5), 5),
            (CreateMode::PersistentSequentialWithTtl(5), 6),
        ];
        for (mode, flags) in modes {
            assert_eq!(mode.flags(), flags, "{mode:?}");
        }
    }

    #[test]
    fn create_mode_picks_the_opcode() {
        assert_eq!(CreateMode::Persistent.opcode(false), OpCode::Create);
        assert_eq!(
            CreateMode::EphemeralSequential.opcode(true),
            OpCode::Create2
        );
        assert_eq!(CreateMode::Container.opcode(false), OpCode::CreateContainer);
        assert_eq!(CreateMode::Container.opcode(true), OpCode::CreateContainer);
        assert_eq!(
            CreateMode::PersistentWithTtl(1).opcode(false),
            OpCode::CreateTtl
        );
        assert_eq!(
            CreateMode::PersistentSequentialWithTtl(1).opcode(true),
            OpCode::CreateTtl
        );
    }

    #[test]
    fn ttl_modes_build_ttl_requests() {
        let op =
            CreateMode::PersistentSequentialWithTtl(1000).request("/t".into(), None, vec![], true);
        assert_eq!(
            op,
            MultiOp::CreateTtl(CreateTTLRequest {
                path: "/t".into(),
                data: None,
                acl: vec![],
                flags: 6,
                ttl: 1000
            })
        );
    }

    #[test]
    fn event_codes_round_trip() {
        assert_eq!(EventType::from_i32(4), Some(EventType::NodeChildrenChanged));
        assert_eq!(EventType::from_i32(0), None);
        assert_eq!(KeeperState::from_i32(-112), Some(KeeperState::Expired));
        assert_eq!(KeeperState::from_i32(3), Some(KeeperState::SyncConnected));
    }
}
