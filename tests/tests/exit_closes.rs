//! A process that ends, by exiting or by a fault, without closing its descriptors has them
//! closed for it, in both modes: in microkernel mode the kernel tells the pipe, message-queue
//! and socket servers that the client ended (a disconnect notice); in monolithic mode the
//! kernel's exit path calls the same logic. So its peers see end of file or a broken pipe and
//! go on, as they would on Unix, instead of waiting for ever.

use mksim_core::run::{RunOptions, RunReport, run};
use mksim_core::scenario::Scenario;
use mksim_kernel::OutcomeKind;
use mksim_servers::system::Mode;

/// Makes a pipe, gives its write end as "out" and its read end as "in", and closes its own.
const SHELL: (&str, u8, &str) = (
    "shell",
    9,
    r#"let ends = pipe(); pipe_give(ends.write, "out"); pipe_give(ends.read, "in");
       pipe_close(ends.read); pipe_close(ends.write);"#,
);

fn scenario(servers: &str, processes: &[(&str, u8, &str)]) -> Scenario {
    let processes: Vec<String> = processes
        .iter()
        .map(|(name, priority, source)| {
            format!("(name: \"{name}\", priority: {priority}, program: Script(source: r#\"{source}\"#))")
        })
        .collect();
    let text = format!(
        "Scenario(name: \"exit-closes\", servers: (console: true, {servers}), processes: [{}])",
        processes.join(", ")
    );
    Scenario::parse(&text, "test.ron").unwrap_or_else(|error| panic!("{error}"))
}

/// Runs `scenario` in both modes; each must complete (nobody left waiting), and the consoles
/// must agree. Returns the microkernel run's report.
fn run_both(scenario: &Scenario) -> RunReport {
    let reports = [Mode::Microkernel, Mode::Monolithic].map(|mode| run(scenario, mode, &RunOptions::default()));
    for report in &reports {
        assert_eq!(report.outcome.kind(), OutcomeKind::Completed, "{:?}:\n{}", report.mode, report.log.render_text());
    }
    assert_eq!(reports[0].console, reports[1].console);
    let [micro, _] = reports;
    micro
}

#[test]
fn a_writer_that_exits_without_closing_lets_its_reader_see_end_of_file() {
    let scenario = scenario(
        "pipe: ()",
        &[
            SHELL,
            ("writer", 5, r#"let out = pipe_take("out"); pipe_write(out, "left open");"#),
            (
                "reader",
                5,
                r#"let input = pipe_take("in"); let all = "";
                   loop { let text = pipe_read(input, 4); if text == "" { break; } all += text; }
                   print(all);"#,
            ),
        ],
    );
    let report = run_both(&scenario);
    assert_eq!(report.console["reader"], "left open\n");
}

#[test]
fn a_reader_that_faults_leaves_its_writer_a_broken_pipe() {
    let scenario = scenario(
        "pipe: ()",
        &[
            SHELL,
            ("reader", 6, r#"let input = pipe_take("in"); throw "gave up";"#),
            (
                "writer",
                5,
                r#"let out = pipe_take("out"); sleep(100000);
                   try { pipe_write(out, "anyone?"); } catch (error) { print(error); }"#,
            ),
        ],
    );
    let report = run_both(&scenario);
    assert_eq!(report.console["writer"], "broken pipe\n");
    assert!(report.process("reader").is_some_and(|reader| reader.state.contains("faulted")), "{:?}", report.processes);
}

#[test]
fn a_client_that_exits_without_closing_its_socket_lets_the_server_read_end_of_file() {
    let scenario = scenario(
        "sock: ()",
        &[
            (
                "server",
                9,
                r#"let listener = listen("/tmp/s", 1); let client = accept(listener); let all = "";
                   loop { let text = sock_recv(client, 64); if text == "" { break; } all += text; }
                   print("got " + all);"#,
            ),
            ("client", 5, r#"let s = connect("/tmp/s"); sock_send(s, "bye, no close");"#),
        ],
    );
    let report = run_both(&scenario);
    assert_eq!(report.console["server"], "got bye, no close\n");
}

#[test]
fn a_listener_that_exits_resets_the_connections_it_never_accepted() {
    let scenario = scenario(
        "sock: ()",
        &[
            ("server", 9, r#"listen("/tmp/s", 1); sleep(50000);"#),
            (
                "client",
                5,
                r#"let s = connect("/tmp/s"); sleep(100000);
                   try { sock_recv(s, 8); print("read"); } catch (error) { print(error); }
                   try { connect("/tmp/s"); } catch (error) { print(error); }"#,
            ),
        ],
    );
    let report = run_both(&scenario);
    assert_eq!(report.console["client"], "connection reset\nconnection refused\n");
}

#[test]
fn a_process_that_exits_gives_up_its_queue_notification_registration() {
    let scenario = scenario(
        "mq: ()",
        &[
            ("first", 9, r#"let q = mq_open("/jobs", 4, 32); mq_notify(q, create_notification(), 1);"#),
            (
                "second",
                5,
                r#"let q = mq_open("/jobs", 4, 32); let n = create_notification(); mq_notify(q, n, 2);
                   mq_send(q, "job", 1); print("bits " + wait(n));"#,
            ),
        ],
    );
    let report = run_both(&scenario);
    assert_eq!(report.console["second"], "bits 2\n");
}
