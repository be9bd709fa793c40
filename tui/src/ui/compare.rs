//! The compare pane: the two modes' totals, then each operation's average cost in both, as
//! figures and bars. All bars of one metric share one scale, so an operation that costs a
//! hundred times more has the longer bar whichever row it is on; when the figures span more
//! than [`LOG_SCALE_RANGE`], the scale is logarithmic so the cheap operations still show.

use super::app::App;
use super::view::fit;
use crate::run::OperationStats;
use mksim_kernel::escape_controls;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use std::collections::BTreeSet;

/// From this ratio between the largest and the smallest figure on, bars are logarithmic.
pub const LOG_SCALE_RANGE: f64 = 100.0;

/// How long bars are: one scale for every figure of a metric.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct BarScale {
    /// The largest figure: a full bar.
    most: f64,
    /// Logarithmic (from one) rather than linear (from zero).
    pub logarithmic: bool,
    /// Cells of a full bar.
    width: usize,
}

impl BarScale {
    /// A scale for `figures` in bars of `width` cells.
    pub fn new(figures: impl IntoIterator<Item = f64> + Clone, width: usize) -> BarScale {
        let positive = figures.into_iter().filter(|&figure| figure > 0.0);
        let (least, most) = positive.fold((f64::MAX, 0.0f64), |(least, most), x| (least.min(x), most.max(x)));
        let logarithmic = most > 0.0 && most / least >= LOG_SCALE_RANGE;
        BarScale { most, logarithmic, width }
    }

    /// Cells of the bar of `value`; any figure above zero gets at least one.
    pub fn cells(&self, value: f64) -> usize {
        if value <= 0.0 || self.most <= 0.0 {
            return 0;
        }
        let share = if self.logarithmic {
            // From 1: a figure of one cycle is an empty bar, the largest a full one.
            (value.max(1.0).ln_1p() / self.most.ln_1p()).clamp(0.0, 1.0)
        } else {
            value / self.most
        };
        ((share * self.width as f64).round() as usize).clamp(1, self.width)
    }

    /// The bar of `value`, padded to the full width.
    pub fn bar(&self, value: f64) -> String {
        let filled = self.cells(value);
        format!("{}{}", "█".repeat(filled), " ".repeat(self.width - filled))
    }
}

/// Draws the compare pane.
pub fn draw_compare(frame: &mut Frame, area: Rect, app: &App) {
    let (Some(micro), Some(mono)) = (app.runs.first(), app.runs.get(1)) else {
        let block = Block::bordered().title(" compare ");
        frame.render_widget(Paragraph::new("only one mode was run").block(block), area);
        return;
    };
    let title = format!(
        " compare: {} (μ, {}) against {} (M, {}) · ↑↓ scroll ",
        micro.mode,
        escape_controls(&micro.profile),
        mono.mode,
        escape_controls(&mono.profile)
    );
    let block = Block::bordered().title(title);
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let (a, b) = (&micro.report.metrics, &mono.report.metrics);
    // A run that did not complete did other work than one that did: no ratios, and why.
    let ended_early = crate::report::ended_early(&micro.report, &mono.report);
    let comparable = ended_early.is_empty();
    let ratio = |x: f64, y: f64| match (x, y) {
        _ if !comparable => String::new(),
        (_, y) if y > 0.0 => format!("{:.1}×", x / y),
        (x, _) if x > 0.0 => "∞".to_owned(),
        _ => "=".to_owned(),
    };
    let ratio_title = if comparable { "ratio" } else { "" };
    let mut lines = Vec::new();
    for (index, clause) in ended_early.iter().enumerate() {
        let lead = if index == 0 { "not comparable: " } else { "                " };
        lines.push(Line::from(Span::styled(format!("{lead}{clause}"), bold)));
    }
    let (boot_micro, boot_mono) = (micro.report.boot.cycles, mono.report.boot.cycles);
    lines.push(Line::from(format!("{:<18}{boot_micro:>12}{boot_mono:>12}", "boot cycles")));
    let header = format!("{:<18}{:>12}{:>12}{ratio_title:>8}", "after boot", "μ", "M");
    lines.push(Line::from(Span::styled(header, bold)));
    for (name, x, y) in [
        ("messages", a.messages, b.messages),
        ("context switches", a.context_switches, b.context_switches),
        ("syscalls", a.syscalls, b.syscalls),
        ("cycles", a.cycles, b.cycles),
    ] {
        lines.push(Line::from(format!("{name:<18}{x:>12}{y:>12}{:>8}", ratio(x as f64, y as f64))));
    }
    let operations: BTreeSet<&String> =
        micro.report.per_operation.keys().chain(mono.report.per_operation.keys()).collect();
    if operations.is_empty() {
        lines.push(Line::from("no client-stub operations here: the programs use raw IPC only"));
        frame.render_widget(Paragraph::new(lines).block(block), area);
        return;
    }
    let empty = OperationStats::default();
    let average =
        |stats: &OperationStats, total: u64| if stats.count == 0 { 0.0 } else { total as f64 / stats.count as f64 };
    let figures: Vec<(&String, &OperationStats, &OperationStats)> = operations
        .into_iter()
        .map(|name| {
            let x = micro.report.per_operation.get(name).unwrap_or(&empty);
            let y = mono.report.per_operation.get(name).unwrap_or(&empty);
            (name, x, y)
        })
        .collect();
    // Names are shown whole (up to a limit), so `fs.read` and `fs.readdir` stay apart at 80
    // columns; the bars give up the room, and below a few cells the message and switch
    // averages give theirs.
    let name_width = figures.iter().map(|(name, ..)| name.chars().count()).max().unwrap_or(0).clamp(9, 24);
    let inner = (area.width as usize).saturating_sub(2);
    let averages = inner >= name_width + 54 + 2 * 4;
    let fixed = name_width + 36 + if averages { 18 } else { 0 };
    let bar_width = (inner.saturating_sub(fixed) / 2).clamp(3, 30);
    let cycles =
        BarScale::new(figures.iter().flat_map(|(_, x, y)| [average(x, x.cycles), average(y, y.cycles)]), bar_width);
    let scale = if cycles.logarithmic { "log" } else { "" };
    let averages_title = if averages { "  msgs μ/M  sw μ/M" } else { "" };
    lines.push(Line::from(Span::styled(
        format!(
            "{:<name_width$}{:>5}  {scale:<w$} {:>8}  {scale:<w$} {:>8} {:>6}{averages_title}",
            "operation",
            "count",
            "μ cycles",
            "M cycles",
            ratio_title,
            w = bar_width
        ),
        bold,
    )));
    let mut rows = Vec::new();
    for (name, x, y) in figures {
        let (cx, cy) = (average(x, x.cycles), average(y, y.cycles));
        let mut row = format!(
            "{:<name_width$}{:>5}  {} {cx:>8.0}  {} {cy:>8.0} {:>6}",
            fit(&escape_controls(name), name_width),
            x.count.max(y.count),
            cycles.bar(cx),
            cycles.bar(cy),
            if !comparable || (y.count > 0 && x.count > 0) { ratio(cx, cy) } else { "-".to_owned() },
        );
        if averages {
            row.push_str(&format!(
                "  {:>4.1}/{:<4.1} {:>3.1}/{:.1}",
                average(x, x.messages),
                average(y, y.messages),
                average(x, x.context_switches),
                average(y, y.context_switches),
            ));
        }
        rows.push(Line::from(row));
    }
    let room = (area.height as usize).saturating_sub(2 + lines.len());
    let scroll = app.compare_scroll.min(rows.len().saturating_sub(room));
    let hidden_after = rows.len().saturating_sub(scroll + room);
    let mut shown: Vec<Line> = rows.into_iter().skip(scroll).take(room).collect();
    if hidden_after > 0
        && let Some(last) = shown.last_mut()
    {
        *last = Line::from(format!("  … {} more: ↓ to scroll", hidden_after + 1));
    }
    lines.extend(shown);
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_scale_for_every_bar_of_a_metric() {
        let scale = BarScale::new([10.0, 20.0, 40.0], 8);
        assert!(!scale.logarithmic);
        assert_eq!([scale.cells(10.0), scale.cells(20.0), scale.cells(40.0)], [2, 4, 8]);
    }

    #[test]
    fn a_wide_range_is_drawn_logarithmic_and_the_smallest_still_shows() {
        let scale = BarScale::new([752.0, 108_238.0], 20);
        assert!(scale.logarithmic);
        let (small, large) = (scale.cells(752.0), scale.cells(108_238.0));
        assert_eq!(large, 20);
        assert!(small > 0 && small < large, "{small} {large}");
        assert_eq!(scale.cells(0.0), 0);
    }
}
