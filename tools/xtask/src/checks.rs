//! The static checks of `cargo xtask test`: the workspace's structure
//! (layering, a README per crate, the workspace lints), then format, lints
//! and host unit tests, with their package lists.

use std::path::{Path, PathBuf};

use crate::build::TARGET;
use crate::error::{Context, Error, Result};
use crate::peer::PARTITION_TARGET;
use crate::workspace::{self, Workspace};

/// Packages that build and are linted on the host (the workspace default members).
pub const HOST_PACKAGES: &[&str] = &[
    "kernel",
    "armv8a",
    "armv8a-asm",
    "armv8a-mmu",
    "bakery-lock",
    "bcm2711",
    "pl011",
    "pl011-console",
    "components",
    "capsule-console",
    "capsule-cores",
    "capsule-ffa",
    "capsule-ffa-proxy",
    "capsule-optee",
    "capsule-tpm",
    "ffa-abi",
    "ffa-model",
    "test-partition",
    "testbed",
    "xtask",
];

/// Packages linted for the bare-metal target.
pub const TARGET_PACKAGES: &[&str] = &[
    "kernel",
    "armv8a",
    "armv8a-soc",
    "bakery-lock",
    "bcm2711",
    "pl011",
    "pl011-console",
    "qemu-virt",
    "components",
    "qemu-virt-board",
    "raspberrypi4b-board",
    "capsule-console",
    "capsule-cores",
    "capsule-ffa",
    "capsule-ffa-proxy",
    "capsule-optee",
    "capsule-tpm",
    "ffa-abi",
    "ffa-model",
    "test-firmware",
];

/// Packages linted for the secure partition's target (no FP/SIMD).
pub const PARTITION_PACKAGES: &[&str] = &["test-partition"];

/// The boards whose feature combinations get their own lint run.
pub const BOARD_PACKAGES: &[&str] = &["qemu-virt-board", "raspberrypi4b-board"];

/// One structure check: a rule every workspace member must follow.
#[derive(Debug, Clone, Copy)]
pub struct StructureCheck {
    /// Short name for progress and failure messages.
    pub name: &'static str,
    /// The members that break the rule, one line each (empty: it holds).
    pub problems: fn(&Workspace, &[Member]) -> Vec<String>,
}

/// The structure checks, in the order CI runs them (before the cargo checks).
pub const STRUCTURE_CHECKS: &[StructureCheck] = &[
    StructureCheck {
        name: "layering (no crate under chips/ depends on one under capsules/)",
        problems: layering_problems,
    },
    StructureCheck {
        name: "a README per crate, saying what it is for and what it may depend on",
        problems: readme_problems,
    },
    StructureCheck {
        name: "every crate opts into the workspace lints ([lints] workspace = true)",
        problems: lints_problems,
    },
];

/// A workspace member, as `cargo metadata` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The package name.
    pub name: String,
    /// Its directory, relative to the workspace root (`chips/armv8a`).
    pub directory: PathBuf,
    /// The directories of the workspace members it depends on (of every
    /// kind: normal, build and dev), relative to the workspace root.
    pub dependencies: Vec<PathBuf>,
}

/// The workspace members, from `cargo metadata`.
pub fn members(workspace: &Workspace) -> Result<Vec<Member>> {
    members_from_metadata(&workspace::metadata(workspace.cargo(), None)?)
}

/// The workspace members described by `cargo metadata` JSON.
pub fn members_from_metadata(json: &[u8]) -> Result<Vec<Member>> {
    let metadata: serde_json::Value =
        serde_json::from_slice(json).context("`cargo metadata` printed invalid JSON")?;
    let root = metadata
        .get("workspace_root")
        .and_then(serde_json::Value::as_str)
        .map(PathBuf::from)
        .ok_or_else(|| Error::new("`cargo metadata` has no `workspace_root`"))?;
    let relative = |path: &Path| path.strip_prefix(&root).unwrap_or(path).to_path_buf();
    let packages = metadata
        .get("packages")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| Error::new("`cargo metadata` has no `packages`"))?;
    packages
        .iter()
        .map(|package| {
            let text = |field: &str| package.get(field).and_then(serde_json::Value::as_str);
            let name = text("name").ok_or_else(|| Error::new("a package without a name"))?;
            let manifest = text("manifest_path")
                .ok_or_else(|| Error::new(format!("package {name} has no manifest_path")))?;
            let directory = relative(Path::new(manifest).parent().unwrap_or(Path::new("")));
            let dependencies = package
                .get("dependencies")
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|dependency| dependency.get("path")?.as_str())
                .map(|path| relative(Path::new(path)))
                .collect();
            Ok(Member {
                name: name.to_string(),
                directory,
                dependencies,
            })
        })
        .collect()
}

/// Chips never depend on capsules: they meet in a board, through HIL traits.
fn layering_problems(_: &Workspace, members: &[Member]) -> Vec<String> {
    members
        .iter()
        .filter(|member| member.directory.starts_with("chips"))
        .flat_map(|member| {
            member
                .dependencies
                .iter()
                .filter(|dependency| dependency.starts_with("capsules"))
                .map(move |dependency| {
                    format!(
                        "{} ({}) depends on {}",
                        member.name,
                        member.directory.display(),
                        dependency.display()
                    )
                })
        })
        .collect()
}

/// Every crate has a README.md saying what it is for and what it may
/// depend on, and its crate docs include it.
fn readme_problems(workspace: &Workspace, members: &[Member]) -> Vec<String> {
    members
        .iter()
        .filter_map(|member| {
            let readme = member.directory.join("README.md");
            let root = ["src/lib.rs", "src/main.rs"]
                .iter()
                .map(|file| member.directory.join(file))
                .find(|file| workspace.root.join(file).is_file());
            let included = root.as_ref().is_some_and(|root| {
                std::fs::read_to_string(workspace.root.join(root))
                    .is_ok_and(|text| text.contains(README_AS_CRATE_DOCS))
            });
            match std::fs::read_to_string(workspace.root.join(&readme)) {
                Err(_) => Some(format!("{}: no {}", member.name, readme.display())),
                Ok(text) if !text.contains("may depend on") => Some(format!(
                    "{}: {} does not say what the crate may depend on",
                    member.name,
                    readme.display()
                )),
                Ok(_) if !included => Some(format!(
                    "{}: the crate root ({}) does not use the README as its docs \
                     (`{README_AS_CRATE_DOCS}`)",
                    member.name,
                    root.map_or("src/lib.rs".into(), |root| root.display().to_string())
                )),
                Ok(_) => None,
            }
        })
        .collect()
}

/// The line that makes a crate's README its crate docs.
const README_AS_CRATE_DOCS: &str = "#![doc = include_str!(\"../README.md\")]";

/// Every crate opts into the lints of `[workspace.lints]`.
fn lints_problems(workspace: &Workspace, members: &[Member]) -> Vec<String> {
    members
        .iter()
        .filter(|member| {
            let manifest = workspace.root.join(member.directory.join("Cargo.toml"));
            !std::fs::read_to_string(manifest).is_ok_and(|text| opts_into_workspace_lints(&text))
        })
        .map(|member| {
            format!(
                "{}: {}/Cargo.toml lacks `[lints] workspace = true`",
                member.name,
                member.directory.display()
            )
        })
        .collect()
}

/// Whether a manifest has a `[lints]` table that says `workspace = true`.
fn opts_into_workspace_lints(manifest: &str) -> bool {
    let mut lines = manifest.lines().map(str::trim);
    lines.by_ref().any(|line| line == "[lints]")
        && lines
            .take_while(|line| !line.starts_with('['))
            .any(|line| line.replace(' ', "") == "workspace=true")
}

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
            name: "target clippy, boards with every feature (protected mode, scenarios)",
            cargo_arguments: [
                words(&["clippy", "--target", TARGET]),
                package_arguments(BOARD_PACKAGES),
                words(&["--all-features", "--release", "--", "-D", "warnings"]),
            ]
            .concat(),
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

    /// `cargo metadata` JSON for packages given as (name, directory, path dependencies).
    fn metadata(packages: &[(&str, &str, &[&str])]) -> Vec<u8> {
        let packages: Vec<serde_json::Value> = packages
            .iter()
            .map(|(name, directory, dependencies)| {
                serde_json::json!({
                    "name": name,
                    "manifest_path": format!("/w/{directory}/Cargo.toml"),
                    "dependencies": dependencies
                        .iter()
                        .map(|path| serde_json::json!({"name": "d", "path": format!("/w/{path}")}))
                        .chain(std::iter::once(serde_json::json!({"name": "defmt"})))
                        .collect::<Vec<_>>(),
                })
            })
            .collect();
        serde_json::to_vec(&serde_json::json!({"workspace_root": "/w", "packages": packages}))
            .unwrap()
    }

    fn scratch_workspace() -> Workspace {
        Workspace {
            root: PathBuf::from("/nonexistent"),
            target_directory: PathBuf::from("/nonexistent/target"),
        }
    }

    #[test]
    fn a_chip_that_depends_on_a_capsule_breaks_the_layering() {
        let members = members_from_metadata(&metadata(&[
            ("kernel", "kernel", &[]),
            ("armv8a", "chips/armv8a", &["kernel", "capsules/ffa-proxy"]),
            ("capsule-ffa", "capsules/ffa", &["kernel"]),
            (
                "board",
                "boards/qemu-virt",
                &["chips/armv8a", "capsules/ffa"],
            ),
        ]))
        .unwrap();
        assert_eq!(
            members[1].dependencies,
            [PathBuf::from("kernel"), PathBuf::from("capsules/ffa-proxy")]
        );
        assert_eq!(
            layering_problems(&scratch_workspace(), &members),
            ["armv8a (chips/armv8a) depends on capsules/ffa-proxy"]
        );
        let fixed = members_from_metadata(&metadata(&[(
            "armv8a",
            "chips/armv8a",
            &["kernel", "chips/armv8a-asm"],
        )]))
        .unwrap();
        assert!(layering_problems(&scratch_workspace(), &fixed).is_empty());
    }

    #[test]
    fn a_crate_without_a_readme_or_its_dependency_rules_is_reported() {
        let root = std::env::temp_dir().join(format!("xtask-readme-{}", std::process::id()));
        for (directory, readme, crate_root) in [
            (
                "kernel",
                Some("# kernel\n\nIt may depend on nothing.\n"),
                README_AS_CRATE_DOCS,
            ),
            (
                "capsules/ffa",
                Some("# capsule-ffa\n\nThe FF-A client.\n"),
                README_AS_CRATE_DOCS,
            ),
            ("chips/armv8a", None, ""),
            (
                "chips/qemu-virt",
                Some("It may depend on the kernel.\n"),
                "//! Docs.\n",
            ),
        ] {
            std::fs::create_dir_all(root.join(directory).join("src")).unwrap();
            std::fs::write(root.join(directory).join("src/lib.rs"), crate_root).unwrap();
            if let Some(text) = readme {
                std::fs::write(root.join(directory).join("README.md"), text).unwrap();
            }
        }
        let workspace = Workspace {
            root: root.clone(),
            target_directory: root.join("target"),
        };
        let members = members_from_metadata(&metadata(&[
            ("kernel", "kernel", &[]),
            ("capsule-ffa", "capsules/ffa", &[]),
            ("armv8a", "chips/armv8a", &[]),
            ("qemu-virt", "chips/qemu-virt", &[]),
        ]))
        .unwrap();
        let problems = readme_problems(&workspace, &members);
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(
            problems,
            [
                "capsule-ffa: capsules/ffa/README.md does not say what the crate may depend on",
                "armv8a: no chips/armv8a/README.md",
                "qemu-virt: the crate root (chips/qemu-virt/src/lib.rs) does not use the README \
                 as its docs (`#![doc = include_str!(\"../README.md\")]`)",
            ]
        );
    }

    #[test]
    fn a_crate_that_does_not_opt_into_the_workspace_lints_is_found() {
        assert!(opts_into_workspace_lints(
            "[package]\nname = \"a\"\n\n[lints]\nworkspace = true\n"
        ));
        assert!(opts_into_workspace_lints(
            "[lints]\n# shared\nworkspace=true\n[dependencies]\n"
        ));
        assert!(!opts_into_workspace_lints("[package]\nname = \"a\"\n"));
        assert!(!opts_into_workspace_lints(
            "[lints]\n[dependencies]\nworkspace = true\n"
        ));
        assert!(!opts_into_workspace_lints(
            "[lints.rust]\nmissing_docs = \"warn\"\n"
        ));
    }

    #[test]
    fn this_workspace_follows_its_structure_rules() {
        let workspace = Workspace::locate().unwrap();
        let members = members(&workspace).unwrap();
        assert!(members.len() >= 10, "{members:?}");
        for check in STRUCTURE_CHECKS {
            assert_eq!(
                (check.problems)(&workspace, &members),
                Vec::<String>::new(),
                "{}",
                check.name
            );
        }
    }

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
                "clippy -p kernel -p armv8a -p armv8a-asm -p armv8a-mmu -p bakery-lock -p bcm2711 -p pl011 \
                 -p pl011-console -p components -p capsule-console -p capsule-cores -p capsule-ffa \
                 -p capsule-ffa-proxy -p capsule-optee -p capsule-tpm -p ffa-abi -p ffa-model -p test-partition -p testbed \
                 -p xtask --all-targets -- -D warnings",
                "clippy --target aarch64-unknown-none -p kernel -p armv8a -p armv8a-soc -p bakery-lock -p bcm2711 -p pl011 \
                 -p pl011-console -p qemu-virt \
                 -p components -p qemu-virt-board -p raspberrypi4b-board -p capsule-console -p capsule-cores \
                 -p capsule-ffa \
                 -p capsule-ffa-proxy -p capsule-optee -p capsule-tpm -p ffa-abi \
                 -p ffa-model -p test-firmware --release -- -D warnings",
                "clippy --target aarch64-unknown-none-softfloat -p test-partition \
                 --release -- -D warnings",
                "clippy --target aarch64-unknown-none -p qemu-virt-board -p raspberrypi4b-board \
                 --all-features --release -- -D warnings",
                "test",
            ]
        );
    }
}
