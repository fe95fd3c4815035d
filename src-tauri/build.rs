//! Runs tauri-build and generates the app context (config, ACL, embedded
//! `ui/dist`) here rather than in `generate_context!`: the build script's
//! `rerun-if-changed` on `frontendDist` makes `cargo build` pick up a rebuilt
//! UI. With `generate_context!` the embedded UI goes stale until the crate
//! itself is recompiled.

fn main() {
    let attributes = tauri_build::Attributes::new().codegen(tauri_build::CodegenContext::new());
    tauri_build::try_build(attributes).expect("failed to run tauri-build");
}
