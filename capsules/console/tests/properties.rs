//! Properties of the line editor and the parser on arbitrary input: no
//! byte sequence panics, lines stay within bounds and printable, and every
//! accepted line parses the same way twice (and again after its words are
//! joined back up).

use capsule_console::command::{Arguments, Command, CommandError, CommandGroup};
use capsule_console::editor::{Edit, LineEditor};
use capsule_console::registry::{lookup, Lookup};
use capsule_console::words::{parse_number, Words};
use proptest::prelude::*;

struct Table;

static COMMANDS: [Command; 5] = [
    Command::new("ffa", "", "status"),
    Command::new("ffa list", "", "list"),
    Command::new("ffa send", "<id> <w3>", "send"),
    Command::new("ffa send64", "<id> <x3>", "send64"),
    Command::new("poweroff", "[status]", "off"),
];

impl CommandGroup for Table {
    fn commands(&self) -> &'static [Command] {
        &COMMANDS
    }

    fn run<'l>(&self, _: &Command, _: &Arguments<'l>) -> Result<(), CommandError<'l>> {
        Ok(())
    }
}

/// What a line parses to: the command name and its arguments, or why not.
fn parse(line: &str) -> String {
    let Ok(words) = Words::split(line) else {
        return "too many words".into();
    };
    let words = words.as_slice();
    let groups: [&dyn CommandGroup; 1] = [&Table];
    match lookup(groups.iter().copied(), words) {
        Lookup::Found {
            command,
            name_words,
            ..
        } => {
            let arguments = Arguments::new(&words[name_words..]);
            let numbers: Vec<Option<u64>> = arguments
                .words()
                .iter()
                .map(|word| parse_number(word))
                .collect();
            format!("{} {:?} {:?}", command.name, arguments.words(), numbers)
        }
        Lookup::UnknownSubcommand { family } => format!("unknown {family} subcommand"),
        Lookup::Unknown => "unknown".into(),
    }
}

/// Bytes biased towards what a console sees: text, line ends, editing
/// keys, escapes, and anything at all.
fn input() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        4 => proptest::sample::select(b"ffa list send send64 0x8001 poweroff 17 ".to_vec()),
        1 => proptest::sample::select(vec![b'\r', b'\n', 0x7f, 0x08, 0x15, 0x03, 0x1b, b'[', b'\t']),
        2 => any::<u8>(),
    ];
    proptest::collection::vec(byte, 0..600)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic_and_accepted_lines_parse_the_same_twice(bytes in input()) {
        let mut editor = LineEditor::<64>::new();
        for &byte in &bytes {
            let edit = editor.feed(byte);
            prop_assert!(editor.line().len() <= 64);
            prop_assert!(editor.line().bytes().all(|byte| (b' '..=b'~').contains(&byte)));
            if edit == Edit::Line {
                let line = editor.line();
                prop_assert!(!line.trim().is_empty());
                let first = parse(line);
                prop_assert_eq!(&first, &parse(line));
                // The same words with single spaces mean the same command.
                let joined = line.split_whitespace().collect::<Vec<_>>().join(" ");
                prop_assert_eq!(&first, &parse(&joined));
            }
        }
    }

    #[test]
    fn any_text_line_parses_the_same_twice(line in "[ -~]{0,200}") {
        prop_assert_eq!(parse(&line), parse(&line));
    }

    #[test]
    fn numbers_read_back_what_they_print(value in any::<u64>()) {
        prop_assert_eq!(parse_number(&value.to_string()), Some(value));
        prop_assert_eq!(parse_number(&format!("{value:#x}")), Some(value));
    }

    #[test]
    fn arbitrary_text_is_never_a_number_by_accident(text in "[^0-9]{1,8}") {
        prop_assert_eq!(parse_number(&text), None);
    }
}
