//! The native CLI: `glassgpt <command> [--options]`.

mod args;
mod sample;
mod size;
mod train;

use std::process::ExitCode;

const USAGE: &str = "usage: glassgpt <command> [--options]

commands:
  version        print the version
  train          train a character GPT on a text file and write the best checkpoint
                 --data FILE --out CKPT [--n-layer 4 --n-head 4 --n-embd 128 --block-size 128
                 --batch 16 --steps 5000 --lr 1e-3 --min-lr LR/10 --warmup 100 --decay-steps STEPS
                 --weight-decay 0.1 --beta2 0.99 --grad-clip 1.0 --seed 1337 --eval-every 250
                 --eval-iters 20 --sinusoidal --time-limit-min M --shards N]
                 (--shards: data-parallel shards per step; default the most, at most one per
                 thread, that split the batch evenly)
  sample         generate text from a checkpoint
                 --checkpoint CKPT [--prompt P --length 500 --temperature 0.8 --top-k 0
                 --top-p 1.0 --seed S --overflow-keep K --lossy]
  next           the next-character distribution after a prompt
                 --checkpoint CKPT --prompt P [--json --lossy]
  eval           the mean loss of a checkpoint over every character of a split of a text
                 --checkpoint CKPT --data FILE [--split val|train|all --batch 16 --lossy]
  size           the GPT-3 sizing calculator: training, inference, memory (--help for options)
";

/// The matmul backend every command uses.
fn kernels() -> &'static dyn glassgpt::kernels::Kernels {
    glassgpt::kernels::best()
}

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
        "train" => train::run(rest, kernels()),
        "sample" => sample::sample(rest, kernels()),
        "next" => sample::next(rest, kernels()),
        "eval" => sample::eval(rest, kernels()),
        "size" => size::run(rest),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("unknown command `{cmd}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("glassgpt {cmd}: {e}");
            ExitCode::FAILURE
        }
    }
}
