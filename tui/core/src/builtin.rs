//! The shipped scenarios, built into the binary (see `build.rs`): `mksim list` names them and
//! every command that takes a scenario file takes a built-in scenario's name too, from any
//! folder (a file at that path still wins).
//!
//! A built-in scenario is read as if it were the file `<built-in>/NAME.ron`: the scripts it
//! names beside it (`scripts/echo_server.rhai`) are read from the built-in files the same way,
//! and errors and faults name them so.

use crate::scenario::Scenario;

include!(concat!(env!("OUT_DIR"), "/builtin_files.rs"));

/// The folder built-in files seem to live in.
pub const FOLDER: &str = "<built-in>";

/// The text of a built-in file, given the path a scenario or command names it by
/// (`<built-in>/scripts/echo_server.rhai`); `None` for any other path.
pub fn file(path: &str) -> Option<&'static str> {
    let relative = path.strip_prefix(FOLDER)?.strip_prefix('/')?;
    FILES.iter().find(|(name, _)| *name == relative).map(|(_, text)| *text)
}

/// The path a built-in scenario is read as, for its name (`file_io`, `file_io.ron`,
/// `exercises/echo_exercise`); `None` when no built-in scenario has that name.
pub fn scenario_path(name: &str) -> Option<String> {
    let name = name.strip_suffix(".ron").unwrap_or(name);
    let name = name.strip_prefix("scenarios/").unwrap_or(name);
    let path = format!("{FOLDER}/{name}.ron");
    file(&path).map(|_| path)
}

/// The names of the built-in scenarios: their paths below `scenarios/` without `.ron`.
fn scenario_names() -> impl Iterator<Item = &'static str> {
    FILES.iter().filter_map(|(path, _)| path.strip_suffix(".ron"))
}

/// One built-in scenario, for `mksim list`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Listed {
    /// The name to give commands (`file_io`, `exercises/echo_exercise`).
    pub name: &'static str,
    /// Its description, or why it does not load (which a test keeps from happening).
    pub description: String,
}

/// Every built-in scenario, by name.
pub fn scenarios() -> Vec<Listed> {
    scenario_names()
        .map(|name| {
            let description = match Scenario::load(&format!("{FOLDER}/{name}.ron")) {
                Ok(scenario) => scenario.description,
                Err(error) => format!("(does not load: {error})"),
            };
            Listed { name, description }
        })
        .collect()
}

/// The built-in scenario whose name is nearest to `name`, when one is near enough to be a
/// slip of the keyboard, for a "did you mean".
pub fn nearest(name: &str) -> Option<&'static str> {
    let name = name.strip_suffix(".ron").unwrap_or(name);
    let scored = scenario_names().map(|known| (strsim::damerau_levenshtein(name, known), known));
    scored.filter(|&(distance, _)| distance <= 2).min().map(|(_, known)| known)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_scenario_is_built_in_and_loads_with_its_scripts() {
        let listed = scenarios();
        assert!(listed.iter().any(|scenario| scenario.name == "file_io"), "{listed:?}");
        assert!(listed.iter().any(|scenario| scenario.name == "scripted_echo"), "{listed:?}");
        for scenario in &listed {
            assert!(!scenario.description.starts_with("(does not load"), "{}: {}", scenario.name, scenario.description);
        }
    }

    #[test]
    fn a_name_finds_its_scenario_with_or_without_the_extension_and_nothing_else() {
        assert_eq!(scenario_path("file_io").as_deref(), Some("<built-in>/file_io.ron"));
        assert_eq!(scenario_path("file_io.ron").as_deref(), Some("<built-in>/file_io.ron"));
        assert_eq!(scenario_path("scenarios/file_io.ron").as_deref(), Some("<built-in>/file_io.ron"));
        assert_eq!(scenario_path("scripts/echo_server"), None, "a script is not a scenario");
        assert_eq!(scenario_path("nothing"), None);
        assert_eq!(file("scripts/echo_server.rhai"), None, "only paths in the built-in folder");
        assert!(file("<built-in>/scripts/echo_server.rhai").is_some());
    }
}
