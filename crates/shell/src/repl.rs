//! The interactive loop: zkCli's JLine console, with a line editor.
//!
//! - The prompt is zkCli's (`[zk: host:port(CONNECTED) 3] `), recomputed for
//!   every line so a state change or the command counter shows.
//! - Tab completes as zkCli's `JLineZNodeCompleter`: a word starting with
//!   `/` from the children of its parent znode, asked of the server when
//!   Tab is pressed (bare child names, no trailing `/`), the first word from
//!   the command names; ferrozk adds a command's flags (`get -<Tab>`) and
//!   `printwatches on|off`.
//! - History persists in `~/.ferrozk_shell_history` (`FERROZK_SHELL_HISTORY`
//!   names another file; empty turns persistence off), saved after each
//!   line. `addauth` lines are kept out of it, since they carry credentials.
//! - Watch events and state changes arrive while a line is being typed;
//!   they go through the editor's external printer, which prints them above
//!   the line and redraws the line. [`printer`] must be installed on the
//!   shell before it connects, since the session's event task keeps the
//!   printer it was started with.
//! - Ctrl-C clears the line; Ctrl-D on an empty line ends the input (as the
//!   end of zkCli's input, the exit code is the last command's); `quit` too.
//!   While a command runs, Ctrl-C no longer kills the process: a command
//!   that waits for it (`watch`) ends by itself; any other is abandoned a
//!   moment later.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use ferrozk_client::Client;
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{CompletionType, Config, Context, Editor, ExternalPrinter, Helper};
use tokio::runtime::{Handle, Runtime};
use tokio::signal::unix::{signal, Signal, SignalKind};

use crate::commands::{self, COMMANDS};
use crate::shell::{Printer, Shell};
use crate::words::{split_line, FlagSpec};

/// How long Tab waits for the server's list of children: a server that is
/// gone must not freeze the line.
const COMPLETION_TIMEOUT: Duration = Duration::from_millis(700);

/// How long a running command has after Ctrl-C to end by itself (as
/// `watch` does) before it is abandoned.
const INTERRUPT_GRACE: Duration = Duration::from_millis(1500);

/// The exit code of a command abandoned on Ctrl-C (a shell's 128 + SIGINT).
const INTERRUPTED: i32 = 130;

/// The history file's name under `$HOME`.
const HISTORY_FILE: &str = ".ferrozk_shell_history";

/// Lines kept in the history file.
const HISTORY_SIZE: usize = 1000;

/// Where the asynchronous output goes once the editor runs: the sending end
/// of the printer thread's queue. Process-wide because the shell's printer
/// has to exist before the editor does (see [`printer`]).
static EDITOR_OUTPUT: Mutex<Option<Sender<String>>> = Mutex::new(None);

/// The printer for an interactive shell's asynchronous output; install it
/// with [`Shell::set_printer`] before the shell connects. Until [`run`]
/// starts the line editor it writes to stdout; from then on, through the
/// editor, above the line being typed.
pub fn printer() -> Printer {
    Arc::new(|s: &str| {
        let queued = match EDITOR_OUTPUT.lock() {
            Ok(slot) => slot
                .as_ref()
                .is_some_and(|tx| tx.send(s.to_string()).is_ok()),
            Err(_) => false,
        };
        if !queued {
            let mut o = std::io::stdout().lock();
            let _ = o.write_all(s.as_bytes());
            let _ = o.flush();
        }
    })
}

/// Runs the interactive loop until `quit` or end of input; returns the
/// exit code.
pub fn run(sh: &mut Shell, rt: &Runtime) -> i32 {
    let mut interrupts = Interrupts::listen(rt);
    let mut rl = match editor(sh) {
        Ok(rl) => rl,
        Err(e) => {
            eprintln!("cannot start the line editor: {e}");
            return 1;
        }
    };
    let mut history = history_path();
    if let Some(path) = &history {
        // A missing file is the first run.
        let _ = rl.load_history(path);
    }
    let output = start_output(&mut rl);
    println!("Welcome to ZooKeeper!");
    let mut typed = TypedAhead::default();
    loop {
        if let Some(h) = rl.helper_mut() {
            h.client = sh.client().cloned();
        }
        if typed.lines.is_empty() {
            typed.take_from_terminal();
        }
        let prompt = sh.prompt();
        let read = match typed.lines.pop_front() {
            Some(line) => {
                println!("{prompt}{line}");
                Ok(line)
            }
            None => rl.readline_with_initial(&prompt, (&std::mem::take(&mut typed.partial), "")),
        };
        match read {
            Ok(line) => {
                remember(&mut rl, &line, &mut history);
                run_line(sh, rt, &mut interrupts, &line);
                if sh.quitting() {
                    break;
                }
            }
            // Ctrl-C: the line is dropped, a new prompt follows.
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("{e}");
                break;
            }
        }
    }
    stop_output(output);
    sh.exit_code
}

/// What was typed while a command ran: whole lines, to run next, and the
/// start of a line, to edit.
///
/// The line editor must not find it on the terminal: once an external
/// printer exists, rustyline 15 (up to 18) waits in `select` on the
/// terminal and the printer's pipe without looking first at the keys it
/// has already read into its buffer, so of several bytes read at once
/// only the first is handled until the next key arrives. Typed-ahead text
/// is always several bytes at once, as the terminal hands over a pending
/// line whole when the editor switches it to raw mode; taken off the
/// terminal here, it becomes the editor's initial text instead.
#[derive(Debug, Default, PartialEq)]
struct TypedAhead {
    lines: VecDeque<String>,
    partial: String,
}

impl TypedAhead {
    /// Reads what the terminal holds, without waiting.
    fn take_from_terminal(&mut self) {
        let bytes = pending_input();
        if !bytes.is_empty() {
            self.add(&bytes);
        }
    }

    /// Adds typed bytes: `\r` or `\n` ends a line, escape sequences (arrow
    /// keys) and other control characters are dropped.
    fn add(&mut self, bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes);
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            match c {
                '\r' | '\n' => self.lines.push_back(std::mem::take(&mut self.partial)),
                '\x1b' => skip_escape(&mut chars),
                c if c.is_control() => {}
                c => self.partial.push(c),
            }
        }
    }
}

/// Skips the rest of an escape sequence (`ESC [ params final`, `ESC O x`,
/// or `ESC x`).
fn skip_escape(chars: &mut std::str::Chars<'_>) {
    match chars.next() {
        Some('[') => {
            for c in chars.by_ref() {
                if ('\x40'..='\x7e').contains(&c) {
                    break;
                }
            }
        }
        Some('O') => {
            chars.next();
        }
        _ => {}
    }
}

/// The bytes waiting on the terminal (stdin), read without blocking: the
/// terminal is switched out of line mode (which also hands over a line
/// being typed) for the read, then put back as it was.
fn pending_input() -> Vec<u8> {
    use nix::sys::termios::{tcgetattr, tcsetattr, LocalFlags, SetArg, SpecialCharacterIndices};
    use std::os::fd::AsRawFd;
    let stdin = std::io::stdin();
    let Ok(saved) = tcgetattr(&stdin) else {
        return Vec::new();
    };
    let mut now = saved.clone();
    now.local_flags
        .remove(LocalFlags::ICANON | LocalFlags::ECHO);
    now.control_chars[SpecialCharacterIndices::VMIN as usize] = 0;
    now.control_chars[SpecialCharacterIndices::VTIME as usize] = 0;
    if tcsetattr(&stdin, SetArg::TCSANOW, &now).is_err() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    while let Ok(n @ 1..) = nix::unistd::read(stdin.as_raw_fd(), &mut buf) {
        out.extend_from_slice(&buf[..n]);
    }
    let _ = tcsetattr(&stdin, SetArg::TCSANOW, &saved);
    out
}

/// SIGINT while a command runs. Listening replaces the signal's default
/// disposition (ending the process) for the rest of the process: tokio
/// never unregisters a handler. While a line is typed, the terminal is raw
/// and Ctrl-C is a key, not a signal.
struct Interrupts(Option<Signal>);

impl Interrupts {
    fn listen(rt: &Runtime) -> Interrupts {
        let _in_runtime = rt.enter();
        match signal(SignalKind::interrupt()) {
            Ok(s) => Interrupts(Some(s)),
            Err(e) => {
                eprintln!("cannot handle Ctrl-C: {e}");
                Interrupts(None)
            }
        }
    }

    /// The next Ctrl-C (never, without a handler).
    async fn next(&mut self) {
        match self.0.as_mut() {
            Some(s) => {
                s.recv().await;
            }
            None => std::future::pending().await,
        }
    }

    /// Forgets a Ctrl-C that came as a command was ending: it must not
    /// interrupt the next one.
    async fn forget(&mut self) {
        if let Some(s) = self.0.as_mut() {
            // `timeout` polls the receiver once before looking at the clock.
            while let Ok(Some(())) = tokio::time::timeout(Duration::ZERO, s.recv()).await {}
        }
    }
}

/// Runs one line. The signal listener lives across commands, so a Ctrl-C
/// pressed just after Enter, before the command starts, still counts; it
/// gives the command [`INTERRUPT_GRACE`] to end itself (as `watch` does,
/// listening too), then abandons it.
fn run_line(sh: &mut Shell, rt: &Runtime, interrupts: &mut Interrupts, line: &str) {
    let abandoned = rt.block_on(async {
        let command = sh.execute_line(line);
        tokio::pin!(command);
        let abandoned = tokio::select! {
            _ = &mut command => false,
            _ = interrupts.next() => {
                tokio::time::timeout(INTERRUPT_GRACE, &mut command).await.is_err()
            }
        };
        interrupts.forget().await;
        abandoned
    });
    if abandoned {
        eprintln!("Interrupted");
        sh.exit_code = INTERRUPTED;
        sh.count += 1;
    }
}

type LineEditor = Editor<ShellHelper, DefaultHistory>;

fn editor(sh: &Shell) -> rustyline::Result<LineEditor> {
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .auto_add_history(false)
        .history_ignore_dups(true)?
        .max_history_size(HISTORY_SIZE)?
        .build();
    let mut rl = Editor::with_config(config)?;
    rl.set_helper(Some(ShellHelper {
        rt: sh.runtime().clone(),
        client: None,
    }));
    Ok(rl)
}

/// The history file: `$FERROZK_SHELL_HISTORY` (empty: none), else
/// `~/.ferrozk_shell_history`.
fn history_path() -> Option<PathBuf> {
    match std::env::var_os("FERROZK_SHELL_HISTORY") {
        Some(p) if p.is_empty() => None,
        Some(p) => Some(PathBuf::from(p)),
        None => std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(HISTORY_FILE)),
    }
}

/// Adds `line` to the editor's history and appends it to the file; lines
/// with credentials (`addauth`) are left out of both. A file that cannot
/// be written is reported once and given up.
fn remember(rl: &mut LineEditor, line: &str, file: &mut Option<PathBuf>) {
    if split_line(line).first().map(String::as_str) == Some("addauth") {
        return;
    }
    if !matches!(rl.add_history_entry(line), Ok(true)) {
        return;
    }
    if let Some(path) = file.as_ref() {
        if let Err(e) = rl.append_history(path) {
            eprintln!("cannot save the history in {}: {e}", path.display());
            *file = None;
        }
    }
}

/// The thread that hands asynchronous output to the editor's external
/// printer. A thread of its own, because that printer can block until the
/// editor reads what it was given, and the shell's event task must not
/// block the runtime (Tab's request to the server runs on it).
struct Output {
    thread: JoinHandle<()>,
}

fn start_output(rl: &mut LineEditor) -> Option<Output> {
    // Not a terminal on both sides: output goes straight to stdout.
    let mut ext = rl.create_external_printer().ok()?;
    let (tx, rx) = mpsc::channel::<String>();
    let thread = std::thread::Builder::new()
        .name("shell-output".into())
        .spawn(move || {
            for msg in rx {
                if ext.print(msg.clone()).is_err() {
                    let _ = std::io::stdout().lock().write_all(msg.as_bytes());
                }
            }
        })
        .ok()?;
    *EDITOR_OUTPUT.lock().ok()? = Some(tx);
    Some(Output { thread })
}

/// Back to stdout; what was queued is printed first.
fn stop_output(output: Option<Output>) {
    if let Ok(mut slot) = EDITOR_OUTPUT.lock() {
        slot.take();
    }
    if let Some(o) = output {
        let _ = o.thread.join();
    }
    let _ = std::io::stdout().flush();
}

/// The editor's helper: completion, with the session's client to ask for
/// children (refreshed before every line, as `connect` and `close` change
/// it).
struct ShellHelper {
    rt: Handle,
    client: Option<Client>,
}

impl ShellHelper {
    /// The children of `dir`, or nothing when the server cannot say soon.
    fn children(&self, dir: &str) -> Vec<String> {
        let Some(client) = self.client.as_ref().filter(|c| !c.state().is_terminal()) else {
            return Vec::new();
        };
        // The timer must be made inside the runtime.
        let ask = async {
            tokio::time::timeout(COMPLETION_TIMEOUT, client.get_children(dir, false)).await
        };
        match self.rt.block_on(ask) {
            Ok(Ok(children)) => children,
            _ => Vec::new(),
        }
    }
}

impl Completer for ShellHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = line.get(..pos).unwrap_or(line);
        let (start, words) = candidates(before, |dir| self.children(dir));
        let pairs = words
            .into_iter()
            .map(|w| Pair {
                display: w.clone(),
                replacement: w,
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for ShellHelper {
    type Hint = String;
}

impl Highlighter for ShellHelper {
    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(
        &'s self,
        prompt: &'p str,
        _default: bool,
    ) -> Cow<'b, str> {
        Cow::Borrowed(prompt)
    }
}

impl Validator for ShellHelper {}

impl Helper for ShellHelper {}

/// What Tab offers for the text before the cursor: where the replaced text
/// starts and the sorted candidates. `children` lists a znode's children.
///
/// As zkCli's `JLineZNodeCompleter`: the word being completed is what
/// follows the last blank; one starting with `/` completes its last
/// component from the children of its parent (only the root keeps its
/// `/`), the first word completes a command name. Added: `-` completes the
/// command's flags, and `printwatches` its `on`/`off`.
pub fn candidates(before: &str, children: impl Fn(&str) -> Vec<String>) -> (usize, Vec<String>) {
    let token_start = before.rfind(char::is_whitespace).map_or(0, |i| {
        i + before[i..].chars().next().map_or(1, char::len_utf8)
    });
    let token = &before[token_start..];
    let earlier: Vec<&str> = before[..token_start].split_whitespace().collect();
    let found: Vec<String> = if token.starts_with('/') {
        let cut = token.rfind('/').map_or(0, |i| i + 1);
        let (path, prefix) = token.split_at(cut);
        let dir = if cut == 1 { "/" } else { &path[..cut - 1] };
        let found = children(dir)
            .into_iter()
            .filter(|c| c.starts_with(prefix))
            .collect();
        return (token_start + cut, sorted(found));
    } else if earlier.is_empty() {
        COMMANDS
            .iter()
            .map(|s| s.name.to_string())
            .filter(|n| n.starts_with(token))
            .collect()
    } else if token.starts_with('-') {
        match commands::find(earlier[0]) {
            Some(spec) => flag_names(&spec.flags)
                .into_iter()
                .filter(|f| f.starts_with(token))
                .collect(),
            None => Vec::new(),
        }
    } else if earlier == ["printwatches"] {
        ["on", "off"]
            .iter()
            .filter(|w| w.starts_with(token))
            .map(|w| w.to_string())
            .collect()
    } else {
        Vec::new()
    };
    (token_start, sorted(found))
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

/// Every flag a command takes, as typed (`-s`, `-members`, `--json`).
fn flag_names(spec: &FlagSpec) -> Vec<String> {
    let short = spec
        .plain
        .chars()
        .chain(spec.valued.chars())
        .map(|c| format!("-{c}"));
    let named = spec.named.iter().map(|n| format!("-{n}"));
    let long = spec
        .long
        .iter()
        .map(|(n, _)| format!("--{n}"))
        .chain(std::iter::once("--json".to_string()));
    short.chain(named).chain(long).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(dir: &str) -> Vec<String> {
        let names: &[&str] = match dir {
            "/" => &["zookeeper", "app", "apple", "b"],
            "/app" => &["config", "cache", "x"],
            _ => &[],
        };
        names.iter().map(|s| s.to_string()).collect()
    }

    fn complete(before: &str) -> (usize, Vec<String>) {
        candidates(before, tree)
    }

    #[test]
    fn command_names() {
        assert_eq!(
            complete("ge"),
            (
                0,
                vec![
                    "get".into(),
                    "getAcl".into(),
                    "getAllChildrenNumber".into(),
                    "getEphemerals".into()
                ]
            )
        );
        assert_eq!(complete("  delete").1, ["delete", "deleteall"]);
        assert_eq!(complete("  del").0, 2);
        assert!(complete("bogus").1.is_empty());
        assert_eq!(complete("").1.len(), COMMANDS.len());
    }

    #[test]
    fn znode_paths() {
        assert_eq!(complete("get /ap"), (5, vec!["app".into(), "apple".into()]));
        assert_eq!(complete("get /").1, ["app", "apple", "b", "zookeeper"]);
        assert_eq!(
            complete("ls -R /app/c"),
            (11, vec!["cache".into(), "config".into()])
        );
        assert_eq!(
            complete("ls /app/"),
            (8, vec!["cache".into(), "config".into(), "x".into()])
        );
        assert_eq!(complete("ls /nothing/a"), (12, vec![]));
        // A path completes wherever it stands, as in zkCli.
        assert_eq!(complete("/ap").1, ["app", "apple"]);
    }

    #[test]
    fn flags_and_arguments() {
        assert_eq!(complete("get -").1, ["--json", "--raw", "-s", "-w"]);
        assert_eq!(
            complete("create /a -").1,
            ["--json", "-c", "-e", "-f", "-s", "-t"]
        );
        assert_eq!(complete("reconfig -m").1, ["-members"]);
        assert_eq!(complete("printwatches o").1, ["off", "on"]);
        assert!(complete("get x").1.is_empty());
        assert!(complete("nosuch -").1.is_empty());
        assert!(complete("get ").1.is_empty());
    }

    #[test]
    fn typed_ahead_lines_and_partial() {
        let mut t = TypedAhead::default();
        t.add(b"ls /\nget \x1b[A/x\x01");
        assert_eq!(t.lines, ["ls /"]);
        assert_eq!(t.partial, "get /x");
        t.add(b" -s\r\x1bOA");
        assert_eq!(t.lines, ["ls /", "get /x -s"]);
        assert_eq!(t.partial, "");
    }
}
