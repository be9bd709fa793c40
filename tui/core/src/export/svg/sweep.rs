//! The sweep picture (`mksim sweep ... --svg FILE`): one line per cost profile over the swept
//! values, cycles per round trip upwards. Numeric values are placed by their size (on a log
//! scale when they span more than [`LOG_SPAN`] times, as 8 to 4096 bytes do), other values one
//! after another; the cycles axis is logarithmic on the same rule, so profiles a hundred times
//! apart both stay readable. A run that did not complete leaves a gap in its line.

use super::{Drawn, FONT, Rows, SvgError, drawn, figure, grouped, legend_strip, shown};
use crate::sweep::{Sweep, SweepRow};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

const LOG_SPAN: f64 = 20.0;
const WIDTH: u32 = 900;
const HEIGHT: u32 = 560;
const TITLE_HEIGHT: u32 = 40;
const LEGEND_HEIGHT: u32 = 30;
/// The profiles' colours, in the order they were given (then again from the first).
const COLOURS: [RGBColor; 6] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
];

/// What the lines show: cycles per round trip where the runs made any, else the run's cycles.
fn measure(row: &SweepRow, per_round_trip: bool) -> Option<f64> {
    let figures = row.figures.as_ref()?;
    if per_round_trip { figures.cycles_per_round_trip } else { Some(figures.cycles as f64) }
}

/// The sweep as an SVG picture.
///
/// # Errors
/// When plotters cannot draw (it draws into memory, so in practice never).
pub fn sweep(sweep: &Sweep) -> Result<String, SvgError> {
    let values: Vec<String> = sweep.values().into_iter().map(shown).collect();
    let per_round_trip =
        sweep.rows.iter().any(|row| row.figures.as_ref().is_some_and(|f| f.cycles_per_round_trip.is_some()));
    let numbers: Option<Vec<f64>> = sweep.values().iter().map(|value| value.trim().parse::<f64>().ok()).collect();
    let lines: Vec<(String, Vec<Option<f64>>)> = sweep
        .profiles
        .iter()
        .map(|profile| {
            let points = sweep
                .values()
                .iter()
                .map(|value| {
                    let row = sweep.rows.iter().find(|row| row.value == *value && row.profile == *profile);
                    row.and_then(|row| measure(row, per_round_trip))
                })
                .collect();
            (shown(profile), points)
        })
        .collect();
    let plot = Plot {
        x_label: format!("{} (the swept parameter)", shown(&sweep.parameter)),
        y_label: if per_round_trip { "cycles per round trip" } else { "cycles after boot" },
        values,
        lines,
    };
    let title = format!("{}: {} over {}", shown(&sweep.scenario), plot.y_label, shown(&sweep.parameter));
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (WIDTH, HEIGHT)).into_drawing_area();
        drawn(root.fill(&WHITE).map_err(Into::into))?;
        let (head, body) = root.split_vertically(TITLE_HEIGHT + LEGEND_HEIGHT);
        let (title_area, legend_area) = head.split_vertically(TITLE_HEIGHT);
        drawn(title_area.titled(&title, (FONT, 20)).map(|_| ()).map_err(Into::into))?;
        let legend: Vec<(RGBColor, &str)> = plot
            .lines
            .iter()
            .enumerate()
            .map(|(index, (name, _))| (COLOURS[index % COLOURS.len()], name.as_str()))
            .collect();
        drawn(legend_strip(&legend_area, &legend))?;
        drawn(match numbers.filter(|numbers| numbers.len() == plot.values.len()) {
            Some(numbers) => numeric_x(&body, &plot, &numbers),
            None => {
                let positions: Vec<f64> = (0..plot.values.len()).map(|index| index as f64 + 0.5).collect();
                // The value names read left to right: `Rows` counts its rows from the far end.
                let axis = Rows { names: plot.values.iter().rev().cloned().collect(), headroom: 0.0 };
                any_y(&body, axis, &plot, &positions, "")
            }
        })?;
        drawn(root.present().map_err(Into::into))?;
    }
    Ok(text)
}

/// What the chart draws: the axes' words, the values and one line per profile.
struct Plot {
    x_label: String,
    y_label: &'static str,
    values: Vec<String>,
    lines: Vec<(String, Vec<Option<f64>>)>,
}

fn spans_widely(numbers: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (low, high) = numbers.fold((f64::INFINITY, 0.0f64), |(low, high), value| (low.min(value), high.max(value)));
    (low > 0.0 && high / low > LOG_SPAN).then_some((low, high))
}

fn numeric_x(area: &DrawingArea<SVGBackend<'_>, Shift>, plot: &Plot, numbers: &[f64]) -> Drawn {
    if let Some((low, high)) = spans_widely(numbers.iter().copied()) {
        any_y(area, (low / 1.5..high * 1.5).log_scale(), plot, numbers, " (log scale)")
    } else {
        let (low, high) = numbers.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(*v), h.max(*v)));
        let pad = ((high - low) * 0.05).max(0.5);
        let range: RangedCoordf64 = (low - pad..high + pad).into();
        any_y(area, range, plot, numbers, "")
    }
}

fn any_y<X>(area: &DrawingArea<SVGBackend<'_>, Shift>, x: X, plot: &Plot, positions: &[f64], x_scale: &str) -> Drawn
where
    X: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
{
    let figures = plot.lines.iter().flat_map(|(_, points)| points.iter().flatten().copied());
    let high = plot.lines.iter().flat_map(|(_, points)| points.iter().flatten().copied()).fold(0.0, f64::max);
    match spans_widely(figures) {
        Some((low, high)) => {
            let y = (low / 2.0..high * 2.0).log_scale();
            lines(area, x, y, plot, positions, (x_scale, " (log scale)"))
        }
        None => {
            let y: RangedCoordf64 = (0.0..if high > 0.0 { high * 1.15 } else { 1.0 }).into();
            lines(area, x, y, plot, positions, (x_scale, ""))
        }
    }
}

fn lines<X, Y>(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    x: X,
    y: Y,
    plot: &Plot,
    positions: &[f64],
    scales: (&str, &str),
) -> Drawn
where
    X: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut chart =
        ChartBuilder::on(area).margin(16).x_label_area_size(44).y_label_area_size(90).build_cartesian_2d(x, y)?;
    let numeric_x = scales.0.is_empty() && plot.values.iter().all(|value| value.parse::<f64>().is_ok());
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(format!("{}{}", plot.x_label, scales.0))
        .y_desc(format!("{}{}", plot.y_label, scales.1))
        .y_label_formatter(&|value| grouped(*value))
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14));
    if numeric_x || !scales.0.is_empty() {
        mesh.x_label_formatter(&|value| figure(*value));
    }
    mesh.draw()?;
    let small = (FONT, 11).into_font().color(&BLACK);
    for (index, (_, points)) in plot.lines.iter().enumerate() {
        let colour = COLOURS[index % COLOURS.len()];
        // A run that did not complete breaks the line in two.
        for piece in points.iter().zip(positions).collect::<Vec<_>>().split(|(point, _)| point.is_none()) {
            let line: Vec<(f64, f64)> = piece.iter().filter_map(|(point, x)| point.map(|y| (**x, y))).collect();
            chart.draw_series(std::iter::once(PathElement::new(line, colour.stroke_width(2))))?;
        }
        for (point, x) in points.iter().zip(positions) {
            if let Some(y) = point {
                chart.draw_series(std::iter::once(Circle::new((*x, *y), 4, colour.filled())))?;
                let label = Text::new(figure(*y), (6, -14), small.clone());
                chart.plotting_area().draw(&(EmptyElement::at((*x, *y)) + label))?;
            }
        }
    }
    Ok(())
}
