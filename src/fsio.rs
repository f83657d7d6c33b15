//! Files in and out, safely. Results are written to a temporary file beside the target, then
//! renamed over it, so a failure leaves either the old file or the new one and never a half-written
//! one (through a symlink or to a device, never over it); input files are read whole only after
//! their size is checked against a limit ([`read_limited`]).

use std::io::Write;
use std::path::{Path, PathBuf};

/// Why an output file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {detail}")]
pub struct OutputError {
    pub path: String,
    pub detail: String,
}

/// Appends `bytes` to the file at `path`, creating it when missing: for files other steps write
/// too (a CI job's summary), where replacing the file would lose what they wrote.
pub fn append(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let error = |e: std::io::Error| OutputError {
        path: path.display().to_string(),
        detail: e.to_string(),
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(error)?;
    file.write_all(bytes).map_err(error)
}

/// Writes `bytes` to `path` atomically (same-directory temporary file + rename).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    write_atomically_with_mode(path, bytes, 0o644)
}

/// The most symbolic links followed from an output path (Linux's own limit is 40).
const SYMLINK_LIMIT: usize = 40;

/// The path `path` names once its symbolic links are followed (the link's target, which need not
/// exist yet), so an atomic rename replaces the file the user meant, never the link itself.
fn follow_links(path: &Path) -> Result<std::path::PathBuf, String> {
    let mut current = path.to_path_buf();
    for _ in 0..SYMLINK_LIMIT {
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = std::fs::read_link(&current).map_err(|e| e.to_string())?;
                current = if target.is_absolute() {
                    target
                } else {
                    match current.parent() {
                        Some(dir) => dir.join(target),
                        None => target,
                    }
                };
            }
            _ => return Ok(current),
        }
    }
    Err(format!("more than {SYMLINK_LIMIT} symbolic links"))
}

/// [`write_atomically`] with the file's permission bits (`0o600` for private keys), set when the
/// temporary file is created, before any byte is written. A path that is a symbolic link is
/// followed first (the link stays, its target is replaced); a path that names something other than
/// a regular file (`/dev/null`, `/dev/stdout`, a FIFO) is written through, never renamed over.
pub fn write_atomically_with_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<(), OutputError> {
    let mut sink = Sink::create(Some(path), mode)?;
    sink.write_all(bytes)
        .map_err(|e| sink.error(e.to_string()))?;
    sink.finish()
}

/// Where a result is written as it is produced (an SBOM of 200,000 packages is never held whole):
/// standard output, a device or FIFO written through, or a temporary file beside the target that
/// [`Sink::finish`] renames over it. Dropped unfinished (an error midway), the temporary file is
/// removed and the target is untouched.
pub struct Sink {
    shown: String,
    kind: SinkKind,
}

enum SinkKind {
    Stdout(std::io::BufWriter<std::io::Stdout>),
    Through(std::io::BufWriter<std::fs::File>),
    Atomic {
        file: Option<std::io::BufWriter<std::fs::File>>,
        temp: std::path::PathBuf,
        target: std::path::PathBuf,
    },
}

impl Sink {
    /// A sink for `path` (standard output when `None`); see [`write_atomically_with_mode`].
    pub fn create(path: Option<&Path>, mode: u32) -> Result<Sink, OutputError> {
        use std::os::unix::fs::OpenOptionsExt;
        let Some(path) = path else {
            return Ok(Sink {
                shown: "standard output".into(),
                kind: SinkKind::Stdout(std::io::BufWriter::new(std::io::stdout())),
            });
        };
        let error = |detail: String| OutputError {
            path: path.display().to_string(),
            detail,
        };
        let target = follow_links(path).map_err(error)?;
        match std::fs::metadata(&target) {
            Ok(meta) if meta.is_dir() => return Err(error("it is a directory".into())),
            Ok(meta) if !meta.is_file() => {
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&target)
                    .map_err(|e| error(format!("{}: {e}", target.display())))?;
                return Ok(Sink {
                    shown: path.display().to_string(),
                    kind: SinkKind::Through(std::io::BufWriter::new(file)),
                });
            }
            _ => {}
        }
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        let name = target
            .file_name()
            .ok_or_else(|| error("not a file path".into()))?;
        let temp = dir.join(format!(
            ".{}.tmp-{}",
            name.to_string_lossy(),
            std::process::id()
        ));
        let _ = std::fs::remove_file(&temp);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temp)
            .map_err(|e| error(e.to_string()))?;
        Ok(Sink {
            shown: path.display().to_string(),
            kind: SinkKind::Atomic {
                file: Some(std::io::BufWriter::new(file)),
                temp,
                target,
            },
        })
    }

    fn error(&self, detail: String) -> OutputError {
        OutputError {
            path: self.shown.clone(),
            detail,
        }
    }

    /// Flushes everything; a file is synced and renamed over its target.
    pub fn finish(mut self) -> Result<(), OutputError> {
        let done = match &mut self.kind {
            SinkKind::Stdout(out) => out.flush(),
            SinkKind::Through(out) => out.flush(),
            SinkKind::Atomic { file, temp, target } => match file.take() {
                Some(out) => out
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .and_then(|file| file.sync_all())
                    .and_then(|_| std::fs::rename(&*temp, &*target)),
                None => Ok(()),
            },
        };
        done.map_err(|e| self.error(e.to_string()))
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.kind {
            SinkKind::Stdout(out) => out.write(buf),
            SinkKind::Through(out) => out.write(buf),
            SinkKind::Atomic { file, .. } => match file {
                Some(out) => out.write(buf),
                None => Err(std::io::Error::other("the output is finished")),
            },
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.kind {
            SinkKind::Stdout(out) => out.flush(),
            SinkKind::Through(out) => out.flush(),
            SinkKind::Atomic { file, .. } => file.as_mut().map_or(Ok(()), |out| out.flush()),
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        if let SinkKind::Atomic {
            file: Some(_),
            temp,
            ..
        } = &self.kind
        {
            let _ = std::fs::remove_file(temp);
        }
    }
}

/// Writes a command's result (a table or a JSON document): atomically to `path` when one is given,
/// else to standard output. Text from images and registries is in it, so any control character
/// other than a line break is written escaped (JSON has none raw: serde escapes them).
pub fn write_result(path: Option<&Path>, bytes: &[u8]) -> anyhow::Result<()> {
    let escaped = match std::str::from_utf8(bytes) {
        Ok(text) => crate::text::escape_controls_in_lines(text).into_bytes(),
        Err(_) => bytes.to_vec(),
    };
    let mut sink = Sink::create(path, 0o644)?;
    sink.write_all(&escaped)
        .map_err(|e| sink.error(e.to_string()))?;
    Ok(sink.finish()?)
}

/// Reads a whole input file of at most `max` bytes, checking the size before reading (and, for
/// what has no size, a device or a pipe, stopping one byte past the limit); the error says why,
/// without the path.
pub fn read_limited(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    let size = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    if size > max {
        return Err(format!("{size} bytes, over the {max}-byte limit"));
    }
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    std::io::Read::read_to_end(
        &mut std::io::Read::take(file, max.saturating_add(1)),
        &mut bytes,
    )
    .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > max {
        return Err(format!("more than the {max}-byte limit"));
    }
    Ok(bytes)
}

/// A directory of vouch's own under the user's cache: `$VAR` when set, else
/// `$XDG_CACHE_HOME/vouch/NAME`, else `~/.cache/vouch/NAME` (`/root` without `$HOME`).
pub fn cache_dir(
    env: &std::collections::HashMap<String, String>,
    var: &str,
    name: &str,
) -> PathBuf {
    let non_empty = |k: &str| env.get(k).filter(|v| !v.is_empty());
    if let Some(dir) = non_empty(var) {
        return PathBuf::from(dir);
    }
    if let Some(cache) = non_empty("XDG_CACHE_HOME") {
        return Path::new(cache).join("vouch").join(name);
    }
    let home = non_empty("HOME").map(String::as_str).unwrap_or("/root");
    Path::new(home).join(".cache/vouch").join(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_of_what_has_no_size_stops_at_the_limit() {
        // /dev/zero says 0 bytes and never ends: read whole, it would take all memory.
        let said = read_limited(Path::new("/dev/zero"), 4096).unwrap_err();
        assert_eq!(said, "more than the 4096-byte limit");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("small");
        std::fs::write(&file, b"abc").unwrap();
        assert_eq!(read_limited(&file, 3).unwrap(), b"abc");
        assert!(read_limited(&file, 2).is_err());
    }

    #[test]
    fn writes_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("sbom.json");
        write_atomically(&target, b"one").unwrap();
        write_atomically(&target, b"two").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_symlink_is_followed_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        std::fs::write(&real, b"old").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink("real.json", &link).unwrap();
        write_atomically(&link, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
        // A dangling link gets its target created.
        let dangling = dir.path().join("dangling.json");
        std::os::unix::fs::symlink("made.json", &dangling).unwrap();
        write_atomically(&dangling, b"made").unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("made.json")).unwrap(),
            b"made"
        );
        // A loop is an error, not a hang.
        let a = dir.path().join("a");
        std::os::unix::fs::symlink("b", &a).unwrap();
        std::os::unix::fs::symlink("a", dir.path().join("b")).unwrap();
        let err = write_atomically(&a, b"x").unwrap_err();
        assert!(err.to_string().contains("symbolic links"), "{err}");
    }

    #[test]
    fn a_fifo_is_written_through_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c_path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).unwrap())
        };
        write_atomically(&fifo, b"through the pipe").unwrap();
        assert_eq!(reader.join().unwrap(), b"through the pipe");
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_sink_dropped_unfinished_leaves_the_target_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("sbom.json");
        std::fs::write(&target, b"old").unwrap();
        {
            let mut sink = Sink::create(Some(&target), 0o644).unwrap();
            sink.write_all(b"half of a new").unwrap();
        }
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let mut sink = Sink::create(Some(&target), 0o644).unwrap();
        sink.write_all(b"new").unwrap();
        sink.finish().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
    }

    #[test]
    fn a_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_atomically(dir.path(), b"x").unwrap_err();
        assert!(err.to_string().contains("directory"), "{err}");
    }

    #[test]
    fn missing_directory_is_an_error_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("nope/sbom.json");
        let err = write_atomically(&target, b"x").unwrap_err();
        assert!(err.to_string().contains("nope/sbom.json"));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
