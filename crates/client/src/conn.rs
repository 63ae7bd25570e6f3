//! One TCP connection of a session: the handshake, the writer loop that
//! batches request frames onto the socket, and the reader loop that
//! dispatches replies and notifications in arrival order.
//!
//! Wire format, both ways: a 4-byte big-endian length, then that many bytes.
//! Requests are `RequestHeader{xid, type}` + body; replies are
//! `ReplyHeader{xid, zxid, err}` + body (only when err == 0). Special xids:
//! -1 notification (`WatcherEvent` body), -2 ping, -4 auth, -8 setWatches.
//!
//! Flow of a call: the caller encodes a whole frame (xid left blank) and
//! sends a [`Command`] down an unbounded channel. The writer drains the
//! channel, stamps xids, appends the frames to one buffer, records each call
//! in the shared [`Inflight`] queue (one lock per batch) and writes the
//! batch with one syscall. The reader pops the queue front for each reply
//! (ZooKeeper answers in xid order), applies watch bookkeeping, and
//! completes the caller's oneshot. Notifications are pushed to the event
//! channel by the same reader, so an event always precedes the completion of
//! any reply that arrived after it.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use parking_lot::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{sleep_until, timeout, Instant};

use ferrozk_proto::connect::{decode_response, Connect};
use ferrozk_proto::error::ErrorCode;
use ferrozk_proto::jute::Jute;
use ferrozk_proto::ops::{OpCode, XID_AUTH, XID_NOTIFICATION, XID_PING};
use ferrozk_proto::records::proto::{ConnectRequest, ConnectResponse, ReplyHeader, WatcherEvent};

use super::error::Error;
use super::session::Shared;
use super::types::{EventType, KeeperState, WatchedEvent};
use super::watches::WatchReg;

/// A reply: its header and (when `header.err == 0`) its body.
pub type Reply = (ReplyHeader, Bytes);
/// Where a reply goes.
pub type ReplyTx = oneshot::Sender<Result<Reply, Error>>;

/// Stop adding frames to a batch once it holds this many bytes.
const BATCH_BYTES: usize = 64 * 1024;

/// A request on its way to the writer.
#[derive(Debug)]
pub struct Command {
    /// The whole frame: length, xid (stamped by the writer unless this is an
    /// auth packet), opcode, body.
    pub frame: BytesMut,
    /// An auth packet (xid -4, answered outside the xid order).
    pub auth: bool,
    /// Watch bookkeeping to do when the reply arrives.
    pub reg: WatchReg,
    /// The caller, if it waits.
    pub tx: Option<ReplyTx>,
}

/// Builds a request frame with the xid left for the writer to stamp.
pub fn frame(op: i32, body: impl FnOnce(&mut BytesMut)) -> BytesMut {
    frame_with_xid(0, op, body)
}

/// Builds a request frame with a fixed xid.
pub fn frame_with_xid(xid: i32, op: i32, body: impl FnOnce(&mut BytesMut)) -> BytesMut {
    let mut f = BytesMut::with_capacity(64);
    f.put_u32(0);
    f.put_i32(xid);
    f.put_i32(op);
    body(&mut f);
    let len = (f.len() - 4) as u32;
    f[..4].copy_from_slice(&len.to_be_bytes());
    f
}

/// A call that was written and awaits its reply.
#[derive(Debug)]
struct Pending {
    xid: i32,
    reg: WatchReg,
    tx: Option<ReplyTx>,
}

/// What was sent on a connection and not yet answered.
#[derive(Debug, Default)]
pub struct Inflight {
    calls: VecDeque<Pending>,
    /// Auth packets are answered as soon as the server sees them, not in xid
    /// order, so they wait in their own queue.
    auths: VecDeque<Option<ReplyTx>>,
}

impl Inflight {
    /// Completes everything with `err()` (the connection is gone).
    pub fn fail_all(&mut self, err: impl Fn() -> Error) {
        for p in self.calls.drain(..) {
            if let Some(tx) = p.tx {
                let _ = tx.send(Err(err()));
            }
        }
        for tx in self.auths.drain(..).flatten() {
            let _ = tx.send(Err(err()));
        }
    }
}

/// Why a connection ended.
#[derive(Debug)]
pub enum ConnEnd {
    /// The socket failed, closed, or went quiet past the read timeout.
    Lost(Error),
    /// The server rejected an auth packet (and closes the session).
    AuthFailed,
    /// Every client handle was dropped.
    Dropped,
}

/// A handshake's outcome.
pub enum Handshake {
    /// Connected.
    Connected {
        /// The socket.
        stream: TcpStream,
        /// Bytes read past the handshake reply.
        rest: BytesMut,
        /// The server's ConnectResponse.
        rsp: ConnectResponse,
        /// Whether the server is read-only.
        read_only: bool,
    },
    /// The server says the session is gone.
    Expired,
}

/// Sends the ConnectRequest (with the readOnly byte) and reads the reply.
pub async fn handshake(
    mut stream: TcpStream,
    req: ConnectRequest,
    read_only: bool,
    max_frame: usize,
) -> Result<Handshake, Error> {
    stream.set_nodelay(true)?;
    let mut out = BytesMut::with_capacity(64);
    out.put_u32(0);
    Connect {
        req,
        read_only: Some(read_only),
    }
    .encode(&mut out);
    let len = (out.len() - 4) as u32;
    out[..4].copy_from_slice(&len.to_be_bytes());
    stream.write_all(&out).await?;
    let mut buf = BytesMut::with_capacity(8 * 1024);
    let reply = loop {
        if let Some(f) = next_frame(&mut buf, max_frame)? {
            break f;
        }
        if stream.read_buf(&mut buf).await? == 0 {
            return Err(Error::ConnectionLoss);
        }
    };
    let (rsp, ro) = decode_response(reply)?;
    if rsp.time_out <= 0 {
        return Ok(Handshake::Expired);
    }
    Ok(Handshake::Connected {
        stream,
        rest: buf,
        rsp,
        read_only: ro,
    })
}

/// Splits one complete frame off the front of `buf`, if there is one.
fn next_frame(buf: &mut BytesMut, max_frame: usize) -> Result<Option<Bytes>, Error> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let len = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    if len > max_frame {
        return Err(Error::Protocol(format!(
            "frame of {len} bytes exceeds {max_frame}"
        )));
    }
    if buf.len() < 4 + len {
        buf.reserve(4 + len - buf.len());
        return Ok(None);
    }
    buf.advance(4);
    Ok(Some(buf.split_to(len).freeze()))
}

/// Reads and dispatches frames until the connection ends. `read_timeout`
/// without any frame (pings keep a healthy connection talking) is a loss.
pub async fn read_loop(
    mut rd: OwnedReadHalf,
    mut buf: BytesMut,
    shared: Arc<Shared>,
    inflight: Arc<Mutex<Inflight>>,
    read_timeout: Duration,
    max_frame: usize,
) -> ConnEnd {
    loop {
        let frame = match next_frame(&mut buf, max_frame) {
            Err(e) => return ConnEnd::Lost(e),
            Ok(Some(f)) => f,
            Ok(None) => match timeout(read_timeout, rd.read_buf(&mut buf)).await {
                Err(_) => return ConnEnd::Lost(Error::Timeout),
                Ok(Err(e)) => return ConnEnd::Lost(e.into()),
                Ok(Ok(0)) => return ConnEnd::Lost(Error::ConnectionLoss),
                Ok(Ok(_)) => continue,
            },
        };
        match dispatch(frame, &shared, &inflight) {
            Ok(true) => {}
            Ok(false) => return ConnEnd::AuthFailed,
            Err(e) => return ConnEnd::Lost(e),
        }
    }
}

/// Handles one frame; `Ok(false)` when the server rejected an auth packet.
fn dispatch(mut frame: Bytes, shared: &Shared, inflight: &Mutex<Inflight>) -> Result<bool, Error> {
    let hdr = ReplyHeader::decode(&mut frame)?;
    match hdr.xid {
        XID_NOTIFICATION => {
            let ev = WatcherEvent::decode(&mut frame)?;
            deliver(ev, hdr.zxid, shared)?;
        }
        XID_PING => {}
        XID_AUTH => {
            let waiter = inflight.lock().auths.pop_front().flatten();
            let failed = hdr.err == ErrorCode::AuthFailed.code();
            if let Some(tx) = waiter {
                let _ = tx.send(if failed {
                    Err(Error::AuthFailed)
                } else {
                    Ok((hdr, frame))
                });
            }
            return Ok(!failed);
        }
        xid => {
            let p = inflight.lock().calls.pop_front();
            let Some(p) = p else {
                return Err(Error::Protocol(format!(
                    "reply xid {xid} with nothing outstanding"
                )));
            };
            if p.xid != xid {
                return Err(Error::Protocol(format!(
                    "reply xid {xid}, expected {}",
                    p.xid
                )));
            }
            if hdr.zxid > 0 {
                shared
                    .last_zxid
                    .store(hdr.zxid, std::sync::atomic::Ordering::Release);
            }
            if p.reg != WatchReg::None {
                let removed = shared.watches.lock().on_reply(&p.reg, hdr.err);
                if let WatchReg::Remove(path, _) = &p.reg {
                    shared.emit_removed(path, &removed);
                }
            }
            if let Some(tx) = p.tx {
                let _ = tx.send(Ok((hdr, frame)));
            }
        }
    }
    Ok(true)
}

/// Records a notification's effect on the watch table and queues it.
fn deliver(ev: WatcherEvent, zxid: i64, shared: &Shared) -> Result<(), Error> {
    let bad = || Error::Protocol(format!("bad notification {ev:?}"));
    let event_type = EventType::from_i32(ev.r#type).ok_or_else(bad)?;
    let keeper_state = KeeperState::from_i32(ev.state).ok_or_else(bad)?;
    shared.watches.lock().on_event(event_type, &ev.path);
    let path = Some(shared.chroot.to_client(ev.path));
    shared.emit(WatchedEvent {
        event_type,
        keeper_state,
        path,
        zxid,
    });
    Ok(())
}

/// The writer's per-session state that outlives connections.
pub struct Writer<'a> {
    /// Requests from the client handles.
    pub rx: &'a mut mpsc::UnboundedReceiver<Command>,
    /// The next xid to stamp.
    pub next_xid: &'a mut i32,
}

impl Writer<'_> {
    fn stamp(
        &mut self,
        cmd: Command,
        buf: &mut BytesMut,
        calls: &mut Vec<Pending>,
        auths: &mut Vec<Option<ReplyTx>>,
    ) {
        let mut frame = cmd.frame;
        if cmd.auth {
            auths.push(cmd.tx);
        } else {
            let xid = *self.next_xid;
            *self.next_xid = if xid == i32::MAX { 1 } else { xid + 1 };
            frame[4..8].copy_from_slice(&xid.to_be_bytes());
            calls.push(Pending {
                xid,
                reg: cmd.reg,
                tx: cmd.tx,
            });
        }
        buf.extend_from_slice(&frame);
    }

    /// Writes `prime` (auth packets and setWatches, already stamped), then
    /// requests as they come, in batches; pings after `ping_every` of
    /// silence. Returns only on error or when every handle is dropped.
    pub async fn run(
        &mut self,
        mut wr: OwnedWriteHalf,
        prime: Vec<Command>,
        inflight: &Mutex<Inflight>,
        ping_every: Duration,
    ) -> ConnEnd {
        let mut buf = BytesMut::with_capacity(BATCH_BYTES);
        let mut calls = Vec::new();
        let mut auths = Vec::new();
        for cmd in prime {
            let xid = i32::from_be_bytes([cmd.frame[4], cmd.frame[5], cmd.frame[6], cmd.frame[7]]);
            if cmd.auth {
                auths.push(cmd.tx);
            } else {
                calls.push(Pending {
                    xid,
                    reg: cmd.reg,
                    tx: cmd.tx,
                });
            }
            buf.extend_from_slice(&cmd.frame);
        }
        let ping = sleep_until(Instant::now() + ping_every);
        tokio::pin!(ping);
        loop {
            if buf.is_empty() {
                tokio::select! {
                    biased;
                    cmd = self.rx.recv() => match cmd {
                        Some(cmd) => self.stamp(cmd, &mut buf, &mut calls, &mut auths),
                        None => return ConnEnd::Dropped,
                    },
                    _ = &mut ping => {
                        buf.put_u32(8);
                        buf.put_i32(XID_PING);
                        buf.put_i32(OpCode::Ping.code());
                    }
                }
            }
            while buf.len() < BATCH_BYTES {
                match self.rx.try_recv() {
                    Ok(cmd) => self.stamp(cmd, &mut buf, &mut calls, &mut auths),
                    Err(_) => break,
                }
            }
            if !calls.is_empty() || !auths.is_empty() {
                let mut q = inflight.lock();
                q.calls.extend(calls.drain(..));
                q.auths.extend(auths.drain(..));
            }
            if let Err(e) = wr.write_all(&buf).await {
                return ConnEnd::Lost(e.into());
            }
            buf.clear();
            ping.as_mut().reset(Instant::now() + ping_every);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_has_length_xid_and_opcode() {
        let f = frame_with_xid(7, 4, |out| out.put_u8(9));
        assert_eq!(&f[..], &[0, 0, 0, 9, 0, 0, 0, 7, 0, 0, 0, 4, 9]);
    }

    #[test]
    fn next_frame_waits_for_a_whole_frame() {
        let mut buf = BytesMut::from(&[0u8, 0, 0, 2, 1][..]);
        assert_eq!(next_frame(&mut buf, 100).unwrap(), None);
        buf.put_u8(2);
        assert_eq!(
            next_frame(&mut buf, 100).unwrap().unwrap(),
            Bytes::from_static(&[1, 2])
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn oversized_frame_is_a_protocol_error() {
        let mut buf = BytesMut::from(&[0u8, 0, 1, 0][..]);
        assert!(matches!(next_frame(&mut buf, 255), Err(Error::Protocol(_))));
    }
}
