//! Builds the shipped scenarios into the binary: every `.ron` and `.rhai` file below the
//! workspace's `scenarios/` folder becomes an entry of a table (`src/builtin.rs` reads it), so
//! `mksim run file_io` works from any folder.

use std::path::{Path, PathBuf};

fn main() {
    // Read when the script runs, not when it is compiled: a build script compiled for one
    // checkout is reused for another that shares the target folder.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest).join("../../scenarios");
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    files.sort();
    let mut table = String::from("/// Every shipped file: its path below `scenarios/`, and its text.\n");
    table.push_str("pub(crate) const FILES: &[(&str, &str)] = &[\n");
    for (relative, absolute) in &files {
        table.push_str(&format!("    ({relative:?}, include_str!({:?})),\n", absolute.display().to_string()));
    }
    table.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("builtin_files.rs");
    std::fs::write(out, table).expect("the build folder is writable");
}

/// The `.ron` and `.rhai` files below `folder`, with their paths relative to `root`; every
/// folder is watched, so a file added or removed rebuilds the table.
fn collect(root: &Path, folder: &Path, files: &mut Vec<(String, PathBuf)>) {
    println!("cargo:rerun-if-changed={}", folder.display());
    let Ok(entries) = std::fs::read_dir(folder) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if path.extension().is_some_and(|extension| extension == "ron" || extension == "rhai") {
            println!("cargo:rerun-if-changed={}", path.display());
            let relative = path.strip_prefix(root).expect("below the root").to_string_lossy().replace('\\', "/");
            files.push((relative, path.canonicalize().unwrap_or(path)));
        }
    }
}
