//! `ferrozk shell` at a terminal: the binary runs on a pseudo-terminal
//! (rexpect) against a real server, and the test types as a person would.
//!
//! Covered: a command's output and zkCli's prompt with its counter; history
//! recalled with the arrow keys and kept in the history file across runs
//! (`addauth` left out); Tab completing a command name, a command's flags
//! and a znode path asked of the server; a watch event printed above a
//! half-typed line, which survives it; Ctrl-C clearing the line, Ctrl-D
//! ending the shell with status 0, `quit` with the last command's status;
//! Ctrl-C abandoning a command that hangs without ending the shell.
//!
//! Every scenario runs against ferrozk (a server each) and, in one test,
//! against Apache ZooKeeper 3.8 one after the other.
//!
//! Keys are sent one at a time and each is awaited in the echo before the
//! next, as a typist's keys arrive: that is the synchronisation (no sleeps),
//! and it also keeps the test clear of rustyline's handling of several
//! bytes read at once (see crates/shell/src/repl.rs).

mod common;

use std::fs::File;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use common::{kinds_under_test, run_with_timeout, ServerKind, TestServer};
use rexpect::process::{PtyProcess, WaitStatus};

/// How long one expected piece of output may take.
const EXPECT: Duration = Duration::from_secs(10);

const ENTER: &str = "\r";
const UP: &str = "\x1b[A";
const DOWN: &str = "\x1b[B";
const TAB: &str = "\t";
const CTRL_C: &str = "\x03";
const CTRL_D: &str = "\x04";

/// What a scenario gets: the server's address and a directory of its own.
struct Ctx {
    addr: String,
    dir: tempfile::TempDir,
}

impl Ctx {
    fn new(addr: String) -> Ctx {
        Ctx {
            addr,
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn history(&self) -> PathBuf {
        self.dir.path().join("history")
    }

    /// An interactive shell on this server with this scenario's history.
    fn shell(&self) -> Term {
        Term::start(&self.addr, &self.history(), &[])
    }

    /// zkCli's prompt while connected, at command number `n`.
    fn prompt(&self, n: usize) -> String {
        format!("[zk: {}(CONNECTED) {n}] ", self.addr)
    }

    /// Runs a one-shot `ferrozk shell` command from another session.
    fn other_client(&self, args: &[&str]) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrozk"));
        cmd.args(["shell", "-server", &self.addr]).args(args);
        let out = run_with_timeout(&mut cmd, Duration::from_secs(20));
        assert!(out.success(), "ferrozk shell {args:?}:\n{}", out.describe());
    }
}

/// A shell on a pseudo-terminal (rexpect's pty fork, which kills the
/// process on drop), read by a thread of our own: waiting for output blocks
/// on its channel, so a wait ends as soon as the text arrives.
struct Term {
    process: PtyProcess,
    keys: File,
    output: Receiver<String>,
    /// Output read and not yet matched.
    pending: String,
    /// Output matched so far, for failure messages.
    seen: String,
}

impl Term {
    fn start(server: &str, history: &Path, options: &[&str]) -> Term {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrozk"));
        cmd.args(["shell", "-server", server])
            .args(options)
            .env("TERM", "xterm")
            .env("FERROZK_SHELL_HISTORY", history);
        let mut process = PtyProcess::new(cmd).expect("spawn ferrozk shell on a pty");
        process.set_kill_timeout(Some(2_000));
        let keys = process.get_file_handle().expect("the pty");
        let screen = process.get_file_handle().expect("the pty");
        let (tx, output) = mpsc::channel();
        thread::spawn(move || read_screen(screen, tx));
        let mut t = Term {
            process,
            keys,
            output,
            pending: String::new(),
            seen: String::new(),
        };
        // The session's first event, printed when the shell connects; it
        // may come before or after the first prompt, which is drawn again
        // after it either way.
        t.expect("WatchedEvent state:SyncConnected type:None path:null");
        t
    }

    /// Waits until `found` finds something in the output; returns the
    /// output before it and the match.
    fn wait_for(
        &mut self,
        what: &str,
        found: impl Fn(&str) -> Option<(usize, usize)>,
    ) -> (String, String) {
        let deadline = Instant::now() + EXPECT;
        loop {
            if let Some((at, end)) = found(&self.pending) {
                let before: String = self.pending.drain(..at).collect();
                let matched: String = self.pending.drain(..end - at).collect();
                self.seen.push_str(&before);
                self.seen.push_str(&matched);
                return (before, matched);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(text) => self.pending.push_str(&text),
                Err(e) => panic!(
                    "waiting for {what} ({e:?}); unmatched output:\n{:?}\nmatched before:\n{}",
                    self.pending, self.seen
                ),
            }
        }
    }

    /// Waits for `needle`; returns the output before it.
    fn expect(&mut self, needle: &str) -> String {
        let what = format!("{needle:?}");
        self.wait_for(&what, |s| s.find(needle).map(|i| (i, i + needle.len())))
            .0
    }

    /// Waits for the first prompt. It may say CONNECTING: the client's
    /// `connect()` returns once the handshake is done, and its state turns
    /// SyncConnected a moment later, on its own task (as with zkCli, whose
    /// first prompt often says CONNECTING).
    fn first_prompt(&mut self, addr: &str) {
        let connected = format!("[zk: {addr}(CONNECTED) 0] ");
        let connecting = format!("[zk: {addr}(CONNECTING) 0] ");
        self.wait_for("the first prompt", |s| {
            let a = s.find(&connected).map(|i| (i, i + connected.len()));
            let b = s.find(&connecting).map(|i| (i, i + connecting.len()));
            a.into_iter().chain(b).min()
        });
    }

    /// Sends `keys` at once (one key: a byte or an escape sequence).
    fn press(&mut self, keys: &str) {
        self.keys
            .write_all(keys.as_bytes())
            .expect("write to the pty");
        self.keys.flush().expect("flush the pty");
    }

    /// Types `text` one character at a time, each awaited in the echo.
    fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.press(&c.to_string());
            self.expect(&c.to_string());
        }
    }

    /// Types a line and Enter; returns once the line is submitted (the
    /// editor's newline), so a key sent next reaches the running command.
    fn enter(&mut self, line: &str) {
        self.type_text(line);
        self.press(ENTER);
        self.expect("\n");
    }

    /// Waits for the end of output and returns the exit status.
    fn exit_status(mut self) -> i32 {
        let deadline = Instant::now() + EXPECT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(text) => self.pending.push_str(&text),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => panic!(
                    "the shell did not exit; unmatched output:\n{:?}\nmatched before:\n{}",
                    self.pending, self.seen
                ),
            }
        }
        match self.process.wait() {
            Ok(WaitStatus::Exited(_, code)) => code,
            other => panic!("the shell did not exit normally: {other:?}"),
        }
    }
}

/// Sends what the shell writes, without escape sequences (colours, cursor
/// moves), until the terminal closes.
fn read_screen(mut screen: File, tx: Sender<String>) {
    let mut buf = [0u8; 4096];
    let mut in_escape = false;
    loop {
        let n = match screen.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let mut text = Vec::with_capacity(n);
        for &b in &buf[..n] {
            if b == 0x1b {
                in_escape = true;
            } else if in_escape {
                // A sequence ends with its first letter (`ESC [ 5 C`).
                in_escape = !b.is_ascii_alphabetic();
            } else {
                text.push(b);
            }
        }
        if tx
            .send(String::from_utf8_lossy(&text).into_owned())
            .is_err()
        {
            return;
        }
    }
}

fn commands_and_the_prompt(cx: &Ctx) {
    let mut t = cx.shell();
    t.first_prompt(&cx.addr);
    t.enter("create /p hello");
    t.expect("Created /p");
    t.expect(&cx.prompt(1));
    t.enter("get /p");
    t.expect("hello");
    t.expect(&cx.prompt(2));
    t.enter("ls /p");
    t.expect("[]");
    t.expect(&cx.prompt(3));
    t.enter("get /p_missing");
    t.expect("Node does not exist: /p_missing");
    t.expect(&cx.prompt(4));
    // `quit` ends with the last command's status, as zkCli.
    t.enter("quit");
    assert_eq!(t.exit_status(), 1);
}

fn history_recall_and_its_file(cx: &Ctx) {
    let mut t = cx.shell();
    t.first_prompt(&cx.addr);
    t.enter("addauth digest user:secret");
    t.expect(&cx.prompt(1));
    t.enter("create /h one");
    t.expect(&cx.prompt(2));
    t.enter("get /h");
    t.expect("one");
    t.expect(&cx.prompt(3));
    t.press(UP);
    t.expect(&format!("{}get /h", cx.prompt(3)));
    t.press(ENTER);
    t.expect("one");
    t.expect(&cx.prompt(4));
    t.press(CTRL_D);
    assert_eq!(t.exit_status(), 0);

    let saved = std::fs::read_to_string(cx.history()).expect("the history file");
    assert!(
        saved.contains("create /h one") && saved.contains("get /h"),
        "{saved}"
    );
    assert!(
        !saved.contains("secret"),
        "credentials in the history file:\n{saved}"
    );

    // A new run starts from the file.
    let mut t = cx.shell();
    t.first_prompt(&cx.addr);
    t.press(UP);
    t.expect("get /h");
    t.press(UP);
    t.expect("create /h one");
    t.press(DOWN);
    t.expect("get /h");
    t.press(ENTER);
    t.expect("one");
    t.expect(&cx.prompt(1));
    t.press(CTRL_D);
    assert_eq!(t.exit_status(), 0);
}

fn tab_completion(cx: &Ctx) {
    let mut t = cx.shell();
    t.first_prompt(&cx.addr);
    t.enter("create /tab_node x");
    t.expect(&cx.prompt(1));
    // A command name.
    t.type_text("printw");
    t.press(TAB);
    t.expect("printwatches");
    t.press(ENTER);
    t.expect("printwatches is on");
    t.expect(&cx.prompt(2));
    // A path, from the server's children of `/`.
    t.type_text("get /tab_n");
    t.press(TAB);
    t.expect("get /tab_node");
    t.press(ENTER);
    t.expect("x");
    t.expect(&cx.prompt(3));
    // A path below the root.
    t.type_text("ls /zookeeper/qu");
    t.press(TAB);
    t.expect("ls /zookeeper/quota");
    t.press(ENTER);
    t.expect(&cx.prompt(4));
    // Flags: nothing in common to add, so the second Tab lists them.
    t.type_text("get -");
    t.press(TAB);
    t.press(TAB);
    t.expect("--raw");
    t.expect("-w");
    t.expect(&format!("{}get -", cx.prompt(4)));
    t.press(CTRL_C);
    t.expect(&cx.prompt(4));
    t.press(CTRL_D);
    assert_eq!(t.exit_status(), 0);
}

fn a_watch_event_above_the_line(cx: &Ctx) {
    let mut t = cx.shell();
    t.first_prompt(&cx.addr);
    t.enter("create /w 1");
    t.expect(&cx.prompt(1));
    t.enter("get -w /w");
    t.expect("1");
    t.expect(&cx.prompt(2));
    t.type_text("ls /w");
    cx.other_client(&["set", "/w", "2"]);
    t.expect("WATCHER::");
    t.expect("WatchedEvent state:SyncConnected type:NodeDataChanged path:/w");
    // The half-typed line is drawn again below the event, and is intact.
    t.expect(&format!("{}ls /w", cx.prompt(2)));
    t.press(ENTER);
    t.expect("[]");
    t.expect(&cx.prompt(3));
    t.press(CTRL_D);
    assert_eq!(t.exit_status(), 0);
}

fn ctrl_c_clears_and_ctrl_d_ends(cx: &Ctx) {
    let mut t = cx.shell();
    t.first_prompt(&cx.addr);
    t.type_text("create /cc_dropped");
    t.press(CTRL_C);
    // A new prompt with the same number: the line did not run.
    t.first_prompt(&cx.addr);
    t.enter("ls /cc_dropped");
    t.expect("Node does not exist: /cc_dropped");
    t.expect(&cx.prompt(1));
    t.enter("create /cc_kept");
    t.expect(&cx.prompt(2));
    t.press(CTRL_D);
    assert_eq!(t.exit_status(), 0);
}

/// Every scenario, for the run against Apache ZooKeeper.
/// A scenario: a name and what it does with a server.
type Scenario = (&'static str, fn(&Ctx));

const SCENARIOS: &[Scenario] = &[
    ("commands_and_the_prompt", commands_and_the_prompt),
    ("history_recall_and_its_file", history_recall_and_its_file),
    ("tab_completion", tab_completion),
    ("a_watch_event_above_the_line", a_watch_event_above_the_line),
    (
        "ctrl_c_clears_and_ctrl_d_ends",
        ctrl_c_clears_and_ctrl_d_ends,
    ),
];

/// Runs `scenario` against a ferrozk server of its own.
fn on_ferrozk(scenario: fn(&Ctx)) {
    if !kinds_under_test().contains(&ServerKind::Ferrozk) {
        eprintln!("FERROZK_TEST_ONLY excludes ferrozk");
        return;
    }
    let server = TestServer::start(ServerKind::Ferrozk, &[]);
    scenario(&Ctx::new(server.addr()));
}

#[test]
fn typing_a_command_shows_its_output_and_the_prompt_counts() {
    on_ferrozk(commands_and_the_prompt);
}

#[test]
fn history_is_recalled_and_persists_across_runs() {
    on_ferrozk(history_recall_and_its_file);
}

#[test]
fn tab_completes_commands_flags_and_live_paths() {
    on_ferrozk(tab_completion);
}

#[test]
fn a_watch_event_prints_above_a_half_typed_line() {
    on_ferrozk(a_watch_event_above_the_line);
}

#[test]
fn ctrl_c_clears_the_line_and_ctrl_d_exits_0() {
    on_ferrozk(ctrl_c_clears_and_ctrl_d_ends);
}

/// Ctrl-C while a command hangs (a connect to a server that never
/// answers): the shell survives, abandons the command and prompts again.
#[test]
fn ctrl_c_abandons_a_hanging_command() {
    on_ferrozk(|cx| {
        // Accepts connections (the kernel's backlog) and never answers.
        let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
        let silent_addr = silent.local_addr().expect("address").to_string();
        let mut t = cx.shell();
        t.first_prompt(&cx.addr);
        t.enter(&format!("connect {silent_addr}"));
        t.press(CTRL_C);
        t.expect("Interrupted");
        t.expect(&format!("[zk: {silent_addr}(CLOSED) 1] "));
        t.enter("printwatches");
        t.expect("printwatches is on");
        t.expect(&format!("[zk: {silent_addr}(CLOSED) 2] "));
        t.enter("quit");
        assert_eq!(t.exit_status(), 0);
    });
}

/// Keys typed while a command runs (here a connect that fails after its
/// timeout) are not lost: a whole line runs next, the rest is on the
/// next prompt, ready to edit.
#[test]
fn keys_typed_while_a_command_runs_are_kept() {
    on_ferrozk(|cx| {
        let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
        let silent_addr = silent.local_addr().expect("address").to_string();
        let mut t = Term::start(&cx.addr, &cx.history(), &["-timeout", "1500"]);
        t.first_prompt(&cx.addr);
        t.enter(&format!("connect {silent_addr}"));
        // At once, as a typist ahead of the shell; the terminal (in line
        // mode while the command runs) holds them.
        t.press("printwatches\rhist");
        t.expect("cannot connect to");
        t.expect(&format!("[zk: {silent_addr}(CLOSED) 1] printwatches"));
        t.expect("printwatches is on");
        t.expect(&format!("[zk: {silent_addr}(CLOSED) 2] hist"));
        t.type_text("ory");
        t.press(ENTER);
        t.expect(&format!("0 - connect {silent_addr}"));
        t.expect("1 - printwatches");
        t.expect(&format!("[zk: {silent_addr}(CLOSED) 3] "));
        t.press(CTRL_D);
        assert_eq!(t.exit_status(), 0);
    });
}

#[test]
fn the_same_at_a_terminal_on_apache_zookeeper() {
    if !kinds_under_test().contains(&ServerKind::Apache) {
        eprintln!("FERROZK_TEST_ONLY excludes apache");
        return;
    }
    let server = TestServer::start(ServerKind::Apache, &[]);
    for (name, scenario) in SCENARIOS {
        eprintln!("apache: {name}");
        scenario(&Ctx::new(server.addr()));
    }
}
