//! Finding the end of the database image that follows a SNAP packet.
//!
//! After SNAP, LearnerHandler writes `ZKDatabase.serializeSnapshot` and
//! the string "BenWasHere" straight onto the stream, with no length in
//! front. In 3.8 that image is SerializeUtils.serializeSnapshot only: no
//! file header, no Adler32 seals and no digest trailer (those are
//! FileSnap's), so it is the middle of a snapshot file (storage/snapshot.rs):
//!
//! ```text
//! sessions   count int, count × { id long, timeout int }
//! acl cache  count int, count × { id long, acls vector<ACL{perms int, Id{scheme, id}}> }
//! nodes      ( path ustring, data buffer, acl long, StatPersisted 60 bytes )*
//! end        path ustring "/"
//! signature  ustring "BenWasHere"             (not part of the image)
//! ```
//!
//! The only way to find the end is to walk it. [`ImageScan`] walks
//! incrementally: it remembers how far it got, so bytes arriving in
//! pieces are each looked at once. Each item (a session, an ACL list, a
//! node) is taken whole or not at all.

use super::error::WireError;
use super::packet::SNAP_SIGNATURE;
use super::quorum_packet::{read_i32, skip_sized};

/// StatPersisted: czxid, mzxid, ctime, mtime (longs), version, cversion,
/// aversion (ints), ephemeralOwner, pzxid (longs).
const STAT_PERSISTED_LEN: usize = 4 * 8 + 3 * 4 + 2 * 8;
/// One session: id long, timeout int.
const SESSION_LEN: usize = 12;
/// The signature as it is written: an int length and ten bytes.
pub const SIGNATURE_LEN: usize = 4 + SNAP_SIGNATURE.len();

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    SessionCount,
    Sessions { left: u32 },
    AclCount,
    Acls { left: u32 },
    Nodes,
    Signature { image_end: usize },
}

/// Progress through one image; positions are relative to where the image
/// starts in the buffer the caller keeps passing.
#[derive(Debug, Clone)]
pub struct ImageScan {
    at: usize,
    stage: Stage,
    max_len: usize,
}

impl ImageScan {
    /// Starts at the first byte after the SNAP record. Strings and
    /// buffers longer than `max_len` are refused, as Apache refuses them.
    pub fn new(max_len: usize) -> ImageScan {
        ImageScan {
            at: 0,
            stage: Stage::SessionCount,
            max_len,
        }
    }

    /// Walks as far as `buf` allows. Returns the image length once the
    /// image and the signature after it are both in `buf` (the caller
    /// then takes the image and skips [`SIGNATURE_LEN`] more bytes).
    pub fn advance(&mut self, buf: &[u8]) -> Result<Option<usize>, WireError> {
        loop {
            match self.stage {
                Stage::SessionCount => {
                    let Some(n) = self.count(buf, "sessions")? else {
                        return Ok(None);
                    };
                    self.stage = Stage::Sessions { left: n };
                }
                Stage::Sessions { left } => {
                    let whole = (buf.len().saturating_sub(self.at) / SESSION_LEN) as u64;
                    let take = whole.min(left.into()) as u32;
                    self.at += take as usize * SESSION_LEN;
                    if take < left {
                        self.stage = Stage::Sessions { left: left - take };
                        return Ok(None);
                    }
                    self.stage = Stage::AclCount;
                }
                Stage::AclCount => {
                    let Some(n) = self.count(buf, "acl cache")? else {
                        return Ok(None);
                    };
                    self.stage = Stage::Acls { left: n };
                }
                Stage::Acls { left: 0 } => self.stage = Stage::Nodes,
                Stage::Acls { left } => {
                    let Some(end) = self.acl_entry(buf)? else {
                        return Ok(None);
                    };
                    self.at = end;
                    self.stage = Stage::Acls { left: left - 1 };
                }
                Stage::Nodes => match self.node(buf)? {
                    None => return Ok(None),
                    Some(Node::End(end)) => {
                        self.at = end;
                        self.stage = Stage::Signature { image_end: end };
                    }
                    Some(Node::Next(end)) => self.at = end,
                },
                Stage::Signature { image_end } => {
                    let Some(sig) = buf.get(self.at..self.at + SIGNATURE_LEN) else {
                        // A wrong length is refused as soon as it is readable.
                        if let Some(len) = read_i32(buf, self.at) {
                            if len as usize != SNAP_SIGNATURE.len() {
                                return Err(WireError::Signature(format!("string length {len}")));
                            }
                        }
                        return Ok(None);
                    };
                    if &sig[4..] != SNAP_SIGNATURE.as_bytes() || sig[..4] != [0, 0, 0, 10] {
                        return Err(WireError::Signature(format!(
                            "found {:?}",
                            String::from_utf8_lossy(sig)
                        )));
                    }
                    return Ok(Some(image_end));
                }
            }
        }
    }

    /// A non-negative count at `at`.
    fn count(&mut self, buf: &[u8], what: &'static str) -> Result<Option<u32>, WireError> {
        let Some(n) = read_i32(buf, self.at) else {
            return Ok(None);
        };
        if n < 0 {
            return Err(WireError::Malformed {
                what: "SNAP image",
                reason: format!("{what} count {n}"),
            });
        }
        self.at += 4;
        Ok(Some(n as u32))
    }

    /// One acl-cache entry: id long, then a non-null vector of ACLs.
    fn acl_entry(&self, buf: &[u8]) -> Result<Option<usize>, WireError> {
        let mut at = self.at + 8;
        let Some(n) = read_i32(buf, at) else {
            return Ok(None);
        };
        // perms int + two string lengths at least.
        let max_count = self.max_len / 12;
        if n < 0 || n as usize > max_count {
            return Err(WireError::Length {
                field: "SNAP image acl list",
                len: n.into(),
                max: max_count,
            });
        }
        at += 4;
        for _ in 0..n {
            at += 4;
            for field in ["SNAP image acl scheme", "SNAP image acl id"] {
                if skip_sized(buf, &mut at, field, self.max_len)?.is_none() {
                    return Ok(None);
                }
            }
        }
        Ok(Some(at))
    }

    /// One node, or the "/" that ends the tree.
    fn node(&self, buf: &[u8]) -> Result<Option<Node>, WireError> {
        let mut at = self.at;
        let Some(len) = read_i32(buf, at) else {
            return Ok(None);
        };
        if skip_sized(buf, &mut at, "SNAP image node path", self.max_len)?.is_none() {
            return Ok(None);
        }
        if len == -1 {
            return Err(WireError::Malformed {
                what: "SNAP image",
                reason: "null node path".into(),
            });
        }
        if len == 1 && buf[at - 1] == b'/' {
            return Ok(Some(Node::End(at)));
        }
        if skip_sized(buf, &mut at, "SNAP image node data", self.max_len)?.is_none() {
            return Ok(None);
        }
        at += 8 + STAT_PERSISTED_LEN;
        if buf.len() < at {
            return Ok(None);
        }
        Ok(Some(Node::Next(at)))
    }
}

enum Node {
    Next(usize),
    End(usize),
}
