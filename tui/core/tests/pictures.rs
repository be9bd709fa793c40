//! The README's pictures (docs/pictures/) are current: each is drawn again here, as the
//! command the README names draws it, and compared byte for byte with the committed file.
//!
//! After a change that moves a picture (a cost, a colour, a scenario), draw them again with
//! `MKSIM_UPDATE_PICTURES=1 cargo test -p mksim-core --test pictures` and commit the files.

use mksim_core::export::svg::{self, comparison, timeline};
use mksim_core::run::{RunOptions, run};
use mksim_core::scenario::Scenario;
use mksim_core::sweep::{SweepRequest, sweep};
use mksim_servers::system::Mode;
use std::path::PathBuf;

/// What a picture shows, as `mksim` draws it.
enum Picture {
    /// `mksim compare scenarios/NAME.ron --svg FILE`
    Comparison,
    /// `mksim export scenarios/NAME.ron --format timeline-svg --mode MODE -o FILE`
    Timeline(Mode),
    /// `mksim export scenarios/NAME.ron --format svg --side-by-side -o FILE`
    SideBySide,
    /// `mksim sweep scenarios/NAME.ron --set SET --profiles P1,P2,... --svg FILE`
    Sweep { set: (&'static str, &'static [&'static str]), profiles: &'static [&'static str] },
}

/// Every picture of the README: its file, its scenario and what it shows.
const PICTURES: [(&str, &str, Picture); 5] = [
    ("compare_file_io.svg", "file_io", Picture::Comparison),
    ("timeline_priority_inversion.svg", "priority_inversion", Picture::Timeline(Mode::Microkernel)),
    ("timeline_priority_inheritance.svg", "priority_inheritance", Picture::Timeline(Mode::Microkernel)),
    ("sequence_driver_restart.svg", "driver_restart", Picture::SideBySide),
    (
        "sweep_size.svg",
        "size_sweep",
        Picture::Sweep { set: ("size", &["8", "64", "512", "4096"]), profiles: &["mach3", "l4", "sel4"] },
    ),
];

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn draw(scenario_name: &str, picture: &Picture) -> String {
    let path = repository().join(format!("scenarios/{scenario_name}.ron"));
    let scenario = Scenario::load(&path.to_string_lossy()).expect("a shipped scenario loads");
    let options = RunOptions::default();
    match picture {
        Picture::Comparison => {
            let micro = run(&scenario, Mode::Microkernel, &options);
            let mono = run(&scenario, Mode::Monolithic, &options);
            comparison(&micro, &mono, &scenario.name).expect("drawn")
        }
        Picture::SideBySide => {
            let micro = run(&scenario, Mode::Microkernel, &options);
            let mono = run(&scenario, Mode::Monolithic, &options);
            svg::sequence(&micro, Some(&mono), &scenario.name, &svg::Window::default()).expect("drawn")
        }
        Picture::Sweep { set: (parameter, values), profiles } => {
            let text = std::fs::read_to_string(&path).expect("a shipped scenario reads");
            let values: Vec<String> = values.iter().map(|value| value.to_string()).collect();
            let profiles: Vec<String> = profiles.iter().map(|profile| profile.to_string()).collect();
            // The file as the README's command names it: the sweep's title shows it.
            let file = format!("scenarios/{scenario_name}.ron");
            let request = SweepRequest {
                text: &text,
                file: &file,
                parameter,
                values: &values,
                profiles: &profiles,
                memory_limit: None,
            };
            svg::sweep(&sweep(&request).expect("the sweep runs")).expect("drawn")
        }
        Picture::Timeline(mode) => {
            let report = run(&scenario, *mode, &options);
            timeline(&report.log, &scenario.name, *mode).expect("drawn")
        }
    }
}

#[test]
fn the_readme_pictures_are_current() {
    let update = std::env::var_os("MKSIM_UPDATE_PICTURES").is_some();
    let folder = repository().join("docs/pictures");
    let mut stale = Vec::new();
    for (file, scenario, picture) in &PICTURES {
        let drawn = draw(scenario, picture);
        let path = folder.join(file);
        if update {
            std::fs::create_dir_all(&folder).expect("docs/pictures can be made");
            std::fs::write(&path, &drawn).expect("the picture can be written");
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(drawn.as_str()) {
            stale.push(*file);
        }
    }
    assert!(
        stale.is_empty(),
        "docs/pictures/{{{}}} differ from what mksim draws now: run \
         `MKSIM_UPDATE_PICTURES=1 cargo test -p mksim-core --test pictures` and commit them",
        stale.join(",")
    );
}
