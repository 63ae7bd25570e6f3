//! The `Client` handle: construction, the request plumbing every call goes
//! through, session accessors, the event stream, `raw_request` and `close`.
//! The typed ZooKeeper calls are in `api.rs`.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use parking_lot::Mutex;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{timeout, Instant};

use ferrozk_proto::ops::OpCode;
use ferrozk_proto::path;
use ferrozk_proto::records::proto::ReplyHeader;

use super::conn::{self, Command, Reply};
use super::error::Error;
use super::hosts::ConnectString;
use super::session::{Options, Shared, Supervisor};
use super::types::{KeeperState, WatchedEvent};
use super::watches::WatchReg;

/// An asynchronous ZooKeeper client: one session, pipelined requests.
///
/// Cheap to clone; clones share the session. Calls may be issued
/// concurrently from many tasks; they are sent in call order and answered
/// in that order. The session ends when `close()` is called or the last
/// clone is dropped (then without closeSession: the server lets it expire).
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    tx: mpsc::UnboundedSender<Command>,
    shared: Arc<Shared>,
    events: Mutex<Option<mpsc::UnboundedReceiver<WatchedEvent>>>,
    request_timeout: Option<Duration>,
    validate_paths: bool,
}

/// Options for [`Client`]; start from [`Client::builder`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    connect_string: String,
    session_timeout: Duration,
    connect_timeout: Option<Duration>,
    read_only: bool,
    session: Option<(i64, Bytes)>,
    request_timeout: Option<Duration>,
    max_frame_len: usize,
    validate_paths: bool,
}

impl ClientBuilder {
    /// Allow a read-only server (sends readOnly=true in the handshake).
    pub fn read_only(mut self, allowed: bool) -> Self {
        self.read_only = allowed;
        self
    }

    /// Resume an existing session instead of creating one.
    pub fn session(mut self, id: i64, password: Bytes) -> Self {
        self.session = Some((id, password));
        self
    }

    /// How long `connect` keeps trying before giving up (default: the
    /// session timeout).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = Some(d);
        self
    }

    /// Fail a call with [`Error::Timeout`] when no reply arrives within `d`
    /// (default: wait until the reply or the connection's end).
    pub fn request_timeout(mut self, d: Duration) -> Self {
        self.request_timeout = Some(d);
        self
    }

    /// The largest reply frame accepted (default 16 MiB).
    pub fn max_frame_len(mut self, n: usize) -> Self {
        self.max_frame_len = n;
        self
    }

    /// Check paths client-side before sending, as the Java client does
    /// (default true; turn off to see how a server treats bad paths).
    pub fn validate_paths(mut self, on: bool) -> Self {
        self.validate_paths = on;
        self
    }

    /// Connects and establishes (or resumes) the session.
    pub async fn connect(self) -> Result<Client, Error> {
        let cs = ConnectString::parse(&self.connect_string)?;
        let connect_timeout = self.connect_timeout.unwrap_or(self.session_timeout);
        let per_host = self.session_timeout / cs.hosts.len() as u32;
        let opts = Options {
            hosts: cs.hosts,
            session_timeout: self.session_timeout,
            attempt_timeout: per_host
                .min(connect_timeout)
                .max(Duration::from_millis(100)),
            read_only: self.read_only,
            max_frame: self.max_frame_len,
        };
        let deadline = Instant::now() + connect_timeout;
        let (shared, tx, events) =
            Supervisor::start(opts, cs.chroot, self.session, deadline).await?;
        Ok(Client {
            inner: Arc::new(Inner {
                tx,
                shared,
                events: Mutex::new(Some(events)),
                request_timeout: self.request_timeout,
                validate_paths: self.validate_paths,
            }),
        })
    }
}

impl Client {
    /// Options for connecting to `connect_string` (`"h:p,h:p[/chroot]"`).
    pub fn builder(connect_string: &str, session_timeout: Duration) -> ClientBuilder {
        ClientBuilder {
            connect_string: connect_string.to_string(),
            session_timeout,
            connect_timeout: None,
            read_only: false,
            session: None,
            request_timeout: None,
            max_frame_len: 16 << 20,
            validate_paths: true,
        }
    }

    /// Connects with default options.
    pub async fn connect(connect_string: &str, session_timeout: Duration) -> Result<Client, Error> {
        Client::builder(connect_string, session_timeout)
            .connect()
            .await
    }

    /// The session id.
    pub fn session_id(&self) -> i64 {
        self.inner.shared.session.lock().id
    }

    /// The session password (with the id, enough to resume the session).
    pub fn session_password(&self) -> Bytes {
        self.inner.shared.session.lock().passwd.clone()
    }

    /// The session timeout the server granted.
    pub fn negotiated_timeout(&self) -> Duration {
        Duration::from_millis(self.inner.shared.session.lock().timeout_ms.max(0) as u64)
    }

    /// The current session state.
    pub fn state(&self) -> KeeperState {
        self.inner.shared.state()
    }

    /// The highest zxid seen in a reply.
    pub fn last_zxid(&self) -> i64 {
        self.inner.shared.last_zxid.load(Ordering::Acquire)
    }

    /// The ordered stream of watch events and session-state changes. An
    /// event is queued before any reply that arrived after it completes.
    ///
    /// # Panics
    /// If called twice: there is one stream per session.
    pub fn events(&self) -> mpsc::UnboundedReceiver<WatchedEvent> {
        self.inner
            .events
            .lock()
            .take()
            .expect("Client::events() may be called only once")
    }

    /// Sends any request: `opcode` and a pre-encoded body, under a normal
    /// xid. Returns the reply header and body whatever the error code. For
    /// tests; ping, auth and closeSession must not go through here.
    pub async fn raw_request(
        &self,
        opcode: i32,
        body: &[u8],
    ) -> Result<(ReplyHeader, Bytes), Error> {
        let frame = conn::frame(opcode, |o| o.put_slice(body));
        self.submit(frame, false, WatchReg::None).await
    }

    /// Closes the session (closeSession, then the connection). Later calls
    /// fail with [`Error::Closed`].
    pub async fn close(&self) -> Result<(), Error> {
        let shared = &self.inner.shared;
        let state = shared.state();
        if state.is_terminal() {
            return Ok(());
        }
        shared.closing.store(true, Ordering::Release);
        let mut result = Ok(());
        if matches!(
            state,
            KeeperState::SyncConnected | KeeperState::ConnectedReadOnly
        ) {
            let frame = conn::frame(OpCode::CloseSession.code(), |_| {});
            let wait = self.negotiated_timeout().max(Duration::from_secs(1));
            result = match timeout(wait, self.submit(frame, false, WatchReg::None)).await {
                Err(_) => Err(Error::Timeout),
                Ok(Ok(_)) | Ok(Err(Error::Closed)) => Ok(()),
                Ok(Err(e)) => Err(e),
            };
        }
        shared.shutdown.notify_one();
        shared.set_state(KeeperState::Closed);
        result
    }

    /// The server path for a client path, validated unless disabled.
    pub(crate) fn server_path(&self, path: &str, sequential: bool) -> Result<String, Error> {
        if self.inner.validate_paths {
            path::validate(path, sequential)?;
        }
        Ok(self.inner.shared.chroot.to_server(path))
    }

    /// A server path back in the client's view.
    pub(crate) fn client_path(&self, server_path: String) -> String {
        self.inner.shared.chroot.to_client(server_path)
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// Sends a frame and waits for its reply.
    pub(crate) async fn submit(
        &self,
        frame: BytesMut,
        auth: bool,
        reg: WatchReg,
    ) -> Result<Reply, Error> {
        let (tx, rx) = oneshot::channel();
        if self
            .inner
            .tx
            .send(Command {
                frame,
                auth,
                reg,
                tx: Some(tx),
            })
            .is_err()
        {
            return Err(self.inner.shared.dead_error());
        }
        let reply = match self.inner.request_timeout {
            Some(t) => timeout(t, rx).await.map_err(|_| Error::Timeout)?,
            None => rx.await,
        };
        reply.unwrap_or_else(|_| Err(self.inner.shared.dead_error()))
    }

    /// Sends a request and returns its body, or the server's error code as
    /// an error naming `op` and `path`.
    pub(crate) async fn call(
        &self,
        op: OpCode,
        path: &str,
        reg: WatchReg,
        body: impl FnOnce(&mut BytesMut),
    ) -> Result<Bytes, Error> {
        let (hdr, body) = self
            .submit(conn::frame(op.code(), body), false, reg)
            .await?;
        if hdr.err != 0 {
            return Err(Error::from_code(hdr.err, op, path));
        }
        Ok(body)
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("session_id", &format_args!("{:#x}", self.session_id()))
            .field("state", &self.state())
            .finish()
    }
}
