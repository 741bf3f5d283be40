//! Files the operator names on the command line: bounded reads of inputs (`--key-file`,
//! `--fingerprint-key-file`, `--waivers`, facts and report files) and atomic writes of
//! reports (`-o FILE`).
//!
//! Reads: a FIFO, a device or a directory is refused without blocking (the file is opened
//! with `O_NONBLOCK` and checked with `fstat` before a byte is read), and a regular file
//! larger than the caller's cap is refused instead of being read into memory.
//!
//! Writes: the bytes go to a new temporary file in the target's directory, which is synced
//! and then renamed over the target, so a reader (node_exporter's textfile collector,
//! config management) sees either the old file or the new one, never half of one. A target
//! that is a symbolic link, or exists and is not a regular file, is refused: the report is
//! never written through a link an attacker may have planted.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Cap for key files (`--key-file`, `--fingerprint-key-file`).
pub const KEY_FILE_CAP: u64 = 64 * 1024;
/// Cap for waivers files.
pub const WAIVERS_CAP: u64 = 4 * 1024 * 1024;
/// Cap for facts files and JSON reports read back (`evaluate`, `diff`).
pub const DOCUMENT_CAP: u64 = 256 * 1024 * 1024;

/// Why an operator file could not be read. `Display` never includes the file's content.
#[derive(Debug)]
pub enum ReadError {
    Io(io::Error),
    NotRegular(&'static str),
    TooLarge { cap: u64 },
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "{}", e.kind()),
            ReadError::NotRegular(kind) => write!(f, "not a regular file ({kind})"),
            ReadError::TooLarge { cap } => write!(f, "larger than {cap} bytes"),
        }
    }
}

impl std::error::Error for ReadError {}

fn kind_of(ft: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Reads a regular file of at most `cap` bytes. Never blocks on a FIFO, never reads a
/// device, never allocates more than `cap + 1` bytes.
pub fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, ReadError> {
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(ReadError::Io)?;
    let md = f.metadata().map_err(ReadError::Io)?;
    if !md.is_file() {
        return Err(ReadError::NotRegular(kind_of(md.file_type())));
    }
    if md.len() > cap {
        return Err(ReadError::TooLarge { cap });
    }
    let mut buf = Vec::with_capacity(md.len() as usize);
    read_open(f, cap, &mut buf)?;
    Ok(buf)
}

/// [`read_capped`] into `buf` (cleared first), so that a batch of files reuses one
/// allocation.
pub fn read_capped_into(path: &Path, cap: u64, buf: &mut Vec<u8>) -> Result<(), ReadError> {
    buf.clear();
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(ReadError::Io)?;
    let md = f.metadata().map_err(ReadError::Io)?;
    if !md.is_file() {
        return Err(ReadError::NotRegular(kind_of(md.file_type())));
    }
    if md.len() > cap {
        return Err(ReadError::TooLarge { cap });
    }
    buf.reserve(md.len() as usize + 1);
    read_open(f, cap, buf)
}

fn read_open(f: File, cap: u64, buf: &mut Vec<u8>) -> Result<(), ReadError> {
    // The file may grow between fstat and read: take at most cap + 1 bytes.
    f.take(cap + 1).read_to_end(buf).map_err(ReadError::Io)?;
    if buf.len() as u64 > cap {
        return Err(ReadError::TooLarge { cap });
    }
    Ok(())
}

/// [`read_capped`], as UTF-8 text.
pub fn read_text_capped(path: &Path, cap: u64) -> Result<String, ReadError> {
    let b = read_capped(path, cap)?;
    String::from_utf8(b).map_err(|_| {
        ReadError::Io(io::Error::new(
            io::ErrorKind::InvalidData,
            "not valid UTF-8",
        ))
    })
}

/// Writes `bytes` to `path` atomically (temporary file in the same directory, fsync,
/// rename, fsync of the directory). Refuses a `path` that is a symbolic link or an
/// existing non-regular file. An existing target's permission bits are kept; a new file
/// gets 0666 minus the umask, as `open(2)` would give it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, bytes, true)
}

/// [`write_atomic`] without the two fsyncs, for a batch of files (`evaluate DIR` writes
/// 10,000 reports) that ends with one [`sync_filesystem`]: each file is still replaced
/// atomically by rename, and the batch is durable when the command returns.
pub fn write_atomic_unsynced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, bytes, false)
}

/// Flushes the filesystem holding `dir` to disk (`syncfs(2)`), once for a batch.
pub fn sync_filesystem(dir: &Path) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let d = File::open(dir)?;
    // SAFETY: syncfs takes a valid open descriptor and touches no memory of ours.
    if unsafe { libc::syncfs(d.as_raw_fd()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn write_atomic_with(path: &Path, bytes: &[u8], sync: bool) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let keep_mode = match std::fs::symlink_metadata(path) {
        Ok(md) if md.file_type().is_symlink() => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "is a symbolic link; refusing to write through it",
            ))
        }
        Ok(md) if !md.is_file() => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                "exists and is {}; refusing to replace it (use -o - to write to standard output)",
                kind_of(md.file_type())
            ),
            ))
        }
        Ok(md) => Some(md.permissions().mode() & 0o7777),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let (tmp_path, mut tmp) = create_temp(&dir, name)?;
    let result = (|| {
        if let Some(mode) = keep_mode {
            tmp.set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
        tmp.write_all(bytes)?;
        if sync {
            tmp.sync_all()?;
        }
        drop(tmp);
        std::fs::rename(&tmp_path, path)?;
        // Make the rename durable; a directory that cannot be opened or synced (some
        // network filesystems) does not undo a completed write.
        if sync {
            if let Ok(d) = File::open(&dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp_path);
    }
    result
}

/// Creates `.NAME.tmp-PID-N` in `dir` with O_EXCL (and O_NOFOLLOW), retrying on a clash.
fn create_temp(dir: &Path, name: &std::ffi::OsStr) -> io::Result<(PathBuf, File)> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let pid = std::process::id();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut last = None;
    for _ in 0..32 {
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".tmp-{pid}-{nanos:x}-{n}"));
        let p = dir.join(tmp_name);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o666)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&p)
        {
            Ok(f) => return Ok((p, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("cannot create a temporary file")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_keeps_mode() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("r.json");
        std::fs::write(&p, "old").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        // No temporary file left behind.
        let names: Vec<_> = std::fs::read_dir(d.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn atomic_write_refuses_symlink_and_fifo() {
        let d = tempfile::tempdir().unwrap();
        let victim = d.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let e = write_atomic(&link, b"x").unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        let fifo = d.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let e = write_atomic(&fifo, b"x").unwrap_err();
        assert!(e.to_string().contains("FIFO"), "{e}");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 3);
    }

    #[test]
    fn capped_read_refuses_devices_and_large_files() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("k");
        std::fs::write(&p, vec![b'a'; 100]).unwrap();
        assert_eq!(read_capped(&p, 100).unwrap().len(), 100);
        assert!(matches!(
            read_capped(&p, 99),
            Err(ReadError::TooLarge { cap: 99 })
        ));
        assert!(matches!(
            read_capped(Path::new("/dev/zero"), 10),
            Err(ReadError::NotRegular("a character device"))
        ));
        assert!(matches!(
            read_capped(d.path(), 10),
            Err(ReadError::NotRegular("a directory"))
        ));
    }
}
