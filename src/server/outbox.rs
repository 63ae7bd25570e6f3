//! A byte-bounded queue from a producer that must never wait (the core, the
//! quorum network task) to the writer task of one socket.
//!
//! Replies are bounded by the in-flight limit, but watch notifications and
//! quorum packets are produced whether or not the peer reads: a client that
//! stops reading while it holds many watches, or a follower that stalls,
//! would make the server queue frames without limit. Those items are
//! counted in bytes when queued and uncounted when written (items bounded
//! some other way are queued uncounted); an item that would take the count
//! past the limit is refused, and the producer then drops the
//! connection ([`OutboxTx::abort`] ends the writer at once, even in the
//! middle of a blocked write). One item is always accepted into an empty
//! queue, so a single frame larger than the limit (a SNAP image) still goes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The queue was over its limit; the item was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{queued} bytes queued and not yet written; {len} more would pass the limit of {limit}")]
pub struct Overflow {
    /// Bytes queued when the item was refused.
    pub queued: usize,
    /// The refused item's size.
    pub len: usize,
    /// The limit.
    pub limit: usize,
}

/// The producer's end.
#[derive(Debug)]
pub struct OutboxTx<T> {
    tx: mpsc::UnboundedSender<(T, usize)>,
    queued: Arc<AtomicUsize>,
    limit: usize,
    abort: CancellationToken,
}

impl<T> Clone for OutboxTx<T> {
    fn clone(&self) -> Self {
        OutboxTx {
            tx: self.tx.clone(),
            queued: self.queued.clone(),
            limit: self.limit,
            abort: self.abort.clone(),
        }
    }
}

/// The writer's end.
#[derive(Debug)]
pub struct OutboxRx<T> {
    rx: mpsc::UnboundedReceiver<(T, usize)>,
    queued: Arc<AtomicUsize>,
    abort: CancellationToken,
}

/// A queue holding at most `limit` bytes (see the module comment).
pub fn outbox<T>(limit: usize) -> (OutboxTx<T>, OutboxRx<T>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let queued = Arc::new(AtomicUsize::new(0));
    let abort = CancellationToken::new();
    (
        OutboxTx {
            tx,
            queued: queued.clone(),
            limit,
            abort: abort.clone(),
        },
        OutboxRx { rx, queued, abort },
    )
}

impl<T> OutboxTx<T> {
    /// Queues `item`, which will take `len` bytes on the wire. Refused past
    /// the limit; silently dropped if the writer is gone (the connection is
    /// closing, which the producer hears of separately).
    pub fn push(&self, item: T, len: usize) -> Result<(), Overflow> {
        let queued = self.queued.load(Ordering::Acquire);
        if queued > 0 && queued.saturating_add(len) > self.limit {
            return Err(Overflow {
                queued,
                len,
                limit: self.limit,
            });
        }
        self.queued.fetch_add(len, Ordering::AcqRel);
        if self.tx.send((item, len)).is_err() {
            self.queued.fetch_sub(len, Ordering::AcqRel);
        }
        Ok(())
    }

    /// Queues an item that does not count against the limit: one bounded
    /// elsewhere (a client's replies, by its in-flight request slots) or a
    /// control item (a close after the queued frames).
    pub fn push_uncounted(&self, item: T) {
        let _ = self.tx.send((item, 0));
    }

    /// Ends the writer now, dropping whatever is queued.
    pub fn abort(&self) {
        self.abort.cancel();
    }

    /// Bytes queued and not yet written.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }
}

impl<T> OutboxRx<T> {
    /// The next item with its size; `None` when the producer is gone or
    /// aborted. The bytes stay counted until [`written`](Self::written).
    pub async fn recv(&mut self) -> Option<(T, usize)> {
        tokio::select! {
            biased;
            _ = self.abort.cancelled() => None,
            item = self.rx.recv() => item,
        }
    }

    /// The next item if one is queued and the outbox is not aborted.
    pub fn try_recv(&mut self) -> Option<(T, usize)> {
        if self.abort.is_cancelled() {
            return None;
        }
        self.rx.try_recv().ok()
    }

    /// `len` bytes of received items reached the socket.
    pub fn written(&self, len: usize) {
        self.queued.fetch_sub(len, Ordering::AcqRel);
    }

    /// Completes when the producer aborts: race a blocked write with it.
    pub async fn aborted(&self) {
        self.abort.cancelled().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn items_past_the_limit_are_refused_until_written() {
        let (tx, mut rx) = outbox::<u32>(100);
        tx.push(1, 60).unwrap();
        tx.push(2, 40).unwrap();
        assert_eq!(
            tx.push(3, 1),
            Err(Overflow {
                queued: 100,
                len: 1,
                limit: 100
            })
        );
        assert_eq!(rx.recv().await, Some((1, 60)));
        assert_eq!(tx.queued(), 100, "counted until written");
        rx.written(60);
        tx.push(3, 50).unwrap();
        assert_eq!(tx.queued(), 90);
    }

    #[tokio::test]
    async fn one_item_larger_than_the_limit_fits_an_empty_queue() {
        let (tx, mut rx) = outbox::<&str>(10);
        tx.push("image", 1_000).unwrap();
        assert!(tx.push("next", 1).is_err());
        assert_eq!(rx.recv().await, Some(("image", 1_000)));
        rx.written(1_000);
        tx.push("next", 1).unwrap();
    }

    #[tokio::test]
    async fn abort_ends_the_writer_even_with_items_queued() {
        let (tx, mut rx) = outbox::<u8>(10);
        tx.push(1, 1).unwrap();
        tx.abort();
        assert_eq!(rx.recv().await, None);
        assert_eq!(rx.try_recv(), None);
        rx.aborted().await;
    }

    #[tokio::test]
    async fn uncounted_items_ignore_the_limit() {
        let (tx, mut rx) = outbox::<u8>(1);
        tx.push(1, 5).unwrap();
        tx.push_uncounted(0);
        assert_eq!(rx.recv().await, Some((1, 5)));
        assert_eq!(rx.recv().await, Some((0, 0)));
    }
}
