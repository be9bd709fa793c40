//! FIFOs (named pipes) in both modes: the scenario file's story, the script
//! functions and their errors in words, and a scenario that lacks a server.
//!
//! A FIFO's open is two requests, `fs.open` (the file server finds the node)
//! then `pipe.open_fifo` (the pipe server opens it); an open for reading waits
//! for a writer and the other way round.

use mksim_core::run::{RunOptions, RunReport, run};
use mksim_core::scenario::Scenario;
use mksim_kernel::message::MessageId;
use mksim_servers::system::Mode;
use mksim_tests::scenarios::folder as scenarios_folder;

const MODES: [Mode; 2] = [Mode::Microkernel, Mode::Monolithic];

fn run_text(text: &str, mode: Mode) -> RunReport {
    let scenario = Scenario::parse(text, "test.ron").unwrap_or_else(|error| panic!("{error}"));
    run(&scenario, mode, &RunOptions::default())
}

fn run_fifo_file(mode: Mode) -> RunReport {
    let path = scenarios_folder().join("fifo.ron");
    let scenario = Scenario::load(&path.display().to_string()).unwrap_or_else(|error| panic!("{error}"));
    run(&scenario, mode, &RunOptions::default())
}

/// Where the first message whose words start with `prefix` is, after `from`.
fn position(contents: &[String], prefix: &str, from: usize) -> usize {
    (from..contents.len())
        .find(|&index| contents[index].starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} after message {from} in {contents:#?}"))
}

#[test]
fn the_readers_open_is_answered_only_after_the_writer_opened() {
    let report = run_fifo_file(Mode::Microkernel);
    assert!(report.outcome.is_completed(), "{:?}", report.outcome);
    let log = &report.log;
    let contents: Vec<String> =
        (0..log.messages().len()).map(|index| log.message_content(MessageId(index as u32))).collect();
    // The probe (nonblocking, for writing) fails at once: nobody reads yet.
    let probe = position(&contents, "pipe.open_fifo(node 1, write, nonblocking)", 0);
    assert_eq!(contents[probe + 1], "pipe.open_fifo → error: no reader");
    let reader = position(&contents, "pipe.open_fifo(node 1, read)", probe);
    assert_eq!(contents[reader - 2], "fs.open(\"/log\")", "the file server is asked first");
    assert_eq!(contents[reader - 1], "fs.open → FIFO, node 1");
    let writer = position(&contents, "pipe.open_fifo(node 1, write)", reader);
    let answered = position(&contents, "pipe.open_fifo → fd", reader);
    assert!(writer < answered, "the reader was answered before any writer opened: {contents:#?}");
    // The second round: now the writer waits for the reader.
    let writer = position(&contents, "pipe.open_fifo(node 1, write)", answered + 2);
    let reader = position(&contents, "pipe.open_fifo(node 1, read)", writer);
    assert!(position(&contents, "pipe.open_fifo → fd", writer) > reader, "the writer did not wait: {contents:#?}");
}

#[test]
fn the_fifo_file_makes_the_same_operations_in_both_modes() {
    let [micro, mono] = MODES.map(run_fifo_file);
    for name in ["fs.mkfifo", "fs.open", "pipe.open_fifo", "pipe.read", "pipe.write"] {
        let (micro_stats, mono_stats) = (&micro.per_operation[name], &mono.per_operation[name]);
        assert_eq!(micro_stats.count, mono_stats.count, "{name}");
        // At least the request (a reply to a waiting caller is counted where it is sent).
        assert!(micro_stats.messages >= micro_stats.count, "{name}: {micro_stats:?}");
        assert_eq!(mono_stats.messages, 0, "{name}");
    }
    // Five FIFO opens (one refused), each after an fs.open; one more fs.open finds a directory.
    assert_eq!(micro.per_operation["pipe.open_fifo"].count, 5);
    assert_eq!(micro.per_operation["fs.open"].count, 6);
    assert_eq!(micro.console, mono.console);
}

#[test]
fn script_functions_open_fifos_between_unrelated_processes_in_both_modes() {
    let text = r##"Scenario(
        name: "fifo words",
        servers: (file: (), pipe: ()),
        processes: [
            (name: "reader", priority: 6, program: Script(source: r#"
                mkfifo("/f");
                let kind = stat("/f");
                print(`fifo ${kind.fifo}, directory ${kind.directory}, size ${kind.size}`);
                try { try_open_fifo("/f", "w"); } catch (error) { print(`probe: ${error}`); }
                try { open("/f"); } catch (error) { print(`open: ${error}`); }
                try { open_fifo("/f", "rw"); } catch (error) { print(`mode: ${error}`); }
                try { mkfifo("/f"); } catch (error) { print(`again: ${error}`); }
                let fd = open_fifo("/f", "r");
                let all = "";
                loop { let text = pipe_read(fd, 64); if text == "" { break; } all += text; }
                print(`read ${all}`);
                pipe_close(fd);
                unlink("/f");
                try { open_fifo("/f", "r"); } catch (error) { print(`gone: ${error}`); }
            "#)),
            (name: "writer", priority: 5, program: Script(source: r#"
                sleep(30000);
                create("/plain");
                try { open_fifo("/plain", "w"); } catch (error) { print(`plain: ${error}`); }
                let fd = open_fifo("/f", "w");
                pipe_write(fd, "hello ");
                pipe_write(fd, "there");
                pipe_close(fd);
            "#)),
        ],
    )"##;
    let reader = "fifo true, directory false, size 0\nprobe: no reader\n\
                  open: is a FIFO (open it with open_fifo)\n\
                  mode: a FIFO opens for \"r\" or \"w\", not \"rw\"\nagain: already exists\n\
                  read hello there\ngone: not found\n";
    for mode in MODES {
        let report = run_text(text, mode);
        assert!(report.outcome.is_completed(), "{}: {:?}", mode.name(), report.outcome);
        assert_eq!(report.console.get("reader").map(String::as_str), Some(reader), "{}", mode.name());
        assert_eq!(report.console.get("writer").map(String::as_str), Some("plain: not a FIFO\n"), "{}", mode.name());
    }
}

#[test]
fn open_fifo_without_the_pipe_server_is_a_scenario_error() {
    let text = r#"Scenario(
        name: "no pipe server",
        servers: (file: ()),
        processes: [(name: "p", priority: 5, program: [
            Mkfifo("/f"),
            OpenFifo(path: "/f", mode: Read, as: "in"),
        ])],
    )"#;
    let error = Scenario::parse(text, "test.ron").map(|_| ()).expect_err("a scenario with no pipe server");
    let words = error.to_string();
    assert!(words.contains("OpenFifo needs the file server and the pipe server"), "{words}");
    assert!(words.contains("test.ron"), "{words}");
}

/// Holds a scenario text to its own expectations in both modes.
fn passes_its_checks(text: &str) {
    let scenario = Scenario::parse(text, "test.ron").unwrap_or_else(|error| panic!("{error}"));
    let result = mksim_core::check::check(&scenario, &RunOptions::default());
    let failures = result.failures();
    assert!(failures.is_empty(), "failing cases:\n{}", failures.join("\n"));
    assert!(result.passed());
}

/// The file server restarts between the opens and the writes: the FIFO is on disk (a stat,
/// sent again to the new file server, still finds it), and the descriptors, which are the
/// pipe server's, go on working.
#[test]
fn a_fifo_and_its_open_descriptors_survive_a_restart_of_the_file_server() {
    passes_its_checks(
        r#"Scenario(
        name: "fifo fs restart",
        servers: (file: (), pipe: (), supervisor: (restart: { "fs": Always }, backoff_cycles: 1000)),
        faults: [(server: "fs", kind: Crash, at: Message(4))],
        processes: [(name: "p", priority: 5, program: [
            Mkfifo("/f"),
            OpenFifo(path: "/f", mode: Read, nonblocking: true, as: "r"),
            OpenFifo(path: "/f", mode: Write, as: "w"),
            Stat(path: "/f", expect_size: 0, expect_kind: Fifo),
            PipeWrite(fd: "w", text: "still here"),
            PipeRead(fd: "r", len: 64, expect: "still here"),
            Print("ok\n"),
        ])],
        expect: (
            outcome: Completed,
            monolithic_outcome: KernelPanic,
            console: { "p": "ok\n" },
            restarts: { "fs": 1 },
        ),
    )"#,
    );
}

/// The pipe server crashes under an open that waits for a writer: the opener is told "peer
/// dead", the FIFO's name outlives the pipe server (it is the file server's), its old
/// descriptors do not, and an open at the new pipe server works.
#[test]
fn a_restart_of_the_pipe_server_ends_waiting_opens_and_open_descriptors_but_not_the_fifo() {
    passes_its_checks(
        r#"Scenario(
        name: "fifo pipe restart",
        servers: (file: (), pipe: (), supervisor: (restart: { "pipe": Always }, backoff_cycles: 1000)),
        faults: [(server: "pipe", kind: Crash, at: Message(3))],
        processes: [
            (name: "reader", priority: 6, program: [
                Mkfifo("/f"),
                OpenFifo(path: "/f", mode: Read, nonblocking: true, as: "old"),
                Fails(error: "peer dead", op: OpenFifo(path: "/f", mode: Read, as: "waits")),
                Sleep(20000),
                Fails(error: "bad file descriptor", op: PipeRead(fd: "old", len: 4)),
                OpenFifo(path: "/f", mode: Read, nonblocking: true, as: "new"),
                Stat(path: "/f", expect_kind: Fifo),
                Print("reader: a new open after the restart\n"),
            ]),
            (name: "prodder", priority: 5, program: [
                Sleep(40000),
                Fails(error: "peer dead", op: PipeTake(name: "nothing", as: "x")),
            ]),
        ],
        expect: (
            outcome: Completed,
            monolithic_outcome: KernelPanic,
            console: { "reader": "reader: a new open after the restart\n" },
            restarts: { "pipe": 1 },
        ),
    )"#,
    );
}
