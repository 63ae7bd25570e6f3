//! The session supervisor: one task per client that owns the request
//! channel across connections, connects and reconnects, primes each new
//! connection (auth packets, then setWatches), and turns connection
//! outcomes into session states.
//!
//! States, as the Java client has them: a lost connection fails what was in
//! flight or queued with ConnectionLoss, reports `Disconnected`, and the
//! supervisor tries the servers again (round robin over a list shuffled
//! once) with the same session id and password. A handshake answered with
//! timeOut <= 0 means the session expired: `Expired`, everything fails with
//! SessionExpired, the task ends. A rejected auth packet ends it the same
//! way with `AuthFailed`; `close()` with `Closed`.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Notify};
use tokio::time::{sleep, timeout, Instant};

use ferrozk_proto::jute::Jute;
use ferrozk_proto::ops::{OpCode, XID_AUTH, XID_SET_WATCHES};
use ferrozk_proto::records::proto::{AuthPacket, ConnectRequest};

use super::conn::{
    frame_with_xid, handshake, read_loop, Command, ConnEnd, Handshake, Inflight, Writer,
};
use super::error::Error;
use super::hosts::Chroot;
use super::types::{EventType, KeeperState, WatchedEvent};
use super::watches::WatchTable;

/// Session identity and the negotiated timeout.
#[derive(Debug, Clone, Default)]
pub struct SessionInfo {
    /// 0 until the first handshake.
    pub id: i64,
    /// The session password.
    pub passwd: Bytes,
    /// Negotiated session timeout in ms.
    pub timeout_ms: i32,
}

/// State shared by the client handles, the supervisor and the reader.
pub struct Shared {
    /// Path mapping.
    pub chroot: Chroot,
    state: Mutex<KeeperState>,
    events: mpsc::UnboundedSender<WatchedEvent>,
    /// Watches the server holds for this session.
    pub watches: Mutex<WatchTable>,
    /// The highest zxid seen in a reply.
    pub last_zxid: AtomicI64,
    /// Session identity.
    pub session: Mutex<SessionInfo>,
    /// Auth infos to replay on every connection.
    pub auths: Mutex<Vec<(String, Bytes)>>,
    /// `close()` has begun.
    pub closing: AtomicBool,
    /// Wakes the supervisor for `close()`.
    pub shutdown: Notify,
}

impl Shared {
    /// Queues a watch event.
    pub fn emit(&self, ev: WatchedEvent) {
        let _ = self.events.send(ev);
    }

    /// Queues client-generated watch-removal events for a server path.
    pub fn emit_removed(&self, server_path: &str, removed: &[EventType]) {
        let state = *self.state.lock();
        for &event_type in removed {
            let path = Some(self.chroot.to_client(server_path.to_string()));
            self.emit(WatchedEvent {
                event_type,
                keeper_state: state,
                path,
                zxid: -1,
            });
        }
    }

    /// Moves to `s`, queueing a state event if it changed.
    pub fn set_state(&self, s: KeeperState) {
        let mut st = self.state.lock();
        if *st != s {
            *st = s;
            let _ = self.events.send(WatchedEvent::state(s));
        }
    }

    /// The current state.
    pub fn state(&self) -> KeeperState {
        *self.state.lock()
    }

    /// What a request fails with when the supervisor cannot take it.
    pub fn dead_error(&self) -> Error {
        match self.state() {
            KeeperState::Expired => Error::SessionExpired,
            KeeperState::AuthFailed => Error::AuthFailed,
            KeeperState::Closed => Error::Closed,
            _ if self.closing.load(Ordering::Acquire) => Error::Closed,
            _ => Error::ConnectionLoss,
        }
    }
}

/// Connection options.
#[derive(Debug, Clone)]
pub struct Options {
    /// Servers, tried round robin in this order.
    pub hosts: Vec<(String, u16)>,
    /// Requested session timeout.
    pub session_timeout: Duration,
    /// Limit for one TCP connect + handshake.
    pub attempt_timeout: Duration,
    /// Send readOnly=true in the handshake.
    pub read_only: bool,
    /// Largest reply frame accepted.
    pub max_frame: usize,
}

/// The supervisor task's state.
pub struct Supervisor {
    shared: Arc<Shared>,
    rx: mpsc::UnboundedReceiver<Command>,
    next_xid: i32,
    next_host: usize,
    opts: Options,
}

/// A new client's pieces: shared state, request sender, event receiver.
pub type Started = (
    Arc<Shared>,
    mpsc::UnboundedSender<Command>,
    mpsc::UnboundedReceiver<WatchedEvent>,
);

impl Supervisor {
    /// Connects (retrying until `deadline`) and spawns the supervisor task.
    pub async fn start(
        mut opts: Options,
        chroot: Chroot,
        resume: Option<(i64, Bytes)>,
        deadline: Instant,
    ) -> Result<Started, Error> {
        shuffle(&mut opts.hosts);
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        let (tx, rx) = mpsc::unbounded_channel();
        let (id, passwd) = resume.unwrap_or((0, Bytes::from_static(&[0; 16])));
        let shared = Arc::new(Shared {
            chroot,
            state: Mutex::new(KeeperState::Disconnected),
            events: ev_tx,
            watches: Mutex::new(WatchTable::default()),
            last_zxid: AtomicI64::new(0),
            session: Mutex::new(SessionInfo {
                id,
                passwd,
                timeout_ms: 0,
            }),
            auths: Mutex::new(Vec::new()),
            closing: AtomicBool::new(false),
            shutdown: Notify::new(),
        });
        let mut sup = Supervisor {
            shared: shared.clone(),
            rx,
            next_xid: 1,
            next_host: 0,
            opts,
        };
        let mut backoff = Duration::ZERO;
        let first = loop {
            match timeout(
                deadline.saturating_duration_since(Instant::now()),
                sup.connect_round(),
            )
            .await
            {
                Ok(Ok(h)) => break h,
                Ok(Err(Error::SessionExpired)) => return Err(Error::SessionExpired),
                Ok(Err(e)) if Instant::now() + backoff >= deadline => return Err(e),
                Err(_) => return Err(Error::Timeout),
                Ok(Err(_)) => {}
            }
            backoff = (backoff * 2).clamp(Duration::from_millis(50), Duration::from_secs(1));
            sleep(backoff).await;
        };
        tokio::spawn(sup.run(first));
        Ok((shared, tx, ev_rx))
    }

    /// Tries each server once, from where the last round stopped.
    async fn connect_round(&mut self) -> Result<Handshake, Error> {
        let mut last = Error::ConnectionLoss;
        for _ in 0..self.opts.hosts.len() {
            let (host, port) = self.opts.hosts[self.next_host].clone();
            self.next_host = (self.next_host + 1) % self.opts.hosts.len();
            match self.connect_one(&host, port).await {
                Ok(h @ Handshake::Connected { .. }) => return Ok(h),
                Ok(Handshake::Expired) => return Err(Error::SessionExpired),
                Err(e) => {
                    tracing::debug!(%host, port, error = %e, "connect attempt failed");
                    last = e;
                }
            }
        }
        Err(last)
    }

    async fn connect_one(&self, host: &str, port: u16) -> Result<Handshake, Error> {
        let session = self.shared.session.lock().clone();
        let req = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: self.shared.last_zxid.load(Ordering::Acquire),
            time_out: self.opts.session_timeout.as_millis() as i32,
            session_id: session.id,
            passwd: Some(session.passwd),
        };
        let mut last = Error::ConnectionLoss;
        for addr in tokio::net::lookup_host((host, port)).await? {
            let attempt = async {
                let stream = TcpStream::connect(addr).await?;
                handshake(
                    stream,
                    req.clone(),
                    self.opts.read_only,
                    self.opts.max_frame,
                )
                .await
            };
            match timeout(self.opts.attempt_timeout, attempt).await {
                Ok(Ok(h)) => return Ok(h),
                Ok(Err(e)) => last = e,
                Err(_) => last = Error::Timeout,
            }
        }
        Err(last)
    }

    /// The task: serve connections until the session ends.
    async fn run(mut self, first: Handshake) {
        let mut next = Some(first);
        loop {
            let h = match next.take() {
                Some(h) => h,
                None => match self.reconnect().await {
                    Some(h) => h,
                    None => break,
                },
            };
            let (end, inflight) = self.serve(h).await;
            let closing = self.shared.closing.load(Ordering::Acquire);
            let fail: fn() -> Error = match end {
                ConnEnd::Dropped => {
                    inflight.lock().fail_all(|| Error::Closed);
                    return;
                }
                ConnEnd::AuthFailed => {
                    self.shared.set_state(KeeperState::AuthFailed);
                    || Error::AuthFailed
                }
                ConnEnd::Lost(_) if closing => {
                    self.shared.set_state(KeeperState::Closed);
                    || Error::Closed
                }
                ConnEnd::Lost(e) => {
                    tracing::debug!(error = %e, "connection lost");
                    self.shared.set_state(KeeperState::Disconnected);
                    || Error::ConnectionLoss
                }
            };
            inflight.lock().fail_all(fail);
            self.drain(fail);
            if self.shared.state().is_terminal() {
                break;
            }
        }
        self.rx.close();
        let shared = self.shared.clone();
        self.drain(|| shared.dead_error());
    }

    /// Reconnects with backoff; `None` when the session is over.
    async fn reconnect(&mut self) -> Option<Handshake> {
        let mut backoff = Duration::ZERO;
        loop {
            if self.rx.is_closed() {
                return None;
            }
            let shared = self.shared.clone();
            let r = tokio::select! {
                r = self.connect_round() => r,
                _ = shared.shutdown.notified() => Err(Error::Closed),
            };
            match r {
                Ok(h) => return Some(h),
                Err(Error::SessionExpired) => {
                    self.shared.set_state(KeeperState::Expired);
                    self.drain(|| Error::SessionExpired);
                    return None;
                }
                Err(Error::Closed) => {
                    self.shared.set_state(KeeperState::Closed);
                    return None;
                }
                Err(_) => self.drain(|| Error::ConnectionLoss),
            }
            backoff = (backoff * 2).clamp(Duration::from_millis(50), Duration::from_secs(1));
            tokio::select! {
                _ = sleep(backoff) => {}
                _ = shared.shutdown.notified() => {
                    self.shared.set_state(KeeperState::Closed);
                    return None;
                }
            }
        }
    }

    /// Fails every queued request.
    fn drain(&mut self, err: impl Fn() -> Error) {
        while let Ok(cmd) = self.rx.try_recv() {
            if let Some(tx) = cmd.tx {
                let _ = tx.send(Err(err()));
            }
        }
    }

    /// Runs one connection until it ends; returns how, and what it left unanswered.
    async fn serve(&mut self, h: Handshake) -> (ConnEnd, Arc<Mutex<Inflight>>) {
        let Handshake::Connected {
            stream,
            rest,
            rsp,
            read_only,
        } = h
        else {
            unreachable!("serve is only given established connections");
        };
        {
            let mut s = self.shared.session.lock();
            s.id = rsp.session_id;
            s.passwd = rsp.passwd.unwrap_or_default();
            s.timeout_ms = rsp.time_out;
        }
        let negotiated = Duration::from_millis(rsp.time_out as u64);
        self.shared.set_state(if read_only {
            KeeperState::ConnectedReadOnly
        } else {
            KeeperState::SyncConnected
        });
        let prime = self.prime();
        let (rd, wr) = stream.into_split();
        let inflight = Arc::new(Mutex::new(Inflight::default()));
        let mut reader = tokio::spawn(read_loop(
            rd,
            rest,
            self.shared.clone(),
            inflight.clone(),
            negotiated * 2 / 3,
            self.opts.max_frame,
        ));
        let shared = self.shared.clone();
        let mut writer = Writer {
            rx: &mut self.rx,
            next_xid: &mut self.next_xid,
        };
        let mut reader_done = false;
        let end = tokio::select! {
            r = &mut reader => {
                reader_done = true;
                r.unwrap_or_else(|e| ConnEnd::Lost(Error::Protocol(format!("reader: {e}"))))
            }
            w = writer.run(wr, prime, &inflight, negotiated / 3) => w,
            _ = shared.shutdown.notified() => ConnEnd::Lost(Error::Closed),
        };
        if !reader_done {
            // Wait for the reader to stop so nothing it does lands after
            // the state change that follows.
            reader.abort();
            let _ = reader.await;
        }
        (end, inflight)
    }

    /// The frames that open a connection: auth packets, then setWatches.
    fn prime(&self) -> Vec<Command> {
        let mut out = Vec::new();
        for (scheme, auth) in self.shared.auths.lock().iter() {
            let p = AuthPacket {
                r#type: 0,
                scheme: scheme.clone(),
                auth: Some(auth.clone()),
            };
            let frame = frame_with_xid(XID_AUTH, OpCode::Auth.code(), |o| p.encode(o));
            out.push(Command {
                frame,
                auth: true,
                reg: Default::default(),
                tx: None,
            });
        }
        let zxid = self.shared.last_zxid.load(Ordering::Acquire);
        for (op, body) in self.shared.watches.lock().set_watches(zxid) {
            let frame = frame_with_xid(XID_SET_WATCHES, op.code(), |o| o.extend_from_slice(&body));
            out.push(Command {
                frame,
                auth: false,
                reg: Default::default(),
                tx: None,
            });
        }
        out
    }
}

/// Shuffles the server list once, as `StaticHostProvider` does.
fn shuffle<T>(v: &mut [T]) {
    let mut seed = {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(0);
        h.finish() | 1
    };
    for i in (1..v.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        v.swap(i, (seed % (i as u64 + 1)) as usize);
    }
}
