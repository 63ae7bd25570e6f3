//! The text of transcripts: `key=value` arguments, and the one-line
//! rendering of every [`Packet`] and [`Output`], with the parser of the
//! packets an input may carry. Rendering and parsing are inverses, so a
//! packet reads the same in a `>` line and in a `< send` line.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use bytes::Bytes;

use crate::zab::peer::{LinkId, Output};
use crate::zab::types::{Entry, LearnerKind, Packet, Zxid, PROTOCOL_VERSION};

/// `key=value` words of one line, plus the bare words in order. Keys
/// read are remembered, so a misspelt key is an error ([`Args::unused`])
/// rather than a silently defaulted field.
pub(super) struct Args {
    kv: BTreeMap<String, String>,
    used: RefCell<BTreeSet<String>>,
    pub words: Vec<String>,
}

pub(super) type R<T> = Result<T, String>;

impl Args {
    pub(super) fn parse(line: &str) -> Args {
        let mut a = Args {
            kv: BTreeMap::new(),
            used: RefCell::default(),
            words: Vec::new(),
        };
        for w in line.split_whitespace() {
            match w.split_once('=') {
                Some((k, v)) => drop(a.kv.insert(k.to_string(), v.to_string())),
                None => a.words.push(w.to_string()),
            }
        }
        a
    }

    pub(super) fn opt(&self, k: &str) -> Option<&str> {
        self.used.borrow_mut().insert(k.to_string());
        self.kv.get(k).map(|s| s.as_str())
    }

    /// An error naming the keys given but never read.
    pub(super) fn unused(&self) -> R<()> {
        let used = self.used.borrow();
        let extra: Vec<&str> = self
            .kv
            .keys()
            .filter(|k| !used.contains(*k))
            .map(|k| k.as_str())
            .collect();
        match extra.is_empty() {
            true => Ok(()),
            false => Err(format!("unknown keys {extra:?}")),
        }
    }

    pub(super) fn get(&self, k: &str) -> R<&str> {
        self.opt(k).ok_or(format!("missing {k}="))
    }

    pub(super) fn num(&self, k: &str) -> R<u64> {
        num(self.get(k)?)
    }

    pub(super) fn num_or(&self, k: &str, default: u64) -> R<u64> {
        self.opt(k).map_or(Ok(default), num)
    }

    pub(super) fn zxid(&self, k: &str) -> R<Zxid> {
        Ok(Zxid(self.num(k)? as i64))
    }

    pub(super) fn epoch(&self, k: &str) -> R<u32> {
        u32::try_from(self.num(k)?).map_err(|e| format!("{k}: {e}"))
    }

    pub(super) fn link(&self) -> R<LinkId> {
        Ok(LinkId(self.num("link")?))
    }

    pub(super) fn bytes_or(&self, k: &str, default: impl FnOnce() -> Bytes) -> R<Bytes> {
        self.opt(k).map_or(Ok(default()), parse_bytes)
    }

    /// The txn of a PROPOSAL/INFORM/propose: `txn=` or `EPOCH.COUNTER`.
    pub(super) fn txn(&self, zxid: Zxid) -> R<Bytes> {
        self.bytes_or("txn", || default_txn(zxid))
    }
}

pub(super) fn num(s: &str) -> R<u64> {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16),
        None => s.parse(),
    }
    .map_err(|e| format!("bad number {s:?}: {e}"))
}

pub(super) fn default_txn(z: Zxid) -> Bytes {
    Bytes::from(format!("{}.{}", z.epoch(), z.counter()))
}

pub(super) fn show_bytes(b: &[u8]) -> String {
    let text = b.iter().all(|c| c.is_ascii_graphic() && *c != b'=');
    if !b.is_empty() && text && !b.starts_with(b"hex:") {
        return String::from_utf8_lossy(b).into_owned();
    }
    b.iter().fold("hex:".to_string(), |mut s, c| {
        let _ = write!(s, "{c:02x}");
        s
    })
}

pub(super) fn parse_bytes(s: &str) -> R<Bytes> {
    let Some(h) = s.strip_prefix("hex:") else {
        return Ok(Bytes::from(s.to_string()));
    };
    if h.len() % 2 != 0 || !h.is_ascii() {
        return Err(format!("bad hex {s:?}"));
    }
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).map_err(|e| format!("{s:?}: {e}")))
        .collect::<R<Vec<u8>>>()
        .map(Bytes::from)
}

/// One packet as transcripts write it: the ZooKeeper type name, then its
/// fields; fields at their usual value (protocol version, empty config)
/// are left out.
pub(super) fn packet(p: &Packet) -> String {
    let opt = |name: &str, b: &Bytes| match b.is_empty() {
        true => String::new(),
        false => format!(" {name}={}", show_bytes(b)),
    };
    let ver = |v: i32| match v == PROTOCOL_VERSION {
        true => String::new(),
        false => format!(" version=0x{v:x}"),
    };
    match p {
        Packet::LearnerInfo {
            kind,
            accepted_epoch,
            sid,
            protocol_version,
            config_version,
        } => {
            let name = match kind {
                LearnerKind::Follower => "FOLLOWERINFO",
                LearnerKind::Observer => "OBSERVERINFO",
            };
            let cv = match config_version {
                0 => String::new(),
                v => format!(" config-version={v}"),
            };
            format!(
                "{name} sid={sid} accepted={accepted_epoch}{}{cv}",
                ver(*protocol_version)
            )
        }
        Packet::LeaderInfo {
            new_epoch,
            protocol_version,
        } => format!("LEADERINFO epoch={new_epoch}{}", ver(*protocol_version)),
        Packet::AckEpoch {
            last_zxid,
            current_epoch,
        } => match current_epoch {
            Some(e) => format!("ACKEPOCH last={last_zxid} epoch={e}"),
            None => format!("ACKEPOCH last={last_zxid} epoch=-1"),
        },
        Packet::Diff { zxid } => format!("DIFF zxid={zxid}"),
        Packet::Trunc { zxid } => format!("TRUNC zxid={zxid}"),
        Packet::Snap { zxid, image } => format!("SNAP zxid={zxid}{}", opt("image", image)),
        Packet::NewLeader { zxid, config } => {
            format!("NEWLEADER zxid={zxid}{}", opt("config", config))
        }
        Packet::UpToDate => "UPTODATE".into(),
        Packet::Proposal { zxid, txn } => format!("PROPOSAL zxid={zxid} txn={}", show_bytes(txn)),
        Packet::Ack { zxid } => format!("ACK zxid={zxid}"),
        Packet::Commit { zxid } => format!("COMMIT zxid={zxid}"),
        Packet::Inform { zxid, txn } => format!("INFORM zxid={zxid} txn={}", show_bytes(txn)),
        Packet::Request { data, authinfo } => {
            format!("REQUEST{} auth={}", opt("data", data), authinfo.len())
        }
        Packet::Ping { zxid, data } => format!("PING zxid={zxid}{}", opt("data", data)),
        Packet::Revalidate { data } => format!("REVALIDATE{}", opt("data", data)),
        Packet::Sync => "SYNC".into(),
    }
}

/// The inverse of [`packet`] (REQUEST is never sent to a learner, so it
/// is not parsed).
pub(super) fn parse_packet(name: &str, a: &Args) -> R<Packet> {
    let version = || {
        a.num_or("version", PROTOCOL_VERSION as u64)
            .map(|v| v as i32)
    };
    let info = |kind| -> R<Packet> {
        Ok(Packet::LearnerInfo {
            kind,
            accepted_epoch: a.epoch("accepted")?,
            sid: a.num("sid")?,
            protocol_version: version()?,
            config_version: a.num_or("config-version", 0)? as i64,
        })
    };
    Ok(match name {
        "FOLLOWERINFO" => info(LearnerKind::Follower)?,
        "OBSERVERINFO" => info(LearnerKind::Observer)?,
        "LEADERINFO" => Packet::LeaderInfo {
            new_epoch: a.epoch("epoch")?,
            protocol_version: version()?,
        },
        "ACKEPOCH" => Packet::AckEpoch {
            last_zxid: a.zxid("last")?,
            current_epoch: match a.get("epoch")? {
                "-1" => None,
                _ => Some(a.epoch("epoch")?),
            },
        },
        "DIFF" => Packet::Diff {
            zxid: a.zxid("zxid")?,
        },
        "TRUNC" => Packet::Trunc {
            zxid: a.zxid("zxid")?,
        },
        "SNAP" => Packet::Snap {
            zxid: a.zxid("zxid")?,
            image: a.bytes_or("image", Bytes::new)?,
        },
        "NEWLEADER" => Packet::NewLeader {
            zxid: a.zxid("zxid")?,
            config: a.bytes_or("config", Bytes::new)?,
        },
        "UPTODATE" => Packet::UpToDate,
        "PROPOSAL" => Packet::Proposal {
            zxid: a.zxid("zxid")?,
            txn: a.txn(a.zxid("zxid")?)?,
        },
        "ACK" => Packet::Ack {
            zxid: a.zxid("zxid")?,
        },
        "COMMIT" => Packet::Commit {
            zxid: a.zxid("zxid")?,
        },
        "INFORM" => Packet::Inform {
            zxid: a.zxid("zxid")?,
            txn: a.txn(a.zxid("zxid")?)?,
        },
        "PING" => Packet::Ping {
            zxid: a.zxid("zxid")?,
            data: a.bytes_or("data", Bytes::new)?,
        },
        "REVALIDATE" => Packet::Revalidate {
            data: a.bytes_or("data", Bytes::new)?,
        },
        "SYNC" => Packet::Sync,
        other => return Err(format!("unknown packet {other:?}")),
    })
}

/// One output as a transcript line.
pub(super) fn output(o: &Output) -> String {
    let entry = |e: &Entry| format!("{} txn={}", e.zxid, show_bytes(&e.txn));
    match o {
        Output::Notify { to, n } => format!(
            "notify to={to} leader={} zxid={} round={} state={} epoch={}",
            n.leader,
            n.zxid,
            n.round,
            n.state.role_name(),
            n.peer_epoch
        ),
        Output::Connect { to } => format!("connect to={to}"),
        Output::Send { link, packet: p } => format!("send link={} {}", link.0, packet(p)),
        Output::SendSnapshot { link, zxid } => format!("send-snapshot link={} zxid={zxid}", link.0),
        Output::Close { link } => format!("close link={}", link.0),
        Output::Persist(e) => format!("persist {}", entry(e)),
        Output::Truncate(z) => format!("truncate {z}"),
        Output::InstallSnapshot { zxid, image } => {
            format!("install-snapshot zxid={zxid} image={}", show_bytes(image))
        }
        Output::SaveSnapshot { zxid } => format!("save-snapshot zxid={zxid}"),
        Output::Reload => "reload".into(),
        Output::SetAcceptedEpoch(e) => format!("set-accepted-epoch {e}"),
        Output::SetCurrentEpoch(e) => format!("set-current-epoch {e}"),
        Output::Deliver(e) => format!("deliver {}", entry(e)),
        Output::FastForward { through } => format!("fast-forward through={through}"),
        Output::Role {
            state,
            epoch,
            leader,
        } => match leader {
            Some(l) => format!("role {} epoch={epoch} leader={l}", state.role_name()),
            None => format!("role {} epoch={epoch} leader=-", state.role_name()),
        },
        Output::Established { epoch, through } => {
            format!("established epoch={epoch} through={through}")
        }
        Output::PingFromLeader => "ping-from-leader".into(),
        Output::Touches { from, data } => format!("touches from={from} data={}", show_bytes(data)),
        Output::LearnerRequest {
            link,
            from,
            data,
            authinfo,
        } => format!(
            "learner-request link={} from={from} data={} auth={}",
            link.0,
            show_bytes(data),
            authinfo.len()
        ),
        Output::Revalidate { link, from, data } => {
            format!(
                "revalidate link={} from={from} data={}",
                link.0,
                show_bytes(data)
            )
        }
        Output::RevalidateReply { data } => format!("revalidate-reply data={}", show_bytes(data)),
        Output::SyncDone { token } => match token {
            Some(t) => format!("sync-done token={t}"),
            None => "sync-done token=-".into(),
        },
        Output::Warn(s) => format!("warn {s}"),
        Output::Info(s) => format!("info {s}"),
        Output::Left { successor } => match successor {
            Some(s) => format!("left successor={s}"),
            None => "left successor=-".into(),
        },
    }
}
