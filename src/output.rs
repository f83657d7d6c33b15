//! Writing result files safely: to a temporary file beside the target, then renamed over it, so a
//! failure leaves either the old file or the new one and never a half-written one.

use std::io::Write;
use std::path::Path;

/// Why an output file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {detail}")]
pub struct OutputError {
    pub path: String,
    pub detail: String,
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
    use std::os::unix::fs::OpenOptionsExt;
    let error = |detail: String| OutputError {
        path: path.display().to_string(),
        detail,
    };
    let target = follow_links(path).map_err(error)?;
    match std::fs::metadata(&target) {
        Ok(meta) if meta.is_dir() => return Err(error("it is a directory".into())),
        Ok(meta) if !meta.is_file() => return write_through(&target, bytes).map_err(error),
        _ => {}
    }
    let path = target.as_path();
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| error("not a file path".into()))?;
    let temp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&temp);
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&temp);
        return Err(error(e.to_string()));
    }
    Ok(())
}

/// Writes into an existing non-regular file (a device, a FIFO), as a shell redirection would.
fn write_through(target: &Path, bytes: &[u8]) -> Result<(), String> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(target)
        .map_err(|e| format!("{}: {e}", target.display()))?;
    file.write_all(bytes)
        .and_then(|_| file.flush())
        .map_err(|e| format!("{}: {e}", target.display()))
}

/// Writes a command's result: atomically to `path` when one is given, else to standard output.
pub fn write_result(path: Option<&Path>, bytes: &[u8]) -> anyhow::Result<()> {
    match path {
        Some(path) => write_atomically(path, bytes)?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(bytes)?;
            stdout.flush()?;
        }
    }
    Ok(())
}

/// Writes a header and rows as left-aligned columns two spaces apart, as `docker images` does.
pub fn write_columns<W: Write + ?Sized>(
    out: &mut W,
    header: &[&str],
    rows: &[Vec<String>],
) -> std::io::Result<()> {
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    // Cells hold text from images and registries: no control character reaches the terminal.
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|cell| crate::text::escape_controls(cell).into_owned())
                .collect()
        })
        .collect();
    let rows = rows.as_slice();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(rows) {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        writeln!(out, "{}", line.join("  ").trim_end())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
