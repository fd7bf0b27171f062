//! `cargo xtask bench`: the project's benchmarks, one `cargo bench` each.

use crate::error::Result;
use crate::process;
use crate::workspace::Workspace;

/// A benchmark target of a package.
#[derive(Debug, Clone, Copy)]
pub struct Benchmark {
    /// The package that holds it.
    pub package: &'static str,
    /// The `[[bench]]` target name.
    pub name: &'static str,
}

/// Every benchmark, in the order they run. Add new ones here.
pub const BENCHMARKS: &[Benchmark] = &[
    Benchmark {
        package: "kernel",
        name: "init_queue",
    },
    Benchmark {
        package: "capsule-ffa",
        name: "direct_request",
    },
    Benchmark {
        package: "capsule-ffa",
        name: "split_phase",
    },
    Benchmark {
        package: "capsule-ffa",
        name: "memory_share",
    },
];

/// Runs every benchmark, passing `passed_on` to each after `--`.
pub fn command(workspace: &Workspace, passed_on: &[String]) -> Result<()> {
    for benchmark in BENCHMARKS {
        let mut command = workspace.cargo();
        command.args(["bench", "-p", benchmark.package, "--bench", benchmark.name]);
        if !passed_on.is_empty() {
            command.arg("--").args(passed_on);
        }
        process::run(&mut command)?;
    }
    Ok(())
}
