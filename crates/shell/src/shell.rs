//! One shell session: the client, zkCli's history and command counter,
//! `printwatches`, where asynchronous output (watch events, state changes)
//! goes, and the execution of a line: split, dispatch, print the reply or
//! the error, return the exit code.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ferrozk_client::{Client, EventType, KeeperState, WatchedEvent};
use serde_json::{json, Value};
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::error::CliError;
use crate::launch::LaunchOptions;
use crate::{commands, format, words};

/// What a command produced: text for stdout and stderr as zkCli prints
/// it, and the same result as one JSON document.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Reply {
    /// stdout text (lines end in `\n`).
    pub out: String,
    /// stderr text: zkCli's notes (`Created /a`, deprecation warnings).
    pub err: String,
    /// The JSON form; `Null` prints as `{}`.
    pub json: Value,
}

impl Reply {
    /// An empty reply.
    pub fn new() -> Reply {
        Reply::default()
    }

    /// Appends a stdout line.
    pub fn line(&mut self, s: impl AsRef<str>) {
        self.out.push_str(s.as_ref());
        self.out.push('\n');
    }

    /// Appends a stderr line.
    pub fn note(&mut self, s: impl AsRef<str>) {
        self.err.push_str(s.as_ref());
        self.err.push('\n');
    }

    /// Sets the JSON form.
    pub fn with_json(mut self, v: Value) -> Reply {
        self.json = v;
        self
    }
}

/// Where asynchronous text goes (stdout, or the line editor's printer so
/// the line being typed survives).
pub type Printer = Arc<dyn Fn(&str) + Send + Sync>;

fn stdout_printer() -> Printer {
    Arc::new(|s: &str| {
        let mut o = std::io::stdout().lock();
        let _ = o.write_all(s.as_bytes());
        let _ = o.flush();
    })
}

/// A shell session.
pub struct Shell {
    pub(crate) opts: LaunchOptions,
    rt: Handle,
    client: Option<Client>,
    pub(crate) host: String,
    /// Lines by command number, as zkCli's `history`.
    pub(crate) history: BTreeMap<usize, String>,
    /// zkCli's command counter (the number in the prompt).
    pub(crate) count: usize,
    pub(crate) print_watches: Arc<AtomicBool>,
    /// The last command's exit code (what `quit` exits with).
    pub(crate) exit_code: i32,
    pub(crate) quit: bool,
    interactive: bool,
    /// One-shot mode: state changes are not printed.
    one_shot: bool,
    printer: Printer,
    events: Option<JoinHandle<()>>,
    /// Asks the event task to print what is queued, and says when done.
    flush: Option<mpsc::UnboundedSender<oneshot::Sender<()>>>,
}

impl Shell {
    /// A shell that has not connected yet.
    pub fn new(opts: LaunchOptions, rt: Handle, interactive: bool) -> Shell {
        let one_shot = opts.command.is_some();
        Shell {
            host: opts.server.clone(),
            opts,
            rt,
            client: None,
            history: BTreeMap::new(),
            count: 0,
            print_watches: Arc::new(AtomicBool::new(true)),
            exit_code: 0,
            quit: false,
            interactive,
            one_shot,
            printer: stdout_printer(),
            events: None,
            flush: None,
        }
    }

    /// Sends asynchronous output through `p` from now on (the line
    /// editor's printer). Takes effect for the next connection.
    pub fn set_printer(&mut self, p: Printer) {
        self.printer = p;
    }

    /// The runtime the shell's client lives on.
    pub fn runtime(&self) -> &Handle {
        &self.rt
    }

    /// The client, when connected (or reconnecting).
    pub fn client(&self) -> Option<&Client> {
        self.client.as_ref()
    }

    /// Whether JSON output is on for every command.
    pub fn json(&self) -> bool {
        self.opts.json
    }

    /// Whether `quit` was run.
    pub fn quitting(&self) -> bool {
        self.quit
    }

    /// The connection state as zkCli's prompt shows it (`ZooKeeper.States`).
    pub fn state_name(&self) -> &'static str {
        match self.client.as_ref().map(Client::state) {
            None => "CLOSED",
            Some(KeeperState::SyncConnected) => "CONNECTED",
            Some(KeeperState::ConnectedReadOnly) => "CONNECTEDREADONLY",
            Some(KeeperState::Disconnected) => "CONNECTING",
            Some(KeeperState::AuthFailed) => "AUTH_FAILED",
            Some(KeeperState::SaslAuthenticated) => "CONNECTED",
            Some(KeeperState::Expired | KeeperState::Closed) => "CLOSED",
        }
    }

    /// zkCli's prompt: `[zk: host:port(CONNECTED) 3] `.
    pub fn prompt(&self) -> String {
        format!("[zk: {}({}) {}] ", self.host, self.state_name(), self.count)
    }

    /// Whether requests can be sent (zkCli's `zk.getState().isAlive()`).
    pub fn alive(&self) -> bool {
        self.client
            .as_ref()
            .is_some_and(|c| !c.state().is_terminal())
    }

    /// (Re)connects to `host` (a connect string), closing the session we
    /// had.
    pub async fn connect(&mut self, host: &str) -> Result<(), CliError> {
        self.close().await;
        self.host = host.to_string();
        let timeout = Duration::from_millis(self.opts.timeout_ms.max(1));
        let client = Client::builder(host, timeout)
            .read_only(self.opts.read_only)
            .connect()
            .await
            .map_err(|e| match e {
                ferrozk_client::Error::ConnectString(e) => CliError::Other(e.to_string()),
                e => CliError::Other(format!(
                    "cannot connect to {host}: {}",
                    CliError::from_client(e, "")
                )),
            })?;
        let mut events = client.events();
        let printer = self.printer.clone();
        let print_watches = self.print_watches.clone();
        let json = self.opts.json;
        let quiet_states = self.one_shot;
        let print = move |ev: WatchedEvent| {
            if !print_watches.load(Ordering::Relaxed)
                || (quiet_states && ev.event_type == EventType::None)
            {
                return;
            }
            if json {
                printer(&format!("{}\n", format::event_json(&ev)));
            } else {
                printer(&format!("\nWATCHER::\n\n{}\n", format::event_text(&ev)));
            }
        };
        let (flush_tx, mut flush_rx) = mpsc::unbounded_channel::<oneshot::Sender<()>>();
        self.flush = Some(flush_tx);
        self.events = Some(self.rt.spawn(async move {
            loop {
                tokio::select! {
                    ev = events.recv() => match ev {
                        Some(ev) => print(ev),
                        None => break,
                    },
                    Some(done) = flush_rx.recv() => {
                        // Everything queued so far: the client queues an
                        // event before the reply that follows it completes.
                        while let Ok(ev) = events.try_recv() {
                            print(ev);
                        }
                        let _ = done.send(());
                    }
                }
            }
            // The session ended: answer the flushes still waiting.
            while let Ok(done) = flush_rx.try_recv() {
                let _ = done.send(());
            }
        }));
        self.client = Some(client);
        Ok(())
    }

    /// Prints the watch events and state changes queued so far, so they
    /// come before the output of the reply that followed them (zkCli's
    /// watcher runs before the call returns).
    pub async fn flush_events(&self) {
        let Some(tx) = &self.flush else { return };
        let (done_tx, done_rx) = oneshot::channel();
        if tx.send(done_tx).is_ok() {
            let _ = done_rx.await;
        }
    }

    /// Closes the session (on exit and before `connect`; the `close`
    /// command closes the client itself and its Closed event prints with
    /// the reply). Events still queued are dropped: at exit the line
    /// editor's printer may be gone.
    pub async fn close(&mut self) {
        if let Some(c) = self.client.take() {
            let _ = c.close().await;
        }
        self.flush = None;
        if let Some(t) = self.events.take() {
            t.abort();
        }
    }

    /// Prints an error as zkCli does (stderr), or as a JSON document.
    pub fn report(&self, e: &CliError) {
        if self.opts.json {
            println!("{}", error_json(e));
        } else {
            eprintln!("{e}");
        }
    }

    /// Runs one line typed or read from stdin: counted and kept in the
    /// history as zkCli does (empty lines are neither).
    pub async fn execute_line(&mut self, line: &str) -> i32 {
        let words = words::split_line(line);
        if words.is_empty() {
            return self.exit_code;
        }
        self.history.insert(self.count, line.to_string());
        let code = self.run_words(words).await;
        self.count += 1;
        code
    }

    /// Runs one command given as words (the command name first).
    pub async fn run_words(&mut self, mut words: Vec<String>) -> i32 {
        // `--json` before any `--` switches this command to JSON.
        let end = words.iter().position(|w| w == "--").unwrap_or(words.len());
        let json = match words[..end].iter().position(|w| w == "--json") {
            Some(i) => {
                words.remove(i);
                true
            }
            None => self.opts.json,
        };
        if words.is_empty() {
            return self.exit_code;
        }
        let result = Box::pin(commands::dispatch(self, words)).await;
        self.flush_events().await;
        self.exit_code = match result {
            Ok(reply) => {
                print_reply(&reply, json);
                0
            }
            Err(CliError::Exit(code)) => code,
            Err(e) => {
                if json {
                    println!("{}", error_json(&e));
                } else {
                    eprintln!("{e}");
                }
                e.exit_code()
            }
        };
        self.exit_code
    }

    /// Runs the lines of stdin (`ferrozk shell < file`); the exit code is
    /// the last command's.
    pub async fn run_stdin(&mut self) -> i32 {
        use tokio::io::AsyncBufReadExt;
        let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            self.execute_line(&line).await;
            if self.quit {
                break;
            }
        }
        self.exit_code
    }

    /// Whether this session is interactive (a terminal).
    pub fn interactive(&self) -> bool {
        self.interactive
    }
}

fn print_reply(r: &Reply, json: bool) {
    if json {
        let v = if r.json.is_null() {
            json!({})
        } else {
            r.json.clone()
        };
        println!("{v}");
        if !r.err.is_empty() {
            eprint!("{}", r.err);
        }
        return;
    }
    if !r.err.is_empty() {
        eprint!("{}", r.err);
    }
    if !r.out.is_empty() {
        let mut o = std::io::stdout().lock();
        let _ = o.write_all(r.out.as_bytes());
        let _ = o.flush();
    }
}

/// The JSON document of a failed command.
pub fn error_json(e: &CliError) -> Value {
    json!({
        "error": e.to_string(),
        "code": e.code().map(|c| format!("{c:?}")),
        "exitCode": e.exit_code(),
    })
}
