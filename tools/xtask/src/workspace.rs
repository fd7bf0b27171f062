//! Where things are: the workspace root and cargo's target directory, from `cargo metadata`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Context, Error, Result};

/// The workspace that xtask works on, located through `cargo metadata`.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The directory holding the workspace `Cargo.toml`.
    pub root: PathBuf,
    /// Cargo's target directory (honours `CARGO_TARGET_DIR` and `build.target-dir`).
    pub target_directory: PathBuf,
}

/// The JSON of `cargo metadata --format-version 1 --no-deps`, run by the
/// `cargo` command given, for `manifest` if given.
pub fn metadata(mut cargo: Command, manifest: Option<&Path>) -> Result<Vec<u8>> {
    cargo.args(["metadata", "--format-version", "1", "--no-deps"]);
    if let Some(manifest) = manifest {
        cargo.arg("--manifest-path").arg(manifest);
    }
    let output = cargo.output().context("could not run `cargo metadata`")?;
    if !output.status.success() {
        return Err(Error::new(format!(
            "`cargo metadata` failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    Ok(output.stdout)
}

impl Workspace {
    /// Asks cargo where the workspace and its target directory are.
    pub fn locate() -> Result<Self> {
        // Start from this crate's manifest so xtask works from any directory.
        let crate_directory = Path::new(env!("CARGO_MANIFEST_DIR"));
        let manifest = crate_directory.join("Cargo.toml");
        let mut command = Command::new("cargo");
        command.current_dir(crate_directory);
        Self::from_metadata(&metadata(command, Some(&manifest))?)
    }

    /// Reads the workspace root and target directory out of `cargo metadata` JSON.
    pub fn from_metadata(json: &[u8]) -> Result<Self> {
        let metadata: serde_json::Value =
            serde_json::from_slice(json).context("`cargo metadata` printed invalid JSON")?;
        let field = |name: &str| {
            metadata
                .get(name)
                .and_then(serde_json::Value::as_str)
                .map(PathBuf::from)
                .ok_or_else(|| Error::new(format!("`cargo metadata` has no `{name}`")))
        };
        Ok(Self {
            root: field("workspace_root")?,
            target_directory: field("target_directory")?,
        })
    }

    /// A `cargo` command run from the workspace root.
    pub fn cargo(&self) -> Command {
        let mut command = Command::new("cargo");
        command.current_dir(&self.root);
        command
    }

    /// The directory for files that xtask itself writes (config blobs, logs).
    pub fn xtask_directory(&self) -> PathBuf {
        self.target_directory.join("xtask")
    }

    /// `path` relative to the workspace root when it lies inside it, for short messages.
    pub fn relative<'a>(&self, path: &'a Path) -> &'a Path {
        path.strip_prefix(&self.root).unwrap_or(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_root_and_target_directory_from_metadata() {
        let json = br#"{"packages":[{"name":"x","metadata":{"target_directory":"/wrong"}}],
            "target_directory":"/work/main/target","version":1,
            "workspace_root":"/work/main","metadata":null}"#;
        let workspace = Workspace::from_metadata(json).unwrap();
        assert_eq!(workspace.root, Path::new("/work/main"));
        assert_eq!(workspace.target_directory, Path::new("/work/main/target"));
        assert_eq!(
            workspace.xtask_directory(),
            Path::new("/work/main/target/xtask")
        );
    }

    #[test]
    fn missing_field_is_an_error() {
        let error = Workspace::from_metadata(br#"{"workspace_root":"/w"}"#).unwrap_err();
        assert!(error.to_string().contains("target_directory"));
    }
}
