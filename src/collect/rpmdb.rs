//! The RPM database under `--root`: which packages are installed, at which version.
//!
//! * sqlite (EL9 and later, Fedora 33+; `rpm` 4.16's default backend):
//!   `/var/lib/rpm/rpmdb.sqlite`, or `/usr/lib/sysimage/rpm/rpmdb.sqlite` where
//!   `/var/lib/rpm` moved (EL10, Fedora 36+). Table `Packages(hnum, blob)`; each blob is an
//!   RPM header without its magic: index count and data length (big-endian u32), the index
//!   entries (tag, type, offset, count), then the data (rpm's `lib/header.c`, `headerImport`).
//!   The database (and its `-wal`, where rpm left one) is copied, bounded, into a private
//!   temporary directory and opened there read-only, so the audited host's files are never
//!   opened by sqlite and no lock or journal is written next to them.
//! * BerkeleyDB `Packages` (EL7/EL8) and ndb `Packages.db` (SUSE): not read; reported as
//!   unsupported with the reason.
//!
//! [`installed_packages`] is the one entry point (shared with the OpenStack collector).

use crate::facts::Missing;
use crate::rootfs::{ReadError, RootFs};
use std::path::{Path, PathBuf};

/// sqlite databases, in the order looked for.
pub const SQLITE_PATHS: &[&str] = &[
    "/var/lib/rpm/rpmdb.sqlite",
    "/usr/lib/sysimage/rpm/rpmdb.sqlite",
];
/// Databases in formats this reader does not read.
pub const UNSUPPORTED_PATHS: &[(&str, &str)] = &[
    ("/var/lib/rpm/Packages", "a BerkeleyDB rpmdb (EL7/EL8)"),
    ("/var/lib/rpm/Packages.db", "an ndb rpmdb"),
    ("/usr/lib/sysimage/rpm/Packages.db", "an ndb rpmdb"),
];
/// Largest database copied.
pub const MAX_DB_BYTES: u64 = 512 * 1024 * 1024;
/// Most packages read.
pub const MAX_PACKAGES: usize = 100_000;
/// sqlite virtual-machine steps allowed for the whole read (a hostile database cannot
/// make the query run for long).
const MAX_VM_STEPS: u64 = 50_000_000;

const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_ARCH: u32 = 1022;
const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_I18NSTRING: u32 = 9;

/// One installed package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpmPackage {
    pub name: String,
    pub epoch: Option<u32>,
    pub version: String,
    pub release: String,
    pub arch: Option<String>,
}

impl RpmPackage {
    /// `[epoch:]version-release`.
    pub fn evr(&self) -> String {
        match self.epoch {
            Some(e) => format!("{e}:{}-{}", self.version, self.release),
            None => format!("{}-{}", self.version, self.release),
        }
    }
}

/// The packages of the RPM database and the database's path (as on the host).
#[derive(Debug, Clone)]
pub struct RpmDb {
    pub path: String,
    pub packages: Vec<RpmPackage>,
    /// Header blobs that could not be parsed (counted, skipped).
    pub unreadable: usize,
}

/// Reads the installed packages. `Missing::absent` when the tree has no RPM database,
/// `unsupported` for BerkeleyDB/ndb, `error`/`permission_denied` when it cannot be read.
pub fn installed_packages(fs: &RootFs) -> Result<RpmDb, Missing> {
    for p in SQLITE_PATHS {
        match fs.read_capped(p, MAX_DB_BYTES) {
            Ok(db) => {
                let wal = match fs.read_capped(&format!("{p}-wal"), MAX_DB_BYTES) {
                    Ok(w) => Some(w),
                    Err(ReadError::NotFound) => None,
                    Err(e) => return Err(Missing::new(e.reason(), format!("{p}-wal: {e}"))),
                };
                return read_sqlite(&db, wal.as_deref())
                    .map(|(packages, unreadable)| RpmDb {
                        path: p.to_string(),
                        packages,
                        unreadable,
                    })
                    .map_err(|e| Missing::error(format!("{p}: {e}")));
            }
            Err(ReadError::NotFound) => continue,
            Err(e) => return Err(Missing::new(e.reason(), format!("{p}: {e}"))),
        }
    }
    for (p, what) in UNSUPPORTED_PATHS {
        if fs.inspect(p).is_ok() {
            return Err(Missing::unsupported(format!(
                "{p} is {what}; this auditor reads only the sqlite rpmdb (EL9 and later)"
            )));
        }
    }
    Err(Missing::absent(format!(
        "no RPM database ({} or {})",
        SQLITE_PATHS.join(", "),
        UNSUPPORTED_PATHS[0].0
    )))
}

/// A private directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<TempDir> {
        use std::os::unix::fs::DirBuilderExt;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let p =
            std::env::temp_dir().join(format!("stackposture-rpmdb-{}-{nanos}", std::process::id()));
        std::fs::DirBuilder::new().mode(0o700).create(&p)?;
        Ok(TempDir(p))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn write_new(p: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(p)?;
    f.write_all(data)
}

/// Reads `Packages` from an rpmdb.sqlite image (and its WAL). Returns the packages and
/// the number of blobs that did not parse.
pub fn read_sqlite(db: &[u8], wal: Option<&[u8]>) -> Result<(Vec<RpmPackage>, usize), String> {
    use rusqlite::{Connection, OpenFlags};
    let dir = TempDir::new().map_err(|e| format!("temporary directory: {e}"))?;
    let path = dir.0.join("rpmdb.sqlite");
    write_new(&path, db).map_err(|e| format!("temporary copy: {e}"))?;
    if let Some(w) = wal.filter(|w| !w.is_empty()) {
        write_new(&dir.0.join("rpmdb.sqlite-wal"), w)
            .map_err(|e| format!("temporary copy: {e}"))?;
    }
    let conn = Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| format!("not an sqlite database: {e}"))?;
    let steps = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = steps.clone();
    conn.progress_handler(
        1000,
        Some(move || counter.fetch_add(1000, std::sync::atomic::Ordering::Relaxed) > MAX_VM_STEPS),
    )
    .map_err(|e| e.to_string())?;
    // No function of a view or trigger in the (untrusted) schema runs.
    let _ = conn.execute_batch("PRAGMA trusted_schema = OFF; PRAGMA query_only = ON;");
    let mut stmt = conn
        .prepare(&format!(
            "SELECT blob FROM Packages ORDER BY hnum LIMIT {}",
            MAX_PACKAGES + 1
        ))
        .map_err(|e| format!("no Packages table: {e}"))?;
    let mut rows = stmt.query([]).map_err(|e| e.to_string())?;
    let (mut out, mut bad) = (Vec::new(), 0usize);
    while let Some(r) = rows.next().map_err(|e| e.to_string())? {
        if out.len() + bad >= MAX_PACKAGES {
            return Err(format!("more than {MAX_PACKAGES} packages; not read"));
        }
        let blob: Vec<u8> = match r.get(0) {
            Ok(b) => b,
            Err(_) => {
                bad += 1;
                continue;
            }
        };
        match parse_header(&blob) {
            Ok(p) => out.push(p),
            Err(_) => bad += 1,
        }
    }
    Ok((out, bad))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Parses an rpmdb header blob (no magic) for name, epoch, version, release and arch.
pub fn parse_header(blob: &[u8]) -> Result<RpmPackage, String> {
    let il = be32(blob, 0).ok_or("short header")? as usize;
    let dl = be32(blob, 4).ok_or("short header")? as usize;
    if il == 0 || il > 0xffff {
        return Err(format!("bad index count {il}"));
    }
    let data_at = 8 + il * 16;
    let data = blob
        .get(data_at..data_at.checked_add(dl).ok_or("bad data length")?)
        .ok_or("header shorter than its index says")?;
    let (mut name, mut version, mut release, mut epoch, mut arch) = (None, None, None, None, None);
    for i in 0..il {
        let e = 8 + i * 16;
        let (tag, ty) = (
            be32(blob, e).ok_or("index")?,
            be32(blob, e + 4).ok_or("index")?,
        );
        let off = be32(blob, e + 8).ok_or("index")? as usize;
        if !matches!(
            tag,
            TAG_NAME | TAG_VERSION | TAG_RELEASE | TAG_EPOCH | TAG_ARCH
        ) {
            continue;
        }
        let at = data
            .get(off..)
            .ok_or_else(|| format!("tag {tag}: offset out of range"))?;
        match (tag, ty) {
            (TAG_EPOCH, TYPE_INT32) => {
                epoch = Some(be32(at, 0).ok_or("epoch out of range")?);
            }
            (_, TYPE_STRING | TYPE_I18NSTRING) => {
                let end = at
                    .iter()
                    .position(|c| *c == 0)
                    .ok_or_else(|| format!("tag {tag}: unterminated string"))?;
                let s = String::from_utf8_lossy(&at[..end.min(4096)]).into_owned();
                match tag {
                    TAG_NAME => name = Some(s),
                    TAG_VERSION => version = Some(s),
                    TAG_RELEASE => release = Some(s),
                    TAG_ARCH => arch = Some(s),
                    _ => {}
                }
            }
            _ => return Err(format!("tag {tag}: unexpected type {ty}")),
        }
    }
    Ok(RpmPackage {
        name: name.ok_or("no Name tag")?,
        version: version.ok_or("no Version tag")?,
        release: release.ok_or("no Release tag")?,
        epoch,
        arch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(entries: &[(u32, u32, &[u8])]) -> Vec<u8> {
        let mut idx = Vec::new();
        let mut data = Vec::new();
        for (tag, ty, bytes) in entries {
            idx.extend(tag.to_be_bytes());
            idx.extend(ty.to_be_bytes());
            idx.extend((data.len() as u32).to_be_bytes());
            idx.extend(1u32.to_be_bytes());
            data.extend_from_slice(bytes);
        }
        let mut b = (entries.len() as u32).to_be_bytes().to_vec();
        b.extend((data.len() as u32).to_be_bytes());
        b.extend(idx);
        b.extend(data);
        b
    }

    #[test]
    fn header_fields_and_hostile_blobs() {
        let ok = header(&[
            (TAG_NAME, TYPE_STRING, b"cloudstack-management\0"),
            (TAG_VERSION, TYPE_STRING, b"4.20.3.0\0"),
            (TAG_RELEASE, TYPE_STRING, b"1.el9\0"),
            (TAG_EPOCH, TYPE_INT32, &2u32.to_be_bytes()),
        ]);
        let p = parse_header(&ok).unwrap();
        assert_eq!(p.name, "cloudstack-management");
        assert_eq!(p.evr(), "2:4.20.3.0-1.el9");
        for bad in [
            &ok[..7],
            &ok[..ok.len() - 1],
            &header(&[(TAG_NAME, TYPE_STRING, b"no-nul")]),
            &header(&[(TAG_NAME, TYPE_STRING, b"x\0")]),
            &[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0][..],
        ] {
            assert!(parse_header(bad).is_err());
        }
        assert!(read_sqlite(b"not a database at all", None).is_err());
    }

    /// A hostile database whose `Packages` is a view that never ends: the step budget
    /// stops it, with an error.
    #[test]
    fn endless_view_is_cut_off() {
        let dir = TempDir::new().unwrap();
        let p = dir.0.join("hostile.sqlite");
        let c = rusqlite::Connection::open(&p).unwrap();
        c.execute_batch(
            "CREATE VIEW Packages AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) \
             SELECT x AS hnum, x AS blob FROM c WHERE x < 0;",
        )
        .unwrap();
        drop(c);
        let bytes = std::fs::read(&p).unwrap();
        let t = std::time::Instant::now();
        let e = read_sqlite(&bytes, None).unwrap_err();
        assert!(e.contains("interrupt"), "{e}");
        assert!(t.elapsed() < std::time::Duration::from_secs(60));
    }
}
