//! The SVG pictures read like the runs they come from: run a shipped scenario, draw it, read
//! the picture back as XML (title, axis labels with units, legend, bars or lanes), and draw it
//! to a bitmap to see that the shapes are really there in their colours.

use mksim_core::export::svg::{self, Window, comparison, sequence, timeline};
use mksim_core::run::{RunOptions, RunReport, run};
use mksim_core::scenario::Scenario;
use mksim_core::sweep::{SweepRequest, sweep};
use mksim_servers::system::Mode;

fn scenario(name: &str) -> Scenario {
    let path = format!("{}/../../scenarios/{name}.ron", env!("CARGO_MANIFEST_DIR"));
    Scenario::load(&path).expect("a shipped scenario loads")
}

fn both(scenario: &Scenario) -> (RunReport, RunReport) {
    let options = RunOptions::default();
    (run(scenario, Mode::Microkernel, &options), run(scenario, Mode::Monolithic, &options))
}

/// Every text of the picture, in document order.
fn texts(document: &roxmltree::Document<'_>) -> Vec<String> {
    document
        .descendants()
        .filter(|node| node.has_tag_name("text"))
        .map(|node| node.text().unwrap_or_default().trim().to_owned())
        .collect()
}

fn count_tag(document: &roxmltree::Document<'_>, tag: &str) -> usize {
    document.descendants().filter(|node| node.has_tag_name(tag)).count()
}

/// The picture drawn to a bitmap (shapes only: this build of resvg draws no text), as RGB.
fn pixels(svg: &str) -> (u32, Vec<[u8; 3]>) {
    let tree = resvg::usvg::Tree::from_str(svg, &resvg::usvg::Options::default()).expect("resvg reads the picture");
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).expect("a picture has a size");
    resvg::render(&tree, resvg::tiny_skia::Transform::default(), &mut pixmap.as_mut());
    let rgb = pixmap.pixels().iter().map(|pixel| [pixel.red(), pixel.green(), pixel.blue()]).collect();
    (size.width(), rgb)
}

fn pixels_of(pixels: &[[u8; 3]], colour: [u8; 3]) -> usize {
    pixels.iter().filter(|pixel| **pixel == colour).count()
}

const MICROKERNEL_BLUE: [u8; 3] = [0x1f, 0x77, 0xb4];
const MONOLITHIC_ORANGE: [u8; 3] = [0xff, 0x7f, 0x0e];
const RUNNING_GREEN: [u8; 3] = [0x2c, 0xa0, 0x2c];
const BLOCKED_RED: [u8; 3] = [0xd6, 0x27, 0x28];

#[test]
fn the_comparison_has_a_title_a_legend_and_a_panel_per_metric_with_its_unit() {
    let (micro, mono) = both(&scenario("file_io"));
    let svg = comparison(&micro, &mono, "file-io").expect("drawn");
    let document = roxmltree::Document::parse(&svg).expect("well-formed XML");
    assert_eq!(document.root_element().tag_name().name(), "svg");
    let texts = texts(&document);
    assert_eq!(texts[0], "file-io: microkernel against monolithic, per operation");
    for legend in ["microkernel", "monolithic"] {
        assert!(texts.iter().any(|text| text == legend), "legend {legend} in {texts:?}");
    }
    for caption in ["messages per operation (average)", "context switches per operation (average)"] {
        assert!(texts.iter().any(|text| text == caption), "{caption} in {texts:?}");
    }
    // file_io's cycles run from hundreds (fs.stat in monolithic mode) to tens of thousands.
    assert!(texts.iter().any(|text| text == "virtual cycles (log scale)"), "{texts:?}");
    assert!(texts.iter().any(|text| text == "messages"), "{texts:?}");
    // Every operation is named on each panel's axis.
    for operation in micro.per_operation.keys() {
        assert_eq!(texts.iter().filter(|text| *text == operation).count(), 3, "{operation} on each panel");
    }
    // name.lookup is a message to the name server, which monolithic mode never sends.
    assert!(texts.iter().any(|text| text == "not made in this mode"), "{texts:?}");
}

#[test]
fn the_comparison_bars_share_one_scale_per_metric() {
    let (micro, mono) = both(&scenario("file_io"));
    let svg = comparison(&micro, &mono, "file-io").expect("drawn");
    let document = roxmltree::Document::parse(&svg).expect("well-formed XML");
    let width_of = |colour: &str| -> Vec<f64> {
        document
            .descendants()
            .filter(|node| node.has_tag_name("rect") && node.attribute("fill") == Some(colour))
            .map(|node| node.attribute("width").and_then(|width| width.parse().ok()).unwrap_or(0.0))
            .collect()
    };
    let blue = width_of("#1F77B4");
    // One legend swatch and a bar per operation made in microkernel mode on each of 3 panels.
    assert_eq!(blue.len(), 1 + 3 * micro.per_operation.len(), "{blue:?}");
    let operations = micro.per_operation.len();
    let average = |figure: fn(&mksim_core::run::OperationStats) -> u64| -> Vec<f64> {
        micro.per_operation.values().map(|stats| figure(stats) as f64 / stats.count as f64).collect()
    };
    // Messages are on a linear scale from zero: every bar's length is its figure times one
    // factor, the same for every operation.
    let messages = average(|stats| stats.messages);
    let widths = &blue[1..=operations];
    let factor = widths[0] / messages[0];
    for (width, figure) in widths.iter().zip(&messages) {
        assert!((width - figure * factor).abs() <= 2.0, "bars {widths:?} for {messages:?}");
    }
    // Cycles span a log scale: longer bars still mean more cycles, across operations.
    let cycles = average(|stats| stats.cycles);
    let widths = &blue[1 + 2 * operations..];
    for (left, right) in (0..operations).flat_map(|left| (0..operations).map(move |right| (left, right))) {
        if cycles[left] > 2.0 * cycles[right] {
            assert!(widths[left] > widths[right], "bars {widths:?} for {cycles:?}");
        }
    }
}

#[test]
fn the_comparison_draws_bars_of_both_colours() {
    let (micro, mono) = both(&scenario("file_io"));
    let (width, pixels) = pixels(&comparison(&micro, &mono, "file-io").expect("drawn"));
    assert_eq!(width, 960);
    let white = pixels_of(&pixels, [255, 255, 255]);
    assert!(white < pixels.len(), "not blank");
    assert!(pixels_of(&pixels, MICROKERNEL_BLUE) > 2_000, "microkernel bars are drawn");
    assert!(pixels_of(&pixels, MONOLITHIC_ORANGE) > 2_000, "monolithic bars are drawn");
}

#[test]
fn the_timeline_shows_a_lane_per_process_and_the_inversion() {
    let scenario = scenario("priority_inversion");
    let report = run(&scenario, Mode::Microkernel, &RunOptions::default());
    let svg = timeline(&report.log, &scenario.name, Mode::Microkernel).expect("drawn");
    let document = roxmltree::Document::parse(&svg).expect("well-formed XML");
    let texts = texts(&document);
    assert_eq!(texts[0], "priority-inversion (microkernel mode): who runs when");
    for expected in ["running", "ready (waits for the processor)", "virtual time (cycles)", "process", "boot done"] {
        assert!(texts.iter().any(|text| text == expected), "{expected} in {texts:?}");
    }
    for process in &report.processes {
        assert!(texts.iter().any(|text| text.starts_with(&format!("{} (priority", process.name))), "{texts:?}");
    }
    // High calls the server while the server is kept off the processor: it waits on its reply.
    assert!(texts.iter().any(|text| text == "reply ← server"), "{texts:?}");
    assert!(texts.iter().any(|text| text == "exit 0"), "{texts:?}");
    assert!(count_tag(&document, "rect") > 10);
    let (_, pixels) = pixels(&svg);
    assert!(pixels_of(&pixels, RUNNING_GREEN) > 1_000, "running stretches are drawn");
    assert!(pixels_of(&pixels, BLOCKED_RED) > 1_000, "blocked stretches are drawn");
}

#[test]
fn the_timeline_marks_a_crash_and_a_restart() {
    let scenario = scenario("driver_restart");
    let report = run(&scenario, Mode::Microkernel, &RunOptions::default());
    let svg = timeline(&report.log, &scenario.name, Mode::Microkernel).expect("drawn");
    let texts = texts(&roxmltree::Document::parse(&svg).expect("well-formed XML"));
    assert!(texts.iter().any(|text| text == "↻ restart"), "{texts:?}");
    assert!(texts.iter().any(|text| text.starts_with('✕') || text.starts_with('⚡')), "{texts:?}");
}

#[test]
fn scenario_text_is_escaped_in_the_pictures() {
    let (micro, mono) = both(&scenario("ping_pong"));
    let name = "<b>\"quoted\" & 'odd'\u{1b}[31m";
    for svg in
        [comparison(&micro, &mono, name).expect("drawn"), timeline(&micro.log, name, Mode::Microkernel).expect("drawn")]
    {
        let document = roxmltree::Document::parse(&svg).expect("well-formed XML");
        let title = &texts(&document)[0];
        assert!(title.starts_with("<b>\"quoted\" & 'odd'"), "{title}");
        assert!(!title.contains('\u{1b}'), "the escape character is shown, not kept: {title}");
    }
}

#[test]
fn the_same_run_gives_the_same_picture() {
    let scenario = scenario("file_io");
    let (micro, mono) = both(&scenario);
    let (again_micro, again_mono) = both(&scenario);
    assert_eq!(comparison(&micro, &mono, "x").unwrap(), comparison(&again_micro, &again_mono, "x").unwrap());
    assert_eq!(
        timeline(&micro.log, "x", Mode::Microkernel).unwrap(),
        timeline(&again_micro.log, "x", Mode::Microkernel).unwrap()
    );
}

#[test]
fn the_sweep_draws_a_line_per_profile_over_the_values() {
    let path = format!("{}/../../scenarios/size_sweep.ron", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("a shipped scenario reads");
    let values: Vec<String> = ["8", "64", "512", "4096"].map(String::from).to_vec();
    let profiles: Vec<String> = ["mach3", "l4"].map(String::from).to_vec();
    let request = SweepRequest {
        text: &text,
        file: &path,
        parameter: "size",
        values: &values,
        profiles: &profiles,
        memory_limit: None,
    };
    let result = sweep(&request).expect("the sweep runs");
    let picture = svg::sweep(&result).expect("drawn");
    let document = roxmltree::Document::parse(&picture).expect("well-formed XML");
    let texts = texts(&document);
    assert_eq!(texts[0], "size sweep: cycles per round trip over size");
    for expected in ["mach3", "l4", "cycles per round trip (log scale)", "size (the swept parameter) (log scale)"] {
        assert!(texts.iter().any(|text| text == expected), "{expected} in {texts:?}");
    }
    // A point per value and profile, each labelled with its figure.
    assert_eq!(count_tag(&document, "circle"), 8);
    let mach3_at_8 = result.rows[0].figures.as_ref().and_then(|figures| figures.cycles_per_round_trip).unwrap();
    assert!(texts.iter().any(|text| *text == thousands(mach3_at_8 as u64)), "{mach3_at_8} in {texts:?}");
    let (_, pixels) = pixels(&picture);
    assert!(pixels_of(&pixels, MICROKERNEL_BLUE) > 200, "the first profile's line is drawn");
    assert!(pixels_of(&pixels, MONOLITHIC_ORANGE) > 200, "the second profile's line is drawn");
}

/// `11838` as the pictures write it: `11,838`.
fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut text = String::new();
    for (position, digit) in digits.chars().enumerate() {
        if position > 0 && (digits.len() - position).is_multiple_of(3) {
            text.push(',');
        }
        text.push(digit);
    }
    text
}

const SIGNAL_PURPLE: [u8; 3] = [0x94, 0x67, 0xbd];

#[test]
fn the_sequence_diagram_tells_the_whole_story_of_both_modes() {
    let (micro, mono) = both(&scenario("driver_restart"));
    let picture = sequence(&micro, Some(&mono), "driver-restart", &Window::default()).expect("drawn");
    let document = roxmltree::Document::parse(&picture).expect("well-formed XML");
    let texts = texts(&document);
    assert_eq!(texts[0], "driver-restart: the messages of both modes");
    for expected in ["microkernel mode", "monolithic mode", "time (cycles)", "↻ restarted", "faulted: fault injected"]
    {
        assert!(texts.iter().any(|text| text == expected), "{expected} in {texts:?}");
    }
    // Microkernel mode: the driver's interrupts are arrows from the kernel; monolithic mode: the
    // service calls come back, and the crash inside the kernel is a panic across the diagram.
    assert!(texts.iter().any(|text| text == "interrupt bits 0x1"), "{texts:?}");
    assert!(texts.iter().any(|text| text == "fs.open → fd 3"), "the call returns its result: {texts:?}");
    assert!(texts.iter().any(|text| text.starts_with("KERNEL PANIC")), "{texts:?}");
    assert!(texts.iter().filter(|text| text.starts_with("end of boot")).count() == 2, "{texts:?}");
    // Clients first: the editor's column is the first of each mode.
    let headers: Vec<&String> = texts.iter().skip_while(|text| *text != "time (cycles)").skip(1).take(2).collect();
    assert_eq!(headers[0], "editor", "{texts:?}");
    let heads = count_tag(&document, "polygon");
    assert!(heads > 20, "arrow heads: {heads}");
    let (_, pixels) = pixels(&picture);
    assert!(pixels_of(&pixels, SIGNAL_PURPLE) > 500, "interrupt arrows are drawn");
    assert!(pixels_of(&pixels, BLOCKED_RED) > 300, "the fault and the panic are drawn");
}

#[test]
fn the_sequence_diagram_draws_a_window_or_one_process() {
    let (micro, _) = both(&scenario("driver_restart"));
    let rows = |window: &Window| {
        let picture = sequence(&micro, None, "x", window).expect("drawn");
        let document = roxmltree::Document::parse(&picture).expect("well-formed XML");
        // Every row writes its time at the left, right-aligned.
        document.descendants().filter(|node| node.attribute("text-anchor") == Some("end")).count()
    };
    let everything = rows(&Window::default());
    let window = rows(&Window { from: Some(100), to: Some(300), process: None });
    let editor = rows(&Window { process: Some("editor".to_owned()), ..Window::default() });
    assert!(window < everything && window > 1, "{window} of {everything}");
    assert!(editor < everything && editor > 1, "{editor} of {everything}");
    let editor_only = sequence(&micro, None, "x", &Window { process: Some("editor".to_owned()), ..Window::default() })
        .expect("drawn");
    let texts = texts(&roxmltree::Document::parse(&editor_only).expect("well-formed XML"));
    assert!(!texts.iter().any(|text| text == "interrupt bits 0x1"), "the driver's interrupts are left out: {texts:?}");
    let unknown = Window { process: Some("nobody".to_owned()), ..Window::default() };
    let error = sequence(&micro, None, "x", &unknown).expect_err("no such process").to_string();
    assert!(error.contains("nobody") && error.contains("editor"), "{error}");
}

#[test]
fn the_timeline_marks_a_priority_lent_and_given_back() {
    let scenario = scenario("priority_inheritance");
    let report = run(&scenario, Mode::Microkernel, &RunOptions::default());
    let svg = timeline(&report.log, &scenario.name, Mode::Microkernel).expect("drawn");
    let texts = texts(&roxmltree::Document::parse(&svg).expect("well-formed XML"));
    // The server (priority 2) runs at high's priority while it serves high, then drops back.
    let raised = texts.iter().position(|text| text == "↑20").expect("a raise is marked");
    let lowered = texts.iter().position(|text| text == "↓2").expect("the return is marked");
    assert!(raised < lowered, "{texts:?}");
}
