#![forbid(unsafe_code)]
//! The `blyss-evidence` binary: a thin clap front end over the library.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
