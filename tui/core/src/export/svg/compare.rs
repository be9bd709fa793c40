//! The comparison picture (`mksim compare --svg`): per operation, the average of both modes as
//! bars, one panel per metric (messages, context switches, cycles), each panel on one scale
//! for every operation and both modes, so 752 and 108,238 cycles get bars of different lengths.
//! A panel whose figures span more than [`LOG_SPAN`] times uses a logarithmic scale, and says
//! so on its axis.

use super::{
    Drawn, FONT, MICROKERNEL_COLOUR, MONOLITHIC_COLOUR, Rows, SvgError, drawn, figure, grouped, legend_strip, shown,
};
use crate::run::{OperationStats, RunReport};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use std::collections::BTreeSet;

/// The ratio of largest to smallest figure from which a panel is drawn on a log scale.
const LOG_SPAN: f64 = 20.0;
const WIDTH: u32 = 960;
/// Height of one operation's row: two bars and a gap.
const ROW_HEIGHT: u32 = 34;
/// Height of a panel beyond its rows: caption, axis and its label.
const PANEL_EXTRA: u32 = 92;
const TITLE_HEIGHT: u32 = 40;
const LEGEND_HEIGHT: u32 = 30;

/// One metric's panel: its name, its unit as the axis says it, and how to read it.
struct Metric {
    caption: &'static str,
    unit: &'static str,
    value: fn(&OperationStats) -> u64,
}

const METRICS: [Metric; 3] = [
    Metric { caption: "messages per operation (average)", unit: "messages", value: |stats| stats.messages },
    Metric {
        caption: "context switches per operation (average)",
        unit: "context switches",
        value: |stats| stats.context_switches,
    },
    Metric { caption: "cycles per operation (average, latency)", unit: "virtual cycles", value: |stats| stats.cycles },
];

/// One operation's averages in both modes; `None` where a mode never made it.
struct Row {
    name: String,
    micro: Option<f64>,
    mono: Option<f64>,
}

/// The comparison of `micro` and `mono` (runs of `scenario` in each mode) as an SVG picture.
///
/// # Errors
/// When plotters cannot draw (it draws into memory, so in practice never).
pub fn comparison(micro: &RunReport, mono: &RunReport, scenario: &str) -> Result<String, SvgError> {
    let operations: BTreeSet<&String> = micro.per_operation.keys().chain(mono.per_operation.keys()).collect();
    let rows_count = operations.len().max(1) as u32;
    let panel_height = PANEL_EXTRA + ROW_HEIGHT * rows_count;
    let height = TITLE_HEIGHT + LEGEND_HEIGHT + panel_height * METRICS.len() as u32;
    let label_width = operations.iter().map(|name| shown(name).chars().count()).max().unwrap_or(8) as u32 * 8 + 24;
    let title = format!("{}: microkernel against monolithic, per operation", shown(scenario));
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (WIDTH, height)).into_drawing_area();
        drawn(root.fill(&WHITE).map_err(Into::into))?;
        let (head, body) = root.split_vertically(TITLE_HEIGHT + LEGEND_HEIGHT);
        let (title_area, legend_area) = head.split_vertically(TITLE_HEIGHT);
        drawn(title_area.titled(&title, (FONT, 20)).map(|_| ()).map_err(Into::into))?;
        drawn(legend_strip(&legend_area, &[(MICROKERNEL_COLOUR, "microkernel"), (MONOLITHIC_COLOUR, "monolithic")]))?;
        let panels = body.split_evenly((METRICS.len(), 1));
        for (metric, area) in METRICS.iter().zip(&panels) {
            let rows: Vec<Row> = operations
                .iter()
                .map(|name| Row {
                    name: shown(name),
                    micro: average(micro.per_operation.get(*name), metric.value),
                    mono: average(mono.per_operation.get(*name), metric.value),
                })
                .collect();
            drawn(panel(area, metric, &rows, label_width))?;
        }
        drawn(root.present().map_err(Into::into))?;
    }
    Ok(text)
}

fn average(stats: Option<&OperationStats>, value: fn(&OperationStats) -> u64) -> Option<f64> {
    stats.filter(|stats| stats.count > 0).map(|stats| value(stats) as f64 / stats.count as f64)
}

/// One metric's panel, on a log scale when its figures span widely, else linear from zero.
fn panel(area: &DrawingArea<SVGBackend<'_>, Shift>, metric: &Metric, rows: &[Row], label_width: u32) -> Drawn {
    let figures: Vec<f64> = rows.iter().flat_map(|row| [row.micro, row.mono]).flatten().collect();
    let largest = figures.iter().copied().fold(0.0, f64::max);
    let smallest = figures.iter().copied().filter(|value| *value > 0.0).fold(f64::INFINITY, f64::min);
    if largest > 0.0 && largest / smallest > LOG_SPAN {
        let low = 10f64.powf(smallest.log10().floor());
        // Headroom on the right for the figure written after the longest bar.
        let range = (low..largest * 4.0).log_scale();
        let unit = format!("{} (log scale)", metric.unit);
        bars(area, range, low, &unit, metric.caption, rows, label_width)
    } else {
        let range: RangedCoordf64 = (0.0..if largest > 0.0 { largest * 1.2 } else { 1.0 }).into();
        bars(area, range, 0.0, metric.unit, metric.caption, rows, label_width)
    }
}

/// The bars of one panel on the x scale `range`; bars start at `base` (zero, or the low end of
/// a log scale). Each bar has its figure written after it, and a mode that never made the
/// operation says so in place of its bar.
fn bars<X>(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    range: X,
    base: f64,
    unit: &str,
    caption: &str,
    rows: &[Row],
    label_width: u32,
) -> Drawn
where
    X: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
{
    let axis = Rows { names: rows.iter().map(|row| row.name.clone()).collect(), headroom: 0.0 };
    let count = axis.count();
    let centres: Vec<f64> = (0..rows.len()).map(|index| axis.centre(index)).collect();
    let mut chart = ChartBuilder::on(area)
        .caption(caption, (FONT, 16))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(label_width)
        .build_cartesian_2d(range, axis)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc(unit)
        .y_desc("operation")
        .x_label_formatter(&|x| grouped(*x))
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .draw()?;
    let label_style = (FONT, 12).into_font().color(&BLACK);
    for (row, centre) in rows.iter().zip(&centres) {
        for (value, colour, top, bottom) in [
            (row.micro, MICROKERNEL_COLOUR, centre + 0.42, centre + 0.02),
            (row.mono, MONOLITHIC_COLOUR, centre - 0.02, centre - 0.42),
        ] {
            let middle = (top + bottom) / 2.0;
            let Some(value) = value else {
                let note = Text::new("not made in this mode", (4, -7), label_style.clone());
                chart.plotting_area().draw(&(EmptyElement::at((base, middle)) + note))?;
                continue;
            };
            let end = value.max(base);
            chart.draw_series(std::iter::once(Rectangle::new([(base, bottom), (end, top)], colour.filled())))?;
            let label = Text::new(figure(value), (4, -7), label_style.clone());
            chart.plotting_area().draw(&(EmptyElement::at((end, middle)) + label))?;
        }
    }
    if rows.is_empty() {
        let note = Text::new("no client operations in this run", (8, -7), label_style);
        chart.plotting_area().draw(&(EmptyElement::at((base, count / 2.0)) + note))?;
    }
    Ok(())
}
