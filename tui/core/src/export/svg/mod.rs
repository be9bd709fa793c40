//! SVG pictures for slides and handouts, drawn with plotters' SVG backend: the per-operation
//! comparison of both modes ([`comparison`]), who runs when ([`timeline`]) and a parameter
//! sweep's lines, one per cost profile ([`sweep()`]), and the sequence diagram of a run's
//! messages, faults and restarts, alone or beside the other mode's ([`sequence`]).
//!
//! Every picture has a title, axes labelled with their units and a legend. Text from a
//! scenario (its name, process and operation names) goes through
//! [`mksim_kernel::escape_controls`] first, so a control character becomes visible text
//! rather than an invalid XML character; plotters escapes `<`, `>`, `&` and quotes itself.
//!
//! A picture is a `String` built in memory, the same bytes for the same run: plotters writes
//! numbers and elements in drawing order, and everything here is drawn in process-table,
//! operation-name or log order.
//!
//! ## Not its business
//! Where a picture goes (the caller writes it) and fonts: the SVG names a generic
//! `sans-serif` family and the viewer picks the face, so nothing here reads font files.

mod compare;
mod sequence;
mod sweep;
mod timeline;

pub use compare::comparison;
pub use sequence::{ROWS_MAX, Window, sequence};
pub use sweep::sweep;
pub use timeline::{STRETCHES_MAX, timeline};

use plotters::style::RGBColor;
use std::fmt;

/// The font family of every text: the viewer's own sans-serif face.
const FONT: &str = "sans-serif";
/// Microkernel mode's colour (blue) in every picture that shows both modes.
const MICROKERNEL_COLOUR: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
/// Monolithic mode's colour (orange).
const MONOLITHIC_COLOUR: RGBColor = RGBColor(0xff, 0x7f, 0x0e);

/// A picture that cannot be drawn: a process or window the run does not have, a run too long
/// to draw, or a plotters error (drawing into memory does not fail in practice; this keeps one
/// an error rather than a panic).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SvgError(String);

impl fmt::Display for SvgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SvgError {}

/// What the drawing steps return: any plotters error, boxed.
type Drawn = Result<(), Box<dyn std::error::Error>>;

/// Turns a drawing step's error into an [`SvgError`].
fn drawn(result: Drawn) -> Result<(), SvgError> {
    result.map_err(|error| SvgError(format!("cannot draw the picture: {error}")))
}

/// Scenario text made safe to put in a picture: control characters shown as escapes.
fn shown(text: &str) -> String {
    mksim_kernel::escape_controls(text).into_owned()
}

/// A whole number with thousands separators (`108,238`), as the axes and bar labels show it.
fn grouped(value: f64) -> String {
    let rounded = value.round();
    if !rounded.is_finite() || rounded.abs() >= 1e15 {
        return format!("{value:e}");
    }
    let digits = format!("{}", rounded.abs() as u64);
    let mut text = String::new();
    for (position, digit) in digits.chars().enumerate() {
        if position > 0 && (digits.len() - position).is_multiple_of(3) {
            text.push(',');
        }
        text.push(digit);
    }
    if rounded < 0.0 { format!("-{text}") } else { text }
}

/// A figure as a bar label shows it: whole numbers grouped, small averages with one decimal.
fn figure(value: f64) -> String {
    if value < 100.0 && value.fract() != 0.0 { format!("{value:.1}") } else { grouped(value) }
}

/// A vertical axis of named rows (operations, processes): row `i` from the top is centred at
/// `rows - i - 0.5`, the axis's labels are the rows' names at their centres, and values in
/// between place bars within a row. `headroom` (in rows) is left free above the first row.
struct Rows {
    names: Vec<String>,
    headroom: f64,
}

impl Rows {
    fn count(&self) -> f64 {
        self.names.len().max(1) as f64
    }

    /// The centre of row `index` (from the top).
    fn centre(&self, index: usize) -> f64 {
        self.count() - index as f64 - 0.5
    }
}

impl plotters::coord::ranged1d::Ranged for Rows {
    type FormatOption = plotters::coord::ranged1d::NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let share = value / (self.count() + self.headroom);
        limit.0 + (f64::from(limit.1 - limit.0) * share + 1e-3).floor() as i32
    }

    fn key_points<Hint: plotters::coord::ranged1d::KeyPointHint>(&self, _hint: Hint) -> Vec<f64> {
        (0..self.names.len()).map(|index| self.centre(index)).collect()
    }

    fn range(&self) -> std::ops::Range<f64> {
        0.0..self.count() + self.headroom
    }
}

impl plotters::coord::ranged1d::ValueFormatter<f64> for Rows {
    fn format(value: &f64) -> String {
        format!("{value}")
    }

    fn format_ext(&self, value: &f64) -> String {
        let index = (self.count() - value - 0.5).round();
        if index < 0.0 { String::new() } else { self.names.get(index as usize).cloned().unwrap_or_default() }
    }
}

/// Draws a legend in a strip of its own: a swatch and a name per entry, left to right, so it
/// never covers what a chart shows.
fn legend_strip(
    area: &plotters::drawing::DrawingArea<plotters::backend::SVGBackend<'_>, plotters::coord::Shift>,
    entries: &[(RGBColor, &str)],
) -> Drawn {
    use plotters::prelude::*;
    let style = (FONT, 14).into_font().color(&BLACK);
    let mut x = 16;
    for (colour, name) in entries {
        area.draw(&Rectangle::new([(x, 8), (x + 14, 22)], colour.filled()))?;
        area.draw(&Text::new(name.to_string(), (x + 20, 9), style.clone()))?;
        // Room for the name at about 8 pixels a character, then a gap.
        x += 20 + 8 * name.chars().count() as i32 + 24;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(grouped(108_238.0), "108,238");
        assert_eq!(grouped(752.0), "752");
        assert_eq!(grouped(1_000.0), "1,000");
        assert_eq!(figure(2.5), "2.5");
        assert_eq!(figure(4.0), "4");
    }
}
