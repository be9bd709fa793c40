//! Cost profiles: how many simulated cycles each kernel event costs.
//!
//! Profiles are data. The built-in ones live in `kernel/profiles/*.ron`, each
//! citing where its numbers come from; users load their own with
//! [`CostProfile::from_ron`].

use serde::{Deserialize, Serialize};

/// Cycles charged per kernel event.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostProfile {
    /// Short name (`sel4`, `l4`, ...).
    pub name: String,
    /// What machine and system the numbers describe.
    pub description: String,
    /// Where the numbers come from.
    #[serde(default)]
    pub sources: Vec<String>,
    /// True when some numbers are estimates rather than measurements.
    #[serde(default)]
    pub estimated: bool,
    /// A direct function call (monolithic mode's service calls).
    pub function_call_cycles: u64,
    /// Trap into the kernel and return, for a syscall that moves no message.
    pub syscall_cycles: u64,
    /// One-way short IPC including the direct switch to the receiver.
    pub ipc_one_way_cycles: u64,
    /// A switch through the scheduler (not a direct IPC hand-off).
    pub context_switch_cycles: u64,
    /// Delivering an interrupt to a user-level driver, including the switch to it.
    pub interrupt_cycles: u64,
    /// Copying one byte, in thousandths of a cycle (2.3 cycles = 2300).
    pub copy_millicycles_per_byte: u64,
}

/// Why a profile could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// No built-in profile has this name.
    #[error("unknown cost profile `{name}`; built-in profiles are: {known}")]
    Unknown {
        /// The name asked for.
        name: String,
        /// The built-in names, comma-separated.
        known: String,
    },
    /// The RON text does not describe a profile.
    #[error("{origin}:{line}:{column}: {message}")]
    Invalid {
        /// File name or `built-in NAME`.
        origin: String,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What is wrong.
        message: String,
    },
}

const BUILT_IN: [(&str, &str); 5] = [
    ("sel4", include_str!("../profiles/sel4.ron")),
    ("l4", include_str!("../profiles/l4.ron")),
    ("mach3", include_str!("../profiles/mach3.ron")),
    ("minix3", include_str!("../profiles/minix3.ron")),
    ("monolithic", include_str!("../profiles/monolithic.ron")),
];

impl CostProfile {
    /// Names of the built-in profiles.
    pub fn built_in_names() -> impl Iterator<Item = &'static str> {
        BUILT_IN.iter().map(|(name, _)| *name)
    }

    /// A built-in profile by name.
    ///
    /// # Errors
    /// [`ProfileError::Unknown`] when no built-in profile has that name.
    pub fn built_in(name: &str) -> Result<CostProfile, ProfileError> {
        let Some((_, text)) = BUILT_IN.iter().find(|(known, _)| *known == name) else {
            let known = Self::built_in_names().collect::<Vec<_>>().join(", ");
            return Err(ProfileError::Unknown { name: name.to_owned(), known });
        };
        Self::from_ron(text, &format!("built-in {name}"))
    }

    /// The default profile (seL4 on Skylake, the most recent measurements).
    pub fn sel4() -> CostProfile {
        Self::built_in("sel4").expect("kernel bug: built-in sel4 profile does not parse")
    }

    /// Parses a profile from RON text; `origin` names the file in errors.
    ///
    /// # Errors
    /// [`ProfileError::Invalid`] with line and column when the text is not a profile.
    pub fn from_ron(text: &str, origin: &str) -> Result<CostProfile, ProfileError> {
        ron::from_str(text).map_err(|error| ProfileError::Invalid {
            origin: origin.to_owned(),
            line: error.span.start.line,
            column: error.span.start.col,
            message: error.code.to_string(),
        })
    }

    /// Cycles to copy `bytes` bytes, rounded up.
    pub fn copy_cycles(&self, bytes: u64) -> u64 {
        (bytes.saturating_mul(self.copy_millicycles_per_byte)).div_ceil(1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_profile_parses_and_is_named_after_its_file() {
        for name in CostProfile::built_in_names() {
            let profile = CostProfile::built_in(name).unwrap();
            assert_eq!(profile.name, name);
            assert!(!profile.sources.is_empty(), "{name} cites no source");
        }
    }

    #[test]
    fn the_sel4_profile_carries_the_published_numbers() {
        let profile = CostProfile::sel4();
        assert_eq!(profile.ipc_one_way_cycles, 375);
        assert_eq!(profile.interrupt_cycles, 1235);
        assert_eq!(profile.copy_cycles(10), 1);
    }

    #[test]
    fn unknown_names_list_the_known_ones() {
        let error = CostProfile::built_in("vax").unwrap_err().to_string();
        assert!(error.contains("sel4, l4, mach3, minix3, monolithic"), "{error}");
    }

    #[test]
    fn a_bad_profile_names_line_and_column() {
        let error = CostProfile::from_ron("(name: \"x\",\n  bogus: 1)", "mine.ron").unwrap_err().to_string();
        assert!(error.starts_with("mine.ron:2:"), "{error}");
    }
}
