//! The scenario files in `scenarios/`, for the tests that go through all of them.

use std::path::{Path, PathBuf};

/// The `scenarios/` folder.
pub fn folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

/// Every `.ron` file in `scenarios/`, sorted by name.
///
/// # Panics
/// When the folder cannot be read or holds no scenario.
pub fn files() -> Vec<PathBuf> {
    let folder = folder();
    let entries = std::fs::read_dir(&folder).unwrap_or_else(|error| panic!("{}: {error}", folder.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a readable folder entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "ron"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no scenario files in {}", folder.display());
    files
}
