//! The read side of request processing (ZooKeeper's FinalRequestProcessor
//! for non-transactional requests): reads, watch registration, and the
//! session-scoped queries. Registering a watch mutates the watch tables, so
//! these take the tree mutably; they never change nodes.

use std::sync::Arc;

use super::acl;
use super::data_tree::{DataTree, Notification};
use super::node::Node;
use super::watch::{EventType, WatchMode, WatcherId, WatcherType};
use crate::proto::multi::{MultiOp, MultiResult};
use crate::proto::ops::perms;
use crate::proto::records::data::{ClientInfo, Id, Stat};
use crate::proto::records::proto::*;
use crate::proto::response::Response;
use crate::proto::{ErrorCode, ReadRequest};

/// Who is reading.
#[derive(Debug, Clone, Copy)]
pub struct ReadCtx<'a> {
    /// The session.
    pub session: i64,
    /// The connection, which owns any watch set.
    pub watcher: WatcherId,
    /// The connection's authenticated ids.
    pub auth: &'a [Id],
    /// `skipACL`.
    pub skip_acl: bool,
}

fn check(tree: &DataTree, path: &str, perm: i32, ctx: &ReadCtx) -> Result<(), ErrorCode> {
    checked(tree, path, perm, ctx).map(drop)
}

/// The node at `path`, if the caller may `perm` it.
fn checked<'t>(
    tree: &'t DataTree,
    path: &str,
    perm: i32,
    ctx: &ReadCtx,
) -> Result<&'t Node, ErrorCode> {
    let node = tree.get(path).ok_or(ErrorCode::NoNode)?;
    allowed(tree, node, perm, ctx)?;
    Ok(node)
}

/// Whether the caller may `perm` the node.
fn allowed(tree: &DataTree, node: &Node, perm: i32, ctx: &ReadCtx) -> Result<(), ErrorCode> {
    tree.acls
        .with(node.acl, |a| acl::check(a, perm, ctx.auth, ctx.skip_acl))
}

// The reply is built before the watch is added: one path lookup per read.
fn get_data(
    tree: &mut DataTree,
    ctx: &ReadCtx,
    r: &GetDataRequest,
) -> Result<GetDataResponse, ErrorCode> {
    let node = checked(tree, &r.path, perms::READ, ctx)?;
    let reply = GetDataResponse {
        data: node.data.clone(),
        stat: node.stat(),
    };
    if r.watch {
        tree.data_watches
            .add(&r.path, ctx.watcher, WatchMode::Standard);
    }
    Ok(reply)
}

fn get_children(
    tree: &mut DataTree,
    ctx: &ReadCtx,
    r: &GetChildrenRequest,
) -> Result<(Vec<String>, Stat), ErrorCode> {
    let (node, names) = tree.with_children(&r.path).ok_or(ErrorCode::NoNode)?;
    allowed(tree, node, perms::READ, ctx)?;
    let reply = (names.into_iter().map(str::to_string).collect(), node.stat());
    if r.watch {
        tree.child_watches
            .add(&r.path, ctx.watcher, WatchMode::Standard);
    }
    Ok(reply)
}

/// Serves a non-transactional request. `out` receives notifications that
/// must reach this connection before the reply (setWatches catch-up).
pub fn read(
    tree: &mut DataTree,
    ctx: &ReadCtx,
    req: &ReadRequest,
    out: &mut Vec<Notification>,
) -> Result<Response, ErrorCode> {
    Ok(match req {
        ReadRequest::Exists(r) => {
            if r.path.contains('\0') {
                return Err(ErrorCode::BadArguments);
            }
            // The watch is set even when the node does not exist: that is
            // how exists() watches for creation.
            if r.watch {
                tree.data_watches
                    .add(&r.path, ctx.watcher, WatchMode::Standard);
            }
            Response::Stat(tree.get(&r.path).ok_or(ErrorCode::NoNode)?.stat())
        }
        ReadRequest::GetData(r) => Response::GetData(get_data(tree, ctx, r)?),
        ReadRequest::GetChildren(r, false) => Response::GetChildren(GetChildrenResponse {
            children: get_children(tree, ctx, r)?.0,
        }),
        ReadRequest::GetChildren(r, true) => {
            let (children, stat) = get_children(tree, ctx, r)?;
            Response::GetChildren2(GetChildren2Response { children, stat })
        }
        ReadRequest::GetAcl(r) => {
            let node = tree.get(&r.path).ok_or(ErrorCode::NoNode)?;
            let list = tree.acl_of(node);
            acl::check(&list, perms::READ | perms::ADMIN, ctx.auth, ctx.skip_acl)?;
            let stat = node.stat();
            // Without ADMIN, digest hashes are masked (ZOOKEEPER-1392).
            let list = if acl::check(&list, perms::ADMIN, ctx.auth, ctx.skip_acl).is_ok() {
                list
            } else {
                list.into_iter()
                    .map(|mut a| {
                        if a.id.scheme == "digest" {
                            let user = a.id.id.split(':').next().unwrap_or("").to_string();
                            a.id.id = format!("{user}:x");
                        }
                        a
                    })
                    .collect()
            };
            Response::GetAcl(GetACLResponse { acl: list, stat })
        }
        ReadRequest::GetAllChildrenNumber(r) => {
            check(tree, &r.path, perms::READ, ctx)?;
            Response::AllChildrenNumber(GetAllChildrenNumberResponse {
                total_number: tree.descendants(&r.path) as i32,
            })
        }
        ReadRequest::GetEphemerals(r) => {
            let prefix = r.prefix_path.trim();
            let all = tree.ephemerals_java_order(ctx.session);
            let ephemerals = if prefix.is_empty() || prefix == "/" {
                all
            } else {
                all.into_iter()
                    .filter(|p| p.starts_with(&r.prefix_path))
                    .collect()
            };
            Response::Ephemerals(GetEphemeralsResponse { ephemerals })
        }
        ReadRequest::Sync(r) => Response::Sync(SyncResponse {
            path: r.path.clone(),
        }),
        ReadRequest::MultiRead(ops) => {
            let mut results = Vec::with_capacity(ops.len());
            for op in ops {
                let r = match op {
                    MultiOp::GetData(r) => {
                        get_data(tree, ctx, r).map(|g| MultiResult::GetData(g.data, g.stat))
                    }
                    MultiOp::GetChildren(r) => {
                        get_children(tree, ctx, r).map(|(c, _)| MultiResult::GetChildren(c))
                    }
                    _ => return Err(ErrorCode::MarshallingError),
                };
                results.push(r.unwrap_or_else(|e| MultiResult::Error(e.code())));
            }
            Response::Multi(results)
        }
        ReadRequest::SetWatches(w, _) => {
            set_watches(tree, ctx.watcher, w, out);
            Response::Empty
        }
        ReadRequest::AddWatch(r) => {
            let mode = WatchMode::from_add_watch_mode(r.mode).ok_or(ErrorCode::MarshallingError)?;
            // Both tables, whatever the mode, as DataTree.addWatch: a second
            // addWatch replaces the mode of the first in both (a recursive
            // entry in the child table never fires NodeChildrenChanged, so
            // recursive-after-persistent stops those events).
            tree.data_watches.add(&r.path, ctx.watcher, mode);
            tree.child_watches.add(&r.path, ctx.watcher, mode);
            Response::ErrorBody(ErrorResponse { err: 0 })
        }
        ReadRequest::CheckWatches(r) => {
            let ty = WatcherType::from_i32(r.r#type).ok_or(ErrorCode::MarshallingError)?;
            let has = |t: &super::watch::WatchTable| t.mode(&r.path, ctx.watcher).is_some();
            let found = match ty {
                WatcherType::Children => has(&tree.child_watches),
                WatcherType::Data => has(&tree.data_watches),
                WatcherType::Any => has(&tree.child_watches) || has(&tree.data_watches),
            };
            if !found {
                return Err(ErrorCode::NoWatcher);
            }
            Response::Empty
        }
        ReadRequest::RemoveWatches(r) => {
            let ty = WatcherType::from_i32(r.r#type).ok_or(ErrorCode::MarshallingError)?;
            let w = ctx.watcher;
            let removed = match ty {
                WatcherType::Children => tree.child_watches.remove(&r.path, w, |_| true),
                WatcherType::Data => tree.data_watches.remove(&r.path, w, |_| true),
                WatcherType::Any => {
                    let c = tree.child_watches.remove(&r.path, w, |_| true);
                    let d = tree.data_watches.remove(&r.path, w, |_| true);
                    c || d
                }
            };
            if !removed {
                return Err(ErrorCode::NoWatcher);
            }
            Response::Empty
        }
        ReadRequest::WhoAmI => Response::WhoAmI(WhoAmIResponse {
            client_info: ctx
                .auth
                .iter()
                .map(|id| ClientInfo {
                    auth_scheme: id.scheme.clone(),
                    user: acl::user_name(id),
                })
                .collect(),
        }),
    })
}

/// Re-registers a reconnecting client's watches, firing at once the ones
/// whose condition changed since `relative_zxid` (DataTree.setWatches).
fn set_watches(
    tree: &mut DataTree,
    watcher: WatcherId,
    w: &SetWatches2,
    out: &mut Vec<Notification>,
) {
    let mut fire = |event, path: &str| {
        out.push(Notification {
            watcher,
            event,
            path: path.to_string(),
            // Delivered unfiltered, as ZooKeeper's setWatches does.
            acl: Arc::from([]),
        })
    };
    for p in &w.data_watches {
        match tree.get(p) {
            None => fire(EventType::NodeDeleted, p),
            Some(n) if n.stat.mzxid > w.relative_zxid => fire(EventType::NodeDataChanged, p),
            Some(_) => tree.data_watches.add(p, watcher, WatchMode::Standard),
        }
    }
    for p in &w.exist_watches {
        match tree.get(p) {
            Some(_) => fire(EventType::NodeCreated, p),
            None => tree.data_watches.add(p, watcher, WatchMode::Standard),
        }
    }
    for p in &w.child_watches {
        match tree.get(p) {
            None => fire(EventType::NodeDeleted, p),
            Some(n) if n.stat.pzxid > w.relative_zxid => fire(EventType::NodeChildrenChanged, p),
            Some(_) => tree.child_watches.add(p, watcher, WatchMode::Standard),
        }
    }
    for p in &w.persistent_watches {
        tree.child_watches.add(p, watcher, WatchMode::Persistent);
        tree.data_watches.add(p, watcher, WatchMode::Persistent);
    }
    for p in &w.persistent_recursive_watches {
        tree.child_watches
            .add(p, watcher, WatchMode::PersistentRecursive);
        tree.data_watches
            .add(p, watcher, WatchMode::PersistentRecursive);
    }
}
