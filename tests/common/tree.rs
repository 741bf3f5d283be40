//! Real file trees for tests: files, directories and links with real modes and owners.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

/// A file `rel` under `root` with `body`, `mode` and owner `uid:gid` (needs root for a
/// foreign owner).
pub fn put(root: &Path, rel: &str, body: &str, mode: u32, uid: u32, gid: u32) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, body).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
    std::os::unix::fs::lchown(&p, Some(uid), Some(gid)).unwrap();
}

/// A directory `rel` under `root` with `mode` and owner `uid:gid`.
pub fn dir(root: &Path, rel: &str, mode: u32, uid: u32, gid: u32) {
    let p = root.join(rel);
    fs::create_dir_all(&p).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
    std::os::unix::fs::lchown(&p, Some(uid), Some(gid)).unwrap();
}

/// A symbolic link `rel` under `root` pointing at `target` (as written).
pub fn link(root: &Path, rel: &str, target: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    symlink(target, p).unwrap();
}
