//! A private MariaDB server for the tests: `mariadb-install-db` into a temp datadir,
//! `mariadbd` on a free 127.0.0.1 port, one server per test binary (started on first
//! use), one database and one account per test. The server runs as the `mysql` user
//! when the tests run as root, dies with the test process (parent-death signal from a
//! thread that lives as long as the process) and is stopped and removed at exit.
//!
//! When `mariadbd` is missing: a loud SKIP line, or a failure when `CI` is set.
#![allow(dead_code)]

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub struct Maria {
    pub port: u16,
    pub dir: PathBuf,
    pub sock: PathBuf,
    pid: u32,
}

static SERVER: OnceLock<Option<Maria>> = OnceLock::new();
static SEQ: AtomicU32 = AtomicU32::new(0);

fn which(name: &str) -> Option<PathBuf> {
    for d in [
        "/usr/sbin",
        "/usr/bin",
        "/usr/local/sbin",
        "/usr/local/bin",
        "/sbin",
        "/bin",
    ] {
        let p = Path::new(d).join(name);
        if p.is_file() {
            return Some(p);
        }
    }
    None
}

/// Reports a missing tool: SKIP, or panic under CI.
pub fn skip(what: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("required test tool missing under CI: {what}");
    }
    super::skip(&format!(
        "{what} not available; install it to run this test"
    ));
}

pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

extern "C" fn stop_at_exit() {
    if let Some(Some(m)) = SERVER.get() {
        unsafe {
            libc::kill(m.pid as i32, libc::SIGKILL);
        }
        let _ = std::fs::remove_dir_all(&m.dir);
    }
}

/// The shared server, started on first use; `None` (after a SKIP line) when MariaDB
/// is not installed.
pub fn server() -> Option<&'static Maria> {
    let m = SERVER.get_or_init(|| {
        let (Some(_), Some(_)) = (which("mariadbd"), which("mariadb-install-db")) else {
            skip("mariadbd / mariadb-install-db (apt-get install mariadb-server)");
            return None;
        };
        let m = start(&[]).expect("start private mariadbd");
        unsafe {
            libc::atexit(stop_at_exit);
        }
        Some(m)
    });
    m.as_ref()
}

fn mysql_ids() -> Option<(u32, u32)> {
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let u = nix::unistd::User::from_name("mysql").ok()??;
    Some((u.uid.as_raw(), u.gid.as_raw()))
}

/// Starts a server (extra mariadbd arguments allowed). The caller owns its lifetime.
pub fn start(extra: &[String]) -> Result<Maria, String> {
    let dir = tempfile::Builder::new()
        .prefix("sp-mariadb-")
        .tempdir_in("/tmp")
        .map_err(|e| e.to_string())?
        .keep();
    let data = dir.join("data");
    std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
    let ids = mysql_ids();
    if let Some((uid, gid)) = ids {
        let _ = Command::new("chown")
            .args(["-R", &format!("{uid}:{gid}")])
            .arg(&dir)
            .status();
    }
    let mut init = Command::new(which("mariadb-install-db").unwrap());
    init.arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if ids.is_some() {
        init.arg("--user=mysql");
    }
    let out = init
        .output()
        .map_err(|e| format!("mariadb-install-db: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "mariadb-install-db failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let port = free_port();
    let sock = dir.join("mysqld.sock");
    let mut cmd = Command::new(which("mariadbd").unwrap());
    cmd.arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .args(["--bind-address=127.0.0.1", "--skip-name-resolve"])
        .arg(format!("--port={port}"))
        .arg(format!("--socket={}", sock.display()))
        .arg(format!("--pid-file={}", dir.join("mysqld.pid").display()))
        .arg(format!("--log-error={}", dir.join("err.log").display()))
        .args([
            "--innodb-buffer-pool-size=64M",
            "--innodb-flush-log-at-trx-commit=0",
        ])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some((uid, gid)) = ids {
        // Drop to mysql before exec, so the parent-death signal survives.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(gid) != 0
                    || libc::setuid(uid) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
    } else {
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
    }
    // Spawn from a thread that never ends: the parent-death signal follows the
    // spawning thread, not the process.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let r = cmd.spawn().map(|c| c.id()).map_err(|e| e.to_string());
        let _ = tx.send(r);
        loop {
            std::thread::park();
        }
    });
    let pid = rx.recv().map_err(|e| e.to_string())??;
    let m = Maria {
        port,
        dir,
        sock,
        pid,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ok = Command::new(
            which("mariadb-admin")
                .or_else(|| which("mysqladmin"))
                .unwrap(),
        )
        .arg("--no-defaults")
        .arg(format!("--socket={}", m.sock.display()))
        .args(["-uroot", "--connect-timeout=1", "ping"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
        if ok {
            return Ok(m);
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(m.dir.join("err.log")).unwrap_or_default();
            m.stop();
            return Err(format!("mariadbd did not answer within 30 s:\n{log}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Maria {
    pub fn stop(&self) {
        unsafe {
            libc::kill(self.pid as i32, libc::SIGKILL);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    /// Runs SQL as root over the socket (through the `mariadb` client).
    pub fn sql(&self, db: Option<&str>, sql: &str) {
        let mut c = Command::new(which("mariadb").or_else(|| which("mysql")).unwrap());
        c.arg("--no-defaults")
            .arg(format!("--socket={}", self.sock.display()))
            .arg("-uroot");
        if let Some(d) = db {
            c.arg(d);
        }
        let mut child = c
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("mariadb client");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(sql.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "SQL failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A fresh database with the given schema file loaded, and an account
    /// `u<N>`@`127.0.0.1` with ALL on it.
    pub fn new_db(&self, schema: &str) -> TestDb {
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let name = format!("cloud_t{}_{n}", std::process::id());
        let user = format!("u{}_{n}", std::process::id());
        let password = format!("pw-{n}-Zq8!x");
        self.sql(
            None,
            &format!(
                "CREATE DATABASE {name}; CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY '{password}'; \
                 GRANT ALL ON {name}.* TO '{user}'@'127.0.0.1';"
            ),
        );
        self.sql(Some(&name), schema);
        TestDb {
            name,
            user,
            password,
            port: self.port,
        }
    }
}

pub struct TestDb {
    pub name: String,
    pub user: String,
    pub password: String,
    pub port: u16,
}

impl TestDb {
    pub fn url(&self) -> String {
        format!(
            "mysql://{}@127.0.0.1:{}/{}",
            self.user, self.port, self.name
        )
    }
}

pub const SCHEMA_422: &str = include_str!("../fixtures/db/schema-4.22.sql");
pub const SCHEMA_411: &str = include_str!("../fixtures/db/schema-4.11.sql");
