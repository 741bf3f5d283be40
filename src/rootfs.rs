//! Host paths resolved under an audit root (`--root`), read without following links
//! blindly and without ever opening a FIFO or a device.
//!
//! Symbolic links are resolved *inside* the root, as a chroot would: an absolute target
//! `/etc/x` means `<root>/etc/x`, and `..` never climbs above the root. Resolution gives
//! up after 40 links (loops).

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

/// Upper bound on what any collector reads of one file.
pub const DEFAULT_READ_CAP: u64 = 4 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct RootFs {
    root: PathBuf,
}

/// Why a file could not be read, mapped onto fact reasons by the callers.
#[derive(Debug)]
pub enum ReadError {
    NotFound,
    PermissionDenied,
    NotRegular(&'static str),
    TooManyLinks,
    TooLarge(u64),
    Io(io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::NotFound => f.write_str("does not exist"),
            ReadError::PermissionDenied => f.write_str("permission denied"),
            ReadError::NotRegular(k) => write!(f, "is a {k}, not a regular file (not opened)"),
            ReadError::TooManyLinks => f.write_str("too many levels of symbolic links"),
            ReadError::TooLarge(n) => write!(f, "is larger than the read cap ({n} bytes)"),
            ReadError::Io(e) => write!(f, "{}", e.kind()),
        }
    }
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::NotFound => ReadError::NotFound,
            io::ErrorKind::PermissionDenied => ReadError::PermissionDenied,
            _ if e.raw_os_error() == Some(libc::ELOOP) => ReadError::TooManyLinks,
            _ if e.raw_os_error() == Some(libc::ENOTDIR) => ReadError::NotFound,
            _ => ReadError::Io(e),
        }
    }
}

impl ReadError {
    pub fn reason(&self) -> crate::facts::MissingReason {
        use crate::facts::MissingReason as R;
        match self {
            ReadError::NotFound => R::Absent,
            ReadError::PermissionDenied => R::PermissionDenied,
            ReadError::NotRegular(_) | ReadError::TooLarge(_) => R::Unsupported,
            ReadError::TooManyLinks | ReadError::Io(_) => R::Error,
        }
    }
}

pub fn file_kind(ft: &std::fs::FileType) -> &'static str {
    if ft.is_file() {
        "file"
    } else if ft.is_dir() {
        "directory"
    } else if ft.is_symlink() {
        "symlink"
    } else if ft.is_fifo() {
        "fifo"
    } else if ft.is_socket() {
        "socket"
    } else if ft.is_block_device() {
        "block_device"
    } else if ft.is_char_device() {
        "char_device"
    } else {
        "unknown"
    }
}

impl RootFs {
    pub fn new(root: impl Into<PathBuf>) -> RootFs {
        RootFs { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The host path without resolving links: `<root>/<abs>`.
    pub fn lexical(&self, abs: &str) -> PathBuf {
        self.root.join(abs.trim_start_matches('/'))
    }

    /// Resolves `abs` (a path on the audited host) to a real path under the root,
    /// following symbolic links inside the root. The last component is resolved too
    /// unless `follow_last` is false.
    pub fn resolve(&self, abs: &str, follow_last: bool) -> Result<PathBuf, ReadError> {
        self.resolve_traced(abs, follow_last).map(|(p, _)| p)
    }

    /// Like [`RootFs::resolve`], and also says whether a `..` (in the path or in a link
    /// target) tried to climb above the root and was held at it, as a chroot would.
    pub fn resolve_traced(
        &self,
        abs: &str,
        follow_last: bool,
    ) -> Result<(PathBuf, bool), ReadError> {
        let mut clamped = false;
        let mut pending: Vec<OsString> = Path::new(abs)
            .components()
            .filter_map(|c| match c {
                Component::Normal(n) => Some(n.to_os_string()),
                Component::ParentDir => Some(OsString::from("..")),
                _ => None,
            })
            .rev()
            .collect();
        let mut cur: Vec<OsString> = Vec::new();
        let mut links = 0;
        while let Some(name) = pending.pop() {
            if name == ".." {
                if cur.pop().is_none() {
                    clamped = true;
                }
                continue;
            }
            let is_last = pending.is_empty();
            let mut candidate = self.root.clone();
            candidate.extend(cur.iter());
            candidate.push(&name);
            match std::fs::symlink_metadata(&candidate) {
                Ok(md) if md.file_type().is_symlink() && (follow_last || !is_last) => {
                    links += 1;
                    if links > 40 {
                        return Err(ReadError::TooManyLinks);
                    }
                    let target = std::fs::read_link(&candidate)?;
                    if target.is_absolute() {
                        cur.clear();
                    }
                    for c in target.components().rev() {
                        match c {
                            Component::Normal(n) => pending.push(n.to_os_string()),
                            Component::ParentDir => pending.push(OsString::from("..")),
                            _ => {}
                        }
                    }
                }
                Ok(_) => cur.push(name),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    // Keep walking lexically: the caller's lstat reports the absence.
                    cur.push(name);
                }
                Err(e) => return Err(e.into()),
            }
        }
        let mut out = self.root.clone();
        out.extend(cur.iter());
        Ok((out, clamped))
    }

    /// The audited host's path for a real path under the root (`<root>/etc/x` -> `/etc/x`).
    pub fn host_path(&self, real: &Path) -> String {
        match real.strip_prefix(&self.root) {
            Ok(rel) => format!("/{}", rel.to_string_lossy()),
            Err(_) => real.to_string_lossy().into_owned(),
        }
    }

    /// `lstat` of a host path (parent links resolved inside the root, the last component
    /// not followed); for a symbolic link, also its target and what it resolves to inside
    /// the root. Never opens the file.
    pub fn inspect(&self, abs: &str) -> Result<Inspected, ReadError> {
        let path = self.resolve(abs, false)?;
        self.inspect_real(abs, path)
    }

    /// [`RootFs::inspect`] of the entry `name` of a directory listed with
    /// [`RootFs::list_dir_real`]: `real_dir` is that directory already resolved, so only
    /// the entry itself is `lstat`ed (not every parent again). `abs` is the entry's host
    /// path (`<dir>/<name>`), used to resolve it when it is a link.
    pub fn inspect_entry(
        &self,
        real_dir: &Path,
        name: &std::ffi::OsStr,
        abs: &str,
    ) -> Result<Inspected, ReadError> {
        self.inspect_real(abs, real_dir.join(name))
    }

    fn inspect_real(&self, abs: &str, path: PathBuf) -> Result<Inspected, ReadError> {
        let lstat = std::fs::symlink_metadata(&path)?;
        if !lstat.file_type().is_symlink() {
            return Ok(Inspected {
                host_path: self.host_path(&path),
                lstat,
                link: None,
            });
        }
        let target = std::fs::read_link(&path)?;
        let resolved = self.resolve_traced(abs, true).and_then(|(p, clamped)| {
            let md = std::fs::symlink_metadata(&p)?;
            Ok(Resolved {
                host_path: self.host_path(&p),
                metadata: md,
                clamped_at_root: clamped,
            })
        });
        Ok(Inspected {
            host_path: self.host_path(&path),
            lstat,
            link: Some((target, resolved)),
        })
    }

    /// The names in a directory (links to it resolved inside the root), at most `max`
    /// (the `bool` says whether more were left out). Sorted, so runs are repeatable.
    pub fn list_dir(&self, abs: &str, max: usize) -> Result<(Vec<OsString>, bool), ReadError> {
        self.list_dir_real(abs, max)
            .map(|(_, names, more)| (names, more))
    }

    /// [`RootFs::list_dir`], also giving the directory's resolved real path (for
    /// [`RootFs::inspect_entry`] and [`RootFs::list_real`]).
    pub fn list_dir_real(
        &self,
        abs: &str,
        max: usize,
    ) -> Result<(PathBuf, Vec<OsString>, bool), ReadError> {
        let path = self.resolve(abs, true)?;
        let (names, more) = Self::list_real(&path, max)?;
        Ok((path, names, more))
    }

    /// The names in the already resolved directory `path` (see [`RootFs::list_dir`]).
    pub fn list_real(path: &Path, max: usize) -> Result<(Vec<OsString>, bool), ReadError> {
        let mut names = Vec::new();
        let mut more = false;
        for e in std::fs::read_dir(path)? {
            let e = e?;
            if names.len() >= max {
                more = true;
                break;
            }
            names.push(e.file_name());
        }
        names.sort();
        Ok((names, more))
    }
}

/// What [`RootFs::inspect`] saw at one path.
#[derive(Debug)]
pub struct Inspected {
    /// The path on the audited host after resolving links in its parent directories.
    pub host_path: String,
    /// `lstat` of the path itself.
    pub lstat: std::fs::Metadata,
    /// For a symbolic link: its target as written, and where it leads inside the root.
    pub link: Option<(PathBuf, Result<Resolved, ReadError>)>,
}

/// The object a symbolic link leads to, inside the root.
#[derive(Debug)]
pub struct Resolved {
    pub host_path: String,
    pub metadata: std::fs::Metadata,
    /// A `..` in the link chain tried to leave the root and was held at it.
    pub clamped_at_root: bool,
}

impl RootFs {
    /// Reads a regular file (links resolved inside the root), at most `cap` bytes.
    /// Refuses FIFOs, sockets and devices without opening them.
    pub fn read_capped(&self, abs: &str, cap: u64) -> Result<Vec<u8>, ReadError> {
        let path = self.resolve(abs, true)?;
        let md = std::fs::symlink_metadata(&path)?;
        if !md.file_type().is_file() {
            return Err(ReadError::NotRegular(file_kind(&md.file_type())));
        }
        if md.len() > cap {
            return Err(ReadError::TooLarge(cap));
        }
        let f = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(&path)?;
        // Re-check on the open handle: the path could have been swapped meanwhile.
        let md2 = f.metadata()?;
        if !md2.file_type().is_file() {
            return Err(ReadError::NotRegular(file_kind(&md2.file_type())));
        }
        let mut buf = Vec::new();
        File::take(f, cap + 1).read_to_end(&mut buf)?;
        if buf.len() as u64 > cap {
            return Err(ReadError::TooLarge(cap));
        }
        Ok(buf)
    }
}
