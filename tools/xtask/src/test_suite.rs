//! `cargo xtask test`: the checks, then the QEMU scenarios, then the `N passed, M failed` line.

use std::path::Path;

use crate::arguments::TestOptions;
use crate::board_scenarios::{self, BoardScenario, BOARD_SCENARIOS};
use crate::build::{self, Board};
use crate::checks;
use crate::console_scenarios::{self, ConsoleScenario, AGREEMENT, CONSOLE_SCENARIOS};
use crate::error::Result;
use crate::peer;
use crate::peer_scenarios::{self, PeerScenario, PEER_SCENARIOS};
use crate::process;
use crate::scenarios::{self, Scenario, ScenarioReport, SCENARIOS};
use crate::workspace::Workspace;

/// Counts of passed and failed steps and scenarios.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Steps and scenarios that passed.
    pub passed: usize,
    /// Steps and scenarios that failed.
    pub failed: usize,
}

impl Tally {
    /// The closing line CI reads: `N passed, M failed`.
    pub fn summary(&self) -> String {
        format!("{} passed, {} failed", self.passed, self.failed)
    }
}

/// Runs the test suite; returns whether everything passed.
pub fn command(workspace: &Workspace, options: &TestOptions) -> Result<bool> {
    if options.list {
        for scenario in SCENARIOS {
            println!("{:<20} {}", scenario.name, scenario.description);
        }
        for scenario in BOARD_SCENARIOS {
            println!("{:<20} {}", scenario.name, scenario.description);
        }
        for scenario in CONSOLE_SCENARIOS {
            println!("{:<20} {}", scenario.name, scenario.description);
        }
        println!(
            "{:<20} {}",
            AGREEMENT,
            console_scenarios::AGREEMENT_DESCRIPTION
        );
        for scenario in PEER_SCENARIOS {
            println!("{:<20} {}", scenario.name, scenario.description);
        }
        return Ok(true);
    }
    if options.timeline.is_some() {
        build::log_ffa_calls();
    }
    let mut tally = Tally::default();
    let completed = run_all(workspace, options, &mut tally);
    if !completed {
        println!("\nstopped at the first failure (--keep-going runs everything)");
    }
    println!("\n{}", tally.summary());
    Ok(tally.failed == 0)
}

/// Runs the structure checks (layering, READMEs); returns false if it
/// stopped at a failure.
fn run_structure_checks(workspace: &Workspace, options: &TestOptions, tally: &mut Tally) -> bool {
    let members = match checks::members(workspace) {
        Ok(members) => members,
        Err(error) => {
            println!("FAILED: reading the workspace members: {error}");
            tally.failed += 1;
            return options.keep_going;
        }
    };
    for check in checks::STRUCTURE_CHECKS {
        println!("\n==> {}", check.name);
        let problems = (check.problems)(workspace, &members);
        if problems.is_empty() {
            println!("ok: {} crates", members.len());
            tally.passed += 1;
            continue;
        }
        println!("FAILED: {}:", check.name);
        for problem in &problems {
            println!("  - {problem}");
        }
        tally.failed += 1;
        if !options.keep_going {
            return false;
        }
    }
    true
}

/// Runs checks and scenarios; returns false if it stopped early at a failure.
fn run_all(workspace: &Workspace, options: &TestOptions, tally: &mut Tally) -> bool {
    let record = |tally: &mut Tally, passed: bool| {
        if passed {
            tally.passed += 1;
        } else {
            tally.failed += 1;
        }
        passed || options.keep_going
    };

    if !options.scenarios_only {
        if !run_structure_checks(workspace, options, tally) {
            return false;
        }
        let checks = checks::checks();
        for (number, check) in checks.iter().enumerate() {
            println!("\n==> [{}/{}] {}", number + 1, checks.len(), check.name);
            let mut command = workspace.cargo();
            command.args(&check.cargo_arguments);
            let passed = match process::run(&mut command) {
                Ok(()) => true,
                Err(error) => {
                    println!("FAILED: {}: {error}", check.name);
                    false
                }
            };
            if !record(tally, passed) {
                return false;
            }
        }
    }

    let selected: Vec<&Scenario> = SCENARIOS
        .iter()
        .filter(|scenario| is_selected(options, scenario.name))
        .collect();
    let selected_board: Vec<&BoardScenario> = BOARD_SCENARIOS
        .iter()
        .filter(|scenario| is_selected(options, scenario.name))
        .collect();
    let selected_peer: Vec<&PeerScenario> = PEER_SCENARIOS
        .iter()
        .filter(|scenario| is_selected(options, scenario.name))
        .collect();
    let (selected_console_tf_a, selected_console): (Vec<&ConsoleScenario>, Vec<&ConsoleScenario>) =
        CONSOLE_SCENARIOS
            .iter()
            .filter(|scenario| is_selected(options, scenario.name))
            .partition(|scenario| console_scenarios::needs_tf_a(scenario));
    let agreement = is_selected(options, AGREEMENT);
    let on_model = selected.len() + selected_console.len() + usize::from(agreement);
    let total = on_model + selected_board.len() + selected_peer.len() + selected_console_tf_a.len();
    let mut number = 0;
    let mut next = |name: &str, description: &str| {
        number += 1;
        println!("\n==> scenario {number}/{total} {name}: {description}");
    };
    let mut prepared = board_scenarios::Prepared::default();
    if on_model > 0 || board_scenarios::uses(&selected_board, Board::QemuVirt) {
        println!("\n==> building the test firmware");
        match build::build_firmware(workspace) {
            Ok((_, binary)) => prepared.firmware = Some(binary),
            Err(error) => {
                println!("FAILED: test firmware build: {error}");
                record(tally, false);
                return false;
            }
        }
    }
    if let Some(firmware) = prepared.firmware.clone().filter(|_| on_model > 0) {
        for scenario in &selected {
            next(scenario.name, scenario.description);
            let report = scenarios::run(workspace, &firmware, scenario, options.verbose);
            if !record(tally, judge(workspace, options, scenario.name, report)) {
                return false;
            }
        }
        for scenario in &selected_console {
            next(scenario.name, scenario.description);
            let report =
                console_scenarios::run(workspace, &firmware, None, scenario, options.verbose);
            if !record(tally, judge(workspace, options, scenario.name, report)) {
                return false;
            }
        }
        if agreement {
            next(AGREEMENT, console_scenarios::AGREEMENT_DESCRIPTION);
            let report = console_scenarios::run_agreement(workspace, &firmware, options.verbose);
            if !record(tally, judge(workspace, options, AGREEMENT, report)) {
                return false;
            }
        }
    }
    if board_scenarios::uses(&selected_board, Board::RaspberryPi4b) {
        println!("\n==> a QEMU with the raspi4b machine");
        match crate::raspi_qemu::ensure() {
            Ok(program) => {
                println!("using {}", program.display());
                prepared.raspi_qemu = Some(program);
            }
            Err(error) => {
                println!("FAILED: QEMU for raspi4b: {error}");
                record(tally, false);
                return false;
            }
        }
    }
    if board_scenarios::uses_tf_a_rpi4(&selected_board) {
        println!("\n==> TF-A's rpi4 BL31 (Debian bookworm's arm-trusted-firmware)");
        match crate::raspberry_pi::tf_a_bl31() {
            Ok(bl31) => {
                println!("using {}", bl31.display());
                prepared.tf_a_rpi4 = Some(bl31);
            }
            Err(error) => {
                println!("FAILED: TF-A's rpi4 BL31: {error}");
                record(tally, false);
                return false;
            }
        }
    }
    for scenario in &selected_board {
        next(scenario.name, scenario.description);
        let report = board_scenarios::run(workspace, &prepared, scenario, options.verbose);
        if !record(tally, judge(workspace, options, scenario.name, report)) {
            return false;
        }
    }
    if selected_peer.is_empty() && selected_console_tf_a.is_empty() {
        return true;
    }
    println!("\n==> preparing real TF-A (cargo xtask peer)");
    let peer = match peer::prepare(workspace) {
        Ok(peer) => peer,
        Err(error) => {
            println!("FAILED: real TF-A preparation: {error}");
            record(tally, false);
            return false;
        }
    };
    for scenario in &selected_peer {
        next(scenario.name, scenario.description);
        let report = peer_scenarios::run(workspace, &peer, scenario, options.verbose);
        if !record(tally, judge(workspace, options, scenario.name, report)) {
            return false;
        }
    }
    for scenario in &selected_console_tf_a {
        next(scenario.name, scenario.description);
        let no_firmware = Path::new("");
        let report = console_scenarios::run(
            workspace,
            no_firmware,
            Some(&peer),
            scenario,
            options.verbose,
        );
        if !record(tally, judge(workspace, options, scenario.name, report)) {
            return false;
        }
    }
    true
}

/// Whether the scenario called `name` runs: all do unless `--scenario` names some.
fn is_selected(options: &TestOptions, name: &str) -> bool {
    options.scenarios.is_empty() || options.scenarios.iter().any(|selected| selected == name)
}

/// Prints a scenario's result (with its whole log on failure), and copies
/// its timeline where `--timeline` asks; returns whether it passed.
fn judge(
    workspace: &Workspace,
    options: &TestOptions,
    name: &str,
    report: Result<ScenarioReport>,
) -> bool {
    if let (Some(path), Ok(report)) = (&options.timeline, &report) {
        match std::fs::copy(&report.timeline_file, path) {
            Ok(_) => println!("timeline of {name}: {}", path.display()),
            Err(error) => println!("cannot write the timeline {}: {error}", path.display()),
        }
    }
    match report {
        Ok(report) if report.problems.is_empty() => {
            println!(
                "scenario {name} passed ({:.1} s)",
                report.duration.as_secs_f64()
            );
            true
        }
        Ok(report) => {
            println!("FAILED: scenario {name}:");
            for problem in &report.problems {
                println!("  - {problem}");
            }
            println!("--- decoded log of scenario {name} ---");
            for line in &report.log {
                println!("{line}");
            }
            println!(
                "--- end of log (saved in {}) ---",
                workspace.relative(&report.log_file).display()
            );
            false
        }
        Err(error) => {
            println!("FAILED: scenario {name}: {error}");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_is_the_line_ci_reads() {
        let tally = Tally {
            passed: 6,
            failed: 0,
        };
        assert_eq!(tally.summary(), "6 passed, 0 failed");
    }
}
