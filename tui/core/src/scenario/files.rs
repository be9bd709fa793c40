//! Reading the files a scenario or a command line names: regular files only, of a bounded
//! size, and errors that name the file and the problem but never quote what is in it. A
//! scenario may name a cost profile, and a scenario may come from anyone: reading
//! `/dev/zero`, waiting on a FIFO, or quoting the first word of `/etc/passwd` back are what
//! these rules keep it from doing.

use super::wording::{did_you_mean, shown};
use mksim_kernel::CostProfile;
use ron::error::Error;
use std::fs::{File, Metadata};
use std::io::Read;

/// The largest scenario or profile file mksim reads: 16 MiB.
pub const FILE_BYTES_MAX: u64 = 16 * 1024 * 1024;

/// What kind of file this is, when it is not a regular one.
fn not_regular(metadata: &Metadata) -> Option<&'static str> {
    let kind = metadata.file_type();
    if kind.is_file() {
        return None;
    }
    if kind.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return Some("a named pipe (FIFO)");
        }
        if kind.is_char_device() {
            return Some("a character device");
        }
        if kind.is_block_device() {
            return Some("a block device");
        }
        if kind.is_socket() {
            return Some("a socket");
        }
    }
    Some("not a regular file")
}

fn check(metadata: &Metadata) -> Result<(), String> {
    if let Some(kind) = not_regular(metadata) {
        return Err(format!("is {kind}, not a regular file"));
    }
    if metadata.len() > FILE_BYTES_MAX {
        return Err(format!("is {} bytes, more than the {FILE_BYTES_MAX} (16 MiB) mksim reads", metadata.len()));
    }
    Ok(())
}

/// Opens a file without waiting: a FIFO opened for reading would wait for a writer.
fn open(path: &str) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// The bytes of the regular file at `path`, of at most [`FILE_BYTES_MAX`] bytes.
///
/// The file's kind and size are checked before it is opened, and again on the file opened (the
/// path may have been swapped in between); it is read with a cap, so a file that grows while it
/// is read cannot pass the limit either. A path in [`crate::builtin::FOLDER`] names a file
/// built into the binary.
///
/// # Errors
/// What is wrong, in words that follow the file's name (`is a directory, not a regular file`).
pub fn read_bounded(path: &str) -> Result<Vec<u8>, String> {
    if path.starts_with(crate::builtin::FOLDER) {
        return crate::builtin::file(path)
            .map(|text| text.as_bytes().to_vec())
            .ok_or_else(|| "no such built-in file".into());
    }
    let metadata = std::fs::metadata(path).map_err(|error| format!("cannot read: {error}"))?;
    check(&metadata)?;
    let file = open(path).map_err(|error| format!("cannot read: {error}"))?;
    let metadata = file.metadata().map_err(|error| format!("cannot read: {error}"))?;
    check(&metadata)?;
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(FILE_BYTES_MAX + 1).read_to_end(&mut bytes).map_err(|error| format!("cannot read: {error}"))?;
    if bytes.len() as u64 > FILE_BYTES_MAX {
        return Err(format!("grew past the {FILE_BYTES_MAX} bytes (16 MiB) mksim reads while it was read"));
    }
    Ok(bytes)
}

/// True when a profile's name stands for a file rather than a built-in profile.
fn is_path(name: &str) -> bool {
    name.ends_with(".ron") || name.contains(['/', '\\'])
}

/// A built-in profile by name, or a profile file by path (a name that ends in `.ron`).
///
/// # Errors
/// What is wrong with the name, the file or its contents, in words; an error about the file
/// names it and says where in it the problem is, but never quotes it: a scenario that names
/// `/etc/passwd.ron` learns nothing of what it holds.
pub fn load_profile(name: &str) -> Result<CostProfile, String> {
    if !is_path(name) {
        return CostProfile::built_in(name).map_err(|error| error.to_string());
    }
    let file = shown(name);
    if !name.ends_with(".ron") {
        let built_in: Vec<&str> = CostProfile::built_in_names().collect();
        return Err(format!(
            "cost profile `{file}`: a profile is a built-in name ({}) or a file whose name ends in .ron",
            built_in.join(", ")
        ));
    }
    let bytes = read_bounded(name).map_err(|problem| format!("cost profile {file}: {problem}"))?;
    let text = String::from_utf8(bytes).map_err(|_| format!("cost profile {file}: is not UTF-8 text"))?;
    ron::from_str::<CostProfile>(&text).map_err(|error| {
        let (line, column) = (error.span.start.line, error.span.start.col);
        format!("cost profile {file}:{line}:{column}: {}", without_contents(&error.code))
    })
}

/// A RON error in words that quote nothing of the text: only the names the type knows.
fn without_contents(code: &Error) -> String {
    match code {
        Error::NoSuchStructField { expected, found, .. } => match did_you_mean(found, expected) {
            Some(name) => format!("unknown field; did you mean `{name}`?"),
            None => format!("unknown field (a cost profile has: {})", expected.join(", ")),
        },
        Error::NoSuchEnumVariant { expected, .. } => format!("unknown variant (known: {})", expected.join(", ")),
        Error::MissingStructField { field, .. } => format!("the field `{field}` is missing"),
        Error::DuplicateStructField { field, .. } => format!("the field `{field}` is given twice"),
        Error::InvalidValueForType { expected, .. } => format!("expected {expected}"),
        Error::ExpectedDifferentStructName { expected, .. } => format!("expected `{expected}(...)`"),
        Error::Message(_)
        | Error::InvalidIdentifier(_)
        | Error::SuggestRawIdentifier(_)
        | Error::NoSuchExtension(_)
        | Error::ExpectedStructName(_)
        | Error::UnexpectedChar(_)
        | Error::Io(_) => "this is not a cost profile".to_owned(),
        other => {
            let words = other.to_string();
            let mut chars = words.chars();
            chars.next().map(|first| first.to_lowercase().chain(chars).collect()).unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let folder = std::env::temp_dir().join(format!("mksim-files-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).unwrap();
        folder
    }

    #[test]
    fn only_regular_files_are_read() {
        let folder = scratch("regular");
        let error = read_bounded(folder.to_str().unwrap()).unwrap_err();
        assert!(error.contains("is a directory, not a regular file"), "{error}");
        #[cfg(unix)]
        {
            let error = read_bounded("/dev/zero").unwrap_err();
            assert!(error.contains("character device"), "{error}");
        }
        let file = folder.join("ok.ron");
        std::fs::write(&file, "()").unwrap();
        assert_eq!(read_bounded(file.to_str().unwrap()).unwrap(), b"()");
        let error = read_bounded(folder.join("missing.ron").to_str().unwrap()).unwrap_err();
        assert!(error.starts_with("cannot read"), "{error}");
    }

    #[test]
    fn files_over_the_limit_are_refused_before_they_are_read() {
        let folder = scratch("large");
        let path = folder.join("large.ron");
        let file = File::create(&path).unwrap();
        // Sparse: the size is set, nothing is written.
        file.set_len(FILE_BYTES_MAX + 1).unwrap();
        let error = read_bounded(path.to_str().unwrap()).unwrap_err();
        assert!(error.contains("16 MiB"), "{error}");
        file.set_len(FILE_BYTES_MAX).unwrap();
        assert_eq!(read_bounded(path.to_str().unwrap()).unwrap().len() as u64, FILE_BYTES_MAX);
    }

    #[test]
    fn a_profile_path_must_end_in_ron_and_errors_never_quote_the_file() {
        let error = load_profile("/etc/passwd").unwrap_err();
        assert!(error.contains("ends in .ron"), "{error}");
        let folder = scratch("profile");
        let path = folder.join("secret.ron");
        std::fs::write(&path, "hunter2 is the password\n").unwrap();
        let error = load_profile(path.to_str().unwrap()).unwrap_err();
        assert!(error.contains(path.to_str().unwrap()), "{error}");
        assert!(!error.contains("hunter2") && !error.contains("password"), "{error}");
        std::fs::write(&path, "(name: \"x\", secret_field_hunter2: 1)").unwrap();
        let error = load_profile(path.to_str().unwrap()).unwrap_err();
        assert!(error.contains(":1:") && !error.contains("hunter2"), "{error}");
        assert!(load_profile("sel4").is_ok());
    }
}
