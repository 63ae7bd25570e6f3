//! The shell's own commands, which work without a session: `history`,
//! `redo`, `printwatches`, `connect`, `quit` (zkCli's `processZKCmd`
//! handles these before it looks for a connection).

use std::sync::atomic::Ordering;

use serde_json::json;

use crate::error::CliError;
use crate::shell::{Reply, Shell};
use crate::words::split_line;

/// Runs local command `name` with its words.
pub async fn run(sh: &mut Shell, name: &str, words: Vec<String>) -> Result<Reply, CliError> {
    let mut r = Reply::new();
    match name {
        "quit" => {
            sh.close().await;
            sh.quit = true;
            // zkCli exits with the code of the command before quit.
            if sh.exit_code != 0 {
                return Err(CliError::Exit(sh.exit_code));
            }
        }
        "history" => {
            let from = sh.count.saturating_sub(10);
            let mut items = Vec::new();
            for i in from..=sh.count {
                // zkCli prints `null` for a number not (yet) in the history.
                let line = sh.history.get(&i).cloned();
                r.line(format!("{i} - {}", line.as_deref().unwrap_or("null")));
                items.push(json!({"number": i, "command": line}));
            }
            r.json = json!({ "history": items });
        }
        "redo" if words.len() >= 2 => {
            let n = parse_java_int(&words[1])
                .ok_or_else(|| CliError::Other(format!("For input string: \"{}\"", words[1])))?;
            if n < 0 || n as usize >= sh.count {
                return Err(CliError::Malformed("Command index out of range".into()));
            }
            let line = sh.history.get(&(n as usize)).cloned().unwrap_or_default();
            let again = split_line(&line);
            if again.first().map(String::as_str) == Some("redo") {
                return Err(CliError::Malformed("No redoing redos".into()));
            }
            sh.history.insert(sh.count, line);
            // The redone command prints its own reply and sets the code.
            let code = Box::pin(sh.run_words(again)).await;
            if code != 0 {
                return Err(CliError::Exit(code));
            }
            return Ok(Reply::new().with_json(json!({"redo": n})));
        }
        "redo" => {}
        "printwatches" => {
            if words.len() == 1 {
                let on = sh.print_watches.load(Ordering::Relaxed);
                r.line(format!("printwatches is {}", if on { "on" } else { "off" }));
                r.json = json!({ "printwatches": on });
            } else {
                let on = words[1] == "on";
                sh.print_watches.store(on, Ordering::Relaxed);
                r.json = json!({ "printwatches": on });
            }
        }
        "connect" => {
            let host = words.get(1).cloned().unwrap_or_else(|| sh.host.clone());
            sh.connect(&host).await?;
            r.json = json!({ "connected": host });
        }
        other => unreachable!("{other} is not a local command"),
    }
    if !sh.alive() && name != "quit" && name != "connect" {
        // zkCli goes on to its connection check after a local command.
        r.line("Not connected");
    }
    Ok(r)
}

/// Java's `Integer.decode`: decimal, `0x`/`#` hex, leading-zero octal.
fn parse_java_int(s: &str) -> Option<i32> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let v = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()?
    } else if let Some(h) = body.strip_prefix('#') {
        i64::from_str_radix(h, 16).ok()?
    } else if body.len() > 1 && body.starts_with('0') {
        i64::from_str_radix(&body[1..], 8).ok()?
    } else {
        body.parse::<i64>().ok()?
    };
    i32::try_from(if neg { -v } else { v }).ok()
}

#[cfg(test)]
mod tests {
    use super::parse_java_int;

    #[test]
    fn integer_decode() {
        assert_eq!(parse_java_int("12"), Some(12));
        assert_eq!(parse_java_int("0x10"), Some(16));
        assert_eq!(parse_java_int("010"), Some(8));
        assert_eq!(parse_java_int("-3"), Some(-3));
        assert_eq!(parse_java_int("x"), None);
    }
}
