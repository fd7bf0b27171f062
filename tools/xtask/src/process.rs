//! Running other programs: echo the command line, run it, turn a failure into an error.

use std::ffi::OsStr;
use std::process::Command;

use crate::error::{Error, Result};

/// The command line of `command` as a user could type it: variables it sets, program, arguments.
pub fn describe(command: &Command) -> String {
    let variables = command.get_envs().filter_map(|(name, value)| {
        value.map(|value| {
            let mut assignment = name.to_os_string();
            assignment.push("=");
            assignment.push(value);
            quote(&assignment)
        })
    });
    variables
        .chain(
            std::iter::once(command.get_program())
                .chain(command.get_args())
                .map(quote),
        )
        .collect::<Vec<_>>()
        .join(" ")
}

/// One word of a command line, quoted for a POSIX shell when needed.
fn quote(word: &OsStr) -> String {
    let word = word.to_string_lossy();
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || "-_./=:,+@%".contains(character));
    if plain {
        word.into_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Prints the command line, runs it with inherited standard streams and fails if it fails.
pub fn run(command: &mut Command) -> Result<()> {
    let line = describe(command);
    println!("$ {line}");
    let status = command
        .status()
        .map_err(|error| Error::new(format!("could not start `{line}`: {error}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::new(format!("`{line}` failed ({status})")))
    }
}

/// Runs the command quietly and returns its standard output; fails with its standard error.
pub fn output(command: &mut Command) -> Result<String> {
    let line = describe(command);
    let output = command
        .output()
        .map_err(|error| Error::new(format!("could not start `{line}`: {error}")))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(Error::new(format!(
            "`{line}` failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_with_shell_quoting_only_where_needed() {
        let mut command = Command::new("cargo");
        command
            .args(["build", "--features", "a,b", "it's here", ""])
            .env("DEFMT_LOG", "info")
            .env_remove("RUSTUP_TOOLCHAIN");
        assert_eq!(
            describe(&command),
            r"DEFMT_LOG=info cargo build --features a,b 'it'\''s here' ''"
        );
    }
}
