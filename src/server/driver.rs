//! The driver: the one task that runs the core ([`Core`]) on tokio. It
//! turns what arrives (connection messages, quorum events, log reports,
//! timers) into [`Input`]s stamped with the clock, and performs the
//! [`Effect`]s of each call, in order, before the next: frames into the
//! connections' outboxes, transactions to the log thread, commands to the
//! quorum network, epoch files, reloads. It decides nothing about
//! ZooKeeper; a storage failure stops it with a typed error that
//! `server::run` reports.
//!
//! A graceful stop ([`Driver::with_stop`], SIGTERM) runs in two phases:
//! *draining* — no new request or forwarded write is taken (they are
//! dropped; their clients see the connection close, so none is answered
//! as done that was not), while what is in flight completes until
//! [`Core::drained`] or [`DRAIN_MS`]; then *leaving* — [`Core::leave`]
//! closes the client connections after their replies and steps out of
//! the ensemble, the quorum network closes its ports and writes its last
//! frames, and once the connections are flushed (or [`LEAVE_MS`] passed)
//! the log thread is stopped after its last fsync and `run` returns.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::mpsc;

use super::core::{ConnId, Core, CoreError, Effect, FrameKind, Input, NetEvent, Now};
use super::durability::{LogEvent, SyncStats};
use super::mailbox::{CoreMsg, Out};
use super::outbox::OutboxTx;
use super::quorum_net::QuorumNet;
use super::ServerOptions;
use crate::storage::{self, StorageError};

/// Messages handled per wake-up before timers and log reports are looked
/// at again.
const MESSAGE_BATCH: usize = 64;

/// Snapshot nodes handed over after each batch of messages (a chunk when
/// idle), so requests never wait long behind a snapshot.
const SNAPSHOT_BUDGET_BUSY: usize = 32;

/// How long a graceful stop waits for the writes in flight to be answered.
pub const DRAIN_MS: u64 = 1000;
/// How long it then waits for the connections' replies to be written and
/// the quorum network's last frames to go out.
pub const LEAVE_MS: u64 = 500;

/// Where a graceful stop stands.
enum Stopping {
    /// Requests are refused; waiting for those in flight.
    Draining { until: Instant },
    /// Connections closed; waiting for them to flush and the network to
    /// say goodbye.
    Leaving {
        until: Instant,
        closing: std::collections::HashSet<ConnId>,
        net_done: Option<tokio::sync::oneshot::Receiver<()>>,
    },
}

/// Why the driver stopped.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// The core stopped the server.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// The transaction log failed.
    #[error("transaction log {what} failed: {source}")]
    Log {
        /// What the log was doing.
        what: &'static str,
        /// The failure.
        source: StorageError,
    },
    /// Writing an epoch file failed.
    #[error("writing {file}: {source}")]
    Epoch {
        /// The file.
        file: &'static str,
        /// The failure.
        source: StorageError,
    },
}

/// The log thread, as the driver holds it.
struct Log {
    tx: super::durability::LogQueue,
    events: mpsc::UnboundedReceiver<LogEvent>,
    thread: std::thread::JoinHandle<()>,
}

/// The runtime around one core.
pub struct Driver {
    core: Core,
    opts: ServerOptions,
    epoch: Instant,
    outboxes: HashMap<ConnId, OutboxTx<Out>, ahash::RandomState>,
    log: Option<Log>,
    net: Option<QuorumNet>,
    sync_stats: Arc<SyncStats>,
    effects: Vec<Effect>,
    overflowed: Vec<(ConnId, String)>,
    /// The time of this turn of the loop: every input of one wake-up is
    /// stamped with it (two clock reads per turn, not per message).
    turn: Now,
    /// Cancelled to stop gracefully.
    stop: tokio_util::sync::CancellationToken,
    stopping: Option<Stopping>,
}

/// Microseconds in `d`, without the 128-bit division of `as_micros`.
fn micros(d: Duration) -> u64 {
    d.as_secs() * 1_000_000 + u64::from(d.subsec_micros())
}

/// The current time on the driver's clocks.
pub fn now(epoch: Instant) -> Now {
    let mono_us = micros(epoch.elapsed());
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Now {
        mono_ms: mono_us / 1000,
        mono_us,
        wall_ms: (wall.as_secs() * 1000 + u64::from(wall.subsec_millis())) as i64,
    }
}

impl Driver {
    /// A driver for `core`, whose clock started at `epoch`; `net` for an
    /// ensemble member.
    pub fn new(mut core: Core, epoch: Instant, net: Option<QuorumNet>) -> Driver {
        // The snapshot writers report to the server's metrics too.
        core.attach_store_metrics();
        let opts = core.options().clone();
        let sync_stats = Arc::new(SyncStats::with_metrics(core.metrics.clone()));
        Driver {
            core,
            opts,
            epoch,
            outboxes: HashMap::default(),
            log: None,
            net,
            sync_stats,
            effects: Vec::new(),
            overflowed: Vec::new(),
            turn: now(epoch),
            stop: tokio_util::sync::CancellationToken::new(),
            stopping: None,
        }
    }

    /// Stops gracefully when `token` is cancelled (see the module doc);
    /// `run` then returns `Ok`.
    pub fn with_stop(mut self, token: tokio_util::sync::CancellationToken) -> Driver {
        self.stop = token;
        self
    }

    /// Takes the graceful stop one step further where it can; true once
    /// it is complete (the log is stopped and closed).
    fn stop_progress(&mut self) -> Result<bool, DriverError> {
        match &mut self.stopping {
            None => Ok(false),
            Some(Stopping::Draining { until }) => {
                let drained = self.core.drained();
                if !drained && Instant::now() < *until {
                    return Ok(false);
                }
                if !drained {
                    tracing::warn!(
                        "shutdown: writes still in flight after {DRAIN_MS} ms; \
                         their clients see the connection close without an answer"
                    );
                }
                let closing = self.outboxes.keys().copied().collect();
                self.turn = now(self.epoch);
                self.core.leave(self.turn);
                self.perform()?;
                let net_done = self.net.as_ref().map(QuorumNet::shutdown);
                self.stopping = Some(Stopping::Leaving {
                    until: Instant::now() + Duration::from_millis(LEAVE_MS),
                    closing,
                    net_done,
                });
                self.stop_progress()
            }
            Some(Stopping::Leaving {
                until,
                closing,
                net_done,
            }) => {
                if let Some(rx) = net_done {
                    if !matches!(
                        rx.try_recv(),
                        Err(tokio::sync::oneshot::error::TryRecvError::Empty)
                    ) {
                        *net_done = None;
                    }
                }
                let flushed = closing.is_empty() && net_done.is_none();
                if !flushed && Instant::now() < *until {
                    return Ok(false);
                }
                self.stop_log();
                tracing::info!("shutdown: transaction log synced and closed");
                Ok(true)
            }
        }
    }

    /// When the graceful stop must move on even if nothing happens.
    fn stop_deadline(&self) -> Option<Instant> {
        match &self.stopping {
            None => None,
            Some(Stopping::Draining { until } | Stopping::Leaving { until, .. }) => Some(*until),
        }
    }

    /// Sends transactions through the log at `sink` (without it the core
    /// must run with `Durability::Memory`).
    pub fn with_log(mut self, sink: Box<dyn super::durability::TxnSink>) -> Driver {
        self.start_log(sink);
        self
    }

    /// Starts a background snapshot (after a replay at start-up); its
    /// effects are performed when [`run`](Self::run) begins.
    pub fn snapshot_now(&mut self) {
        self.turn = now(self.epoch);
        self.core
            .handle(self.turn, Input::Log(super::core::LogReport::SnapshotDue));
    }

    fn start_log(&mut self, sink: Box<dyn super::durability::TxnSink>) {
        // A fresh report channel per thread: reports of a previous log must
        // never be mistaken for this one's.
        let (tx, events) = mpsc::unbounded_channel();
        let limits = super::durability::RollLimits::from_options(&self.opts);
        let (tx, thread) = super::durability::spawn(sink, tx, self.sync_stats.clone(), limits);
        self.log = Some(Log { tx, events, thread });
    }

    /// Stops the log thread once everything sent to it is durable.
    fn stop_log(&mut self) {
        if let Some(log) = self.log.take() {
            drop(log.tx);
            let _ = log.thread.join();
        }
    }

    /// Feeds one input, at the time of the current turn, and performs its
    /// effects.
    fn input(&mut self, input: Input) -> Result<(), DriverError> {
        self.core.handle(self.turn, input);
        self.perform()
    }

    /// Performs the effects queued in the core, in order; a reload is
    /// answered at once, and outbox overflows are reported back.
    fn perform(&mut self) -> Result<(), DriverError> {
        loop {
            // One buffer, reused: no allocation per call.
            let mut batch = std::mem::take(&mut self.effects);
            self.core.drain_effects(&mut batch);
            if batch.is_empty() && self.overflowed.is_empty() {
                self.effects = batch;
                return Ok(());
            }
            for e in batch.drain(..) {
                self.effect(e)?;
            }
            self.effects = batch;
            for (conn, detail) in std::mem::take(&mut self.overflowed) {
                self.core
                    .handle(self.turn, Input::Overflowed { conn, detail });
            }
        }
    }

    fn effect(&mut self, e: Effect) -> Result<(), DriverError> {
        match e {
            Effect::Frame { conn, frame, kind } => {
                let Some(out) = self.outboxes.get(&conn) else {
                    return Ok(());
                };
                match kind {
                    FrameKind::Reply => out.push_uncounted(Out::Reply(frame)),
                    FrameKind::Handshake => out.push_uncounted(Out::Frame(frame)),
                    FrameKind::Event => {
                        let size = frame.len();
                        if let Err(e) = out.push(Out::Frame(frame), size) {
                            out.abort();
                            self.outboxes.remove(&conn);
                            self.overflowed.push((conn, e.to_string()));
                        }
                    }
                }
            }
            Effect::Close { conn } => {
                if let Some(out) = self.outboxes.remove(&conn) {
                    out.push_uncounted(Out::Close);
                }
            }
            Effect::Persist(item) => {
                let sent = self.log.as_ref().map(|l| l.tx.send(item));
                if !matches!(sent, Some(Ok(()))) {
                    return Err(DriverError::Log {
                        what: "append",
                        source: StorageError::Usage("the log thread is gone".into()),
                    });
                }
            }
            Effect::Net(cmd) => {
                if let Some(net) = &self.net {
                    net.perform(*cmd);
                }
            }
            Effect::WriteEpoch { file, epoch } => {
                storage::write_epoch(&self.opts.data_dir, file, epoch).map_err(|source| {
                    DriverError::Epoch {
                        file: file.file_name(),
                        source,
                    }
                })?;
            }
            Effect::Reload { truncate, durable } => {
                self.stop_log();
                let db = super::persist::reload(&self.opts, truncate, durable, &self.core.metrics);
                if db.is_ok() {
                    match super::persist::open_log(&self.opts) {
                        Ok(log) => self.start_log(Box::new(log)),
                        Err(source) => {
                            return Err(DriverError::Log {
                                what: "reopen",
                                source,
                            })
                        }
                    }
                }
                self.turn = now(self.epoch);
                self.core.handle(self.turn, Input::Reloaded(Box::new(db)));
            }
            Effect::Stop(e) => return Err((*e).into()),
        }
        Ok(())
    }

    /// A message was taken from the queue with `waiting` more behind it:
    /// a request samples the depth of the queue it waited in.
    fn taken(&self, m: &CoreMsg, waiting: usize) {
        let from_learner = match m {
            CoreMsg::Request { .. } => false,
            CoreMsg::Quorum(NetEvent::Packet {
                packet: crate::zab::Packet::Request { .. },
                ..
            }) => true,
            _ => return,
        };
        super::metrics::observe::request_taken(&self.core.metrics, waiting, from_learner);
    }

    fn message(&mut self, m: CoreMsg) -> Result<(), DriverError> {
        if self.stopping.is_some() {
            match m {
                // Stopping: nothing new is taken on (see the module doc).
                CoreMsg::Request { .. } => return Ok(()),
                CoreMsg::Connect { out, .. } => {
                    out.push_uncounted(Out::Close);
                    return Ok(());
                }
                CoreMsg::Quorum(NetEvent::Packet {
                    packet: crate::zab::Packet::Request { .. },
                    ..
                }) => return Ok(()),
                CoreMsg::Closed { conn } => {
                    if let Some(Stopping::Leaving { closing, .. }) = &mut self.stopping {
                        closing.remove(&conn);
                    }
                    self.outboxes.remove(&conn);
                    return self.input(Input::Closed { conn });
                }
                other => return self.message_now(other),
            }
        }
        self.message_now(m)
    }

    fn message_now(&mut self, m: CoreMsg) -> Result<(), DriverError> {
        match m {
            CoreMsg::Connect {
                conn,
                connect,
                peer,
                out,
            } => {
                self.outboxes.insert(conn, out);
                self.input(Input::Connect {
                    conn,
                    connect,
                    peer,
                })
            }
            CoreMsg::Request {
                conn,
                xid,
                op,
                body,
                at,
            } => {
                let received_us = micros(at.saturating_duration_since(self.epoch));
                self.input(Input::Request {
                    conn,
                    xid,
                    op,
                    body,
                    received_us,
                })
            }
            CoreMsg::Closed { conn } => {
                self.outboxes.remove(&conn);
                self.input(Input::Closed { conn })
            }
            CoreMsg::Quorum(ev) => self.input(Input::Quorum(ev)),
            CoreMsg::Gauges { reply } => {
                let _ = reply.send(super::metrics::gauge_samples(&self.core));
                Ok(())
            }
            CoreMsg::Admin {
                name,
                params,
                reply,
            } => {
                let answer =
                    super::admin::commands::run(&self.core, &self.sync_stats, &name, &params);
                if let Some(r) = answer.reset {
                    self.input(Input::Reset(r))?;
                }
                let _ = reply.send(answer.body);
                Ok(())
            }
            CoreMsg::FourLetter { asked, reply } => {
                // The word is a packet received before it runs (srvr
                // counts itself); its answer's packets are sent after.
                self.input(super::fourlw::received())?;
                let answer = super::fourlw::answer(&self.core, &self.sync_stats, &asked);
                for input in answer.inputs() {
                    self.input(input)?;
                }
                let _ = reply.send(answer.text);
                Ok(())
            }
        }
    }

    fn log_event(&mut self, e: LogEvent) -> Result<(), DriverError> {
        match e {
            LogEvent::Report(r) => self.input(Input::Log(r)),
            LogEvent::Failed { what, source } => Err(DriverError::Log { what, source }),
        }
    }

    /// Runs until every sender is gone or the server must stop.
    pub async fn run(mut self, mut rx: mpsc::Receiver<CoreMsg>) -> Result<(), DriverError> {
        // Whatever the core said while it was being set up.
        self.perform()?;
        // One timer, re-armed only when the deadline moves (creating a
        // timer per loop showed in the profile).
        let sleep = tokio::time::sleep_until(self.epoch.into());
        tokio::pin!(sleep);
        let mut armed_for = None;
        loop {
            let deadline = self.core.next_deadline();
            if armed_for != Some(deadline) {
                let at = self.epoch + Duration::from_millis(deadline);
                sleep.as_mut().reset(at.into());
                armed_for = Some(deadline);
            }
            let snapshot = self.core.snapshot_progress();
            let stop = self.stop.clone();
            let stop_deadline = self.stop_deadline();
            // The quorum network's goodbye, awaited here so that it wakes
            // the loop (put back below if it has not come yet).
            let mut net_rx = match &mut self.stopping {
                Some(Stopping::Leaving { net_done, .. }) => net_done.take(),
                _ => None,
            };
            let mut net_fired = false;
            let net_goodbye = async {
                match net_rx.as_mut() {
                    Some(rx) => {
                        let _ = rx.await;
                    }
                    None => std::future::pending().await,
                }
            };
            let log_events = self.log.as_mut().map(|l| &mut l.events);
            let durable = async {
                match log_events {
                    Some(d) => d.recv().await,
                    None => std::future::pending().await,
                }
            };
            let mut budget = super::core::SNAPSHOT_CHUNK;
            let stop_timer = async {
                match stop_deadline {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                _ = stop.cancelled(), if self.stopping.is_none() => {
                    self.turn = now(self.epoch);
                    tracing::info!(
                        "shutting down: no new requests; answering the {} in flight",
                        if self.core.drained() { "none" } else { "writes" }
                    );
                    self.stopping = Some(Stopping::Draining {
                        until: Instant::now() + Duration::from_millis(DRAIN_MS),
                    });
                }
                _ = stop_timer => {
                    self.turn = now(self.epoch);
                }
                _ = net_goodbye => {
                    net_fired = true;
                }
                msg = rx.recv() => match msg {
                    Some(m) => {
                        self.turn = now(self.epoch);
                        self.taken(&m, rx.len());
                        self.message(m)?;
                        // Whatever else is queued goes in the same turn: one
                        // wake-up, one select and one timer check per batch.
                        for _ in 1..MESSAGE_BATCH {
                            match rx.try_recv() {
                                Ok(m) => {
                                    self.taken(&m, rx.len());
                                    self.message(m)?
                                }
                                Err(_) => break,
                            }
                        }
                        budget = SNAPSHOT_BUDGET_BUSY;
                    }
                    None => {
                        // Every sender is gone (a stopping standalone
                        // server whose clients have all left): nothing
                        // more can arrive; close the log after its last sync.
                        self.stop_log();
                        return Ok(());
                    }
                },
                Some(event) = durable => {
                    self.turn = now(self.epoch);
                    self.log_event(event)?;
                }
                _ = &mut sleep => {
                    armed_for = None;
                    self.turn = now(self.epoch);
                }
                // Idle with a snapshot in progress: keep writing it, or give
                // a writer that is behind a millisecond.
                _ = std::future::ready(()), if snapshot == Some(false) => {
                    self.turn = now(self.epoch);
                }
                _ = tokio::time::sleep(Duration::from_millis(1)), if snapshot == Some(true) => {
                    self.turn = now(self.epoch);
                }
            };
            if !net_fired {
                if let Some(Stopping::Leaving { net_done, .. }) = &mut self.stopping {
                    *net_done = net_rx;
                }
            }
            // Log reports that queued meanwhile: the biased select would
            // otherwise let a steady stream of requests delay them.
            while let Some(event) = self.log.as_mut().and_then(|l| l.events.try_recv().ok()) {
                self.log_event(event)?;
            }
            if self.core.snapshot_progress().is_some() {
                self.input(Input::SnapshotWork(budget))?;
            }
            // Timers are due: under a steady stream of messages the sleep
            // above may never win the biased select, so look every turn.
            if self.turn.mono_ms >= self.core.next_deadline() {
                self.input(Input::Tick)?;
            }
            if self.stop_progress()? {
                return Ok(());
            }
        }
    }
}
