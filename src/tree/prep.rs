//! `prep`: turns a write request into a transaction, as ZooKeeper's
//! PrepRequestProcessor does — validation, ACL checks, version checks,
//! sequential naming — against the tree *plus* the changes of transactions
//! prepared but not yet applied (outstanding change records). Failures
//! become `error` transactions that still consume a zxid, like ZooKeeper.
//!
//! The order of checks is ZooKeeper's, because it decides which error a
//! client sees when several apply.

use std::collections::HashMap;

use bytes::Bytes;

use super::acl;
use super::data_tree::DataTree;
use super::digest::{digest_of_node, node_digest, DIGEST_VERSION};
use super::node::{NodeKind, CONTAINER_OWNER, MAX_TTL_MS};
use super::txn::{SubTxn, Txn, TxnBody};
use crate::proto::multi::MultiOp;
use crate::proto::ops::perms;
use crate::proto::path;
use crate::proto::records::data::{Id, StatPersisted, ACL};
use crate::proto::records::proto::{CreateRequest, CreateTTLRequest};
use crate::proto::records::txn::*;
use crate::proto::{ErrorCode, OpCode, WriteRequest};

/// The requester's context.
#[derive(Debug, Clone, Copy)]
pub struct PrepCtx<'a> {
    /// Session issuing the request.
    pub session: i64,
    /// Its cxid (request xid).
    pub cxid: i32,
    /// The zxid this transaction gets.
    pub zxid: i64,
    /// Wall-clock time in ms (becomes ctime/mtime).
    pub time: i64,
    /// The connection's authenticated ids.
    pub auth: &'a [Id],
}

impl PrepCtx<'_> {
    /// The transaction for an op of this request: its body, or an error
    /// transaction (which still consumes the zxid) and the code to reply.
    pub fn finish(&self, op: i32, res: Result<TxnBody, ErrorCode>) -> (Txn, Option<ErrorCode>) {
        let (op, body, failure) = match res {
            Ok(body) => (op, body, None),
            Err(e) => (
                OpCode::Error.code(),
                TxnBody::Error(ErrorTxn { err: e.code() }),
                Some(e),
            ),
        };
        let hdr = TxnHeader {
            client_id: self.session,
            cxid: self.cxid,
            zxid: self.zxid,
            time: self.time,
            r#type: op,
        };
        (
            Txn {
                hdr,
                body,
                digest: None,
            },
            failure,
        )
    }
}

/// A pending view of one node (ZooKeeper's ChangeRecord).
#[derive(Debug, Clone)]
struct Change {
    zxid: i64,
    /// `None`: deleted by a pending transaction.
    stat: Option<StatPersisted>,
    child_count: i32,
    acl: PendingAcl,
    /// The node's data in this state (for the digest).
    data: Option<Bytes>,
    /// The node's digest in this state (0 when deleted); set by `put`.
    digest: i64,
}

/// A pending node's ACL: the tree's interned list while unchanged (no copy
/// per write), or the list a pending create/setACL gave it.
#[derive(Debug, Clone)]
enum PendingAcl {
    Interned(i64),
    List(Vec<ACL>),
}

impl Change {
    fn gone(zxid: i64) -> Change {
        Change {
            zxid,
            stat: None,
            child_count: 0,
            acl: PendingAcl::List(vec![]),
            data: None,
            digest: 0,
        }
    }
}

/// Prepares transactions; owns the outstanding change records.
#[derive(Debug, Default)]
pub struct Prep {
    outstanding: HashMap<String, Change>,
    /// (zxid, path) of every record put, in zxid order: lets `applied`
    /// forget records in O(records applied) instead of scanning them all.
    order: std::collections::VecDeque<(i64, String)>,
    /// Recognise and allow TTL nodes.
    pub extended_types: bool,
    /// Skip every ACL check (`skipACL=yes`).
    pub skip_acl: bool,
    /// `reconfigEnabled`: without it reconfig is RECONFIGDISABLED.
    pub reconfig_enabled: bool,
    /// Digest of the tree with every prepared transaction applied.
    digest: i64,
}

/// CreateMode, decoded from create flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mode {
    ephemeral: bool,
    sequential: bool,
    container: bool,
    ttl: bool,
}

fn mode_of(flags: i32) -> Result<Mode, ErrorCode> {
    let m = |ephemeral, sequential, container, ttl| Mode {
        ephemeral,
        sequential,
        container,
        ttl,
    };
    Ok(match flags {
        0 => m(false, false, false, false),
        1 => m(true, false, false, false),
        2 => m(false, true, false, false),
        3 => m(true, true, false, false),
        4 => m(false, false, true, false),
        5 => m(false, false, false, true),
        6 => m(false, true, false, true),
        _ => return Err(ErrorCode::BadArguments),
    })
}

fn check_version(current: i32, expected: i32) -> Result<i32, ErrorCode> {
    if expected != -1 && expected != current {
        Err(ErrorCode::BadVersion)
    } else {
        Ok(current + 1)
    }
}

fn valid(path: &str) -> Result<(), ErrorCode> {
    path::validate(path, false).map_err(|_| ErrorCode::BadArguments)
}

/// getParentPathAndValidate: the parent of a path to delete.
fn parent_for_delete(p: &str) -> Result<&str, ErrorCode> {
    if !p.contains('/') || p.contains('\0') || DataTree::is_special_path(p) {
        return Err(ErrorCode::BadArguments);
    }
    Ok(parent_of(p))
}

/// Parent as ZooKeeper computes it (substring before the last '/'; "" is the
/// root, which we spell "/").
fn parent_of(p: &str) -> &str {
    match p.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &p[..i],
    }
}

impl Prep {
    /// A preparer with the given options.
    pub fn new(extended_types: bool, skip_acl: bool, reconfig_enabled: bool, digest: i64) -> Prep {
        Prep {
            outstanding: HashMap::new(),
            order: std::collections::VecDeque::new(),
            extended_types,
            skip_acl,
            reconfig_enabled,
            digest,
        }
    }

    /// Forgets change records of transactions up to `zxid`, now applied.
    pub fn applied(&mut self, zxid: i64) {
        while self.order.front().is_some_and(|(z, _)| *z <= zxid) {
            let (z, path) = self.order.pop_front().expect("checked");
            // A later change to the same path keeps its record.
            if self.outstanding.get(&path).is_some_and(|c| c.zxid <= z) {
                self.outstanding.remove(&path);
            }
        }
    }

    fn record(&self, tree: &DataTree, p: &str) -> Result<Change, ErrorCode> {
        if let Some(c) = self.outstanding.get(p) {
            return match c.stat {
                Some(_) => Ok(c.clone()),
                None => Err(ErrorCode::NoNode),
            };
        }
        let node = tree.get(p).ok_or(ErrorCode::NoNode)?;
        Ok(Change {
            zxid: -1,
            stat: Some(node.stat.clone()),
            child_count: node.num_children() as i32,
            acl: PendingAcl::Interned(node.acl),
            data: node.data.clone(),
            digest: 0,
        })
    }

    /// Records the pending state of `path`, keeping the running tree digest
    /// (ZooKeeper's precalculateDigest): minus the node's previous digest,
    /// plus its new one.
    fn put(&mut self, tree: &DataTree, path: String, mut change: Change) {
        let before = match self.outstanding.get(&path) {
            Some(c) => c.digest,
            None => digest_of_node(tree, &path),
        };
        change.digest = match &change.stat {
            Some(stat) => node_digest(&path, change.data.as_deref(), stat),
            None => 0,
        };
        self.digest = self.digest.wrapping_sub(before).wrapping_add(change.digest);
        self.order.push_back((change.zxid, path.clone()));
        self.outstanding.insert(path, change);
    }

    /// The tree digest after every prepared transaction.
    pub fn digest(&self) -> i64 {
        self.digest
    }

    /// Stamps a prepared transaction with the tree digest after it, as
    /// ZooKeeper logs it; error transactions carry none.
    pub fn seal(&self, txn: &mut Txn) {
        if txn.hdr.r#type != OpCode::Error.code() {
            txn.digest = Some(TxnDigest {
                version: DIGEST_VERSION,
                tree_digest: self.digest,
            });
        }
    }

    fn check_acl(
        &self,
        tree: &DataTree,
        acl: &PendingAcl,
        perm: i32,
        ctx: &PrepCtx,
    ) -> Result<(), ErrorCode> {
        match acl {
            PendingAcl::Interned(id) => tree
                .acls
                .with(*id, |a| acl::check(a, perm, ctx.auth, self.skip_acl)),
            PendingAcl::List(a) => acl::check(a, perm, ctx.auth, self.skip_acl),
        }
    }

    /// Prepares a write request into a transaction.
    /// On failure the transaction is an `error` txn and the code is returned
    /// beside it for the reply.
    pub fn prep(
        &mut self,
        tree: &DataTree,
        ctx: &PrepCtx,
        req: &WriteRequest,
    ) -> (Txn, Option<ErrorCode>) {
        let (op, res) = match req {
            WriteRequest::Create(op, r) => (op.code(), self.create(tree, ctx, *op, r, -1)),
            WriteRequest::CreateTtl(r) => (OpCode::CreateTtl.code(), self.create_ttl(tree, ctx, r)),
            WriteRequest::Delete(r) => (
                OpCode::Delete.code(),
                self.delete(tree, ctx, &r.path, r.version),
            ),
            WriteRequest::SetData(r) => (
                OpCode::SetData.code(),
                self.set_data(tree, ctx, &r.path, &r.data, r.version),
            ),
            WriteRequest::SetAcl(r) => (
                OpCode::SetAcl.code(),
                self.set_acl(tree, ctx, &r.path, &r.acl, r.version),
            ),
            WriteRequest::Check(r) => (
                OpCode::Check.code(),
                self.check(tree, ctx, &r.path, r.version),
            ),
            WriteRequest::Multi(ops) => return self.multi(tree, ctx, ops),
            // Disabled by default; when enabled, a standalone server cannot
            // reconfigure (only a LeaderZooKeeperServer can): UNIMPLEMENTED.
            WriteRequest::Reconfig(_) if !self.reconfig_enabled => {
                (OpCode::Reconfig.code(), Err(ErrorCode::ReconfigDisabled))
            }
            WriteRequest::Reconfig(_) => (OpCode::Reconfig.code(), Err(ErrorCode::Unimplemented)),
            // See Request::DeleteContainer: never a valid path.
            WriteRequest::DeleteContainer => {
                (OpCode::DeleteContainer.code(), Err(ErrorCode::BadArguments))
            }
        };
        let (mut txn, failure) = ctx.finish(op, res);
        self.seal(&mut txn);
        (txn, failure)
    }

    /// The closeSession transaction of `ctx.session` (a client's close or an
    /// expiry): it names the ephemerals to delete.
    pub fn close_session_txn(&mut self, tree: &DataTree, ctx: &PrepCtx) -> Txn {
        let body = self.close_session(tree, ctx);
        let (mut txn, _) = ctx.finish(OpCode::CloseSession.code(), Ok(body));
        self.seal(&mut txn);
        txn
    }

    /// Prepares a deleteContainer issued by the container/TTL reaper.
    pub fn delete_container(
        &mut self,
        tree: &DataTree,
        ctx: &PrepCtx,
        p: &str,
    ) -> (Txn, Option<ErrorCode>) {
        let res = (|| {
            let parent_path = parent_for_delete(p)?;
            let node = self.record(tree, p)?;
            if node.child_count > 0 {
                return Err(ErrorCode::NotEmpty);
            }
            let owner = node.stat.as_ref().expect("live").ephemeral_owner;
            if matches!(
                NodeKind::of(owner, self.extended_types),
                NodeKind::Ephemeral(_)
            ) {
                return Err(ErrorCode::BadVersion);
            }
            let parent = self.record(tree, parent_path)?;
            self.note_delete(tree, ctx.zxid, p, parent_path, parent);
            Ok(TxnBody::Delete(DeleteTxn {
                path: p.to_string(),
            }))
        })();
        let (mut txn, failure) = ctx.finish(OpCode::DeleteContainer.code(), res);
        self.seal(&mut txn);
        (txn, failure)
    }

    fn create_ttl(
        &mut self,
        tree: &DataTree,
        ctx: &PrepCtx,
        r: &CreateTTLRequest,
    ) -> Result<TxnBody, ErrorCode> {
        let as_create = CreateRequest {
            path: r.path.clone(),
            data: r.data.clone(),
            acl: r.acl.clone(),
            flags: r.flags,
        };
        self.create(tree, ctx, OpCode::CreateTtl, &as_create, r.ttl)
    }

    fn create(
        &mut self,
        tree: &DataTree,
        ctx: &PrepCtx,
        op: OpCode,
        r: &CreateRequest,
        ttl: i64,
    ) -> Result<TxnBody, ErrorCode> {
        let mode = mode_of(r.flags)?;
        // validateCreateRequest
        if mode.ttl && !self.extended_types {
            return Err(ErrorCode::Unimplemented);
        }
        if op == OpCode::CreateTtl && !mode.ttl {
            // ZooKeeper accepts this and then fails applying it (its apply
            // thread throws on the bogus TTL); refuse it up front instead.
            return Err(ErrorCode::BadArguments);
        }
        if mode.ttl {
            if ttl <= 0 || ttl > MAX_TTL_MS {
                return Err(ErrorCode::BadArguments);
            }
        } else if ttl >= 0 {
            return Err(ErrorCode::BadArguments);
        }
        // validatePathForCreate
        if !r.path.contains('/') || r.path.contains('\0') {
            return Err(ErrorCode::BadArguments);
        }
        let parent_path = parent_of(&r.path).to_string();
        let acl = acl::fixup(ctx.auth, &r.acl)?;
        let parent = self.record(tree, &parent_path)?;
        self.check_acl(tree, &parent.acl, perms::CREATE, ctx)?;
        let pstat = parent.stat.clone().expect("live record");
        let mut p = r.path.clone();
        if mode.sequential {
            p.push_str(&format!("{:010}", pstat.cversion));
        }
        valid(&p)?;
        if self.record(tree, &p).is_ok() {
            return Err(ErrorCode::NodeExists);
        }
        if matches!(
            NodeKind::of(pstat.ephemeral_owner, self.extended_types),
            NodeKind::Ephemeral(_)
        ) {
            return Err(ErrorCode::NoChildrenForEphemerals);
        }
        let new_cversion = pstat.cversion + 1;
        let body = match op {
            OpCode::CreateContainer => TxnBody::CreateContainer(CreateContainerTxn {
                path: p.clone(),
                data: r.data.clone(),
                acl: acl.clone(),
                parent_c_version: new_cversion,
            }),
            OpCode::CreateTtl => TxnBody::CreateTtl(CreateTTLTxn {
                path: p.clone(),
                data: r.data.clone(),
                acl: acl.clone(),
                parent_c_version: new_cversion,
                ttl,
            }),
            _ => TxnBody::Create(CreateTxn {
                path: p.clone(),
                data: r.data.clone(),
                acl: acl.clone(),
                ephemeral: mode.ephemeral,
                parent_c_version: new_cversion,
            }),
        };
        let owner = if mode.container {
            CONTAINER_OWNER
        } else if mode.ttl {
            NodeKind::ttl_owner(ttl)
        } else if mode.ephemeral {
            ctx.session
        } else {
            0
        };
        let mut parent = parent;
        parent.zxid = ctx.zxid;
        parent.child_count += 1;
        let ps = parent.stat.as_mut().expect("live");
        ps.cversion = new_cversion;
        ps.pzxid = ctx.zxid;
        self.put(tree, parent_path, parent);
        let stat = StatPersisted {
            czxid: ctx.zxid,
            mzxid: ctx.zxid,
            ctime: ctx.time,
            mtime: ctx.time,
            version: 0,
            cversion: 0,
            aversion: 0,
            ephemeral_owner: owner,
            pzxid: ctx.zxid,
        };
        let node = Change {
            zxid: ctx.zxid,
            stat: Some(stat),
            child_count: 0,
            acl: PendingAcl::List(acl),
            data: r.data.clone(),
            digest: 0,
        };
        self.put(tree, p, node);
        Ok(body)
    }

    fn note_delete(
        &mut self,
        tree: &DataTree,
        zxid: i64,
        p: &str,
        parent_path: &str,
        mut parent: Change,
    ) {
        parent.zxid = zxid;
        parent.child_count -= 1;
        parent.stat.as_mut().expect("live").pzxid = zxid;
        self.put(tree, parent_path.to_string(), parent);
        self.put(tree, p.to_string(), Change::gone(zxid));
    }

    fn delete(
        &mut self,
        tree: &DataTree,
        ctx: &PrepCtx,
        p: &str,
        version: i32,
    ) -> Result<TxnBody, ErrorCode> {
        let parent_path = parent_for_delete(p)?;
        let parent = self.record(tree, parent_path)?;
        self.check_acl(tree, &parent.acl, perms::DELETE, ctx)?;
        let node = self.record(tree, p)?;
        check_version(node.stat.as_ref().expect("live").version, version)?;
        if node.child_count > 0 {
            return Err(ErrorCode::NotEmpty);
        }
        self.note_delete(tree, ctx.zxid, p, parent_path, parent);
        Ok(TxnBody::Delete(DeleteTxn {
            path: p.to_string(),
        }))
    }

    fn set_data(
        &mut self,
        tree: &DataTree,
        ctx: &PrepCtx,
        p: &str,
        data: &Option<Bytes>,
        version: i32,
    ) -> Result<TxnBody, ErrorCode> {
        valid(p)?;
        let mut node = self.record(tree, p)?;
        self.check_acl(tree, &node.acl, perms::WRITE, ctx)?;
        let s = node.stat.as_mut().expect("live");
        let new_version = check_version(s.version, version)?;
        s.version = new_version;
        s.mtime = ctx.time;
        s.mzxid = ctx.zxid;
        node.zxid = ctx.zxid;
        node.data = data.clone();
        self.put(tree, p.to_string(), node);
        Ok(TxnBody::SetData(SetDataTxn {
            path: p.to_string(),
            data: data.clone(),
            version: new_version,
        }))
    }

    fn set_acl(
        &mut self,
        tree: &DataTree,
        ctx: &PrepCtx,
        p: &str,
        acl: &[ACL],
        version: i32,
    ) -> Result<TxnBody, ErrorCode> {
        valid(p)?;
        let acl = acl::fixup(ctx.auth, acl)?;
        let mut node = self.record(tree, p)?;
        self.check_acl(tree, &node.acl, perms::ADMIN, ctx)?;
        let s = node.stat.as_mut().expect("live");
        let new_version = check_version(s.aversion, version)?;
        s.aversion = new_version;
        node.zxid = ctx.zxid;
        node.acl = PendingAcl::List(acl.clone());
        self.put(tree, p.to_string(), node);
        Ok(TxnBody::SetAcl(SetACLTxn {
            path: p.to_string(),
            acl,
            version: new_version,
        }))
    }

    fn check(
        &mut self,
        tree: &DataTree,
        ctx: &PrepCtx,
        p: &str,
        version: i32,
    ) -> Result<TxnBody, ErrorCode> {
        valid(p)?;
        let node = self.record(tree, p)?;
        self.check_acl(tree, &node.acl, perms::READ, ctx)?;
        let v = check_version(node.stat.as_ref().expect("live").version, version)?;
        Ok(TxnBody::Check(CheckVersionTxn {
            path: p.to_string(),
            version: v,
        }))
    }

    fn close_session(&mut self, tree: &DataTree, ctx: &PrepCtx) -> TxnBody {
        // ZooKeeper takes a clone of the session's ephemeral set, adjusts it
        // for pending changes, and deletes in the clone's iteration order —
        // which is the order the NodeDeleted events reach watchers.
        let mut paths = tree.ephemerals_java_order(ctx.session);
        let mut pending: Vec<(&String, &Change)> = self.outstanding.iter().collect();
        pending.sort_by_key(|(_, c)| c.zxid);
        // Pending changes give each path's latest state: gone, or re-created
        // by someone else, it is no longer this session's; created by this
        // session, it is.
        for (p, c) in pending {
            let owned = c
                .stat
                .as_ref()
                .is_some_and(|s| s.ephemeral_owner == ctx.session);
            if !owned {
                paths.retain(|q| q != p);
            } else if !paths.contains(p) {
                paths.push(p.clone());
            }
        }
        // Each deletion changes the parent too (pzxid, child count), as
        // ZooKeeper records it: later pipelined requests must see that.
        for p in &paths {
            let parent_path = parent_of(p);
            if let Ok(mut parent) = self.record(tree, parent_path) {
                parent.zxid = ctx.zxid;
                parent.child_count -= 1;
                parent.stat.as_mut().expect("live").pzxid = ctx.zxid;
                self.put(tree, parent_path.to_string(), parent);
            }
            self.put(tree, p.clone(), Change::gone(ctx.zxid));
        }
        TxnBody::CloseSession(CloseSessionTxn {
            paths2_delete: paths,
        })
    }

    fn multi(
        &mut self,
        tree: &DataTree,
        ctx: &PrepCtx,
        ops: &[MultiOp],
    ) -> (Txn, Option<ErrorCode>) {
        let reads = ops
            .iter()
            .filter(|op| matches!(op, MultiOp::GetChildren(_) | MultiOp::GetData(_)))
            .count();
        if reads > 0 {
            // MultiOperationRecord refuses to mix reads and writes while
            // deserializing; ZooKeeper answers MARSHALLINGERROR.
            return ctx.finish(OpCode::Multi.code(), Err(ErrorCode::MarshallingError));
        }
        // Save the change records the ops could touch, to roll back on failure.
        let digest_before = self.digest;
        let mut saved: HashMap<String, Option<Change>> = HashMap::new();
        for op in ops {
            for p in [op.path(), parent_of(op.path())] {
                saved
                    .entry(p.to_string())
                    .or_insert_with(|| self.outstanding.get(p).cloned());
            }
        }
        let mut subs = Vec::with_capacity(ops.len());
        let mut failure = None;
        for op in ops {
            if failure.is_some() {
                subs.push(SubTxn {
                    op: OpCode::Error.code(),
                    body: TxnBody::Error(ErrorTxn {
                        err: ErrorCode::RuntimeInconsistency.code(),
                    }),
                });
                continue;
            }
            // MultiOperationRecord rebuilds create ops from their flags
            // (Op.create), so the opcode a client sent is not what counts.
            let opcode = match op {
                MultiOp::Create(_, r) => match r.flags {
                    4 => OpCode::CreateContainer,
                    5 | 6 => OpCode::CreateTtl,
                    _ => OpCode::Create,
                },
                other => other.opcode(),
            };
            let res = match op {
                MultiOp::Create(_, r) => self.create(tree, ctx, opcode, r, -1),
                MultiOp::CreateTtl(r) => self.create_ttl(tree, ctx, r),
                MultiOp::Delete(r) => self.delete(tree, ctx, &r.path, r.version),
                MultiOp::SetData(r) => self.set_data(tree, ctx, &r.path, &r.data, r.version),
                MultiOp::Check(r) => self.check(tree, ctx, &r.path, r.version),
                MultiOp::GetChildren(_) | MultiOp::GetData(_) => unreachable!("rejected above"),
            };
            match res {
                Ok(body) => subs.push(SubTxn {
                    op: opcode.code(),
                    body,
                }),
                Err(e) => {
                    failure = Some(e);
                    subs.push(SubTxn {
                        op: OpCode::Error.code(),
                        body: TxnBody::Error(ErrorTxn { err: e.code() }),
                    });
                    self.digest = digest_before;
                    for (p, c) in saved.drain() {
                        match c {
                            Some(c) => {
                                self.outstanding.insert(p, c);
                            }
                            None => {
                                self.outstanding.remove(&p);
                            }
                        }
                    }
                }
            }
        }
        // Even a failed multi is a multi transaction and carries the
        // (unchanged) digest, as in ZooKeeper.
        let (mut txn, _) = ctx.finish(OpCode::Multi.code(), Ok(TxnBody::Multi(subs)));
        self.seal(&mut txn);
        (txn, failure)
    }
}
