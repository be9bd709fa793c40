//! `mksim profiles`: cost profiles side by side, one row each, so the prices
//! behind a comparison can be read at a glance (and a calibrated profile seen
//! beside the published ones).
//!
//! It owns the table's layout and the list of built-in profiles; loading a
//! profile file is [`crate::scenario::load_profile`]'s, and printing the table
//! the caller's.

use mksim_kernel::CostProfile;
use std::fmt::Write;

/// The headers of the figure columns, in the order of [`figures`].
const HEADERS: [&str; 6] = ["function call", "syscall", "one-way IPC", "context switch", "interrupt", "copy/byte"];

/// The built-in profiles, in their usual order.
pub fn built_in() -> Vec<CostProfile> {
    CostProfile::built_in_names()
        .map(|name| CostProfile::built_in(name).expect("mksim bug: a built-in profile does not parse"))
        .collect()
}

/// A profile's figures in cycles, as the table prints them.
fn figures(profile: &CostProfile) -> [String; 6] {
    [
        profile.function_call_cycles.to_string(),
        profile.syscall_cycles.to_string(),
        profile.ipc_one_way_cycles.to_string(),
        profile.context_switch_cycles.to_string(),
        profile.interrupt_cycles.to_string(),
        millicycles(profile.copy_millicycles_per_byte),
    ]
}

/// Thousandths of a cycle as a decimal, with at least one digit after the point: 100 → 0.1,
/// 1000 → 1.0, 2300 → 2.3, 125 → 0.125.
pub fn millicycles(millicycles: u64) -> String {
    let fraction = format!("{:03}", millicycles % 1000);
    let fraction = fraction.trim_end_matches('0');
    let fraction = if fraction.is_empty() { "0" } else { fraction };
    format!("{}.{fraction}", millicycles / 1000)
}

/// The profiles in one table (cycles per event, one row each, `*` marking those with estimated
/// figures), then each one's description.
pub fn table(profiles: &[CostProfile]) -> String {
    let names: Vec<String> = profiles
        .iter()
        .map(|profile| format!("{}{}", profile.name, if profile.estimated { " *" } else { "" }))
        .collect();
    let rows: Vec<[String; 6]> = profiles.iter().map(figures).collect();
    let name_width = names.iter().map(String::len).chain(["profile".len()]).max().unwrap_or(0);
    let widths: Vec<usize> = (0..HEADERS.len())
        .map(|column| rows.iter().map(|row| row[column].len()).chain([HEADERS[column].len()]).max().unwrap_or(0))
        .collect();
    let mut text = String::new();
    let _ = write!(text, "{:<name_width$}", "profile");
    for (header, width) in HEADERS.iter().zip(&widths) {
        let _ = write!(text, "  {header:>width$}");
    }
    let _ = writeln!(text);
    for (name, row) in names.iter().zip(&rows) {
        let _ = write!(text, "{name:<name_width$}");
        for (figure, width) in row.iter().zip(&widths) {
            let _ = write!(text, "  {figure:>width$}");
        }
        let _ = writeln!(text);
    }
    let _ = writeln!(text);
    let _ = writeln!(text, "cycles per event; copy/byte in cycles per byte copied; * some figures are estimates");
    let _ = writeln!(text);
    let description_width = profiles.iter().map(|profile| profile.name.len()).max().unwrap_or(0);
    for profile in profiles {
        let _ = writeln!(text, "{:<description_width$}  {}", profile.name, profile.description);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The figures in the row that starts with `name`, read back as numbers.
    fn row<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
        let line = text
            .lines()
            .find(|line| line.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no row for {name} in\n{text}"));
        line.split_whitespace().skip(1).filter(|word| *word != "*").collect()
    }

    #[test]
    fn every_built_in_profile_has_a_row_with_its_figures() {
        let profiles = built_in();
        assert_eq!(profiles.len(), CostProfile::built_in_names().count());
        let text = table(&profiles);
        for profile in &profiles {
            let figures = row(&text, &profile.name);
            let expected = [
                profile.function_call_cycles as f64,
                profile.syscall_cycles as f64,
                profile.ipc_one_way_cycles as f64,
                profile.context_switch_cycles as f64,
                profile.interrupt_cycles as f64,
                profile.copy_millicycles_per_byte as f64 / 1000.0,
            ];
            let read: Vec<f64> = figures.iter().map(|figure| figure.parse().unwrap()).collect();
            assert_eq!(read, expected, "{}\n{text}", profile.name);
            assert!(text.contains(&profile.description), "{text}");
        }
    }

    #[test]
    fn estimated_profiles_are_marked_and_the_mark_explained() {
        let profiles = built_in();
        let text = table(&profiles);
        for profile in &profiles {
            let marked = text.lines().any(|line| line.starts_with(&format!("{} *", profile.name)));
            assert_eq!(marked, profile.estimated, "{}\n{text}", profile.name);
        }
        assert!(text.contains("* some figures are estimates"), "{text}");
    }

    #[test]
    fn columns_line_up_under_their_headers() {
        let text = table(&built_in());
        let lines: Vec<&str> = text.lines().take_while(|line| !line.is_empty()).collect();
        assert!(lines.len() > 1, "{text}");
        assert!(lines.iter().all(|line| line.len() == lines[0].len()), "{text}");
    }

    #[test]
    fn copy_costs_read_as_decimals() {
        assert_eq!(millicycles(100), "0.1");
        assert_eq!(millicycles(1000), "1.0");
        assert_eq!(millicycles(2300), "2.3");
        assert_eq!(millicycles(125), "0.125");
        assert_eq!(millicycles(1), "0.001");
        assert_eq!(millicycles(0), "0.0");
    }
}
