//! The console over a scripted UART: commands run from the deferred call,
//! never from the receive path; lines are edited; bad input is discarded
//! and the console carries on; input waits while a command is pending.

use std::cell::RefCell;

use capsule_console::command::{Arguments, Command, CommandError, CommandGroup};
use capsule_console::console::{Console, RECEIVE_BUFFER_SIZE};
use kernel::deferred_call::DeferredCallClient;
use kernel::hil::uart::{Receive, ReceiveErrors};
use kernel::ErrorCode;
use testbed::deferred::{exclusive, run_pending};
use testbed::{leak, ScriptedUart};

/// A group that records what it was asked to run.
struct Recorder {
    runs: RefCell<Vec<String>>,
}

static RECORDED_COMMANDS: [Command; 3] = [
    Command::new("ffa", "", "status"),
    Command::new("ffa ping", "<id>", "ping"),
    Command::new("ffa send", "<id> <w3> [w4..w7]", "send"),
];

impl CommandGroup for Recorder {
    fn commands(&self) -> &'static [Command] {
        &RECORDED_COMMANDS
    }

    fn run<'l>(
        &self,
        command: &Command,
        arguments: &Arguments<'l>,
    ) -> Result<(), CommandError<'l>> {
        if command.name == "ffa send" {
            arguments.expect_count(2, 6)?;
            let mut payload = [0u64; 5];
            arguments.numbers_into(1, &mut payload, u32::MAX as u64, "a 32-bit word")?;
        }
        self.runs
            .borrow_mut()
            .push(format!("{} {}", command.name, arguments.words().join(" ")));
        Ok(())
    }
}

struct Bench {
    uart: &'static ScriptedUart,
    console: &'static Console<'static>,
    recorder: &'static Recorder,
}

impl Bench {
    fn runs(&self) -> Vec<String> {
        self.recorder.runs.borrow().clone()
    }
}

fn bench() -> Bench {
    let uart: &'static ScriptedUart = leak(ScriptedUart::new());
    let recorder: &'static Recorder = leak(Recorder {
        runs: RefCell::new(Vec::new()),
    });
    let groups: &'static [&'static dyn CommandGroup] = leak([recorder as &dyn CommandGroup]);
    let buffer: &'static mut [u8] = Box::leak(Box::new([0u8; RECEIVE_BUFFER_SIZE]));
    let console: &'static Console<'static> = leak(Console::new(uart, buffer, groups));
    uart.set_receive_client(console);
    console.register();
    console.start().unwrap();
    Bench {
        uart,
        console,
        recorder,
    }
}

#[test]
fn a_command_runs_from_the_deferred_call_not_the_receive_path() {
    let _guard = exclusive();
    let bench = bench();
    assert!(bench.uart.is_receiving());
    bench
        .uart
        .deliver(b"ffa ping 0x8001\r", ReceiveErrors::NONE);
    assert!(bench.runs().is_empty(), "ran inside the receive upcall");
    assert!(
        !bench.uart.is_receiving(),
        "took input while a command is pending"
    );
    assert_eq!(run_pending(), 1);
    assert_eq!(bench.runs(), ["ffa ping 0x8001"]);
    assert!(bench.uart.is_receiving());
    assert_eq!(bench.console.statistics().commands, 1);
}

#[test]
fn several_lines_in_one_chunk_run_one_per_deferred_call_in_order() {
    let _guard = exclusive();
    let bench = bench();
    bench
        .uart
        .deliver(b"ffa\rffa ping 1\rffa send 2 3\r", ReceiveErrors::NONE);
    assert_eq!(run_pending(), 3);
    assert_eq!(bench.runs(), ["ffa ", "ffa ping 1", "ffa send 2 3"]);
    assert_eq!(bench.uart.busy_calls(), 0);
}

#[test]
fn edited_lines_run_as_edited_and_bad_lines_are_discarded() {
    let _guard = exclusive();
    let bench = bench();
    let mut input = b"ffa pinx\x7fg 1\r".to_vec();
    input.extend_from_slice(&[b'x'; 500]);
    input.extend_from_slice(
        b"\rffa\x00\xff\x1b[A\rbogus\rffa bogus\rffa send 1 0x1_0000_0000\r\x03ffa ping 2\r",
    );
    bench.uart.type_in(&input);
    let statistics = bench.console.statistics();
    assert_eq!(bench.runs(), ["ffa ping 1", "ffa ping 2"]);
    assert_eq!(statistics.too_long, 1);
    assert_eq!(statistics.not_text, 1);
    assert_eq!(statistics.not_text_bytes, 2);
    // bogus, ffa bogus, ffa send (bad number), ffa ping 2 and ffa ping 1 were looked up.
    assert_eq!(statistics.commands, 5);
    assert_eq!(statistics.cancelled, 1);
    assert_eq!(statistics.bytes, input.len() as u64);
    assert!(bench.uart.is_receiving());
}

#[test]
fn lost_input_discards_the_line_being_typed_and_is_counted() {
    let _guard = exclusive();
    let bench = bench();
    bench.uart.deliver(b"ffa pi", ReceiveErrors::NONE);
    bench.uart.deliver(
        b"ng 1\r",
        ReceiveErrors {
            overruns: 1,
            garbled: 2,
        },
    );
    run_pending();
    bench.uart.type_in(b"ffa ping 3\r");
    assert_eq!(bench.runs(), ["ffa ping 3"]);
    let statistics = bench.console.statistics();
    assert_eq!(statistics.lost_lines, 1);
    assert_eq!(statistics.overruns, 1);
    assert_eq!(statistics.garbled, 2);
}

#[test]
fn a_burst_larger_than_the_buffer_waits_and_every_line_runs() {
    let _guard = exclusive();
    let bench = bench();
    let mut burst = Vec::new();
    for index in 0..200 {
        burst.extend_from_slice(format!("ffa ping {index}\r\n").as_bytes());
    }
    bench.uart.type_in(&burst);
    let runs = bench.runs();
    assert_eq!(runs.len(), 200);
    assert_eq!(runs[199], "ffa ping 199");
    assert_eq!(bench.console.statistics().bytes, burst.len() as u64);
}

#[test]
fn starting_twice_is_refused() {
    let _guard = exclusive();
    let bench = bench();
    assert_eq!(bench.console.start(), Err(ErrorCode::ALREADY));
    assert!(bench.uart.is_receiving());
}
