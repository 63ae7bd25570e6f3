//! Counters for the four-letter words, the AdminServer and the metrics:
//! the server-wide [`Stats`] (ZooKeeper's `ServerStats`) and each client
//! connection's [`ConnStats`] (the counters of ZooKeeper's `ServerCnxn`).
//!
//! Latencies follow ZooKeeper's arithmetic, because tools compare them
//! across servers: a request's latency is the difference of two readings
//! of a millisecond clock (when the request was read, when it was
//! answered), each truncated to whole milliseconds; averages are rounded
//! half-up to four decimals (`AvgMinMaxCounter`) for the server, and are
//! integer divisions for a connection (`ServerCnxn.getAvgLatency`).

use std::collections::VecDeque;
use std::net::SocketAddr;

use super::{ConnId, Core};
use crate::proto::OpCode;

/// A client connection as the status commands show it (`cons`, `stat`,
/// `dump`, the AdminServer's `connections`).
#[derive(Debug, Clone, Copy)]
pub struct ConnView<'a> {
    /// The connection number (accept order).
    pub conn: ConnId,
    /// The client's address.
    pub peer: SocketAddr,
    /// Its session.
    pub session: i64,
    /// The negotiated session timeout.
    pub timeout_ms: u32,
    /// Its counters.
    pub stats: &'a ConnStats,
}

impl Core {
    /// The client connections with a session (handshake read), in accept
    /// order.
    pub fn connections(&self) -> Vec<ConnView<'_>> {
        let mut v: Vec<ConnView<'_>> = self
            .conns
            .iter()
            .map(|(&conn, c)| ConnView {
                conn,
                peer: c.peer,
                session: c.session,
                timeout_ms: c.timeout_ms,
                stats: &c.stats,
            })
            .collect();
        v.sort_by_key(|c| c.conn);
        v
    }

    /// Requests read and not answered yet, over all connections
    /// (ZooKeeper's `getInProcess`: `srvr`'s `Outstanding`).
    pub fn outstanding_requests(&self) -> u64 {
        self.conns.values().map(|c| c.stats.in_flight()).sum()
    }

    /// The node count ZooKeeper reports (`srvr`, `zk_znode_count`): its
    /// node map holds the root twice (under "" and "/"), so it is one more
    /// than the nodes in the tree.
    pub fn node_count(&self) -> usize {
        self.tree.len() + 1
    }

    /// The server-wide statistics.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The core's clock at its last input (ms: monotonic, and the wall
    /// clock), to turn monotonic times into dates.
    pub fn clock(&self) -> super::Now {
        self.now
    }
}

/// ZooKeeper's `AvgMinMaxCounter`: request latency in whole milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatencyMs {
    /// Requests timed.
    pub count: u64,
    /// Sum of their latencies, ms.
    pub total_ms: u64,
    min_ms: u64,
    max_ms: u64,
}

impl Default for LatencyMs {
    fn default() -> Self {
        LatencyMs {
            count: 0,
            total_ms: 0,
            min_ms: u64::MAX,
            max_ms: 0,
        }
    }
}

impl LatencyMs {
    /// Counts one request that took `ms`.
    pub fn add(&mut self, ms: u64) {
        self.count += 1;
        self.total_ms += ms;
        self.min_ms = self.min_ms.min(ms);
        self.max_ms = self.max_ms.max(ms);
    }

    /// The smallest latency, 0 when nothing was timed.
    pub fn min_ms(&self) -> u64 {
        if self.count == 0 {
            0
        } else {
            self.min_ms
        }
    }

    /// The largest latency, 0 when nothing was timed.
    pub fn max_ms(&self) -> u64 {
        self.max_ms
    }

    /// The average, rounded half-up to four decimals as
    /// `AvgMinMaxCounter.getAvg` does (0 when nothing was timed).
    pub fn avg_ms(&self) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        round_half_up_4(self.total_ms as f64 / self.count as f64)
    }
}

/// `new BigDecimal(x).setScale(4, HALF_UP).doubleValue()`: rounds the
/// exact binary value of `x` (not a decimal approximation of it).
pub fn round_half_up_4(x: f64) -> f64 {
    if !x.is_finite() || x < 0.0 {
        return x;
    }
    // 60 fractional digits hold the binary value exactly enough that the
    // digits after the fourth decide the rounding as BigDecimal's would.
    let exact = format!("{x:.60}");
    let (int, frac) = exact.split_once('.').expect("fixed notation has a point");
    let keep = &frac[..4];
    let mut scaled: u128 = format!("{int}{keep}").parse().expect("digits");
    if frac.as_bytes()[4] >= b'5' {
        scaled += 1;
    }
    let s = format!("{}.{:04}", scaled / 10_000, scaled % 10_000);
    s.parse().expect("a decimal")
}

/// Java's `Double.toString` for the values statistics print: `0.0`, `4.5714`,
/// `12.0`, and scientific notation below 10⁻³ and from 10⁷ (`5.0E-4`).
pub fn java_double(x: f64) -> String {
    if x == 0.0 {
        return "0.0".into();
    }
    let a = x.abs();
    if (1e-3..1e7).contains(&a) {
        let s = format!("{x}");
        if s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        // Rust's shortest `{:e}` is `5e-4`; Java's is `5.0E-4`.
        let s = format!("{x:e}");
        let (mantissa, exp) = s.split_once('e').expect("exponent");
        let mantissa = if mantissa.contains('.') {
            mantissa.to_owned()
        } else {
            format!("{mantissa}.0")
        };
        format!("{mantissa}E{exp}")
    }
}

/// Server-wide request statistics (ZooKeeper's `ServerStats`).
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Packets received: every request frame, handshakes and
    /// four-letter words included (ZooKeeper's `packetReceived`).
    pub received: u64,
    /// Packets sent: replies, handshake replies, watch events and each
    /// chunk of a four-letter word's answer (ZooKeeper's `packetSent`).
    pub sent: u64,
    /// Request latency as ZooKeeper reports it (`srvr`, `mntr`'s
    /// `zk_min/avg/max_latency`): whole ms, the requests that reach
    /// ZooKeeper's FinalRequestProcessor (not auth).
    pub latency: LatencyMs,
    /// Requests timed in µs (the finer clock, for the metrics endpoint).
    pub count: u64,
    /// Sum of latencies, µs.
    pub total_us: u64,
    /// Minimum latency, µs.
    pub min_us: u64,
    /// Maximum latency, µs.
    pub max_us: u64,
    /// Connections closed because their client stopped reading (the
    /// outbox passed `ferrozk.connection.maxQueuedBytes`).
    pub overflow_closes: u64,
    /// Sizes of the proposals this server made as leader (the marshalled
    /// transaction: header, record, digest), ZooKeeper's
    /// `Leader.getProposalStats()`.
    pub proposal_sizes: BufferStats,
}

impl Stats {
    /// Records one request's latency (arrival to answer), in µs.
    pub fn record_latency_us(&mut self, us: u64) {
        if self.count == 0 || us < self.min_us {
            self.min_us = us;
        }
        self.max_us = self.max_us.max(us);
        self.total_us += us;
        self.count += 1;
    }

    /// `Latency min/avg/max: ` as `srvr` prints it: `0/0.0/0` idle,
    /// `1/4.5714/15` after some requests.
    pub fn latency_line(&self) -> String {
        format!(
            "{}/{}/{}",
            self.latency.min_ms(),
            java_double(self.latency.avg_ms()),
            self.latency.max_ms()
        )
    }

    /// Resets the counters (srst; ZooKeeper resets its metrics with them).
    pub fn reset(&mut self) {
        *self = Stats::default();
    }
}

/// ZooKeeper's `BufferStats`: the last, smallest and largest of a series
/// of sizes, -1 before the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferStats {
    /// The last size.
    pub last: i64,
    /// The smallest.
    pub min: i64,
    /// The largest.
    pub max: i64,
}

impl Default for BufferStats {
    fn default() -> Self {
        BufferStats {
            last: -1,
            min: -1,
            max: -1,
        }
    }
}

impl BufferStats {
    /// Counts one size.
    pub fn record(&mut self, size: usize) {
        let size = size as i64;
        self.last = size;
        if self.min == -1 || size < self.min {
            self.min = size;
        }
        self.max = self.max.max(size);
    }
}

impl std::fmt::Display for BufferStats {
    /// `last/min/max`, as `srvr` prints it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.last, self.min, self.max)
    }
}

/// ZooKeeper's digest log (`DataTree.digestLog`): the tree digest after
/// every transaction whose zxid is a multiple of 128, the latest 1024.
#[derive(Debug, Clone, Default)]
pub struct DigestLog {
    entries: VecDeque<(i64, i64)>,
}

impl DigestLog {
    /// Zxids logged are multiples of this (`DIGEST_LOG_INTERVAL`).
    pub const INTERVAL: i64 = 128;
    /// Entries kept (`DIGEST_LOG_LIMIT`).
    pub const LIMIT: usize = 1024;

    /// The tree digest is `digest` once `zxid` is applied.
    pub fn applied(&mut self, zxid: i64, digest: i64) {
        if zxid % Self::INTERVAL != 0 {
            return;
        }
        self.entries.push_back((zxid, digest));
        if self.entries.len() > Self::LIMIT {
            self.entries.pop_front();
        }
    }

    /// (zxid, digest), oldest first.
    pub fn entries(&self) -> impl Iterator<Item = (i64, i64)> + '_ {
        self.entries.iter().copied()
    }
}

/// A request read on a connection and not yet answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct InFlight {
    xid: i32,
    op: i32,
    /// When the connection read it, µs on the core's monotonic clock.
    received_us: u64,
}

/// One client connection's counters (ZooKeeper's `ServerCnxn` stats),
/// read by `cons`, `stat`, `dump` and the AdminServer's `connections`
/// command. The initial values are ZooKeeper's: a new connection has
/// not run [`reset`](Self::reset) yet, so its `last_cxid`/`last_zxid`
/// are 0 and its minimum latency reads 0 until the first `crst`.
#[derive(Debug, Clone)]
pub struct ConnStats {
    /// When the connection was established: ms since the Unix epoch
    /// (`cons`'s `est=`).
    pub established_ms: i64,
    /// Packets read from the client, the handshake included (`recved=`).
    pub packets_received: u64,
    /// Packets written to the client: handshake reply, replies and watch
    /// events (`sent=`).
    pub packets_sent: u64,
    /// The last operation answered, as ZooKeeper abbreviates it
    /// (FinalRequestProcessor's `lastOp`: `GETD`, `CREA`, `PING`, `SESS`,
    /// …; `NA` for a write that failed as a whole, and after a reset).
    /// `None` before the first answer (ZooKeeper prints Java's `null`).
    pub last_op: Option<&'static str>,
    /// The xid of the last answered request with a non-negative xid
    /// (`lcxid=`; -1 after a reset, when `cons` leaves it out).
    pub last_cxid: i64,
    /// The zxid in the last reply's header (`lzxid=`).
    pub last_zxid: i64,
    /// When the last reply was sent: ms on the server's monotonic clock
    /// (the core's `Now::mono_ms`; `lresp=`; 0 after a reset).
    pub last_response_ms: u64,
    /// The last request's latency, ms (`llat=`).
    pub last_latency_ms: u64,
    /// The largest latency, ms (`maxlat=`).
    pub max_latency_ms: u64,
    /// Requests timed since the last reset.
    pub count: u64,
    /// Sum of their latencies, ms.
    pub total_latency_ms: u64,
    /// When the client was last read from, ms on the core's monotonic
    /// clock: the connection's place in ZooKeeper's connection expiry
    /// queue (`dump`'s "Connections dump").
    pub last_read_ms: u64,
    /// ZooKeeper's `minLatency` field: Java's 0 at first, `u64::MAX`
    /// after a reset (read it through [`min_latency_ms`](Self::min_latency_ms)).
    min_latency_raw_ms: u64,
    /// Requests read and not answered yet, oldest first.
    in_flight: VecDeque<InFlight>,
}

impl ConnStats {
    /// The counters of a connection whose handshake (its first packet)
    /// arrived at `wall_ms` / `mono_ms`.
    pub fn new(wall_ms: i64, mono_ms: u64) -> ConnStats {
        ConnStats {
            established_ms: wall_ms,
            packets_received: 1,
            packets_sent: 0,
            last_op: None,
            last_cxid: 0,
            last_zxid: 0,
            last_response_ms: 0,
            last_latency_ms: 0,
            max_latency_ms: 0,
            count: 0,
            total_latency_ms: 0,
            last_read_ms: mono_ms,
            min_latency_raw_ms: 0,
            in_flight: VecDeque::new(),
        }
    }

    /// The smallest latency since the last reset, ms (`minlat=`; 0 when
    /// nothing was timed).
    pub fn min_latency_ms(&self) -> u64 {
        if self.min_latency_raw_ms == u64::MAX {
            0
        } else {
            self.min_latency_raw_ms
        }
    }

    /// The average latency, ms, by integer division (`avglat=`).
    pub fn avg_latency_ms(&self) -> u64 {
        self.total_latency_ms.checked_div(self.count).unwrap_or(0)
    }

    /// Requests read and not answered yet whose xid is positive
    /// (ZooKeeper's `outstandingCount`, `cons`'s `queued=`).
    pub fn outstanding(&self) -> u64 {
        self.in_flight.iter().filter(|r| r.xid > 0).count() as u64
    }

    /// Requests read and not answered yet, whatever their xid.
    pub fn in_flight(&self) -> u64 {
        self.in_flight.len() as u64
    }

    /// `crst`: ZooKeeper's `ServerCnxn.resetStats`.
    pub fn reset(&mut self) {
        self.packets_received = 0;
        self.packets_sent = 0;
        self.min_latency_raw_ms = u64::MAX;
        self.max_latency_ms = 0;
        self.last_op = Some("NA");
        self.last_cxid = -1;
        self.last_zxid = -1;
        self.last_response_ms = 0;
        self.last_latency_ms = 0;
        self.count = 0;
        self.total_latency_ms = 0;
    }

    /// A request frame was read at `received_us` (µs, core clock).
    pub(crate) fn request_read(&mut self, xid: i32, op: i32, received_us: u64) {
        self.packets_received += 1;
        self.last_read_ms = received_us / 1000;
        self.in_flight.push_back(InFlight {
            xid,
            op,
            received_us,
        });
    }

    /// The handshake of a new session is waiting for its createSession
    /// transaction: it is answered as the request `SESS`, cxid 0.
    pub(crate) fn session_pending(&mut self, received_us: u64) {
        self.in_flight.push_back(InFlight {
            xid: 0,
            op: OpCode::CreateSession.code(),
            received_us,
        });
    }

    /// A reply with `xid`, `zxid` and error `err` goes out at `now_us`:
    /// takes its request off the in-flight list and, for the requests
    /// ZooKeeper times, records it; returns the latency in ms if it was
    /// timed (the server-wide statistics count the same requests).
    pub(crate) fn replied(&mut self, xid: i32, zxid: i64, err: i32, now_us: u64) -> Option<u64> {
        self.packets_sent += 1;
        let i = self.in_flight.iter().position(|r| r.xid == xid)?;
        // Requests before it were never answered (the connection moved on).
        self.in_flight.drain(..i);
        let req = self.in_flight.pop_front().expect("found above");
        self.record(&req, zxid, err, now_us)
    }

    /// The handshake reply of a new session goes out (`zxid`: the
    /// createSession transaction's); a reconnect is not timed.
    pub(crate) fn handshake_sent(&mut self, zxid: i64, now_us: u64) -> Option<u64> {
        self.packets_sent += 1;
        let create = OpCode::CreateSession.code();
        let i = self.in_flight.iter().position(|r| r.op == create)?;
        let req = self.in_flight.remove(i).expect("found above");
        self.record(&req, zxid, 0, now_us)
    }

    fn record(&mut self, req: &InFlight, zxid: i64, err: i32, now_us: u64) -> Option<u64> {
        let op = OpCode::from_i32(req.op)?;
        let name = last_op_name(op, err)?;
        let end_ms = now_us / 1000;
        let latency = end_ms.saturating_sub(req.received_us / 1000);
        if req.xid >= 0 {
            self.last_cxid = i64::from(req.xid);
        }
        self.last_zxid = zxid;
        self.last_op = Some(name);
        self.last_response_ms = end_ms;
        self.last_latency_ms = latency;
        self.min_latency_raw_ms = self.min_latency_raw_ms.min(latency);
        self.max_latency_ms = self.max_latency_ms.max(latency);
        self.count += 1;
        self.total_latency_ms += latency;
        Some(latency)
    }
}

/// FinalRequestProcessor's `lastOp` for an answered `op`; `None` for
/// requests it never sees (auth, SASL: they are answered earlier and not
/// timed). A transaction that failed as a whole is ZooKeeper's error
/// transaction, which leaves `lastOp` at `NA`.
pub fn last_op_name(op: OpCode, err: i32) -> Option<&'static str> {
    use OpCode::*;
    let failed_txn = err != 0
        && matches!(
            op,
            Create
                | Create2
                | CreateTtl
                | CreateContainer
                | Delete
                | DeleteContainer
                | SetData
                | SetAcl
                | Check
                | Reconfig
        );
    if failed_txn {
        return Some("NA");
    }
    Some(match op {
        Ping => "PING",
        CreateSession => "SESS",
        Multi => "MULT",
        MultiRead => "MLTR",
        Create | Create2 | CreateTtl | CreateContainer => "CREA",
        Delete | DeleteContainer => "DELE",
        SetData => "SETD",
        Reconfig => "RECO",
        SetAcl => "SETA",
        CloseSession => "CLOS",
        Sync => "SYNC",
        Check => "CHEC",
        Exists => "EXIS",
        GetData => "GETD",
        SetWatches => "SETW",
        SetWatches2 => "STW2",
        AddWatch => "ADDW",
        GetAcl => "GETA",
        GetChildren | GetChildren2 => "GETC",
        GetAllChildrenNumber => "GETACN",
        CheckWatches => "CHKW",
        RemoveWatches => "REMW",
        WhoAmI => "HOMI",
        GetEphemerals => "GETE",
        Auth | Sasl | Notification | Error => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_latency_line_is_zookeepers() {
        let mut s = Stats::default();
        assert_eq!(s.latency_line(), "0/0.0/0", "idle");
        for ms in [1, 15, 2, 3, 4, 5, 2] {
            s.latency.add(ms);
        }
        assert_eq!(s.latency_line(), "1/4.5714/15");
        s.reset();
        s.latency.add(3);
        assert_eq!(s.latency_line(), "3/3.0/3");
    }

    #[test]
    fn averages_round_half_up_on_the_binary_value() {
        assert_eq!(round_half_up_4(1.0 / 32.0), 0.0313);
        assert_eq!(round_half_up_4(2.0 / 3.0), 0.6667);
        // 0.00015 is stored just below the half: BigDecimal rounds down.
        assert_eq!(round_half_up_4(3.0 / 20000.0), 0.0001);
    }

    #[test]
    fn doubles_print_as_java_does() {
        assert_eq!(java_double(0.0), "0.0");
        assert_eq!(java_double(12.0), "12.0");
        assert_eq!(java_double(4.5714), "4.5714");
        assert_eq!(java_double(0.0005), "5.0E-4");
        assert_eq!(java_double(0.00125), "0.00125");
        assert_eq!(java_double(12345678.5), "1.23456785E7");
    }

    #[test]
    fn a_connection_counts_its_replies_as_zookeeper() {
        let mut c = ConnStats::new(1_700_000_000_000, 0);
        c.session_pending(1_000);
        assert_eq!(c.handshake_sent(1, 3_500), Some(2));
        assert_eq!(c.last_op, Some("SESS"));
        assert_eq!(c.last_cxid, 0);
        c.request_read(1, OpCode::GetData.code(), 10_000);
        c.request_read(-2, OpCode::Ping.code(), 10_100);
        assert_eq!(c.outstanding(), 1, "a ping's negative xid is not counted");
        assert_eq!(c.replied(1, 7, 0, 14_999), Some(4));
        assert_eq!(c.replied(-2, 7, 0, 15_000), Some(5));
        assert_eq!((c.last_op, c.last_cxid, c.last_zxid), (Some("PING"), 1, 7));
        assert_eq!(c.min_latency_ms(), 0, "Java's field starts at 0");
        assert_eq!((c.max_latency_ms, c.avg_latency_ms()), (5, 3));
        c.reset();
        assert_eq!(
            (c.last_op, c.last_cxid, c.min_latency_ms()),
            (Some("NA"), -1, 0)
        );
        c.request_read(2, OpCode::Create.code(), 20_000);
        assert_eq!(c.replied(2, 8, -110, 22_000), Some(2));
        assert_eq!(c.last_op, Some("NA"), "a failed write is an error txn");
        assert_eq!(c.min_latency_ms(), 2);
    }
}
