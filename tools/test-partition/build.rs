//! Links the partition image at TF-A's BL32 address on QEMU (bare-metal builds only).

fn main() {
    println!("cargo:rerun-if-changed=link.x");
    // Host builds (unit tests, host clippy) compile a stand-in `main`: no linker script.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("none") {
        return;
    }
    let directory = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rustc-link-search={directory}");
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
}
