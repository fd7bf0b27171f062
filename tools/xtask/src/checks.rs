//! The static checks of `cargo xtask test` (format, lints, host unit tests) and their package lists.

use crate::build::TARGET;
use crate::peer::PARTITION_TARGET;

/// Packages that build and are linted on the host (the workspace default members).
pub const HOST_PACKAGES: &[&str] = &[
    "kernel",
    "ffa-proxy",
    "capsule-ffa",
    "ffa-abi",
    "ffa-model",
    "test-partition",
    "xtask",
];

/// Packages linted for the bare-metal target.
pub const TARGET_PACKAGES: &[&str] = &[
    "kernel",
    "armv8a",
    "qemu-virt",
    "ffa-proxy",
    "qemu-virt-board",
    "capsule-ffa",
    "ffa-abi",
    "ffa-model",
    "test-firmware",
];

/// Packages linted for the secure partition's target (no FP/SIMD).
pub const PARTITION_PACKAGES: &[&str] = &["test-partition"];

/// The board whose feature combinations get their own lint run.
pub const BOARD_PACKAGE: &str = "qemu-virt-board";

/// One check: a cargo command that must succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Short name for progress and failure messages.
    pub name: &'static str,
    /// The arguments after `cargo`.
    pub cargo_arguments: Vec<String>,
}

/// The checks, in the order CI runs them.
pub fn checks() -> Vec<Check> {
    vec![
        Check {
            name: "formatting (cargo fmt --check)",
            cargo_arguments: words(&["fmt", "--all", "--", "--check"]),
        },
        Check {
            name: "host clippy",
            cargo_arguments: [
                words(&["clippy"]),
                package_arguments(HOST_PACKAGES),
                words(&["--all-targets", "--", "-D", "warnings"]),
            ]
            .concat(),
        },
        Check {
            name: "target clippy",
            cargo_arguments: [
                words(&["clippy", "--target", TARGET]),
                package_arguments(TARGET_PACKAGES),
                words(&["--release", "--", "-D", "warnings"]),
            ]
            .concat(),
        },
        Check {
            name: "target clippy, secure partition (aarch64-unknown-none-softfloat)",
            cargo_arguments: [
                words(&["clippy", "--target", PARTITION_TARGET]),
                package_arguments(PARTITION_PACKAGES),
                words(&["--release", "--", "-D", "warnings"]),
            ]
            .concat(),
        },
        Check {
            name: "target clippy, board with every feature (protected mode, scenarios)",
            cargo_arguments: words(&[
                "clippy",
                "--target",
                TARGET,
                "-p",
                BOARD_PACKAGE,
                "--all-features",
                "--release",
                "--",
                "-D",
                "warnings",
            ]),
        },
        Check {
            name: "host unit tests (cargo test)",
            cargo_arguments: words(&["test"]),
        },
    ]
}

fn words(words: &[&str]) -> Vec<String> {
    words.iter().map(|word| word.to_string()).collect()
}

/// `-p A -p B ...`.
fn package_arguments(packages: &[&str]) -> Vec<String> {
    packages
        .iter()
        .flat_map(|package| ["-p".to_string(), package.to_string()])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_are_the_ci_commands_in_order() {
        let lines: Vec<String> = checks()
            .iter()
            .map(|check| check.cargo_arguments.join(" "))
            .collect();
        assert_eq!(
            lines,
            [
                "fmt --all -- --check",
                "clippy -p kernel -p ffa-proxy -p capsule-ffa -p ffa-abi -p ffa-model \
                 -p test-partition -p xtask --all-targets -- -D warnings",
                "clippy --target aarch64-unknown-none -p kernel -p armv8a -p qemu-virt \
                 -p ffa-proxy -p qemu-virt-board -p capsule-ffa -p ffa-abi -p ffa-model \
                 -p test-firmware \
                 --release -- -D warnings",
                "clippy --target aarch64-unknown-none-softfloat -p test-partition \
                 --release -- -D warnings",
                "clippy --target aarch64-unknown-none -p qemu-virt-board --all-features \
                 --release -- -D warnings",
                "test",
            ]
        );
    }
}
