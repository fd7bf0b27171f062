//! Typing into the kernel console: scripts of steps, each typed once the
//! console has answered the previous one.
//!
//! The console prints [`PROMPT`] once it is ready for a line, at start and
//! after every line it ends (run, discarded or empty). A [`Script`] gives
//! the next [`Step`] whenever the prompts the previous step asked for have
//! come: typically one line and one prompt; a burst of many lines and as
//! many prompts; or a wait for some log line (the boot report) before
//! going on. [`LineScript`] is a fixed list (`cargo xtask run --script
//! FILE`, the scenarios), [`PipeScript`] reads lines from standard input as
//! they come (commands on a pipe). In both, [`LAST_HANDLE`] (`$handle`)
//! stands for the memory handle of the console's last `ffa share` or
//! `ffa lend`, so a script can reclaim what it shared.

use std::collections::VecDeque;
use std::io::BufRead;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use crate::error::{Context, Result};

/// What the console prints when it is ready for the next line, as the
/// runner shows it (console output has no level and no location).
pub const PROMPT: &str = "[kernel] console: ready";

/// How long a step may wait for its prompts (or its line) before the
/// script gives up.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(20);

/// Whether `line` is the console's prompt.
pub fn is_prompt(line: &str) -> bool {
    line == PROMPT
}

/// One thing a script does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Types `bytes`, then waits for `prompts` prompts (one per line the
    /// bytes end).
    Type {
        /// What to type.
        bytes: Vec<u8>,
        /// How many prompts the console answers them with.
        prompts: usize,
    },
    /// Waits until some line of the log contains this text.
    WaitFor(String),
}

impl Step {
    /// Types `line` and Enter, and waits for its prompt.
    pub fn line(line: &str) -> Step {
        Step::Type {
            bytes: format!("{line}\r").into_bytes(),
            prompts: 1,
        }
    }

    /// Types raw `bytes` that end `prompts` lines.
    pub fn bytes(bytes: &[u8], prompts: usize) -> Step {
        Step::Type {
            bytes: bytes.to_vec(),
            prompts,
        }
    }

    /// Types `lines` in one go, without waiting between them, and waits
    /// for all their prompts.
    pub fn burst(lines: &[String]) -> Step {
        let mut bytes = Vec::new();
        for line in lines {
            bytes.extend_from_slice(line.as_bytes());
            bytes.push(b'\r');
        }
        Step::Type {
            bytes,
            prompts: lines.len(),
        }
    }
}

/// What a script's line may say instead of a memory handle: the handle
/// the console printed for the last `ffa share` or `ffa lend`.
pub const LAST_HANDLE: &str = "$handle";

/// The handle of the console's last `ffa share` or `ffa lend` in `log`.
pub fn last_handle(log: &[String]) -> Option<&str> {
    log.iter().rev().find_map(|line| {
        let rest = line
            .strip_prefix("[kernel] ffa share: handle ")
            .or_else(|| line.strip_prefix("[kernel] ffa lend: handle "))?;
        rest.split(':').next()
    })
}

/// `step` with [`LAST_HANDLE`] replaced by the last handle in `log` (left
/// as it is if there is none: the console then says it is no number).
fn with_last_handle(step: Step, log: &[String]) -> Step {
    match step {
        Step::Type { bytes, prompts } => {
            let text = String::from_utf8_lossy(&bytes);
            match last_handle(log) {
                Some(handle) if text.contains(LAST_HANDLE) => Step::Type {
                    bytes: text.replace(LAST_HANDLE, handle).into_bytes(),
                    prompts,
                },
                _ => Step::Type { bytes, prompts },
            }
        }
        other => other,
    }
}

/// What comes next in a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Do this.
    Step(Step),
    /// Nothing yet (lines from a pipe that has not sent more): ask again later.
    NotYet,
    /// The script is over: stop QEMU once the last step's output is in.
    Done,
    /// There was never anything to type: let QEMU run as if there were no
    /// script.
    Nothing,
}

/// A source of steps.
pub trait Script: Send {
    /// The next step, given the log so far.
    fn next(&mut self, log: &[String]) -> Next;
}

/// A fixed list of steps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineScript {
    steps: VecDeque<Step>,
}

impl LineScript {
    /// The script of `steps`.
    pub fn new(steps: impl IntoIterator<Item = Step>) -> LineScript {
        LineScript {
            steps: steps.into_iter().collect(),
        }
    }

    /// One line step per line of `text`; lines starting with `#` are comments.
    pub fn parse(text: &str) -> LineScript {
        LineScript::new(
            text.lines()
                .map(|line| line.trim_end_matches('\r'))
                .filter(|line| !line.trim_start().starts_with('#'))
                .map(Step::line),
        )
    }

    /// The script in the file at `path`.
    pub fn read(path: &Path) -> Result<LineScript> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the script {}", path.display()))?;
        Ok(LineScript::parse(&text))
    }

    /// The steps left.
    #[cfg(test)]
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter()
    }
}

impl Script for LineScript {
    fn next(&mut self, log: &[String]) -> Next {
        self.steps
            .pop_front()
            .map_or(Next::Done, |step| Next::Step(with_last_handle(step, log)))
    }
}

/// Lines from standard input, as they come.
pub struct PipeScript {
    lines: mpsc::Receiver<String>,
    typed: usize,
}

impl PipeScript {
    /// Reads standard input on a thread of its own until it ends.
    pub fn from_stdin() -> PipeScript {
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines().map_while(|line| line.ok()) {
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        PipeScript { lines, typed: 0 }
    }
}

impl Script for PipeScript {
    fn next(&mut self, log: &[String]) -> Next {
        match self.lines.try_recv() {
            Ok(line) if line.trim_start().starts_with('#') => Next::NotYet,
            Ok(line) => {
                self.typed += 1;
                Next::Step(with_last_handle(Step::line(&line), log))
            }
            Err(mpsc::TryRecvError::Empty) => Next::NotYet,
            Err(mpsc::TryRecvError::Disconnected) if self.typed == 0 => Next::Nothing,
            Err(mpsc::TryRecvError::Disconnected) => Next::Done,
        }
    }
}

/// What the kernel logs once it has booted (the init queue settled and
/// readiness over, at the latest at readiness's deadline): the boot report
/// follows it.
pub const BOOT_OVER: &str = "boot: init queue settled";

/// A script whose first step waits for the boot to be over, so that what
/// it types sees the system as booted (`ffa list` lists the partitions).
pub struct AfterBoot<S> {
    script: S,
    waited: bool,
}

impl<S: Script> AfterBoot<S> {
    /// `script`, after the boot.
    pub fn new(script: S) -> AfterBoot<S> {
        AfterBoot {
            script,
            waited: false,
        }
    }
}

impl<S: Script> Script for AfterBoot<S> {
    fn next(&mut self, log: &[String]) -> Next {
        if !self.waited {
            self.waited = true;
            return Next::Step(Step::WaitFor(BOOT_OVER.into()));
        }
        self.script.next(log)
    }
}

/// Drives a [`Script`] from the log as it arrives.
pub struct ScriptDriver {
    script: Box<dyn Script>,
    /// Prompts still due for the step in progress (the console's first
    /// prompt is due before anything is typed).
    prompts_due: usize,
    /// A line the step in progress waits for.
    waiting_for: Option<String>,
    /// When the step in progress started waiting.
    since: std::time::Instant,
    /// Lines of the log already searched for `waiting_for`.
    searched: usize,
    finished: bool,
}

/// What the driver wants done now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing for now.
    Wait,
    /// Type these bytes into the console.
    Type(Vec<u8>),
    /// The script is over: stop QEMU.
    Stop,
    /// A step waited too long: say this and stop QEMU.
    GiveUp(String),
}

impl ScriptDriver {
    /// A driver for `script`; nothing is typed before the console's first prompt.
    pub fn new(script: Box<dyn Script>) -> ScriptDriver {
        ScriptDriver {
            script,
            prompts_due: 1,
            waiting_for: None,
            since: std::time::Instant::now(),
            searched: 0,
            finished: false,
        }
    }

    /// Tells the driver about a new line of the log.
    pub fn line(&mut self, line: &str) {
        if is_prompt(line) && self.prompts_due > 0 {
            self.prompts_due -= 1;
            self.since = std::time::Instant::now();
        }
    }

    /// What to do now, given the whole log so far.
    pub fn poll(&mut self, log: &[String]) -> Action {
        if self.finished {
            return Action::Wait;
        }
        if let Some(text) = &self.waiting_for {
            if log[self.searched..].iter().any(|line| line.contains(text)) {
                self.waiting_for = None;
            }
            self.searched = log.len();
        }
        if self.prompts_due > 0 || self.waiting_for.is_some() {
            if self.since.elapsed() >= STEP_TIMEOUT {
                self.finished = true;
                let what = match &self.waiting_for {
                    Some(text) => format!("a line with {text:?}"),
                    None => format!("{} more console prompt(s)", self.prompts_due),
                };
                return Action::GiveUp(format!(
                    "[xtask] script: no {what} within {} s; stopping QEMU",
                    STEP_TIMEOUT.as_secs()
                ));
            }
            return Action::Wait;
        }
        match self.script.next(log) {
            Next::Step(Step::Type { bytes, prompts }) => {
                self.prompts_due = prompts;
                self.since = std::time::Instant::now();
                Action::Type(bytes)
            }
            Next::Step(Step::WaitFor(text)) => {
                self.waiting_for = Some(text);
                self.searched = 0;
                self.since = std::time::Instant::now();
                self.poll(log)
            }
            Next::NotYet => Action::Wait,
            Next::Done => {
                self.finished = true;
                Action::Stop
            }
            Next::Nothing => {
                self.finished = true;
                Action::Wait
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|line| line.to_string()).collect()
    }

    #[test]
    fn a_script_file_is_one_line_step_per_line_without_comments() {
        let script = LineScript::parse("# check the bus\nffa list\r\n\nversion\n");
        let steps: Vec<&Step> = script.steps().collect();
        assert_eq!(
            steps,
            [
                &Step::line("ffa list"),
                &Step::line(""),
                &Step::line("version")
            ]
        );
        assert_eq!(Step::line("init"), Step::bytes(b"init\r", 1));
    }

    #[test]
    fn each_step_waits_for_the_prompts_of_the_previous_one() {
        let mut driver = ScriptDriver::new(Box::new(LineScript::new([
            Step::line("version"),
            Step::burst(&["ffa".into(), "init".into()]),
        ])));
        let mut seen = log(&["[kernel] INFO boot"]);
        assert_eq!(driver.poll(&seen), Action::Wait, "before the first prompt");
        seen.push(PROMPT.into());
        driver.line(PROMPT);
        assert_eq!(driver.poll(&seen), Action::Type(b"version\r".to_vec()));
        assert_eq!(driver.poll(&seen), Action::Wait);
        driver.line("[kernel] console> version");
        driver.line(PROMPT);
        assert_eq!(driver.poll(&seen), Action::Type(b"ffa\rinit\r".to_vec()));
        driver.line(PROMPT);
        assert_eq!(driver.poll(&seen), Action::Wait, "one of two prompts");
        driver.line(PROMPT);
        assert_eq!(driver.poll(&seen), Action::Stop);
        assert_eq!(driver.poll(&seen), Action::Wait);
    }

    #[test]
    fn a_wait_for_a_line_holds_the_script_until_it_appears() {
        let mut driver = ScriptDriver::new(Box::new(LineScript::new([
            Step::WaitFor("boot: init queue settled".into()),
            Step::line("ffa list"),
        ])));
        let mut seen = log(&[PROMPT]);
        driver.line(PROMPT);
        assert_eq!(driver.poll(&seen), Action::Wait);
        seen.push("[kernel] INFO boot: init queue settled (x.rs:1)".into());
        assert_eq!(driver.poll(&seen), Action::Type(b"ffa list\r".to_vec()));
    }

    #[test]
    fn after_boot_waits_for_the_boot_first() {
        let mut script = AfterBoot::new(LineScript::parse("init"));
        assert_eq!(
            script.next(&[]),
            Next::Step(Step::WaitFor(BOOT_OVER.into()))
        );
        assert_eq!(script.next(&[]), Next::Step(Step::line("init")));
        assert_eq!(script.next(&[]), Next::Done);
    }

    #[test]
    fn a_line_may_name_the_last_shared_or_lent_handle() {
        let mut script = LineScript::parse("ffa reclaim $handle\nffa reclaim $handle\n");
        let before = log(&["[kernel] console: ready"]);
        assert_eq!(
            script.next(&before),
            Next::Step(Step::line("ffa reclaim $handle")),
            "no handle yet: left for the console to refuse"
        );
        let after = log(&[
            "[kernel] ffa share: handle 0xfffffffe: 2 pages at 0x60021000 shared with 0x8001",
            "[kernel] INFO ffa: lend of 1 pages (1 ranges) to 0x8001: handle 0x5",
            "[kernel] ffa lend: handle 0x100000003: 3 pages at 0x60025000 lent to 0x8001",
            "[kernel] console: ready",
        ]);
        assert_eq!(last_handle(&after), Some("0x100000003"));
        assert_eq!(
            script.next(&after),
            Next::Step(Step::line("ffa reclaim 0x100000003"))
        );
        assert_eq!(last_handle(&after[..2]), Some("0xfffffffe"));
    }

    #[test]
    fn only_the_exact_prompt_line_counts() {
        assert!(is_prompt("[kernel] console: ready"));
        assert!(!is_prompt("[kernel] INFO console: ready (x.rs:1)"));
        assert!(!is_prompt("[kernel] console> console: ready"));
    }
}
