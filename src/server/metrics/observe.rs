//! What the core reports to the registry about one transaction or one
//! read, in ZooKeeper's terms: the change records its prep queues, and
//! the bytes written and read per top-level namespace (`DataTree`'s
//! `updateWriteStat` / `updateReadStat`).

use super::names::{Counter, SummarySet};
use super::registry::ServerMetrics;
use crate::proto::response::Response;
use crate::proto::ReadRequest;
use crate::tree::txn::{Txn, TxnBody};

/// `DataTree.STAT_OVERHEAD_BYTES`: six longs and five ints of a Stat.
const STAT_OVERHEAD_BYTES: i64 = 6 * 8 + 5 * 4;

/// `PathUtils.getTopNamespace`: the first component ("a" of "/a/b"),
/// none for the root.
fn namespace(path: &str) -> Option<&str> {
    let rest = path.strip_prefix('/')?;
    let top = rest.split('/').next()?;
    (!top.is_empty()).then_some(top)
}

/// Java's `String.length`.
fn java_len(s: &str) -> i64 {
    s.encode_utf16().count() as i64
}

fn data_len(d: &Option<bytes::Bytes>) -> i64 {
    d.as_ref().map_or(0, |d| d.len() as i64)
}

/// The change records PrepRequestProcessor adds for a transaction
/// (`outstanding_changes_queued`): a create or delete changes the node
/// and its parent, setData/setACL the node; a closing session deletes
/// each of its ephemerals (node and parent, with digests on as by
/// default); a multi adds its ops' records.
fn change_records(body: &TxnBody) -> u64 {
    match body {
        TxnBody::Create(_)
        | TxnBody::CreateTtl(_)
        | TxnBody::CreateContainer(_)
        | TxnBody::Delete(_) => 2,
        TxnBody::SetData(_) | TxnBody::SetAcl(_) => 1,
        TxnBody::CloseSession(c) => 2 * c.paths2_delete.len() as u64,
        TxnBody::Multi(ops) => ops.iter().map(|o| change_records(&o.body)).sum(),
        TxnBody::Check(_) | TxnBody::CreateSession(_) | TxnBody::Error(_) => 0,
    }
}

/// A transaction was prepared (standalone or leader). A closeSession's
/// prep (`close_session_prep_time`) is timed as ZooKeeper times it, in
/// whole ms; the core prepares it within one call at one clock reading,
/// so it takes the 0 ms ZooKeeper also reports for small sessions.
pub fn prepared(m: &ServerMetrics, txn: &Txn) {
    m.count(Counter::OutstandingChangesQueued, change_records(&txn.body));
    if matches!(txn.body, TxnBody::CloseSession(_)) {
        m.observe(super::names::Summary::CloseSessionPrepTime, 0);
    }
}

/// A transaction was applied with result `err` (0: it changed the tree):
/// the bytes each namespace was written (`write_per_namespace`: path
/// length plus data length per created, changed or deleted node).
pub fn applied(m: &ServerMetrics, body: &TxnBody, err: i32) {
    if err != 0 {
        return;
    }
    let write = |path: &str, bytes: i64| {
        if let Some(ns) = namespace(path) {
            m.observe_in(SummarySet::WritePerNamespace, ns, java_len(path) + bytes);
        }
    };
    match body {
        TxnBody::Create(t) => write(&t.path, data_len(&t.data)),
        TxnBody::CreateTtl(t) => write(&t.path, data_len(&t.data)),
        TxnBody::CreateContainer(t) => write(&t.path, data_len(&t.data)),
        TxnBody::Delete(t) => write(&t.path, 0),
        TxnBody::SetData(t) => write(&t.path, data_len(&t.data)),
        TxnBody::CloseSession(c) => {
            for p in &c.paths2_delete {
                write(p, 0);
            }
        }
        TxnBody::Multi(ops) => {
            for o in ops {
                applied(m, &o.body, 0);
            }
        }
        TxnBody::SetAcl(_) | TxnBody::Check(_) | TxnBody::CreateSession(_) | TxnBody::Error(_) => {}
    }
}

/// A read was answered with `rsp`: the bytes it read from its namespace
/// (`read_per_namespace`: path length, data or child-name bytes, and a
/// stat's size), for the reads ZooKeeper counts (getData, exists of an
/// existing node, getChildren).
pub fn read(m: &ServerMetrics, req: &ReadRequest, rsp: &Response) {
    let (path, bytes) = match (req, rsp) {
        (ReadRequest::GetData(r), Response::GetData(d)) => (&r.path, data_len(&d.data)),
        (ReadRequest::Exists(r), Response::Stat(_)) => (&r.path, 0),
        (ReadRequest::GetChildren(r, _), Response::GetChildren(c)) => {
            (&r.path, c.children.iter().map(|n| java_len(n)).sum())
        }
        (ReadRequest::GetChildren(r, _), Response::GetChildren2(c)) => {
            (&r.path, c.children.iter().map(|n| java_len(n)).sum())
        }
        _ => return,
    };
    if let Some(ns) = namespace(path) {
        m.observe_in(
            SummarySet::ReadPerNamespace,
            ns,
            java_len(path) + bytes + STAT_OVERHEAD_BYTES,
        );
    }
}

/// A transaction was applied (`finish`) at wall time `wall_ms` with
/// result `err`: per-namespace writes, `propagation_latency` (since the
/// transaction was stamped), the change records it retires where it was
/// prepared (`prepared_here`), and on an ensemble member a commit queued
/// in ZooKeeper's CommitProcessor (`request_commit_queued`).
pub fn committed(
    m: &ServerMetrics,
    txn: &Txn,
    err: i32,
    wall_ms: i64,
    prepared_here: bool,
    quorum: bool,
) {
    applied(m, &txn.body, err);
    let latency = wall_ms - txn.hdr.time;
    if latency >= 0 {
        m.observe(super::names::Summary::PropagationLatency, latency);
    }
    if prepared_here {
        m.count(
            Counter::OutstandingChangesRemoved,
            change_records(&txn.body),
        );
    }
    if quorum {
        m.count(Counter::RequestCommitQueued, 1);
    }
}

/// Watches fired by one change: ZooKeeper's `WatchManager.triggerWatch`
/// records, per path and event with watchers, how many were triggered.
pub fn watches_fired(m: &ServerMetrics, notes: &[crate::tree::data_tree::Notification]) {
    use super::names::Summary;
    use crate::proto::ops::EventType;
    let mut i = 0;
    while i < notes.len() {
        let (path, event) = (&notes[i].path, notes[i].event);
        let n = notes[i..]
            .iter()
            .take_while(|x| &x.path == path && x.event == event)
            .count();
        let s = match event {
            EventType::NodeCreated => Some(Summary::NodeCreatedWatchCount),
            EventType::NodeDeleted => Some(Summary::NodeDeletedWatchCount),
            EventType::NodeDataChanged => Some(Summary::NodeChangedWatchCount),
            EventType::NodeChildrenChanged => Some(Summary::NodeChildrenWatchCount),
            _ => None,
        };
        if let Some(s) = s {
            m.observe(s, n as i64);
        }
        i += n;
    }
}

/// A request reached the prep stage of a standalone server or leader
/// (`prep_processor_request_queued`), `queued_ms` after it was read. The
/// core prepares it within one call at one clock reading, so its prep and
/// proposal-processing times are recorded as the 0 ms they take at
/// ZooKeeper's millisecond resolution.
pub fn prep(m: &ServerMetrics, queued_ms: i64, standalone: bool) {
    use super::names::Summary;
    m.count(Counter::PrepProcessorRequestQueued, 1);
    if standalone {
        // A standalone server's SyncRequestProcessor sees every request
        // (it passes reads on); an ensemble member's, the txns it logs.
        m.count(Counter::SyncProcessorRequestQueued, 1);
    }
    m.observe(Summary::PrepProcessorQueueTime, queued_ms);
    m.observe(Summary::PrepProcessTime, 0);
    m.observe(Summary::ProposalProcessTime, 0);
}

/// The driver took a request from its queue with `waiting` messages
/// still queued behind it: the depth of the queue in front of ZooKeeper's
/// first request processor, which samples it per request it takes —
/// `prep_processor_queue_size` on a standalone server or leader (client
/// requests and, on a leader, those learners forward), and
/// `learner_request_processor_queue_size` for a follower's client
/// requests (`FollowerRequestProcessor`). `from_learner`: a request a
/// learner forwarded.
pub fn request_taken(m: &ServerMetrics, waiting: usize, from_learner: bool) {
    use super::names::Summary;
    use super::registry::Role;
    let s = match (m.role(), from_learner) {
        (Role::Standalone | Role::Leader, _) => Summary::PrepProcessorQueueSize,
        (Role::Follower, false) => Summary::LearnerRequestProcessorQueueSize,
        // A follower forwards, it takes no learner's requests; a server
        // that is down serves no request.
        (Role::Follower, true) | (Role::Down, _) => return,
    };
    m.observe(s, waiting as i64);
}

/// A reply frame of `frame_len` bytes (length prefix included) was
/// queued: ZooKeeper's client response size (header and body) and
/// `response_bytes`.
pub fn reply_sent(m: &ServerMetrics, frame_len: usize) {
    let size = frame_len.saturating_sub(4);
    m.client_response(size);
    m.count(Counter::ResponseBytes, size as u64);
}

/// A watch event frame was queued (`watch_bytes`; it is a client
/// response to ZooKeeper too).
pub fn event_sent(m: &ServerMetrics, frame_len: usize) {
    let size = frame_len.saturating_sub(4);
    m.client_response(size);
    m.count(Counter::WatchBytes, size as u64);
}

/// A connect request arrived (`packetReceived` of its frame, then
/// `processConnectRequest`'s counts; ferrozk has no connection throttle,
/// so the token deficit it records is always 0). On a member that serves
/// no clients ZooKeeper closes the connection unread.
pub fn connect_read(m: &ServerMetrics, c: &crate::proto::connect::Connect, serving: bool) {
    let r = &c.req;
    let passwd = r.passwd.as_ref().map_or(0, |p| p.len());
    let frame = 4 + 4 + 8 + 4 + 8 + 4 + passwd + usize::from(c.read_only.is_some());
    m.count(Counter::BytesReceivedCount, frame as u64);
    if !serving {
        m.count(Counter::CnxnClosedWithoutZkServerRunning, 1);
        return;
    }
    m.observe(super::names::Summary::ConnectionTokenDeficit, 0);
    m.count(Counter::ConnectionRequestCount, 1);
}

/// A quorum-network event: a leader's learner links open and close
/// (`learners`); a learner counts the proposals and commits it receives.
pub fn quorum_event(m: &ServerMetrics, ev: &crate::server::core::NetEvent) {
    use crate::server::core::NetEvent;
    use crate::zab::Packet;
    match ev {
        NetEvent::Accepted { link, .. } => m.learner_link(link.0, true),
        NetEvent::Closed { link } => m.learner_link(link.0, false),
        NetEvent::Packet { packet, .. } => match packet {
            Packet::Proposal { .. } => m.count(Counter::LearnerProposalReceivedCount, 1),
            Packet::Commit { .. } => m.count(Counter::LearnerCommitReceivedCount, 1),
            _ => {}
        },
        _ => {}
    }
}

/// A quorum packet is sent: a leader syncing a learner by DIFF or TRUNC
/// counts a diff sync (ZooKeeper's LearnerHandler counts both as
/// `diff_count`; a SNAP is `snap_count`, counted where it is sent).
pub fn packet_sent(m: &ServerMetrics, p: &crate::zab::Packet) {
    use crate::zab::Packet;
    if matches!(p, Packet::Diff { .. } | Packet::Trunc { .. }) {
        m.count(Counter::DiffCount, 1);
    }
}

/// The log thread looks at its queue before taking the next
/// transaction, `depth` waiting (`sync_processor_queue_size`, sampled as
/// SyncRequestProcessor samples its queue on every turn).
pub fn sync_queue(m: &ServerMetrics, depth: usize) {
    m.observe(super::names::Summary::SyncProcessorQueueSize, depth as i64);
}

/// The log thread took a transaction queued at `queued`
/// (`sync_processor_queue_time_ms`).
pub fn sync_taken(m: &ServerMetrics, queued: std::time::Instant) {
    let ms = queued.elapsed().as_millis() as i64;
    m.observe(super::names::Summary::SyncProcessorQueueTime, ms);
}

/// The log thread synced a group of transactions, queued at `queued`
/// each: it started on the group at `started` and began writing and
/// syncing at `flushing`. ZooKeeper's SyncRequestProcessor and FileTxnLog
/// record the group (`sync_processor_batch_size`), its flush (`fsynctime`,
/// `sync_processor_queue_flush_time_ms`), the whole pass
/// (`sync_process_time`), and per transaction the time from its queueing
/// to the end of the flush (`sync_processor_queue_and_flush_time_ms`),
/// all in ms.
pub fn synced(
    m: &ServerMetrics,
    queued: &[std::time::Instant],
    started: std::time::Instant,
    flushing: std::time::Instant,
) {
    use super::names::Summary;
    let ms = |since: std::time::Instant| since.elapsed().as_millis() as i64;
    m.observe(Summary::SyncProcessorBatchSize, queued.len() as i64);
    m.observe(Summary::FsyncTime, ms(flushing));
    m.observe(Summary::SyncProcessorQueueFlushTime, ms(flushing));
    for &at in queued {
        m.observe(Summary::SyncProcessorQueueAndFlushTime, ms(at));
    }
    m.observe(Summary::SyncProcessTime, ms(started));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_namespace_is_the_first_component() {
        assert_eq!(namespace("/a/b"), Some("a"));
        assert_eq!(namespace("/eph"), Some("eph"));
        assert_eq!(namespace("/"), None);
    }
}
