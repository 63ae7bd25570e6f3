//! The typed ZooKeeper calls (the `ZooKeeper` class's API), each one
//! request and one reply. Paths are client paths: validated, mapped through
//! the chroot on the way out, and mapped back in results.
//!
//! Request bodies are written straight into the frame from borrowed
//! arguments (field order as in `jute/zookeeper.jute`) so node data is
//! copied once; replies are decoded with the generated records, whose
//! buffers are zero-copy slices of the reply frame.

use bytes::{BufMut, Bytes, BytesMut};

use ferrozk_proto::error::ErrorCode;
use ferrozk_proto::jute::Jute;
use ferrozk_proto::multi::{self, MultiResult};
use ferrozk_proto::ops::OpCode;
use ferrozk_proto::records::data::{ClientInfo, Stat, ACL};
use ferrozk_proto::records::proto::*;

use super::error::{check_multi, Error};
use super::handle::Client;
use super::types::{AddWatchMode, CreateMode, Op, WatcherType};
use super::watches::WatchReg;

fn put_str(out: &mut BytesMut, s: &str) {
    out.put_i32(s.len() as i32);
    out.put_slice(s.as_bytes());
}

fn put_opt_str(out: &mut BytesMut, s: Option<&str>) {
    match s {
        Some(s) => put_str(out, s),
        None => out.put_i32(-1),
    }
}

fn put_buf(out: &mut BytesMut, b: Option<&[u8]>) {
    match b {
        Some(b) => {
            out.put_i32(b.len() as i32);
            out.put_slice(b);
        }
        None => out.put_i32(-1),
    }
}

fn put_acls(out: &mut BytesMut, acl: &[ACL]) {
    out.put_i32(acl.len() as i32);
    for a in acl {
        a.encode(out);
    }
}

/// A `{path, watch}` body (exists, getData, getChildren, getChildren2).
fn path_watch(path: &str, watch: bool) -> impl FnOnce(&mut BytesMut) + '_ {
    move |o| {
        put_str(o, path);
        o.put_u8(u8::from(watch));
    }
}

impl Client {
    /// Creates a node; returns its path (with the sequence suffix, if any).
    pub async fn create(
        &self,
        path: &str,
        data: &[u8],
        acl: &[ACL],
        mode: CreateMode,
    ) -> Result<String, Error> {
        Ok(self.create_opt(path, Some(data), acl, mode, false).await?.0)
    }

    /// Creates a node; returns its path and stat (create2).
    pub async fn create2(
        &self,
        path: &str,
        data: &[u8],
        acl: &[ACL],
        mode: CreateMode,
    ) -> Result<(String, Stat), Error> {
        let (path, stat) = self.create_opt(path, Some(data), acl, mode, true).await?;
        Ok((path, stat.expect("create2 replies carry a stat")))
    }

    /// The general create: `data` may be null, `with_stat` picks create2.
    /// Container and TTL modes always answer with a stat.
    pub async fn create_opt(
        &self,
        path: &str,
        data: Option<&[u8]>,
        acl: &[ACL],
        mode: CreateMode,
        with_stat: bool,
    ) -> Result<(String, Option<Stat>), Error> {
        let sp = self.server_path(path, mode.is_sequential())?;
        let op = mode.opcode(with_stat);
        let mut body = self
            .call(op, path, WatchReg::None, |o| {
                put_str(o, &sp);
                put_buf(o, data);
                put_acls(o, acl);
                o.put_i32(mode.flags());
                if let Some(ttl) = mode.ttl_ms() {
                    o.put_i64(ttl);
                }
            })
            .await?;
        if op == OpCode::Create {
            let r = CreateResponse::decode(&mut body)?;
            Ok((self.client_path(r.path), None))
        } else {
            let r = Create2Response::decode(&mut body)?;
            Ok((self.client_path(r.path), Some(r.stat)))
        }
    }

    /// Deletes a node if its version matches (-1: any).
    pub async fn delete(&self, path: &str, version: i32) -> Result<(), Error> {
        let sp = self.server_path(path, false)?;
        self.call(OpCode::Delete, path, WatchReg::None, |o| {
            put_str(o, &sp);
            o.put_i32(version);
        })
        .await?;
        Ok(())
    }

    /// The node's stat, or `None` if it does not exist. With `watch`, a
    /// watch is left either way (NodeCreated fires it for a missing node).
    pub async fn exists(&self, path: &str, watch: bool) -> Result<Option<Stat>, Error> {
        let sp = self.server_path(path, false)?;
        let reg = if watch {
            WatchReg::Exists(sp.clone())
        } else {
            WatchReg::None
        };
        match self
            .call(OpCode::Exists, path, reg, path_watch(&sp, watch))
            .await
        {
            Ok(mut body) => Ok(Some(ExistsResponse::decode(&mut body)?.stat)),
            Err(Error::Zk {
                code: ErrorCode::NoNode,
                ..
            }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The node's data (`None` if stored as null) and stat.
    pub async fn get_data(&self, path: &str, watch: bool) -> Result<(Option<Bytes>, Stat), Error> {
        let sp = self.server_path(path, false)?;
        let reg = if watch {
            WatchReg::Data(sp.clone())
        } else {
            WatchReg::None
        };
        let mut body = self
            .call(OpCode::GetData, path, reg, path_watch(&sp, watch))
            .await?;
        let r = GetDataResponse::decode(&mut body)?;
        Ok((r.data, r.stat))
    }

    /// Sets the node's data if its version matches (-1: any).
    pub async fn set_data(&self, path: &str, data: &[u8], version: i32) -> Result<Stat, Error> {
        self.set_data_opt(path, Some(data), version).await
    }

    /// Sets the node's data, which may be null.
    pub async fn set_data_opt(
        &self,
        path: &str,
        data: Option<&[u8]>,
        version: i32,
    ) -> Result<Stat, Error> {
        let sp = self.server_path(path, false)?;
        let mut body = self
            .call(OpCode::SetData, path, WatchReg::None, |o| {
                put_str(o, &sp);
                put_buf(o, data);
                o.put_i32(version);
            })
            .await?;
        Ok(SetDataResponse::decode(&mut body)?.stat)
    }

    /// The node's ACL and stat.
    pub async fn get_acl(&self, path: &str) -> Result<(Vec<ACL>, Stat), Error> {
        let sp = self.server_path(path, false)?;
        let mut body = self
            .call(OpCode::GetAcl, path, WatchReg::None, |o| put_str(o, &sp))
            .await?;
        let r = GetACLResponse::decode(&mut body)?;
        Ok((r.acl, r.stat))
    }

    /// Sets the node's ACL if its ACL version matches (-1: any).
    pub async fn set_acl(&self, path: &str, acl: &[ACL], version: i32) -> Result<Stat, Error> {
        let sp = self.server_path(path, false)?;
        let mut body = self
            .call(OpCode::SetAcl, path, WatchReg::None, |o| {
                put_str(o, &sp);
                put_acls(o, acl);
                o.put_i32(version);
            })
            .await?;
        Ok(SetACLResponse::decode(&mut body)?.stat)
    }

    /// The names of the node's children (unordered, as the server sends them).
    pub async fn get_children(&self, path: &str, watch: bool) -> Result<Vec<String>, Error> {
        let sp = self.server_path(path, false)?;
        let reg = if watch {
            WatchReg::Child(sp.clone())
        } else {
            WatchReg::None
        };
        let mut body = self
            .call(OpCode::GetChildren, path, reg, path_watch(&sp, watch))
            .await?;
        Ok(GetChildrenResponse::decode(&mut body)?.children)
    }

    /// The node's children and its stat (getChildren2).
    pub async fn get_children2(
        &self,
        path: &str,
        watch: bool,
    ) -> Result<(Vec<String>, Stat), Error> {
        let sp = self.server_path(path, false)?;
        let reg = if watch {
            WatchReg::Child(sp.clone())
        } else {
            WatchReg::None
        };
        let mut body = self
            .call(OpCode::GetChildren2, path, reg, path_watch(&sp, watch))
            .await?;
        let r = GetChildren2Response::decode(&mut body)?;
        Ok((r.children, r.stat))
    }

    /// The number of descendants of the node.
    pub async fn get_all_children_number(&self, path: &str) -> Result<i32, Error> {
        let sp = self.server_path(path, false)?;
        let mut body = self
            .call(OpCode::GetAllChildrenNumber, path, WatchReg::None, |o| {
                put_str(o, &sp)
            })
            .await?;
        Ok(GetAllChildrenNumberResponse::decode(&mut body)?.total_number)
    }

    /// This session's ephemeral nodes whose path starts with `prefix` (a
    /// string prefix, as the server matches it). Unlike the Java client the
    /// prefix goes through the chroot, and nodes outside it are left out.
    pub async fn get_ephemerals(&self, prefix: &str) -> Result<Vec<String>, Error> {
        let sp = self.server_path(prefix, false)?;
        let mut body = self
            .call(OpCode::GetEphemerals, prefix, WatchReg::None, |o| {
                put_str(o, &sp)
            })
            .await?;
        let all = GetEphemeralsResponse::decode(&mut body)?.ephemerals;
        let root = self.server_path("/", false)?;
        Ok(all
            .into_iter()
            .filter(|p| root == "/" || p == &root || p.starts_with(&format!("{root}/")))
            .map(|p| self.client_path(p))
            .collect())
    }

    /// Waits until the server this client talks to has caught up with the leader.
    pub async fn sync(&self, path: &str) -> Result<(), Error> {
        let sp = self.server_path(path, false)?;
        self.call(OpCode::Sync, path, WatchReg::None, |o| put_str(o, &sp))
            .await?;
        Ok(())
    }

    /// Runs `ops` atomically. `Err` only if the whole request failed (or a
    /// path is invalid); a failed op shows as `MultiResult::Error` entries,
    /// see [`Client::multi_checked`] for the Java client's behaviour.
    pub async fn multi(&self, ops: Vec<Op>) -> Result<Vec<MultiResult>, Error> {
        self.multi_op(OpCode::Multi, ops).await
    }

    /// [`Client::multi`], with a failed op turned into [`Error::Multi`].
    pub async fn multi_checked(&self, ops: Vec<Op>) -> Result<Vec<MultiResult>, Error> {
        check_multi(self.multi(ops).await?)
    }

    /// Runs read ops (getData, getChildren) in one request; each op
    /// succeeds or fails on its own.
    pub async fn multi_read(&self, ops: Vec<Op>) -> Result<Vec<MultiResult>, Error> {
        self.multi_op(OpCode::MultiRead, ops).await
    }

    async fn multi_op(&self, op: OpCode, ops: Vec<Op>) -> Result<Vec<MultiResult>, Error> {
        let mut wire = Vec::with_capacity(ops.len());
        for o in ops {
            let seq = matches!(o, Op::Create { mode, .. } if mode.is_sequential());
            let sp = self.server_path(o.path(), seq)?;
            wire.push(o.into_multi_op(sp));
        }
        let mut body = self
            .call(op, "", WatchReg::None, |o| multi::encode_request(&wire, o))
            .await?;
        let results = multi::decode_response(&mut body)?;
        Ok(results
            .into_iter()
            .map(|r| match r {
                MultiResult::Create(p) => MultiResult::Create(self.client_path(p)),
                MultiResult::Create2(c, p, s) => MultiResult::Create2(c, self.client_path(p), s),
                other => other,
            })
            .collect())
    }

    /// Adds an authentication identity to the session (and to every later
    /// connection of it). A rejected identity ends the session: the call
    /// fails with [`Error::AuthFailed`] and so does everything after.
    pub async fn add_auth(&self, scheme: &str, auth: &[u8]) -> Result<(), Error> {
        let auth = Bytes::copy_from_slice(auth);
        self.shared()
            .auths
            .lock()
            .push((scheme.to_string(), auth.clone()));
        let p = AuthPacket {
            r#type: 0,
            scheme: scheme.to_string(),
            auth: Some(auth),
        };
        let frame =
            super::conn::frame_with_xid(ferrozk_proto::ops::XID_AUTH, OpCode::Auth.code(), |o| {
                p.encode(o)
            });
        let (hdr, _) = self.submit(frame, true, WatchReg::None).await?;
        if hdr.err != 0 {
            return Err(Error::from_code(hdr.err, OpCode::Auth, ""));
        }
        Ok(())
    }

    /// Adds a persistent or persistent-recursive watch on `path`.
    pub async fn add_watch(&self, path: &str, mode: AddWatchMode) -> Result<(), Error> {
        let sp = self.server_path(path, false)?;
        let reg = WatchReg::Add(sp.clone(), mode);
        self.call(OpCode::AddWatch, path, reg, |o| {
            put_str(o, &sp);
            o.put_i32(mode as i32);
        })
        .await?;
        Ok(())
    }

    /// Removes this session's watches of `ty` on `path` (removeAllWatches).
    /// Removed watches show up as *WatchRemoved events. With `local`, a
    /// failure to reach the server (or its refusal) still removes the
    /// client's record, and succeeds if there was one to remove.
    pub async fn remove_watches(
        &self,
        path: &str,
        ty: WatcherType,
        local: bool,
    ) -> Result<(), Error> {
        let sp = self.server_path(path, false)?;
        let reg = WatchReg::Remove(sp.clone(), ty);
        let r = self
            .call(OpCode::RemoveWatches, path, reg, |o| {
                put_str(o, &sp);
                o.put_i32(ty as i32);
            })
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(e) if local => {
                let removed = self.shared().watches.lock().remove(&sp, ty);
                if removed.is_empty() {
                    return Err(e);
                }
                self.shared().emit_removed(&sp, &removed);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Asks whether the server holds a watch of `ty` on `path` for this
    /// session (NoWatcher error if not).
    pub async fn check_watches(&self, path: &str, ty: WatcherType) -> Result<(), Error> {
        let sp = self.server_path(path, false)?;
        self.call(OpCode::CheckWatches, path, WatchReg::None, |o| {
            put_str(o, &sp);
            o.put_i32(ty as i32);
        })
        .await?;
        Ok(())
    }

    /// The identities this connection is authenticated as.
    pub async fn who_am_i(&self) -> Result<Vec<ClientInfo>, Error> {
        let mut body = self
            .call(OpCode::WhoAmI, "", WatchReg::None, |_| {})
            .await?;
        Ok(WhoAmIResponse::decode(&mut body)?.client_info)
    }

    /// Dynamic reconfiguration, raw: incremental (`joining`/`leaving`) or
    /// bulk (`new_members`); `from_config` is the expected config version
    /// (-1: any). Returns the new config data and stat.
    pub async fn reconfig(
        &self,
        joining: Option<&str>,
        leaving: Option<&str>,
        new_members: Option<&str>,
        from_config: i64,
    ) -> Result<(Option<Bytes>, Stat), Error> {
        let mut body = self
            .call(OpCode::Reconfig, "", WatchReg::None, |o| {
                put_opt_str(o, joining);
                put_opt_str(o, leaving);
                put_opt_str(o, new_members);
                o.put_i64(from_config);
            })
            .await?;
        let r = GetDataResponse::decode(&mut body)?;
        Ok((r.data, r.stat))
    }

    /// The ensemble configuration (`/zookeeper/config`, outside any chroot).
    pub async fn get_config(&self, watch: bool) -> Result<(Option<Bytes>, Stat), Error> {
        const CONFIG: &str = "/zookeeper/config";
        let reg = if watch {
            WatchReg::Data(CONFIG.into())
        } else {
            WatchReg::None
        };
        let mut body = self
            .call(OpCode::GetData, CONFIG, reg, path_watch(CONFIG, watch))
            .await?;
        let r = GetDataResponse::decode(&mut body)?;
        Ok((r.data, r.stat))
    }
}
