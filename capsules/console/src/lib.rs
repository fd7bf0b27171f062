#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! - [`editor`]: the line editor (pure);
//! - [`words`]: words and numbers (pure);
//! - [`command`]: [`Command`], [`CommandGroup`], [`Arguments`], [`CommandError`]:
//!   how a capsule adds commands;
//! - [`registry`]: finding the command a line names across groups (pure);
//! - [`console`]: the capsule on the UART's receive path;
//! - [`system`]: `version`, `init`, `reboot`, `poweroff`.

#![no_std]
#![forbid(unsafe_code)]

// Host unit tests use `std` (strings, vectors, formatting).
#[cfg(test)]
extern crate std;

pub mod command;
pub mod console;
pub mod editor;
pub mod registry;
pub mod system;
pub mod words;

pub use command::{Arguments, Command, CommandError, CommandGroup};
pub use console::{Console, Statistics, PROMPT};
pub use system::SystemCommands;
