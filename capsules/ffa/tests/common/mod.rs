//! The client's test fixtures, over the shared ones of `testbed`: a client
//! with its RX/TX buffers in simulated memory, in front of the FF-A model
//! or of scripted replies.

#![allow(dead_code, unused_imports)]

use capsule_console::command::{Arguments, CommandError, CommandGroup};
use capsule_ffa::bus::FfaBus;
use capsule_ffa::client::{ClientConfig, FfaClient};
use ffa_model::FaultConfig;
use kernel::init_queue::{ConditionSet, InitQueue, Queue};
pub use testbed::{leak, ManualAlarm, Memory, ModelMonitor, ScriptedConduit, SharedPage};

/// Physical address of the RX buffer in tests.
pub const RX_ADDRESS: u64 = 0x4010_0000;
/// Physical address of the TX buffer in tests.
pub const TX_ADDRESS: u64 = 0x4020_0000;
/// Size of each buffer in tests.
pub const BUFFER_SIZE: usize = 64 * 1024;

/// Two buffers of `size` bytes at the test addresses.
pub fn buffers(memory: &Memory, size: usize) -> (&'static SharedPage, &'static SharedPage) {
    (
        leak(memory.page(RX_ADDRESS, size)),
        leak(memory.page(TX_ADDRESS, size)),
    )
}

/// A model-backed client.
pub struct Fixture {
    /// The model, as the secure monitor.
    pub conduit: &'static ModelMonitor,
    /// The client under test.
    pub client: &'static FfaClient<'static>,
    /// The memory both share.
    pub memory: Memory,
}

/// A model-backed client with 64 KiB buffers.
pub fn fixture(config: FaultConfig, client_config: ClientConfig) -> Fixture {
    fixture_with_buffers(config, client_config, BUFFER_SIZE)
}

/// A model-backed client with buffers of `size` bytes.
pub fn fixture_with_buffers(
    config: FaultConfig,
    client_config: ClientConfig,
    size: usize,
) -> Fixture {
    let memory = Memory::new();
    let (rx, tx) = buffers(&memory, size);
    let conduit = leak(ModelMonitor::new(config, memory.clone()));
    let client = leak(FfaClient::new(conduit, rx, tx, client_config));
    Fixture {
        conduit,
        client,
        memory,
    }
}

/// A client over a scripted conduit, with 64 KiB buffers.
pub fn scripted(replies: &[&[u64]]) -> (&'static ScriptedConduit, &'static FfaClient<'static>) {
    let memory = Memory::new();
    let (rx, tx) = buffers(&memory, BUFFER_SIZE);
    let conduit = leak(ScriptedConduit::new(replies));
    (
        conduit,
        leak(FfaClient::new(conduit, rx, tx, ClientConfig::DEFAULT)),
    )
}

/// Function IDs used in assertions: the shared table.
pub use ffa_abi::function as ids;

/// Runs the command line `line` as the console would: the longest command
/// name of `groups` that starts it, with the rest as its arguments (the
/// words are leaked for the `'static` error).
pub fn run_line(
    groups: &[&dyn CommandGroup],
    line: &'static str,
) -> Result<(), CommandError<'static>> {
    let words: &'static [&'static str] =
        leak(line.split_whitespace().collect::<Vec<_>>()).as_slice();
    let (group, command, name_words) = groups
        .iter()
        .flat_map(|group| {
            group
                .commands()
                .iter()
                .map(move |command| (*group, command))
        })
        .filter_map(|(group, command)| {
            let length = command.name_words().count();
            command
                .name_words()
                .eq(words.iter().copied().take(length))
                .then_some((group, command, length))
        })
        .max_by_key(|(_, _, length)| *length)
        .expect("a command of the groups");
    group.run(command, &Arguments::new(&words[name_words..]))
}

/// An FF-A bus of 8 partition devices over `client`, its root on an init
/// queue of its own; probed (so set up, and the partitions discovered) if
/// `probe`.
pub fn bus(
    client: &'static FfaClient<'static>,
    probe: bool,
) -> (
    &'static InitQueue<'static, 4, 4>,
    &'static FfaBus<'static, 8>,
) {
    let queue: &'static InitQueue<'static, 4, 4> = leak(InitQueue::new());
    let root_ready = queue.declare_condition("ffa-root-ready").unwrap();
    let bus = leak(FfaBus::<'static, 8>::new(
        client,
        queue,
        ConditionSet::empty(),
    ));
    queue.add("arm-ffa", bus, Some(root_ready)).unwrap();
    if probe {
        queue.service();
        assert!(bus.is_ready(), "root {:?}", bus.state());
    }
    (queue, bus)
}
