//! Finding the command a line names, across every command group. Pure.
//!
//! A command matches when the words of its name are the first words of the
//! line; the longest match wins, so `ffa send64 0x8001 1` is `ffa send64`,
//! not `ffa` with arguments. Groups are searched in order and the first of
//! equally long matches wins (a later group cannot take over a name). A
//! line that names a command taking no arguments, followed by more words,
//! names an unknown subcommand when longer commands start with that name
//! (`ffa bogus`: there are `ffa list`, `ffa send`, ...), and otherwise has
//! too many arguments (`ffa list extra`).

use crate::command::{Command, CommandGroup};

/// What a line names.
#[derive(Clone, Copy)]
pub enum Lookup<'g> {
    /// `command` of `group`; its name took the first `name_words` words.
    Found {
        /// The group that runs it.
        group: &'g dyn CommandGroup,
        /// The command.
        command: &'static Command,
        /// How many words its name took.
        name_words: usize,
    },
    /// The first word starts several commands, but the rest names none of them.
    UnknownSubcommand {
        /// The first word (`ffa`).
        family: &'g str,
    },
    /// No command starts with the line's first word.
    Unknown,
}

impl core::fmt::Debug for Lookup<'_> {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Lookup::Found {
                command,
                name_words,
                ..
            } => write!(formatter, "Found({:?}, {name_words})", command.name),
            Lookup::UnknownSubcommand { family } => {
                write!(formatter, "UnknownSubcommand({family:?})")
            }
            Lookup::Unknown => write!(formatter, "Unknown"),
        }
    }
}

/// How many words of `words` the name of `command` takes, if it matches.
fn matching_words(command: &Command, words: &[&str]) -> Option<usize> {
    let mut count = 0;
    for name_word in command.name_words() {
        if words.get(count) != Some(&name_word) {
            return None;
        }
        count += 1;
    }
    (count > 0).then_some(count)
}

/// Whether some command's name is longer than `prefix` and starts with it.
fn extends<'g>(groups: impl Iterator<Item = &'g dyn CommandGroup>, prefix: &[&str]) -> bool {
    groups
        .flat_map(|group| group.commands().iter())
        .any(|command| {
            let mut name = command.name_words();
            prefix.iter().all(|word| name.next() == Some(*word)) && name.next().is_some()
        })
}

/// The command `words` names among `groups`.
pub fn lookup<'g, 'w: 'g>(
    groups: impl Iterator<Item = &'g dyn CommandGroup> + Clone,
    words: &[&'w str],
) -> Lookup<'g> {
    let Some(first) = words.first().copied() else {
        return Lookup::Unknown;
    };
    let mut best: Option<(&'g dyn CommandGroup, &'static Command, usize)> = None;
    for group in groups.clone() {
        for command in group.commands() {
            if let Some(count) = matching_words(command, words) {
                if best.is_none_or(|(_, _, longest)| count > longest) {
                    best = Some((group, command, count));
                }
            }
        }
    }
    match best {
        // More words after a command that takes none, which other commands
        // extend (`ffa bogus`): a subcommand nobody has.
        Some((_, command, name_words))
            if name_words < words.len()
                && !command.takes_arguments()
                && extends(groups.clone(), &words[..name_words]) =>
        {
            Lookup::UnknownSubcommand { family: first }
        }
        Some((group, command, name_words)) => Lookup::Found {
            group,
            command,
            name_words,
        },
        None if extends(groups, &words[..1]) => Lookup::UnknownSubcommand { family: first },
        None => Lookup::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{Arguments, CommandError};

    struct Table(&'static [Command]);

    impl CommandGroup for Table {
        fn commands(&self) -> &'static [Command] {
            self.0
        }

        fn run<'l>(&self, _: &Command, _: &Arguments<'l>) -> Result<(), CommandError<'l>> {
            Ok(())
        }
    }

    static FFA: Table = Table(&[
        Command::new("ffa", "", "status"),
        Command::new("ffa list", "", "list"),
        Command::new("ffa send", "<id> <w3>", "send"),
        Command::new("ffa send64", "<id> <x3>", "send64"),
    ]);
    static MEMORY: Table = Table(&[
        Command::new("ffa share", "<id> <pages>", "share"),
        Command::new("ffa list", "", "a later group cannot take a name"),
    ]);
    static SYSTEM: Table = Table(&[Command::new("version", "", "version")]);

    fn find(line: &str) -> std::string::String {
        let groups: [&dyn CommandGroup; 3] = [&FFA, &MEMORY, &SYSTEM];
        let words: std::vec::Vec<&str> = line.split_whitespace().collect();
        match lookup(groups.iter().copied(), &words) {
            Lookup::Found {
                command,
                name_words,
                ..
            } => std::format!("{}/{}/{}", command.name, command.help, name_words),
            other => std::format!("{other:?}"),
        }
    }

    #[test]
    fn the_longest_name_wins_across_groups() {
        assert_eq!(find("ffa"), "ffa/status/1");
        assert_eq!(find("ffa list"), "ffa list/list/2");
        assert_eq!(find("ffa send 1 2"), "ffa send/send/2");
        assert_eq!(find("ffa send64 1 2"), "ffa send64/send64/2");
        assert_eq!(find("ffa share 0x8001 1"), "ffa share/share/2");
        assert_eq!(find("version"), "version/version/1");
    }

    #[test]
    fn unknown_commands_and_subcommands() {
        assert_eq!(find("ffa bogus"), "UnknownSubcommand(\"ffa\")");
        // A whole command with a word too many: its usage, not a subcommand.
        assert_eq!(find("ffa list extra"), "ffa list/list/2");
        assert_eq!(find("bogus"), "Unknown");
        assert_eq!(find(""), "Unknown");
        // Not a family: the command gets the words and reports the usage.
        assert_eq!(find("version 2"), "version/version/1");
    }
}
