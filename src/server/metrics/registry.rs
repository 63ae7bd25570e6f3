//! `ServerMetrics`: one server's counters, summaries and summary sets, and
//! which gauges its current role registers.
//!
//! One registry per server (the core owns it in an `Arc`; the log thread
//! and the `/metrics` endpoint hold clones), never a process-wide one:
//! tests and the simulator run several servers in one process. Updates
//! are side observations — relaxed atomics and uncontended locks — that
//! nothing in the core reads back to decide anything.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use parking_lot::Mutex;

use super::java_map::JavaMap;
use super::names::{self, Counter, Level, Summary, SummarySet};
use super::prom::PromSink;
use super::summary::{SummaryData, SummaryView};
use crate::server::core::stats::BufferStats;

/// Which ZooKeeperServer subclass ZooKeeper would be running: it decides
/// which gauges are registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `ZooKeeperServer` (standalone).
    Standalone,
    /// `LeaderZooKeeperServer`.
    Leader,
    /// `FollowerZooKeeperServer`.
    Follower,
    /// No server: electing (or syncing) — `mntr` is refused meanwhile.
    Down,
}

impl Role {
    /// The role a server starts in: standalone, or down until an ensemble
    /// member is elected and synced.
    pub fn initial(opts: &crate::server::ServerOptions) -> Role {
        if opts.ensemble.is_some() {
            Role::Down
        } else {
            Role::Standalone
        }
    }

    fn gauges(self) -> Vec<&'static str> {
        let quorum = |extra: &[&'static str]| {
            let mut v = names::SERVER_GAUGES.to_vec();
            v.extend_from_slice(names::QUORUM_GAUGES);
            v.extend_from_slice(extra);
            v
        };
        match self {
            Role::Standalone => names::SERVER_GAUGES.to_vec(),
            Role::Leader => quorum(names::LEADER_GAUGES),
            Role::Follower => quorum(names::FOLLOWER_GAUGES),
            Role::Down => Vec::new(),
        }
    }
}

/// A summary set: a summary per key, keys in ZooKeeper's map order.
#[derive(Debug, Default)]
struct SetData {
    order: JavaMap,
    by_key: HashMap<String, SummaryData>,
}

/// Times the quorum-role summaries measure from (core milliseconds).
#[derive(Debug, Default, Clone, Copy)]
struct Marks {
    looking_since: Option<u64>,
    unavailable_since: Option<u64>,
    syncing_since: Option<u64>,
    role_since: Option<u64>,
    leading_since: Option<u64>,
}

/// Role bookkeeping: the registered gauges and the marks.
#[derive(Debug)]
struct RoleState {
    role: Role,
    gauges: JavaMap,
    marks: Marks,
}

/// One server's metrics.
pub struct ServerMetrics {
    counters: Vec<AtomicU64>,
    summaries: Vec<Mutex<SummaryData>>,
    sets: Vec<Mutex<SetData>>,
    role: Mutex<RoleState>,
    client_responses: Mutex<BufferStats>,
    /// The clock `uptime` reads: when this registry was made, and the
    /// core's monotonic time then.
    created: Instant,
    created_ms: u64,
    extra: ServerCounts,
    prom: Option<PromSink>,
}

impl std::fmt::Debug for ServerMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerMetrics")
            .field("role", &self.role.lock().role)
            .finish_non_exhaustive()
    }
}

impl ServerMetrics {
    /// A registry for a server whose core clock reads `now_ms`, in `role`;
    /// with a Prometheus sink when `prometheus` (summaries then also feed
    /// its quantile sketches).
    pub fn new(role: Role, now_ms: u64, prometheus: bool) -> ServerMetrics {
        let mut state = RoleState {
            role: Role::Down,
            gauges: JavaMap::new(),
            marks: Marks::default(),
        };
        for g in role.gauges() {
            state.gauges.insert(g);
        }
        state.role = role;
        if role == Role::Down {
            state.marks.looking_since = Some(now_ms);
            state.marks.unavailable_since = Some(now_ms);
        }
        state.marks.role_since = Some(now_ms);
        ServerMetrics {
            counters: Counter::ALL.iter().map(|_| AtomicU64::new(0)).collect(),
            summaries: Summary::ALL
                .iter()
                .map(|s| Mutex::new(SummaryData::new(s.level() == Level::Advanced)))
                .collect(),
            sets: SummarySet::ALL
                .iter()
                .map(|_| Mutex::new(SetData::default()))
                .collect(),
            role: Mutex::new(state),
            client_responses: Mutex::default(),
            created: Instant::now(),
            created_ms: now_ms,
            extra: ServerCounts::default(),
            prom: prometheus.then(PromSink::new),
        }
    }

    /// Adds `n` to a counter.
    pub fn count(&self, c: Counter, n: u64) {
        self.counters[c as usize].fetch_add(n, Ordering::Relaxed);
    }

    /// A counter's value.
    pub fn counter(&self, c: Counter) -> u64 {
        self.counters[c as usize].load(Ordering::Relaxed)
    }

    /// Adds one observation to a summary.
    pub fn observe(&self, s: Summary, v: i64) {
        self.summaries[s as usize].lock().add(v);
        if let Some(p) = &self.prom {
            p.observe(s, v);
        }
    }

    /// A summary's values.
    pub fn summary(&self, s: Summary) -> SummaryView {
        self.summaries[s as usize].lock().view()
    }

    /// Adds one observation under `key` of a summary set.
    pub fn observe_in(&self, set: SummarySet, key: &str, v: i64) {
        {
            let mut d = self.sets[set as usize].lock();
            match d.by_key.get_mut(key) {
                Some(s) => s.add(v),
                None => {
                    let mut s = SummaryData::new(set.level() == Level::Advanced);
                    s.add(v);
                    d.by_key.insert(key.to_owned(), s);
                    d.order.insert(key);
                }
            }
        }
        if let Some(p) = &self.prom {
            p.observe_in(set, key, v);
        }
    }

    /// A summary set's keys and values, in ZooKeeper's order.
    pub fn set_views(&self, set: SummarySet) -> Vec<(String, SummaryView)> {
        let d = self.sets[set as usize].lock();
        d.order
            .keys()
            .filter_map(|k| d.by_key.get(k).map(|s| (k.to_owned(), s.view())))
            .collect()
    }

    /// A client response of `size` bytes (header and body, as ZooKeeper's
    /// `updateClientResponseSize` counts).
    pub fn client_response(&self, size: usize) {
        self.client_responses.lock().record(size);
    }

    /// The client response sizes seen.
    pub fn client_responses(&self) -> BufferStats {
        *self.client_responses.lock()
    }

    /// A leader's proposal (its sizes are the core's
    /// `Stats::proposal_sizes`, which `srvr` prints too).
    pub fn proposal(&self) {
        self.count(Counter::ProposalCount, 1);
    }

    /// `srst`: ZooKeeper's `ServerStats.reset` resets the response sizes
    /// and every counter and summary of `ServerMetrics` (gauges are not
    /// stored, so nothing to reset).
    pub fn reset(&self) {
        for c in &self.counters {
            c.store(0, Ordering::Relaxed);
        }
        for s in &self.summaries {
            s.lock().reset();
        }
        for set in &self.sets {
            for s in set.lock().by_key.values_mut() {
                s.reset();
            }
        }
        *self.client_responses.lock() = BufferStats::default();
    }

    /// The core's monotonic time now (for gauges read between inputs).
    pub fn now_ms(&self) -> u64 {
        self.created_ms + self.created.elapsed().as_millis() as u64
    }

    /// The current role.
    pub fn role(&self) -> Role {
        self.role.lock().role
    }

    /// The current role and its registered gauges, in ZooKeeper's order.
    pub fn gauges(&self) -> (Role, Vec<String>) {
        let r = self.role.lock();
        (r.role, r.gauges.keys().map(str::to_owned).collect())
    }

    /// Milliseconds since the current role's server started (`uptime`),
    /// and since this server leads (`leader_uptime`).
    pub fn uptimes(&self) -> (u64, Option<u64>) {
        let now = self.now_ms();
        let m = self.role.lock().marks;
        (
            now.saturating_sub(m.role_since.unwrap_or(self.created_ms)),
            m.leading_since.map(|t| now.saturating_sub(t)),
        )
    }

    /// The Zab role changed at `now_ms` (`Output::Role`): counts LOOKING
    /// rounds, times elections, and starts the clocks of syncing and of
    /// unavailability.
    pub fn zab_role(&self, state: crate::zab::ServerState, now_ms: u64) {
        use crate::zab::ServerState as S;
        let mut r = self.role.lock();
        match state {
            S::Looking => {
                self.count(Counter::LookingCount, 1);
                r.marks.looking_since = Some(now_ms);
                r.marks.unavailable_since.get_or_insert(now_ms);
            }
            S::Leading | S::Following | S::Observing => {
                if let Some(t) = r.marks.looking_since.take() {
                    self.observe(Summary::ElectionTime, now_ms.saturating_sub(t) as i64);
                }
                r.marks.syncing_since = Some(now_ms);
                r.marks.unavailable_since.get_or_insert(now_ms);
            }
        }
    }

    /// This member started or stopped serving clients at `now_ms` (as a
    /// leader when `leading`): ZooKeeper starts (stops) its role's
    /// ZooKeeperServer then, which registers (unregisters) its gauges.
    pub fn serving(&self, serving: bool, leading: bool, now_ms: u64) {
        let mut r = self.role.lock();
        let old = r.role;
        for g in old.gauges() {
            r.gauges.remove(g);
        }
        if !serving {
            r.role = Role::Down;
            r.marks.unavailable_since.get_or_insert(now_ms);
            r.marks.leading_since = None;
            return;
        }
        let role = if leading {
            Role::Leader
        } else {
            Role::Follower
        };
        for g in role.gauges() {
            r.gauges.insert(g);
        }
        r.role = role;
        r.marks.role_since = Some(now_ms);
        if let Some(t) = r.marks.unavailable_since.take() {
            let ms = now_ms.saturating_sub(t) as i64;
            self.observe(Summary::UnavailableTime, ms);
            if leading {
                self.observe(Summary::LeaderUnavailableTime, ms);
            }
        }
        if let Some(t) = r.marks.syncing_since.take() {
            if !leading {
                self.observe(Summary::FollowerSyncTime, now_ms.saturating_sub(t) as i64);
            }
        }
        r.marks.leading_since = leading.then_some(now_ms);
    }

    /// The Prometheus sink, when the provider is configured.
    pub fn prometheus(&self) -> Option<&PromSink> {
        self.prom.as_ref()
    }
}

impl ServerMetrics {
    /// A request read at `received_us` answered at `now_us` (core µs): its
    /// latency in ZooKeeper's arithmetic (the difference of two readings
    /// of a millisecond clock) goes to `s` (`readlatency` for requests
    /// without a transaction, `updatelatency` for those with one).
    pub fn latency(&self, s: Summary, now_us: u64, received_us: u64) {
        let ms = (now_us / 1000).saturating_sub(received_us / 1000);
        self.observe(s, ms as i64);
    }
}

/// Counts that belong to the server rather than to `ServerMetrics` in
/// ZooKeeper (`ServerStats`' auth failures, the leader's learner
/// handlers), kept here so every metric has one home.
#[derive(Debug, Default)]
pub(super) struct ServerCounts {
    pub(super) auth_failed: AtomicU64,
    pub(super) learner_links: Mutex<std::collections::BTreeSet<u64>>,
}

impl ServerMetrics {
    /// An auth request failed (`ServerStats.incrementAuthFailedCount`).
    pub fn auth_failed(&self) {
        self.extra.auth_failed.fetch_add(1, Ordering::Relaxed);
    }

    /// Auth failures so far.
    pub fn counter_auth_failed(&self) -> u64 {
        self.extra.auth_failed.load(Ordering::Relaxed)
    }

    /// A leader's quorum link opened (`open`) or closed: each open one is
    /// a learner handler (`learners`).
    pub fn learner_link(&self, link: u64, open: bool) {
        let mut l = self.extra.learner_links.lock();
        if open {
            l.insert(link);
        } else {
            l.remove(&link);
        }
    }

    /// Open learner links.
    pub fn learner_links(&self) -> usize {
        self.extra.learner_links.lock().len()
    }

    /// Observers synced with this server: ferrozk's members serve no
    /// observers as an observer master, and its leader counts its
    /// observers among the links, not here.
    pub fn synced_observers(&self) -> usize {
        0
    }
}

impl Default for ServerMetrics {
    /// A standalone server's registry without Prometheus (tests, tools).
    fn default() -> Self {
        ServerMetrics::new(Role::Standalone, 0, false)
    }
}
