//! The database image a Zab leader streams to a learner after a SNAP packet
//! (LearnerHandler.syncFollower → ZKDatabase.serializeSnapshot →
//! SerializeUtils.serializeSnapshot → DataTree.serialize; read back by
//! Learner.syncWithLeader → ZKDatabase.deserializeSnapshot), byte-compatible
//! with Apache ZooKeeper 3.8.
//!
//! ```text
//! Image (raw on the peer stream, not inside a QuorumPacket):
//!     sessions     count int, then count × { id long, timeout int }
//!     acl cache    count int, then count × { id long, acls vector<ACL> }
//!     nodes        ( path ustring, DataNode )*, parents before children,
//!                  the root written with path "" (not "/")
//!     end          path ustring "/"
//! DataNode:        data buffer, acl long (cache id, -1 = OPEN_ACL_UNSAFE),
//!                  StatPersisted { czxid, mzxid, ctime, mtime long,
//!                                  version, cversion, aversion int,
//!                                  ephemeralOwner, pzxid long }
//! ```
//!
//! This is the body of a snapshot file (snapshot.rs) without the file
//! header, the Adler32 seals and the ZxidDigest trailer: in 3.8 only
//! FileSnap writes the digest; the leader's SNAP stream carries none. After
//! the image the leader writes the ustring `"BenWasHere"` ([`SIGNATURE`]),
//! which the learner checks; it is not part of the image. Nor is the zxid:
//! it travels in the SNAP packet, and the learner sets it on the tree
//! (`setlastProcessedZxid(qp.getZxid())`), so a decoded tree has
//! `last_zxid` 0 until the caller does the same.
//!
//! The image has no length prefix; a stream decoder finds its end by
//! walking it ([`image_len`], or [`ImageScan`] to resume as bytes arrive).
//!
//! Reading follows DataTree.deserialize: negative counts read as zero, a
//! null node data buffer is kept as null, a later node with the same path
//! replaces the earlier one. A null path or a null ACL vector is an error
//! (Apache fails on both), as is a path that is neither "" nor absolute
//! (Apache would take it for the root), a node before its parent, no root,
//! or bytes after the end marker.
//!
//! Encoding walks the tree depth first, children in name order, ACL lists
//! in id order and sessions as given. Apache iterates Java hash maps and
//! sets instead, so the two encodings of one tree hold the same records in
//! a different order; every reader accepts either.

use std::collections::BTreeMap;
use std::path::PathBuf;

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::error::StorageError;
use crate::proto::jute::{DecodeError, Jute};
use crate::proto::records::data::{StatPersisted, ACL};
use crate::tree::data_tree::{join, Restore};
use crate::tree::DataTree;

/// The string the leader writes after the image (LearnerHandler); the
/// learner refuses the sync if it is anything else.
pub const SIGNATURE: &str = "BenWasHere";

/// Bytes of an encoded StatPersisted: six longs and three ints.
const STAT_LEN: usize = 6 * 8 + 3 * 4;

/// What error messages name as the "file".
const IMAGE_NAME: &str = "<SNAP image from the leader>";

/// A decoded image.
#[derive(Debug)]
pub struct Image {
    /// The tree, with `last_zxid` 0 (the zxid comes in the SNAP packet).
    pub tree: DataTree,
    /// Sessions and their timeouts (ms), in image order.
    pub sessions: Vec<(i64, i32)>,
}

/// Serializes the whole tree and the sessions (id, timeout in ms) as the
/// SNAP image (without the trailing [`SIGNATURE`]).
pub fn encode_image(tree: &DataTree, sessions: &[(i64, i32)]) -> Bytes {
    let mut out = BytesMut::with_capacity(64 + tree.len() * 96);
    out.put_i32(sessions.len() as i32);
    for &(id, timeout) in sessions {
        out.put_i64(id);
        out.put_i32(timeout);
    }
    let acls = tree.acls.map();
    out.put_i32(acls.len() as i32);
    for (id, list) in &acls {
        out.put_i64(*id);
        list.encode(&mut out);
    }
    let mut stack = vec!["/".to_string()];
    while let Some(path) = stack.pop() {
        let Some(node) = tree.get(&path) else {
            continue;
        };
        let stored = if path == "/" { "" } else { path.as_str() };
        out.put_i32(stored.len() as i32);
        out.put_slice(stored.as_bytes());
        node.data.encode(&mut out);
        out.put_i64(node.acl);
        node.stat.encode(&mut out);
        stack.extend(
            tree.children(&path)
                .into_iter()
                .rev()
                .map(|c| join(&path, c)),
        );
    }
    // The end marker: the one-character path "/".
    out.put_i32(1);
    out.put_u8(b'/');
    out.freeze()
}

/// Decodes a whole image (exactly its bytes: see [`image_len`]) into a
/// tree, as DataTree.deserialize rebuilds it: children, the ephemeral,
/// container and TTL indexes (TTL only with `extended_types`, as in
/// ZooKeeper) and ACL reference counts come from the nodes.
pub fn decode_image(bytes: &[u8], extended_types: bool) -> Result<Image, StorageError> {
    // One copy, so the Jute decoders can slice; Restore copies node data
    // out of it, so nothing keeps this buffer alive afterwards.
    let mut src = Bytes::copy_from_slice(bytes);
    let sessions = decode_sessions(&mut src).map_err(malformed)?;
    let acls = decode_acls(&mut src)?;
    let mut restore = Restore::new(extended_types, acls);
    loop {
        let path = decode_path(&mut src)?;
        if path == "/" {
            break;
        }
        let data = Option::<Bytes>::decode(&mut src).map_err(malformed)?;
        let acl = i64::decode(&mut src).map_err(malformed)?;
        let stat = StatPersisted::decode(&mut src).map_err(malformed)?;
        let path = if path.is_empty() {
            "/".to_string()
        } else {
            path
        };
        restore
            .insert(&path, data.as_deref(), acl, stat)
            .map_err(bad_tree)?;
    }
    if src.has_remaining() {
        return Err(bad(format!(
            "{} bytes after the end marker",
            src.remaining()
        )));
    }
    let tree = restore.finish(0).map_err(bad_tree)?;
    Ok(Image { tree, sessions })
}

fn decode_sessions(src: &mut Bytes) -> Result<Vec<(i64, i32)>, DecodeError> {
    let count = i32::decode(src)?.max(0) as usize;
    // Each session takes 12 bytes, which bounds the allocation.
    let mut sessions = Vec::with_capacity(count.min(src.remaining() / 12));
    for _ in 0..count {
        sessions.push((i64::decode(src)?, i32::decode(src)?));
    }
    Ok(sessions)
}

fn decode_acls(src: &mut Bytes) -> Result<BTreeMap<i64, Vec<ACL>>, StorageError> {
    let count = i32::decode(src).map_err(malformed)?;
    let mut acls = BTreeMap::new();
    for _ in 0..count.max(0) {
        let id = i64::decode(src).map_err(malformed)?;
        if peek_null(src) {
            return Err(bad(format!("ACL list {id} is null")));
        }
        acls.insert(id, Vec::<ACL>::decode(src).map_err(malformed)?);
    }
    Ok(acls)
}

/// A node path or the end marker; "" is the root.
fn decode_path(src: &mut Bytes) -> Result<String, StorageError> {
    if peek_null(src) {
        return Err(bad("null node path".into()));
    }
    let path = String::decode(src).map_err(malformed)?;
    if !path.is_empty() && !path.starts_with('/') {
        return Err(bad(format!("node path {path:?} is not absolute")));
    }
    Ok(path)
}

/// Whether the next length prefix is -1 (null).
fn peek_null(src: &Bytes) -> bool {
    src.starts_with(&(-1i32).to_be_bytes())
}

fn bad(reason: String) -> StorageError {
    StorageError::BadSnapshot {
        path: PathBuf::from(IMAGE_NAME),
        reason,
    }
}

fn malformed(e: DecodeError) -> StorageError {
    bad(format!("malformed: {e}"))
}

fn bad_tree(reason: String) -> StorageError {
    StorageError::BadTree {
        path: PathBuf::from(IMAGE_NAME),
        reason,
    }
}

/// Length of the complete image at the start of `buf`, or `None` if more
/// bytes are needed. Checks the structure (lengths, counts, nulls, the end
/// marker), not the content; [`decode_image`] checks the rest.
pub fn image_len(buf: &[u8]) -> Result<Option<usize>, StorageError> {
    ImageScan::default().feed(buf)
}

/// Where [`ImageScan`] is in the grammar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Part {
    #[default]
    SessionCount,
    Sessions(usize),
    AclCount,
    Acls(usize),
    Nodes,
    Done,
}

/// Finds the end of an image arriving in pieces without rescanning: feed
/// it the whole buffer so far each time (the same bytes, extended); it
/// resumes after the last complete element it saw.
#[derive(Debug, Clone, Default)]
pub struct ImageScan {
    /// Start of the first element not yet seen whole.
    pos: usize,
    part: Part,
}

impl ImageScan {
    /// The image's length once `buf` holds all of it, else `None`.
    pub fn feed(&mut self, buf: &[u8]) -> Result<Option<usize>, StorageError> {
        while self.part != Part::Done {
            let mut cur = Cursor { buf, pos: self.pos };
            match self.element(&mut cur) {
                Ok(next) => {
                    self.pos = cur.pos;
                    self.part = next;
                }
                Err(Stop::Short) => return Ok(None),
                Err(Stop::Bad(reason)) => {
                    return Err(bad(format!("{reason} at byte {}", self.pos)))
                }
            }
        }
        Ok(Some(self.pos))
    }

    /// Reads one element at `cur`; returns the part that follows it.
    fn element(&self, cur: &mut Cursor<'_>) -> Result<Part, Stop> {
        Ok(match self.part {
            Part::SessionCount => Part::Sessions(cur.count()?),
            Part::Sessions(0) => Part::AclCount,
            Part::Sessions(n) => {
                cur.skip(12)?;
                Part::Sessions(n - 1)
            }
            Part::AclCount => Part::Acls(cur.count()?),
            Part::Acls(0) => Part::Nodes,
            Part::Acls(n) => {
                cur.skip(8)?;
                let len = cur
                    .length("ACL list")?
                    .ok_or(Stop::Bad("null ACL list".into()))?;
                for _ in 0..len {
                    cur.skip(4)?;
                    cur.string("ACL id scheme")?;
                    cur.string("ACL id")?;
                }
                Part::Acls(n - 1)
            }
            Part::Nodes => {
                let len = cur
                    .length("node path")?
                    .ok_or(Stop::Bad("null node path".into()))?;
                if cur.take(len)? == b"/" {
                    Part::Done
                } else {
                    let data = cur.length("node data")?.unwrap_or(0);
                    cur.skip(data + 8 + STAT_LEN)?;
                    Part::Nodes
                }
            }
            Part::Done => Part::Done,
        })
    }
}

/// Why [`ImageScan`] stopped inside an element.
enum Stop {
    /// The buffer ends inside it.
    Short,
    /// It cannot be part of an image.
    Bad(String),
}

/// A read position in a borrowed buffer.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Stop> {
        let end = self.pos.checked_add(n).ok_or(Stop::Short)?;
        let s = self.buf.get(self.pos..end).ok_or(Stop::Short)?;
        self.pos = end;
        Ok(s)
    }

    fn skip(&mut self, n: usize) -> Result<(), Stop> {
        self.take(n).map(|_| ())
    }

    fn int(&mut self) -> Result<i32, Stop> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A count, read as Apache's `while (count > 0)` loops read it.
    fn count(&mut self) -> Result<usize, Stop> {
        Ok(self.int()?.max(0) as usize)
    }

    /// A length prefix: `None` for null (-1); other negatives are errors.
    fn length(&mut self, what: &str) -> Result<Option<usize>, Stop> {
        match self.int()? {
            -1 => Ok(None),
            n if n < 0 => Err(Stop::Bad(format!("{what} length {n}"))),
            n => Ok(Some(n as usize)),
        }
    }

    /// A ustring (null reads as empty, as in our Jute decoder).
    fn string(&mut self, what: &str) -> Result<(), Stop> {
        let len = self.length(what)?.unwrap_or(0);
        self.skip(len)
    }
}
