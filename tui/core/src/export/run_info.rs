//! What run an export is of: the scenario, mode, cost profile and seed that made the log.
//!
//! The log itself does not know them (the kernel that wrote it ran one configuration and never
//! needed its own name), so the caller that ran the scenario hands them in. They head the JSON
//! Lines export, title the Mermaid diagram and fill the Chrome trace's `otherData`.

use super::json::JsonObject;

/// The version of the JSON Lines format, in its header line. It changes when a field of an
/// existing event kind changes name, meaning or order; new event kinds and new trailing fields
/// leave it as it is.
pub const JSONL_FORMAT_VERSION: u32 = 2;

/// The run a log came from, as far as the caller knows it (`None`: not known).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunInfo {
    /// The scenario's name.
    pub scenario: Option<String>,
    /// `microkernel` or `monolithic`.
    pub mode: Option<String>,
    /// The cost profile's name.
    pub profile: Option<String>,
    /// The seed.
    pub seed: Option<u64>,
}

impl RunInfo {
    /// A run of `scenario` in `mode` with `profile` and `seed`.
    pub fn new(scenario: &str, mode: &str, profile: &str, seed: u64) -> RunInfo {
        RunInfo {
            scenario: Some(scenario.to_owned()),
            mode: Some(mode.to_owned()),
            profile: Some(profile.to_owned()),
            seed: Some(seed),
        }
    }

    /// `hello (microkernel mode, seed 1)`: what a diagram's title says, from what is known.
    pub(super) fn title(&self) -> String {
        let mut title = self.scenario.clone().unwrap_or_else(|| "mksim event log".to_owned());
        let mut details = Vec::new();
        if let Some(mode) = &self.mode {
            details.push(format!("{mode} mode"));
        }
        if let Some(profile) = &self.profile {
            details.push(format!("profile {profile}"));
        }
        if let Some(seed) = self.seed {
            details.push(format!("seed {seed}"));
        }
        if !details.is_empty() {
            title.push_str(&format!(" ({})", details.join(", ")));
        }
        title
    }

    /// The fields in JSON, in a fixed order; unknown ones are `null`.
    pub(super) fn json_fields(&self, json: &mut JsonObject) {
        json.field("scenario", &self.scenario)
            .field("mode", &self.mode)
            .field("profile", &self.profile)
            .field("seed", self.seed);
    }

    /// The JSON Lines header line, without its line break: `{"format":"mksim-jsonl",
    /// "version":2,"scenario":…,"mode":…,"profile":…,"seed":…,"time_unit":"cycles"}`.
    pub(super) fn jsonl_header(&self) -> String {
        let mut json = JsonObject::new();
        json.field("format", "mksim-jsonl").field("version", JSONL_FORMAT_VERSION);
        self.json_fields(&mut json);
        json.field("time_unit", "cycles");
        json.finish()
    }
}
