#![doc = include_str!("../README.md")]
//!
//! Run `cargo xtask help` for the commands. Every command first installs the
//! pinned toolchain (`rustup toolchain install`) and makes sure QEMU is there.

mod arguments;
mod bench;
mod board_scenarios;
mod build;
mod checks;
mod console;
mod console_scenarios;
mod el2_layout;
mod error;
mod event_log_check;
mod faults;
mod image;
mod interrupt;
mod logs;
mod peer;
mod peer_scenarios;
mod process;
mod qemu;
mod raspberry_pi;
mod raspi_qemu;
mod run;
mod scenarios;
mod script;
mod setup;
mod size;
mod terminal;
mod test_suite;
mod tf_a;
mod timeline;
mod workspace;

use std::process::ExitCode;

use arguments::Command;
use error::Result;
use workspace::Workspace;

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|argument| argument.to_string_lossy().into_owned())
        .collect();
    let command = match arguments::parse(&arguments) {
        Ok(Command::Help(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Ok(command) => command,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    match execute(&command) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the set-up, then the command; returns the process exit code.
fn execute(command: &Command) -> Result<u8> {
    let workspace = Workspace::locate()?;
    setup::prepare(&workspace)?;
    match command {
        Command::Run(options) => {
            let code = run::command(&workspace, options)?;
            Ok(u8::try_from(code).unwrap_or(1))
        }
        Command::Test(options) => Ok(if test_suite::command(&workspace, options)? {
            0
        } else {
            1
        }),
        Command::Image(options) => image::command(&workspace, options).map(|()| 0),
        Command::Console(options) => console::command(&workspace, options).map(|()| 0),
        Command::Peer(options) => peer::command(&workspace, &options.features).map(|()| 0),
        Command::Size => size::command(&workspace).map(|()| 0),
        Command::Bench(options) => bench::command(&workspace, &options.passed_on).map(|()| 0),
        Command::Help(text) => {
            print!("{text}");
            Ok(0)
        }
    }
}
