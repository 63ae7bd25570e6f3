//! Test harness shared by the interop and differential tests
//! (`mod common;` in each integration test file).
//!
//! It starts a server — ferrozk (the binary under test) or Apache ZooKeeper
//! 3.8 (the reference, from Debian) — on a free loopback port with its own
//! temporary data directory and a zoo.cfg written for it, waits until the
//! four-letter word `ruok` answers `imok`, and kills the process on drop.
//! It also runs client programs with a deadline and captures their output,
//! and checks that the reference tools are installed: a missing tool makes
//! the test fail, never skip.
//!
//! `FERROZK_TEST_ONLY=apache` (or `=ferrozk`) restricts [`kinds_under_test`]
//! to one server, for developing scenarios; `apache-twice` runs the
//! reference twice to check that transcripts are server-independent; see
//! tests/README.md.

#![allow(dead_code)]

pub mod cluster;
pub mod raw;
pub mod script;

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Where Debian installs the reference and its clients.
pub const ZK_JAR: &str = "/usr/share/java/zookeeper.jar";
pub const SLF4J_NOP_JAR: &str = "/usr/share/java/slf4j-nop.jar";
/// Servers log through slf4j-simple (warnings and errors, to stderr, which
/// goes to the server's log file): an Apache server that exits at start-up
/// must say why in the test's failure message.
pub const SLF4J_SIMPLE_JAR: &str = "/usr/share/java/slf4j-simple.jar";
pub const ZKCLI: &str = "/usr/share/zookeeper/bin/zkCli.sh";
pub const CLI_MT: &str = "/usr/lib/zookeeper/bin/cli_mt";
pub const PYTHON: &str = "/usr/bin/python3";
pub const CURATOR_JARS: &[&str] = &[
    "/usr/share/java/curator-client.jar",
    "/usr/share/java/curator-framework.jar",
    "/usr/share/java/curator-recipes.jar",
    "/usr/share/java/guava.jar",
];

/// How long a server may take to answer `ruok` after it is spawned.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// Which server a test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerKind {
    Ferrozk,
    Apache,
}

impl ServerKind {
    pub fn name(self) -> &'static str {
        match self {
            ServerKind::Ferrozk => "ferrozk",
            ServerKind::Apache => "apache",
        }
    }
}

/// The servers every differential test runs: both, reference first, unless
/// `FERROZK_TEST_ONLY` names one (a development aid only).
pub fn kinds_under_test() -> Vec<ServerKind> {
    match std::env::var("FERROZK_TEST_ONLY").ok().as_deref() {
        None | Some("") => vec![ServerKind::Apache, ServerKind::Ferrozk],
        Some("apache") => vec![ServerKind::Apache],
        Some("ferrozk") => vec![ServerKind::Ferrozk],
        // Reference against itself: checks that transcripts are normalised.
        Some("apache-twice") => vec![ServerKind::Apache, ServerKind::Apache],
        Some(other) => {
            panic!("FERROZK_TEST_ONLY={other}: expected apache, ferrozk or apache-twice")
        }
    }
}

/// A free TCP port on 127.0.0.1 (bound, then released for the server).
pub fn free_port() -> u16 {
    free_ports(1)[0]
}

/// `n` distinct free ports: all are held until all are chosen (one at a
/// time, a released port can be handed out again at once).
///
/// They are drawn at random from below the kernel's ephemeral range: a port
/// the kernel handed out for `127.0.0.1:0` is also what it hands out as the
/// local port of any outgoing connection, so while a JVM is starting up
/// another test's client could take it (CI saw Apache exit on "Address
/// already in use" that way).
pub fn free_ports(n: usize) -> Vec<u16> {
    use std::hash::{BuildHasher, Hasher};
    let (low, high) = (10_000u32, ephemeral_low().min(65_536));
    let mut held: Vec<TcpListener> = Vec::with_capacity(n);
    let mut attempts = 0;
    while held.len() < n {
        attempts += 1;
        let listener = if high > low + 1000 && attempts < 10_000 {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u32(attempts);
            let port = low + (h.finish() % u64::from(high - low)) as u32;
            match TcpListener::bind(("127.0.0.1", port as u16)) {
                Ok(l) => l,
                Err(_) => continue,
            }
        } else {
            TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0")
        };
        held.push(listener);
    }
    held.iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect()
}

/// The first port of the kernel's ephemeral range (32768 if unknown).
fn ephemeral_low() -> u32 {
    fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(32_768)
}

/// zoo.cfg keys that Apache ZooKeeper reads as JVM system properties; the
/// harness passes them as `-D` flags too (ferrozk reads them from zoo.cfg).
fn jvm_property_for(key: &str) -> Option<String> {
    match key {
        "extendedTypesEnabled" => Some("zookeeper.extendedTypesEnabled".into()),
        k if k.starts_with("znode.container.") => Some(k.into()),
        k if k.starts_with("zookeeper.") => Some(k.into()),
        _ => None,
    }
}

/// Writes `root/zoo.cfg` from `cfg` and spawns a server of `kind` on it,
/// logging to `root/server.log` (appended, so restarts keep history).
pub fn spawn_server(kind: ServerKind, cfg: &[(String, String)], root: &Path) -> (Child, PathBuf) {
    let cfg_path = root.join("zoo.cfg");
    let text: String = cfg.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    fs::write(&cfg_path, text).unwrap();
    let log = root.join("server.log");
    let log_file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .unwrap();
    let mut cmd = server_command(kind, &cfg_path, cfg);
    cmd.current_dir(root)
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().unwrap())
        .stderr(log_file);
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {} server: {e}", kind.name()));
    (child, log)
}

/// The command that runs `kind` on the zoo.cfg at `cfg_path`; `cfg` (the
/// same settings) supplies the JVM properties Apache reads them from.
pub fn server_command(kind: ServerKind, cfg_path: &Path, cfg: &[(String, String)]) -> Command {
    match kind {
        ServerKind::Ferrozk => {
            let mut c = Command::new(env!("CARGO_BIN_EXE_ferrozk"));
            c.arg("--config").arg(cfg_path);
            c
        }
        ServerKind::Apache => {
            let mut c = Command::new("java");
            c.arg("-Xmx512m").arg("-XX:TieredStopAtLevel=1");
            for (k, v) in cfg {
                if let Some(prop) = jvm_property_for(k) {
                    c.arg(format!("-D{prop}={v}"));
                }
            }
            c.arg("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn")
                .arg("-Dorg.slf4j.simpleLogger.showDateTime=true")
                .arg("-cp")
                .arg(format!("{ZK_JAR}:{SLF4J_SIMPLE_JAR}"))
                .arg("org.apache.zookeeper.server.quorum.QuorumPeerMain")
                .arg(cfg_path);
            c
        }
    }
}

/// A running server, killed (and reaped) on drop.
pub struct TestServer {
    kind: ServerKind,
    port: u16,
    child: Child,
    /// The directory holding zoo.cfg, the log and `data/`.
    root: PathBuf,
    /// Set when the server owns its directory (deleted on drop).
    _owned: Option<tempfile::TempDir>,
    log: PathBuf,
}

impl TestServer {
    /// Write a zoo.cfg (defaults plus `extra`, which override), spawn the
    /// server and wait until it answers `ruok` with `imok`. Panics, showing
    /// the server's log, if it exits or does not become ready in time.
    pub fn start(kind: ServerKind, extra: &[(&str, &str)]) -> TestServer {
        let dir = tempfile::Builder::new()
            .prefix(&format!("ferrozk-test-{}-", kind.name()))
            .tempdir()
            .expect("temp dir");
        let root = dir.path().to_path_buf();
        let mut server = TestServer::start_in(kind, extra, &root);
        server._owned = Some(dir);
        server
    }

    /// Like [`start`](Self::start), but in a directory the caller keeps, so
    /// a later server can start on the same `data/` (restart, crash tests).
    pub fn start_in(kind: ServerKind, extra: &[(&str, &str)], root: &Path) -> TestServer {
        if kind == ServerKind::Apache {
            require_file(ZK_JAR, "Debian package zookeeper / libzookeeper-java");
            require_tool("java", &["-version"]);
        }
        let data_dir = root.join("data");
        fs::create_dir_all(&data_dir).unwrap();
        let mut attempt = 1;
        loop {
            let mut server = TestServer::spawn_in(kind, extra, root, &data_dir);
            match server.wait_ready() {
                Ok(()) => return server,
                // Ports are free when chosen but not reserved: another
                // process may bind one first. Only that failure is retried.
                Err(e) if attempt < 3 && e.contains("Address already in use") => {
                    eprintln!("{} lost its port to another process; retrying", kind.name());
                    attempt += 1;
                }
                Err(e) => panic!("{e}"),
            }
        }
    }

    fn spawn_in(
        kind: ServerKind,
        extra: &[(&str, &str)],
        root: &Path,
        data_dir: &Path,
    ) -> TestServer {
        let port = free_port();

        let mut cfg: Vec<(String, String)> = vec![
            ("tickTime".into(), "2000".into()),
            ("dataDir".into(), data_dir.display().to_string()),
            ("clientPort".into(), port.to_string()),
            ("clientPortAddress".into(), "127.0.0.1".into()),
            ("maxClientCnxns".into(), "0".into()),
            ("4lw.commands.whitelist".into(), "*".into()),
            ("admin.enableServer".into(), "false".into()),
        ];
        for (k, v) in extra {
            match cfg.iter_mut().find(|(ck, _)| ck == k) {
                Some(slot) => slot.1 = v.to_string(),
                None => cfg.push((k.to_string(), v.to_string())),
            }
        }
        let (child, log) = spawn_server(kind, &cfg, root);
        TestServer {
            kind,
            port,
            child,
            root: root.to_path_buf(),
            _owned: None,
            log,
        }
    }

    /// Waits for `ruok` = `imok`; the error names the server and shows its log.
    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Err(format!(
                    "{} server exited before it was ready ({status}); log:\n{}",
                    self.kind.name(),
                    self.log_tail()
                ));
            }
            // Apache ZooKeeper answers `ruok` before its request pipeline
            // runs; `srvr` says "not currently serving requests" until then.
            if let Ok(answer) = four_letter_at(&self.addr(), "ruok", Duration::from_secs(2)) {
                if answer == "imok" {
                    if let Ok(srvr) = four_letter_at(&self.addr(), "srvr", Duration::from_secs(2)) {
                        if srvr.contains("Mode:") {
                            return Ok(());
                        }
                    }
                }
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{} server did not answer ruok=imok within {:?} on {}; log:\n{}",
                    self.kind.name(),
                    STARTUP_TIMEOUT,
                    self.addr(),
                    self.log_tail()
                ));
            }
            // Polling a readiness probe, not synchronising on time.
            thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn kind(&self) -> ServerKind {
        self.kind
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// "127.0.0.1:PORT"
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn dir(&self) -> &Path {
        &self.root
    }

    /// Send a four-letter word and return the whole answer.
    pub fn four_letter(&self, cmd: &str) -> String {
        four_letter_at(&self.addr(), cmd, Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("{cmd} on {}: {e}", self.kind.name()))
    }

    /// The last lines of the server's stdout/stderr.
    pub fn log_tail(&self) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Send a four-letter word to `addr` and read until the server closes.
pub fn four_letter_at(addr: &str, cmd: &str, timeout: Duration) -> std::io::Result<String> {
    let sa: SocketAddr = addr.parse().expect("socket address");
    let mut s = TcpStream::connect_timeout(&sa, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    s.write_all(cmd.as_bytes())?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

/// The result of a command run with [`run_with_timeout`].
#[derive(Debug)]
pub struct Output {
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
}

impl Output {
    pub fn code(&self) -> Option<i32> {
        self.status.and_then(|s| s.code())
    }

    pub fn success(&self) -> bool {
        !self.timed_out && self.status.is_some_and(|s| s.success())
    }

    /// A readable account of the run, for panic messages.
    pub fn describe(&self) -> String {
        format!(
            "exit: {:?}{}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code(),
            if self.timed_out {
                " (TIMED OUT, killed)"
            } else {
                ""
            },
            self.stdout,
            self.stderr
        )
    }
}

/// Run `cmd` (stdin closed) with a deadline; kill it when the deadline
/// passes. Captures stdout and stderr in full.
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Output {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {:?}: {e}", cmd.get_program()));
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let t_err = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + timeout;
    let mut timed_out = false;
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if Instant::now() > deadline {
            timed_out = true;
            let _ = child.kill();
            break child.wait().ok();
        }
        // Polling for exit of a child process.
        thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: String::from_utf8_lossy(&t_out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&t_err.join().unwrap()).into_owned(),
        timed_out,
    }
}

/// Panic (the test fails, it does not skip) unless `path` exists.
pub fn require_file(path: &str, what: &str) {
    assert!(
        Path::new(path).exists(),
        "required file {path} is missing (install {what}; see .ci/run)"
    );
}

/// Panic unless `program args` can be run and exits 0.
pub fn require_tool(program: &str, args: &[&str]) {
    let out = run_with_timeout(Command::new(program).args(args), Duration::from_secs(60));
    assert!(
        out.success(),
        "required tool `{program} {}` is not usable (see .ci/run):\n{}",
        args.join(" "),
        out.describe()
    );
}

/// Panic unless Debian's python3 can import kazoo.
pub fn require_kazoo() {
    require_tool(PYTHON, &["-c", "import kazoo.client"]);
}

/// A small line diff (longest common subsequence) of two texts, for
/// mismatch reports; shows at most `max_lines` changed lines with context.
pub fn diff_lines(left: &str, right: &str, max_lines: usize) -> String {
    let a: Vec<&str> = left.lines().collect();
    let b: Vec<&str> = right.lines().collect();
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            ops.push(('+', b[j]));
            j += 1;
        } else {
            ops.push(('-', a[i]));
            i += 1;
        }
    }
    let mut out = String::new();
    let mut shown = 0;
    let mut last_printed: Option<usize> = None;
    for (k, (tag, line)) in ops.iter().enumerate() {
        let near = (k.saturating_sub(3)..(k + 4).min(ops.len())).any(|x| ops[x].0 != ' ');
        if !near {
            continue;
        }
        if last_printed.map_or(k > 0, |p| p + 1 != k) {
            out.push_str("@@\n");
        }
        out.push_str(&format!("{tag}{line}\n"));
        last_printed = Some(k);
        if *tag != ' ' {
            shown += 1;
            if shown >= max_lines {
                out.push_str("... (diff truncated)\n");
                break;
            }
        }
    }
    out
}

/// Collects problems from both halves of a differential test so that one
/// failure report shows all of them.
#[derive(Default)]
pub struct Problems(Vec<String>);

impl Problems {
    pub fn add(&mut self, p: impl Into<String>) {
        self.0.push(p.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Panic with every problem recorded, if any.
    pub fn check(self, test: &str) {
        if !self.0.is_empty() {
            panic!(
                "{test}: {} problem(s)\n\n{}",
                self.0.len(),
                self.0.join("\n\n")
            );
        }
    }
}

/// Start a server, turning a startup panic into a recorded problem (so
/// the reference half still reports when ferrozk cannot start).
pub fn try_start(kind: ServerKind, extra: &[(&str, &str)]) -> Result<TestServer, String> {
    std::panic::catch_unwind(|| TestServer::start(kind, extra)).map_err(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "server start panicked".into())
    })
}

/// The directory holding this crate's tests (for scripts and sources).
pub fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// A tokio runtime for tests that drive async clients from sync code.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Connects `ferrozk::client` to `addr`, within a bound.
pub async fn connect_client(addr: &str) -> ferrozk::client::Client {
    tokio::time::timeout(
        Duration::from_secs(30),
        ferrozk::client::Client::connect(addr, Duration::from_secs(30)),
    )
    .await
    .expect("connect in time")
    .expect("connect")
}

/// Compiles `tests/java/<file>` against `classpath` into a directory kept
/// for the rest of the test process (each file once); returns it.
pub fn compile_java(file: &str, classpath: &str) -> PathBuf {
    static DIRS: std::sync::OnceLock<
        parking_lot::Mutex<std::collections::HashMap<String, tempfile::TempDir>>,
    > = std::sync::OnceLock::new();
    let mut dirs = DIRS.get_or_init(Default::default).lock();
    if let Some(d) = dirs.get(file) {
        return d.path().to_path_buf();
    }
    let dir = tempfile::Builder::new()
        .prefix("ferrozk-java-")
        .tempdir()
        .unwrap();
    let out = run_with_timeout(
        Command::new("javac")
            .arg("-nowarn")
            .arg("-d")
            .arg(dir.path())
            .arg("-cp")
            .arg(classpath)
            .arg(tests_dir().join("java").join(file)),
        Duration::from_secs(180),
    );
    assert!(out.success(), "javac {file} failed:\n{}", out.describe());
    let path = dir.path().to_path_buf();
    dirs.insert(file.to_string(), dir);
    path
}
