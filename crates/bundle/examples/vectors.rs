//! Writes `schema/vectors/` from `ghidanh_bundle::testkit::vectors::generate`.
//!
//! `cargo run -p ghidanh-bundle --features testkit --example vectors`; `tests/vectors.rs`
//! checks that the committed files are exactly what this writes.

use std::path::Path;

fn main() -> std::io::Result<()> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/vectors");
    std::fs::create_dir_all(&dir)?;
    for v in ghidanh_bundle::testkit::vectors::generate() {
        std::fs::write(dir.join(&v.name), v.text)?;
        println!("wrote {}", v.name);
    }
    Ok(())
}
