//! The request-level workloads: what one operation of `read`, `write`,
//! `mixed`, `create` and `sessions` sends, and the node set they need.
//!
//! All bench nodes live under one prefix (default `/ferrozk-bench`):
//! `keys/k000000…` hold the pre-created data set, `create/pNN/` receive
//! sequential creates (deleted again after the run; spread over
//! [`CREATE_PARENTS`] parents so no child list grows past what one
//! getChildren reply can carry). Setup is idempotent, so
//! a run can follow another on the same server.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use ferrozk_client::{acls, Client, CreateMode, Error, ErrorCode};

/// Parents that sequential creates are spread over.
pub const CREATE_PARENTS: usize = 64;

/// One operation of a workload, issued by a driver worker.
#[derive(Debug, Clone)]
pub enum Op {
    /// getData of a random key.
    Read,
    /// setData of a random key.
    Write,
    /// A write with probability `write_pct`/100, else a read.
    Mixed {
        /// Percentage of writes, 0..=100.
        write_pct: u32,
    },
    /// A persistent sequential create under `create/`.
    Create,
    /// Connect a new session and close it (the client passed in is unused).
    ConnectClose {
        /// Where to connect.
        server: String,
    },
}

/// The node set a workload touches and the data it writes.
#[derive(Debug)]
pub struct Keys {
    /// Full paths of the pre-created keys.
    pub paths: Vec<String>,
    /// Parent of the parents of sequential creates.
    pub create_dir: String,
    /// `create_dir/c-` prefixes, one per create parent.
    pub create_prefixes: Vec<String>,
    /// Data written by writes and creates.
    pub payload: Bytes,
}

impl Keys {
    /// The key set under `prefix`: `count` keys, data of `payload` bytes.
    pub fn new(prefix: &str, count: usize, payload: usize) -> Keys {
        Keys {
            paths: (0..count)
                .map(|i| format!("{prefix}/keys/k{i:06}"))
                .collect(),
            create_dir: format!("{prefix}/create"),
            create_prefixes: (0..CREATE_PARENTS)
                .map(|i| format!("{prefix}/create/p{i:02}/c-"))
                .collect(),
            payload: Bytes::from(vec![b'x'; payload]),
        }
    }
}

/// A per-worker random source (splitmix64): deterministic per seed, no
/// shared state, no syscalls on the hot path.
#[derive(Debug, Clone)]
pub struct Rng(ferrozk_proto::rng::SplitMix64);

impl Rng {
    /// A generator for worker `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(ferrozk_proto::rng::SplitMix64::new(
            seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03,
        ))
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        self.0.below(n as u64) as usize
    }
}

impl Op {
    /// Sends one operation and waits for its reply.
    pub async fn issue(&self, c: &Client, keys: &Keys, rng: &mut Rng) -> Result<(), Error> {
        match self {
            Op::Read => read(c, keys, rng).await,
            Op::Write => write(c, keys, rng).await,
            Op::Mixed { write_pct } => {
                if rng.below(100) < *write_pct as usize {
                    write(c, keys, rng).await
                } else {
                    read(c, keys, rng).await
                }
            }
            Op::Create => {
                let path = &keys.create_prefixes[rng.below(CREATE_PARENTS)];
                c.create(
                    path,
                    &keys.payload,
                    &acls::open_unsafe(),
                    CreateMode::PersistentSequential,
                )
                .await
                .map(drop)
            }
            Op::ConnectClose { server } => {
                let s = Client::builder(server, Duration::from_secs(30))
                    .connect_timeout(Duration::from_secs(30))
                    .connect()
                    .await?;
                s.close().await
            }
        }
    }
}

async fn read(c: &Client, keys: &Keys, rng: &mut Rng) -> Result<(), Error> {
    let path = &keys.paths[rng.below(keys.paths.len())];
    c.get_data(path, false).await.map(drop)
}

async fn write(c: &Client, keys: &Keys, rng: &mut Rng) -> Result<(), Error> {
    let path = &keys.paths[rng.below(keys.paths.len())];
    c.set_data(path, &keys.payload, -1).await.map(drop)
}

/// Creates `path` with empty data unless it exists.
pub async fn ensure_node(c: &Client, path: &str) -> Result<(), Error> {
    match c
        .create(path, b"", &acls::open_unsafe(), CreateMode::Persistent)
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some(ErrorCode::NodeExists) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Makes every key exist with the payload: creates it, or sets its data if
/// it is already there. Pipelined over all `clients`.
pub async fn setup_keys(clients: &[Client], prefix: &str, keys: &Arc<Keys>) -> Result<(), Error> {
    let c = &clients[0];
    ensure_node(c, prefix).await?;
    ensure_node(c, &format!("{prefix}/keys")).await?;
    if already_set_up(c, prefix, keys).await? {
        return Ok(());
    }
    let k = keys.clone();
    pipelined(clients, keys.paths.len(), 32, move |c, i| {
        let k = k.clone();
        async move {
            let path = &k.paths[i];
            match c
                .create(
                    path,
                    &k.payload,
                    &acls::open_unsafe(),
                    CreateMode::Persistent,
                )
                .await
            {
                Err(e) if e.code() == Some(ErrorCode::NodeExists) => {
                    c.set_data(path, &k.payload, -1).await.map(drop)
                }
                r => r.map(drop),
            }
        }
    })
    .await
}

/// Whether a previous run left exactly this key set (same count, same data
/// size at both ends), so back-to-back runs skip 10k writes of setup.
async fn already_set_up(c: &Client, prefix: &str, keys: &Keys) -> Result<bool, Error> {
    let children = c.get_children(&format!("{prefix}/keys"), false).await?;
    if children.len() != keys.paths.len() {
        return Ok(false);
    }
    for path in [keys.paths.first(), keys.paths.last()]
        .into_iter()
        .flatten()
    {
        match c.exists(path, false).await? {
            Some(stat) if stat.data_length as usize == keys.payload.len() => {}
            _ => return Ok(false),
        }
    }
    Ok(true)
}

/// Makes the create parents exist.
pub async fn setup_create(c: &Client, prefix: &str, keys: &Keys) -> Result<(), Error> {
    ensure_node(c, prefix).await?;
    ensure_node(c, &keys.create_dir).await?;
    for p in &keys.create_prefixes {
        ensure_node(c, p.trim_end_matches("/c-")).await?;
    }
    Ok(())
}

/// Deletes what `create` left behind: the children of every create parent.
pub async fn delete_created(clients: &[Client], keys: &Keys) -> Result<(), Error> {
    for p in &keys.create_prefixes {
        delete_children(clients, p.trim_end_matches("/c-")).await?;
    }
    Ok(())
}

/// Deletes every child of `dir`.
async fn delete_children(clients: &[Client], dir: &str) -> Result<(), Error> {
    let children = Arc::new(clients[0].get_children(dir, false).await?);
    let dir = Arc::new(dir.to_string());
    let names = children.clone();
    pipelined(clients, children.len(), 32, move |c, i| {
        let path = format!("{}/{}", dir, names[i]);
        async move {
            match c.delete(&path, -1).await {
                Err(e) if e.code() == Some(ErrorCode::NoNode) => Ok(()),
                r => r,
            }
        }
    })
    .await
}

/// Runs `f(client, i)` for every `i` in `0..n`, keeping `window` calls
/// outstanding per client: how setup and cleanup stay fast on a server
/// that batches. Returns the first error, after every call has finished.
pub async fn pipelined<F, Fut>(
    clients: &[Client],
    n: usize,
    window: usize,
    f: F,
) -> Result<(), Error>
where
    F: Fn(Client, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), Error>> + Send + 'static,
{
    let f = Arc::new(f);
    let lanes = clients.len() * window;
    let mut tasks = tokio::task::JoinSet::new();
    for lane in 0..lanes.min(n) {
        let c = clients[lane % clients.len()].clone();
        let f = f.clone();
        tasks.spawn(async move {
            let mut first = None;
            for i in (lane..n).step_by(lanes) {
                if let Err(e) = f(c.clone(), i).await {
                    first.get_or_insert(e);
                }
            }
            first
        });
    }
    let mut first = None;
    while let Some(r) = tasks.join_next().await {
        if let Some(e) = r.expect("setup task panicked") {
            first.get_or_insert(e);
        }
    }
    first.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_below_stays_in_range_and_covers_it() {
        let mut r = Rng::new(7);
        let mut seen = [false; 10];
        for _ in 0..1000 {
            let v = r.below(10);
            seen[v] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }

    #[test]
    fn key_paths_are_fixed_width_under_the_prefix() {
        let k = Keys::new("/b", 3, 4);
        assert_eq!(
            k.paths,
            ["/b/keys/k000000", "/b/keys/k000001", "/b/keys/k000002"]
        );
        assert_eq!(k.payload.len(), 4);
    }
}
