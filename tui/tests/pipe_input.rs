//! A scenario's pipes checked before it runs: pipe operations need the pipe
//! server, and a pipe must hold at least one atomic write. Each error names
//! the line of the item at fault, and `mksim run` exits with status 2.

mod binary;

use binary::{mksim_binary, workspace};
use mksim_core::scenario::Scenario;
use std::process::Command;

fn pipeline() -> String {
    std::fs::read_to_string(workspace().join("scenarios/pipeline.ron")).expect("the scenario file is readable")
}

fn line_of(text: &str, needle: &str) -> usize {
    text[..text.find(needle).expect("in the text")].matches('\n').count() + 1
}

#[test]
fn pipe_operations_without_the_pipe_server_are_refused_at_the_first_one() {
    let text = pipeline().replacen("servers: (pipe: (buffer_bytes: 1024)),", "", 1);
    let error = Scenario::parse(&text, "test.ron").expect_err("refused");
    assert_eq!(error.item, "process \"shell\", step 1 (Pipe)");
    assert!(error.message.contains("the pipe server (servers: (pipe: ()))"), "{error}");
    let lines = line_of(&text, "name: \"shell\"")..=line_of(&text, "Pipe(read_as: \"r1\"");
    assert!(lines.contains(&error.line), "line {} of {error}", error.line);
}

#[test]
fn a_pipe_smaller_than_pipe_buf_is_refused_with_the_reason() {
    let text = pipeline().replacen("buffer_bytes: 1024", "buffer_bytes: 100", 1);
    let error = Scenario::parse(&text, "test.ron").expect_err("refused");
    assert_eq!(error.item, "servers.pipe.buffer_bytes");
    assert_eq!(error.line, line_of(&text, "buffer_bytes: 100"));
    assert!(error.message.contains("512") && error.message.contains("PIPE_BUF"), "{error}");
    let folder = std::env::temp_dir().join(format!("mksim-pipe-input-{}", std::process::id()));
    std::fs::create_dir_all(&folder).expect("a scratch folder");
    let path = folder.join("small_pipe.ron");
    std::fs::write(&path, &text).expect("written");
    let output = Command::new(mksim_binary()).arg("run").arg(&path).output().expect("mksim runs");
    let _ = std::fs::remove_dir_all(&folder);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("servers.pipe.buffer_bytes"));
}
