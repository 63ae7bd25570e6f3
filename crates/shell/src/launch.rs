//! The shell's own command line, parsed as zkCli's `MyCommandOptions`
//! does: options first (`-server`, `-timeout`, `-r`, `-waitforconnection`,
//! `-client-configuration`), then everything from the first word that does
//! not start with `-` is the command to run. ferrozk adds `--json`.

/// How to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchOptions {
    /// The connect string (`host:port[,host:port...][/chroot]`).
    pub server: String,
    /// The session timeout in milliseconds.
    pub timeout_ms: u64,
    /// Accept a read-only server (`-r`).
    pub read_only: bool,
    /// Wait for the connection before running the command.
    pub wait_for_connection: bool,
    /// Print every command's result as one JSON document.
    pub json: bool,
    /// The command and its arguments, when one was given.
    pub command: Option<Vec<String>>,
}

/// The usage line printed with a launch error.
pub const USAGE: &str = "usage: ferrozk shell [-server host:port[,host:port...][/chroot]] \
[-timeout ms] [-r] [-waitforconnection] [--json] [command args...]";

impl Default for LaunchOptions {
    fn default() -> Self {
        LaunchOptions {
            server: "localhost:2181".into(),
            timeout_ms: 30_000,
            read_only: false,
            wait_for_connection: false,
            json: false,
            command: None,
        }
    }
}

impl LaunchOptions {
    /// Parses the arguments after `shell`.
    pub fn parse(args: &[String]) -> Result<LaunchOptions, String> {
        let mut o = LaunchOptions::default();
        let mut it = args.iter();
        while let Some(opt) = it.next() {
            let mut value = || {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("Error: no argument found for option {opt}"))
            };
            match opt.as_str() {
                "-server" => o.server = value()?,
                "-timeout" => {
                    let v = value()?;
                    o.timeout_ms = v
                        .parse()
                        .map_err(|_| format!("Error: -timeout takes milliseconds, not {v:?}"))?;
                }
                "-r" => o.read_only = true,
                "-waitforconnection" => o.wait_for_connection = true,
                "--json" => o.json = true,
                "-client-configuration" => {
                    let v = value()?;
                    return Err(format!(
                        "Error: -client-configuration {v}: client configuration files are not supported"
                    ));
                }
                s if s.starts_with('-') => {
                    // zkCli ignores options it does not know.
                }
                _ => {
                    let mut words = vec![opt.clone()];
                    words.extend(it.cloned());
                    o.command = Some(words);
                    break;
                }
            }
        }
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(a: &[&str]) -> Result<LaunchOptions, String> {
        LaunchOptions::parse(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn options_then_the_command() {
        let o = parse(&[
            "-server", "h:1/app", "-timeout", "5000", "-r", "get", "-s", "/a",
        ])
        .unwrap();
        assert_eq!(o.server, "h:1/app");
        assert_eq!(o.timeout_ms, 5000);
        assert!(o.read_only);
        assert_eq!(o.command.unwrap(), ["get", "-s", "/a"]);
    }

    #[test]
    fn defaults_and_errors() {
        let o = parse(&[]).unwrap();
        assert_eq!(o, LaunchOptions::default());
        assert_eq!(
            parse(&["-server"]).unwrap_err(),
            "Error: no argument found for option -server"
        );
        assert!(parse(&["-timeout", "x"]).is_err());
        assert!(parse(&["-bogus", "ls", "/"]).unwrap().command.is_some());
    }
}
