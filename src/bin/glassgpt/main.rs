//! The native CLI: `glassgpt <command> [--options]`.

mod args;
mod size;

use std::process::ExitCode;

const USAGE: &str = "usage: glassgpt <command> [--options]

commands:
  version        print the version
  size           the GPT-3 sizing calculator: training, inference, memory (--help for options)
";

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let (cmd, rest) = match argv.split_first() {
        Some((c, r)) => (c.as_str(), r),
        None => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result: Result<(), String> = match cmd {
        "version" | "--version" => {
            println!("glassgpt {}", glassgpt::VERSION);
            Ok(())
        }
        "size" => size::run(rest),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("unknown command `{cmd}`\n\n{USAGE}")),
    };
    let _ = args::Args::parse(rest, &[]);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("glassgpt {cmd}: {e}");
            ExitCode::FAILURE
        }
    }
}
