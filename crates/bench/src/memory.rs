//! The memory workloads: what a znode, a watch and an idle session cost the
//! server, from its resident set (`/proc/<pid>/status`) before and after
//! adding many of them.
//!
//! - `tree`: `count` znodes of `payload` bytes, 1000 per parent.
//! - `watches`: `count` data watches, as many sessions as needed to put one
//!   watch per session on each of `keys` nodes (exists with watch, so no
//!   data is transferred).
//! - `idle-sessions`: `count` connected sessions that do nothing but ping.
//!
//! RSS is a coarse instrument (allocator and JVM heap policies show in it),
//! so use counts large enough that the per-item cost dominates.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use super::report::{Memory, Rss};
use super::workload::{ensure_node, pipelined};
use ferrozk_client::{acls, Client, CreateMode, Error, ErrorCode};

/// The server's VmHWM and VmRSS, or `None` if the pid is unreadable.
pub fn read_rss(pid: u32) -> Option<Rss> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    };
    Some(Rss {
        vm_hwm_kb: field("VmHWM:")?,
        vm_rss_kb: field("VmRSS:")?,
    })
}

/// The server's RSS once it has settled: a JVM keeps allocating for a
/// moment after the last reply, so wait until two readings 200 ms apart
/// agree within 1% (at most 2 s).
pub async fn settled_rss_kb(pid: u32) -> Option<u64> {
    let mut prev = read_rss(pid)?.vm_rss_kb;
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = read_rss(pid)?.vm_rss_kb;
        if now.abs_diff(prev) * 100 <= prev {
            return Some(now);
        }
        prev = now;
    }
    Some(prev)
}

/// Memory cost per item, from RSS readings around the load.
pub fn cost(item: &str, items: u64, before_kb: u64, after_kb: u64) -> Memory {
    Memory {
        item: item.to_string(),
        items,
        rss_before_kb: before_kb,
        rss_after_kb: after_kb,
        bytes_per_item: (after_kb as f64 - before_kb as f64) * 1024.0 / items.max(1) as f64,
        restart_ms: None,
    }
}

/// The parent of tree node `i`.
fn tree_parent(dir: &str, i: usize) -> String {
    format!("{dir}/p{:04}", i / 1000)
}

/// Creates `count` znodes under `dir`, 1000 per parent. Returns how many
/// were created (existing ones count too) and the time it took.
pub async fn build_tree(
    clients: &[Client],
    dir: &str,
    count: usize,
    payload: usize,
) -> Result<Duration, Error> {
    let started = Instant::now();
    ensure_node(&clients[0], dir).await?;
    let dir: Arc<str> = Arc::from(dir);
    let parents = count.div_ceil(1000);
    let d = dir.clone();
    pipelined(clients, parents, 16, move |c, p| {
        let path = tree_parent(&d, p * 1000);
        async move { ensure_node(&c, &path).await }
    })
    .await?;
    let data = Bytes::from(vec![b'x'; payload]);
    pipelined(clients, count, 64, move |c, i| {
        let path = format!("{}/n{i:07}", tree_parent(&dir, i));
        let data = data.clone();
        async move {
            match c
                .create(&path, &data, &acls::open_unsafe(), CreateMode::Persistent)
                .await
            {
                Err(e) if e.code() == Some(ErrorCode::NodeExists) => Ok(()),
                r => r.map(drop),
            }
        }
    })
    .await?;
    Ok(started.elapsed())
}

/// Leaves one data watch per (session, key) pair: `sessions.len() *
/// keys.len()` watches in all.
pub async fn set_watches(sessions: &[Client], keys: &Arc<Vec<String>>) -> Result<(), Error> {
    let mut tasks = tokio::task::JoinSet::new();
    for s in sessions {
        let (s, keys) = (s.clone(), keys.clone());
        tasks.spawn(async move {
            pipelined(&[s], keys.len(), 64, move |c, i| {
                let keys = keys.clone();
                async move { c.exists(&keys[i], true).await.map(drop) }
            })
            .await
        });
    }
    let mut first = Ok(());
    while let Some(r) = tasks.join_next().await {
        if let Err(e) = r.expect("watch task panicked") {
            first = first.and(Err(e));
        }
    }
    first
}

/// Opens `count` sessions, `window` connecting at a time.
pub async fn open_sessions(
    server: &str,
    count: usize,
    window: usize,
    session_timeout: Duration,
) -> Result<Vec<Client>, Error> {
    let mut out = Vec::with_capacity(count);
    let mut tasks = tokio::task::JoinSet::new();
    let mut started = 0;
    while out.len() < count {
        while started < count && tasks.len() < window {
            let server = server.to_string();
            tasks.spawn(async move {
                Client::builder(&server, session_timeout)
                    .connect_timeout(Duration::from_secs(60))
                    .connect()
                    .await
            });
            started += 1;
        }
        match tasks.join_next().await {
            Some(r) => out.push(r.expect("connect task panicked")?),
            None => break,
        }
    }
    Ok(out)
}

/// Closes every session, `window` at a time, ignoring failures (the server
/// would expire them anyway).
pub async fn close_all(sessions: Vec<Client>, window: usize) {
    let mut tasks = tokio::task::JoinSet::new();
    for s in sessions {
        if tasks.len() >= window {
            tasks.join_next().await;
        }
        tasks.spawn(async move { s.close().await });
    }
    while tasks.join_next().await.is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_rss_is_readable_and_peak_is_at_least_current() {
        let r = read_rss(std::process::id()).expect("own /proc status");
        assert!(r.vm_rss_kb > 0 && r.vm_hwm_kb >= r.vm_rss_kb, "{r:?}");
    }

    #[test]
    fn cost_is_bytes_per_item_from_kib() {
        let m = cost("znode", 1024, 1000, 1100);
        assert_eq!(m.bytes_per_item, 100.0);
    }

    #[test]
    fn tree_spreads_nodes_over_parents_of_1000() {
        assert_eq!(tree_parent("/t", 999), "/t/p0000");
        assert_eq!(tree_parent("/t", 1000), "/t/p0001");
    }
}
