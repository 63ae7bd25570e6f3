//! The `ferrozk` binary: serves by default; subcommands for tools.

fn main() {
    eprintln!("ferrozk: not yet serving");
    std::process::exit(1);
}
