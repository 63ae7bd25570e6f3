//! One client connection: a reader loop that frames bytes into requests for
//! the core, and a writer task that drains this connection's outbox into the
//! socket, batching whatever is queued into one write.
//!
//! The first frame is the connect handshake. A connection whose first four
//! bytes spell a four-letter word gets that command's answer and is closed,
//! as in ZooKeeper. An oversized, negative or malformed frame closes this
//! connection only.

use std::net::SocketAddr;

use bytes::{Buf, Bytes, BytesMut};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use tokio::sync::{mpsc, oneshot, Semaphore};

use super::core::ConnId;
use super::mailbox::{CoreMsg, Out};
use super::outbox::{outbox, OutboxRx};
use crate::proto::connect::Connect;

/// Reads exactly one length-prefixed frame into `buf`; `Ok(None)` on a clean
/// EOF between frames.
async fn read_frame(
    sock: &mut tokio::net::tcp::OwnedReadHalf,
    buf: &mut BytesMut,
    max: usize,
) -> std::io::Result<Option<Bytes>> {
    loop {
        if buf.len() >= 4 {
            let len = i32::from_be_bytes(buf[..4].try_into().expect("4 bytes"));
            if len < 0 || len as usize > max {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("frame length {len} outside [0, {max}] (jute.maxbuffer)"),
                ));
            }
            let len = len as usize;
            if buf.len() >= 4 + len {
                buf.advance(4);
                return Ok(Some(buf.split_to(len).freeze()));
            }
            buf.reserve(4 + len - buf.len());
        } else {
            buf.reserve(4096);
        }
        if sock.read_buf(buf).await? == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "connection closed inside a frame",
                ))
            };
        }
    }
}

/// Requests a connection may have in flight (read but not yet answered on
/// the socket). Past this the reader stops reading, so a client that
/// pipelines without reading its replies is held back by TCP instead of
/// growing the server's memory (ZooKeeper throttles with
/// globalOutstandingLimit for the same reason).
pub const MAX_IN_FLIGHT: usize = 1024;

/// Drains the outbox into the socket until it is closed or says `Close`,
/// returning request slots to the reader as replies are written. An abort
/// (the core found the outbox over its byte limit) ends it at once, even
/// while a write is blocked on a client that does not read.
async fn writer(
    mut sock: tokio::net::tcp::OwnedWriteHalf,
    mut rx: OutboxRx<Out>,
    slots: Arc<Semaphore>,
) {
    let mut batch = BytesMut::new();
    'outer: while let Some(first) = rx.recv().await {
        let mut close = false;
        let mut replies = 0;
        let mut bytes = 0;
        let mut next = Some(first);
        while let Some((msg, len)) = next.take() {
            bytes += len;
            match msg {
                Out::Frame(b) => batch.extend_from_slice(&b),
                Out::Reply(b) => {
                    batch.extend_from_slice(&b);
                    replies += 1;
                }
                Out::Close => {
                    close = true;
                    break;
                }
            }
            if batch.len() < 256 * 1024 {
                next = rx.try_recv();
            }
        }
        if !batch.is_empty() {
            tokio::select! {
                r = sock.write_all(&batch) => if r.is_err() { break 'outer },
                _ = rx.aborted() => break 'outer,
            }
        }
        batch.clear();
        rx.written(bytes);
        slots.add_permits(replies);
        if close {
            break;
        }
    }
    let _ = sock.shutdown().await;
}

/// `stmk`'s argument: the 8-byte big-endian trace mask after the word.
/// ZooKeeper reads it with one read of what has arrived; a client sends
/// word and mask together, so a short wait covers a split write. `None`
/// if it does not come.
async fn stmk_mask(rd: &mut tokio::net::tcp::OwnedReadHalf, buf: &mut BytesMut) -> Option<i64> {
    let wait = std::time::Duration::from_millis(500);
    let _ = tokio::time::timeout(wait, async {
        while buf.len() < 12 {
            match rd.read_buf(buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    let bytes: [u8; 8] = buf.get(4..12)?.try_into().ok()?;
    Some(i64::from_be_bytes(bytes))
}

/// Serves one accepted connection until it closes.
pub async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    conn: ConnId,
    core: mpsc::Sender<CoreMsg>,
    max_buffer: usize,
    max_queued_bytes: usize,
) {
    let _ = stream.set_nodelay(true);
    let (mut rd, wr) = stream.into_split();
    let mut buf = BytesMut::with_capacity(4096);

    // Four-letter words: the first four bytes are a command, not a length.
    while buf.len() < 4 {
        match rd.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
    if let Ok(word) = std::str::from_utf8(&buf[..4]) {
        if super::fourlw::is_command(word) {
            let word = word.to_owned();
            let mask = if word == "stmk" {
                stmk_mask(&mut rd, &mut buf).await
            } else {
                None
            };
            let (tx, rx) = oneshot::channel();
            let asked = super::fourlw::Asked {
                word,
                from: super::fourlw::Asker { conn, peer },
                mask,
            };
            let _ = core.send(CoreMsg::FourLetter { asked, reply: tx }).await;
            if let Ok(text) = rx.await {
                let mut wr = wr;
                let _ = wr.write_all(text.as_bytes()).await;
                let _ = wr.shutdown().await;
            }
            return;
        }
    }

    let first = match read_frame(&mut rd, &mut buf, max_buffer).await {
        Ok(Some(f)) => f,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(%peer, "closing connection: {e}");
            return;
        }
    };
    let connect = match Connect::decode(first) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(%peer, "closing connection: bad connect request: {e}");
            return;
        }
    };
    let (tx, rx) = outbox(max_queued_bytes);
    let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut write_task = tokio::spawn(writer(wr, rx, slots.clone()));
    if core
        .send(CoreMsg::Connect {
            conn,
            connect,
            peer,
            out: tx,
        })
        .await
        .is_err()
    {
        return;
    }
    loop {
        // The writer finishing means the core closed this connection.
        let read = tokio::select! {
            r = async {
                slots.acquire().await.expect("never closed").forget();
                read_frame(&mut rd, &mut buf, max_buffer).await
            } => r,
            _ = &mut write_task => {
                let _ = core.send(CoreMsg::Closed { conn }).await;
                return;
            }
        };
        match read {
            Ok(Some(mut frame)) => {
                if frame.len() < 8 {
                    tracing::warn!(%peer, "closing connection: request shorter than its header");
                    break;
                }
                let xid = frame.get_i32();
                let op = frame.get_i32();
                if core
                    .send(CoreMsg::Request {
                        conn,
                        xid,
                        op,
                        body: frame,
                        at: std::time::Instant::now(),
                    })
                    .await
                    .is_err()
                {
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(%peer, "closing connection: {e}");
                break;
            }
        }
    }
    let _ = core.send(CoreMsg::Closed { conn }).await;
    // The writer ends when the core drops this connection's outbox.
    let _ = write_task.await;
}
