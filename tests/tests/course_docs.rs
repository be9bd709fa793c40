//! The course pack's documents stay true to the code: `docs/reference.md` has a row for every
//! operation a scenario can list and every error a program can see, read from the sources that
//! define them (so a new operation or error fails here until it is documented), and the links
//! between the README, the docs and the labs lead to files that exist.

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    let path = workspace().join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The variants of `enum NAME` in `source`: the lines indented once that start with a capital.
fn variants(source: &str, name: &str) -> Vec<String> {
    let start = source.find(&format!("pub enum {name} {{")).unwrap_or_else(|| panic!("no enum {name}"));
    source[start..]
        .lines()
        .skip(1)
        .take_while(|line| *line != "}")
        .filter(|line| line.starts_with("    ") && line[4..].starts_with(|c: char| c.is_ascii_uppercase()))
        .map(|line| line[4..].chars().take_while(char::is_ascii_alphanumeric).collect())
        .collect()
}

/// The words of every `#[error("...")]` in `source` that has no placeholder.
fn error_words(source: &str) -> Vec<String> {
    source
        .lines()
        .filter_map(|line| line.trim().strip_prefix("#[error(\"")?.strip_suffix("\")]").map(str::to_owned))
        .filter(|words| !words.contains('{'))
        .collect()
}

#[test]
fn the_reference_has_a_row_for_every_operation() {
    let operations = variants(&read("userland/src/script.rs"), "Op");
    assert!(operations.len() > 50 && operations.contains(&"RegionRead".to_owned()), "{operations:?}");
    let reference = read("docs/reference.md");
    let missing: Vec<&String> =
        operations.iter().filter(|operation| !reference.contains(&format!("| `{operation}` |"))).collect();
    assert!(missing.is_empty(), "docs/reference.md has no row for {missing:?}");
}

#[test]
fn the_reference_explains_every_error_a_program_can_see() {
    let mut errors = error_words(&read("kernel/src/error.rs"));
    errors.extend(error_words(&read("userland/src/protocol.rs")));
    assert!(errors.contains(&"peer dead".to_owned()) && errors.contains(&"stale file handle".to_owned()));
    let reference = read("docs/reference.md");
    let missing: Vec<&String> = errors.iter().filter(|error| !reference.contains(&format!("| `{error}` |"))).collect();
    assert!(missing.is_empty(), "docs/reference.md does not explain {missing:?}");
}

#[test]
fn the_reference_explains_every_reason_a_process_is_stopped() {
    let source = read("kernel/src/error.rs");
    let display = &source[source.find("impl fmt::Display for FaultReason").expect("the Display of FaultReason")..];
    let reasons: Vec<&str> = display
        .lines()
        .take_while(|line| !line.starts_with('}'))
        .filter_map(|line| line.split_once("write!(f, \"").map(|(_, rest)| rest))
        .map(|rest| rest.split(['{', '"']).next().expect("split yields a part").trim_end())
        .collect();
    assert_eq!(reasons.len(), 6, "{reasons:?}");
    let reference = read("docs/reference.md");
    for reason in reasons {
        assert!(reference.contains(&format!("| `{reason}")), "docs/reference.md does not explain {reason:?}");
    }
}

#[test]
fn the_glossary_explains_the_words_the_labs_use() {
    let glossary = read("docs/glossary.md");
    for term in [
        "Capability",
        "Badge",
        "Reply capability",
        "Rights",
        "Endpoint against queue port",
        "Notification",
        "Region",
        "Descriptor",
        "Priority",
    ] {
        assert!(glossary.to_lowercase().contains(&format!("**{}", term.to_lowercase())), "no entry for {term}");
    }
    for letter in ["`s`", "`r`", "`g`", "`R`", "`W`"] {
        assert!(glossary.contains(&format!("| {letter} |")), "the rights table has no {letter}");
    }
}

/// The relative links of a Markdown file: `](target)` with no scheme, without its `#anchor`.
fn relative_links(text: &str) -> Vec<String> {
    text.split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .filter(|target| !target.contains("://") && !target.starts_with('#'))
        .map(|target| target.split('#').next().expect("split yields a part").to_owned())
        .collect()
}

#[test]
fn the_course_pack_links_lead_to_files_that_exist() {
    let mut documents = vec!["README.md".to_owned(), "docs/reference.md".to_owned(), "docs/glossary.md".to_owned()];
    documents.push("scenarios/labs/README.md".to_owned());
    for entry in std::fs::read_dir(workspace().join("scenarios/labs")).expect("the labs folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            documents.push(format!("scenarios/labs/{}/README.md", path.file_name().expect("a name").to_string_lossy()));
        }
    }
    let readme = read("README.md");
    for target in ["docs/reference.md", "docs/glossary.md", "scenarios/labs/README.md"] {
        assert!(readme.contains(&format!("]({target}")), "README.md does not link to {target}");
    }
    for document in documents {
        let folder = workspace().join(&document).parent().expect("a folder").to_owned();
        for target in relative_links(&read(&document)) {
            assert!(folder.join(&target).exists(), "{document} links to {target}, which does not exist");
        }
    }
}

/// The rows of the reference's tables of operations: the operation's name and its example.
fn operation_rows(reference: &str) -> Vec<(String, String)> {
    let operations = &reference[..reference.find("\n## Errors").expect("the reference's errors")];
    operations
        .lines()
        .filter_map(|line| {
            let name = line.strip_prefix("| `")?.split('`').next()?;
            let example = line.trim_end().strip_suffix("` |")?.rsplit(" | `").next()?;
            Some((name.to_owned(), example.to_owned()))
        })
        .collect()
}

#[test]
fn every_example_in_the_reference_is_the_operation_it_stands_for() {
    let rows = operation_rows(&read("docs/reference.md"));
    assert!(rows.len() > 50, "{rows:?}");
    let options = ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    for (name, example) in rows {
        let operation: mksim_userland::script::Op =
            options.from_str(&example).unwrap_or_else(|error| panic!("{name}: {example}: {error}"));
        let written = format!("{operation:?}");
        assert!(
            written.starts_with(&name) && !written[name.len()..].starts_with(char::is_alphanumeric),
            "the example of {name} is another operation: {example}"
        );
    }
}

/// The fixed words of every message in `source` made by `Stop::Failed(...)` or returned as a
/// refusal (`Err((field, item, message))`): the text of each string literal there, cut at its
/// `{placeholders}`.
fn message_words(source: &str) -> Vec<String> {
    let code = source.split("#[cfg(test)]").next().expect("split yields a part");
    let mut words = Vec::new();
    for line in code.lines().filter(|line| line.contains("Stop::Failed(") || line.contains("Err((")) {
        for literal in line.split("format!(\"").skip(1).chain(line.split("Failed(\"").skip(1)) {
            let text = literal.split('"').next().expect("split yields a part");
            words.extend(
                text.split(['{', '}']).step_by(2).map(str::trim).filter(|piece| piece.len() > 3).map(str::to_owned),
            );
        }
        for literal in line.split(", \"").skip(1) {
            if let Some(text) = literal.split_once("\".into()").map(|(text, _)| text) {
                words.push(text.to_owned());
            }
        }
    }
    words
}

#[test]
fn the_reference_has_every_message_of_a_failed_or_refused_step() {
    let mut sources = vec![read("userland/src/script.rs"), read("userland/src/interpreter.rs")];
    for entry in std::fs::read_dir(workspace().join("userland/src/interpreter")).expect("the interpreter's folder") {
        let path = entry.expect("a folder entry").path();
        sources.push(std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display())));
    }
    let words: Vec<String> = sources.iter().flat_map(|source| message_words(source)).collect();
    for expected in
        ["is not defined at this point", "revoke: expected", "sock send: sent", "is a FIFO (open it with OpenFifo)"]
    {
        assert!(words.iter().any(|word| word.contains(expected)), "{expected:?} not found in {words:#?}");
    }
    let reference = read("docs/reference.md");
    let missing: Vec<&String> = words.iter().filter(|word| !reference.contains(word.as_str())).collect();
    assert!(missing.is_empty(), "docs/reference.md does not have {missing:#?}");
}
