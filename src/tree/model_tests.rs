//! Property test: random sequences of writes through `prep` + `apply` agree
//! with a tiny model of ZooKeeper's rules (which error wins, what exists),
//! and the tree's derived state stays consistent.

use std::collections::BTreeMap;

use bytes::Bytes;
use proptest::prelude::*;

use super::acl::open_acl_unsafe;
use super::data_tree::DataTree;
use super::prep::{Prep, PrepCtx};
use super::txn::Txn;
use crate::proto::records::proto::*;
use crate::proto::{ErrorCode, OpCode, WriteRequest};

const PATHS: &[&str] = &["/a", "/a/b", "/a/b/c", "/b", "/b/c", "/a/c"];

#[derive(Debug, Clone)]
enum Op {
    Create {
        path: usize,
        ephemeral: bool,
        session: usize,
    },
    Delete {
        path: usize,
        version: i32,
    },
    Set {
        path: usize,
        version: i32,
    },
    CloseSession {
        session: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let p = 0..PATHS.len();
    prop_oneof![
        (p.clone(), any::<bool>(), 0..2usize).prop_map(|(path, ephemeral, session)| Op::Create {
            path,
            ephemeral,
            session
        }),
        (p.clone(), -1..2i32).prop_map(|(path, version)| Op::Delete { path, version }),
        (p, -1..2i32).prop_map(|(path, version)| Op::Set { path, version }),
        (0..2usize).prop_map(|session| Op::CloseSession { session }),
    ]
}

/// The model: path → (version, ephemeral owner).
type Model = BTreeMap<&'static str, (i32, i64)>;

fn parent(p: &str) -> &str {
    match p.rfind('/') {
        Some(0) => "/",
        Some(i) => &p[..i],
        None => "/",
    }
}

fn expect(model: &Model, op: &Op, sessions: [i64; 2]) -> Result<(), ErrorCode> {
    let has_children = |p: &str| model.keys().any(|k| parent(k) == p);
    let exists = |p: &str| p == "/" || model.contains_key(p);
    match *op {
        Op::Create { path, .. } => {
            let p = PATHS[path];
            let pp = parent(p);
            if !exists(pp) {
                return Err(ErrorCode::NoNode);
            }
            if exists(p) {
                return Err(ErrorCode::NodeExists);
            }
            if model.get(pp).is_some_and(|&(_, owner)| owner != 0) {
                return Err(ErrorCode::NoChildrenForEphemerals);
            }
            Ok(())
        }
        Op::Delete { path, version } => {
            let p = PATHS[path];
            let (v, _) = *model.get(p).ok_or(ErrorCode::NoNode)?;
            if version != -1 && version != v {
                return Err(ErrorCode::BadVersion);
            }
            if has_children(p) {
                return Err(ErrorCode::NotEmpty);
            }
            Ok(())
        }
        Op::Set { path, version } => {
            let (v, _) = *model.get(PATHS[path]).ok_or(ErrorCode::NoNode)?;
            if version != -1 && version != v {
                return Err(ErrorCode::BadVersion);
            }
            Ok(())
        }
        Op::CloseSession { session } => {
            let _ = sessions[session];
            Ok(())
        }
    }
}

fn update(model: &mut Model, op: &Op, sessions: [i64; 2]) {
    match *op {
        Op::Create {
            path,
            ephemeral,
            session,
        } => {
            model.insert(
                PATHS[path],
                (0, if ephemeral { sessions[session] } else { 0 }),
            );
        }
        Op::Delete { path, .. } => {
            model.remove(PATHS[path]);
        }
        Op::Set { path, .. } => model.get_mut(PATHS[path]).expect("exists").0 += 1,
        Op::CloseSession { session } => {
            model.retain(|_, &mut (_, owner)| owner != sessions[session])
        }
    }
}

fn prep_op(prep: &mut Prep, tree: &DataTree, ctx: &PrepCtx, op: &Op) -> (Txn, Option<ErrorCode>) {
    match request(op) {
        Some(req) => prep.prep(tree, ctx, &req),
        None => (prep.close_session_txn(tree, ctx), None),
    }
}

/// The write request of `op`; `None` for closeSession (a session op).
fn request(op: &Op) -> Option<WriteRequest> {
    Some(match *op {
        Op::Create {
            path, ephemeral, ..
        } => WriteRequest::Create(
            OpCode::Create,
            CreateRequest {
                path: PATHS[path].into(),
                data: Some(Bytes::new()),
                acl: open_acl_unsafe(),
                flags: i32::from(ephemeral),
            },
        ),
        Op::Delete { path, version } => WriteRequest::Delete(DeleteRequest {
            path: PATHS[path].into(),
            version,
        }),
        Op::Set { path, version } => WriteRequest::SetData(SetDataRequest {
            path: PATHS[path].into(),
            data: Some(Bytes::from_static(b"x")),
            version,
        }),
        Op::CloseSession { .. } => return None,
    })
}

proptest! {
    #[test]
    fn writes_follow_zookeepers_rules(ops in proptest::collection::vec(op(), 1..60)) {
        let sessions = [0x100, 0x200];
        let mut tree = DataTree::new(false);
        let mut prep = Prep::new(false, false, false, super::digest::tree_digest(&tree));
        let mut model = Model::new();
        let mut notes = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            let session = match op {
                Op::Create { session, .. } | Op::CloseSession { session } => sessions[*session],
                _ => sessions[0],
            };
            let zxid = i as i64 + 1;
            let ctx = PrepCtx { session, cxid: i as i32, zxid, time: 1000 + zxid, auth: &[] };
            let (txn, failure) = prep_op(&mut prep, &tree, &ctx, op);
            let want = expect(&model, op, sessions);
            prop_assert_eq!(failure.map_or(Ok(()), Err), want, "op {} {:?}", i, op);
            let rc = tree.apply(&txn, &mut notes);
            prep.applied(zxid);
            prop_assert_eq!(rc.err, want.err().map_or(0, |e| e.code()));
            if want.is_ok() {
                update(&mut model, op, sessions);
            }
            // The tree holds exactly the model's nodes, with its versions.
            for p in PATHS {
                let node = tree.get(p);
                prop_assert_eq!(node.is_some(), model.contains_key(p), "{} after op {}", p, i);
                if let (Some(n), Some(&(v, owner))) = (node, model.get(p)) {
                    prop_assert_eq!(n.stat.version, v);
                    prop_assert_eq!(n.stat.ephemeral_owner, owner);
                }
            }
            // Derived state: the ephemeral index matches the nodes' owners.
            for s in sessions {
                let mut indexed: Vec<&String> = tree.ephemerals(s).collect();
                indexed.sort();
                let mut owned: Vec<&str> = model.iter().filter(|(_, &(_, o))| o == s).map(|(p, _)| *p).collect();
                owned.sort();
                prop_assert_eq!(indexed, owned);
            }
            prop_assert_eq!(tree.last_zxid, zxid, "every write consumes a zxid");
            // The digest prep predicted is the applied tree's digest, and it
            // is what the transaction carries (ZooKeeper's TxnDigest).
            let actual = super::digest::tree_digest(&tree);
            prop_assert_eq!(prep.digest(), actual, "running digest after op {}", i);
            if let Some(d) = &txn.digest {
                prop_assert_eq!(d.tree_digest, actual);
            }
        }
    }
}

proptest! {
    /// The same, with transactions prepared in batches before any of them
    /// is applied (the durable pipeline): `prep` must see the outstanding
    /// changes, so every outcome equals the one-at-a-time model's.
    #[test]
    fn pipelined_writes_match_the_sequential_model(
        batches in proptest::collection::vec(proptest::collection::vec(op(), 1..8), 1..12)
    ) {
        let sessions = [0x100, 0x200];
        let mut tree = DataTree::new(false);
        let mut prep = Prep::new(false, false, false, super::digest::tree_digest(&tree));
        let mut model = Model::new();
        let mut notes = Vec::new();
        let mut zxid = 0i64;
        for batch in &batches {
            let mut prepared = Vec::new();
            for op in batch {
                zxid += 1;
                let session = match op {
                    Op::Create { session, .. } | Op::CloseSession { session } => sessions[*session],
                    _ => sessions[0],
                };
                let ctx = PrepCtx { session, cxid: zxid as i32, zxid, time: 1000 + zxid, auth: &[] };
                let (txn, failure) = prep_op(&mut prep, &tree, &ctx, op);
                let want = expect(&model, op, sessions);
                prop_assert_eq!(failure.map_or(Ok(()), Err), want, "op {:?} at zxid {}", op, zxid);
                if want.is_ok() {
                    update(&mut model, op, sessions);
                }
                prepared.push(txn);
            }
            for txn in &prepared {
                let rc = tree.apply(txn, &mut notes);
                prep.applied(txn.hdr.zxid);
                if let Some(d) = &txn.digest {
                    prop_assert_eq!(d.tree_digest, super::digest::tree_digest(&tree), "digest after 0x{:x}", txn.hdr.zxid);
                }
                let _ = rc;
            }
            for p in PATHS {
                prop_assert_eq!(tree.get(p).is_some(), model.contains_key(p), "{} after batch", p);
            }
            prop_assert_eq!(prep.digest(), super::digest::tree_digest(&tree));
        }
    }
}
