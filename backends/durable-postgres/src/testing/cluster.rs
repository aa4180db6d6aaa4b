//! A throwaway `PostgreSQL` cluster from the installed binaries.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

/// Starts a cluster in a new temporary directory, on a free port, and a
/// watcher that stops and removes it when this process ends; its port.
pub(super) fn start() -> Result<u16, String> {
    let cluster = Cluster::init()?;
    cluster.start()?;
    Ok(cluster.port)
}

/// A cluster in a temporary directory of its own, on its own port; a
/// watcher stops it and removes the directory when this process ends.
#[derive(Debug, Clone)]
pub(super) struct Cluster {
    /// The directory (`data/`, `log`, the socket), free of shell quoting.
    dir: String,
    /// Whether commands run as the `postgres` user.
    root: bool,
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
}

impl Cluster {
    /// Creates the cluster (`initdb`), not started yet.
    pub fn init() -> Result<Self, String> {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("durable-pg-{}-{nanos}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let dir_text = dir.to_string_lossy().into_owned();
        if dir_text.contains(['\'', '"', ' ', '\\', '$']) {
            return Err(format!("unusable temporary directory {dir_text:?}"));
        }
        let root = is_root();
        if root {
            run(Command::new("chown").args(["postgres", &dir_text]), "chown")?;
        }
        let port = free_port()?;
        shell(
            root,
            &format!("initdb -D {dir_text}/data -A trust -U postgres --no-sync"),
            "initdb",
        )?;
        watch(root, &dir_text)?;
        Ok(Self {
            dir: dir_text,
            root,
            port,
        })
    }

    /// Starts the server and waits until it accepts connections.
    pub fn start(&self) -> Result<(), String> {
        let Self { dir, root, port } = self;
        shell(
            *root,
            &format!(
                "pg_ctl -D {dir}/data -l {dir}/log -o '-c listen_addresses=127.0.0.1 \
                 -p {port} -k {dir} -c fsync=off' -w start"
            ),
            "pg_ctl start",
        )?;
        tracing::info!(port, dir, "started a throwaway PostgreSQL cluster");
        Ok(())
    }

    /// Stops the server: `fast` disconnects every client and shuts down
    /// cleanly, as a restart by an administrator does.
    pub fn stop(&self) -> Result<(), String> {
        shell(
            self.root,
            &format!("pg_ctl -D {}/data -m fast -w stop", self.dir),
            "pg_ctl stop",
        )
    }

    /// Stops the server at once and removes the directory; best effort.
    pub fn destroy(&self) {
        let _ = shell(
            self.root,
            &format!("pg_ctl -D {}/data -m immediate -w stop", self.dir),
            "pg_ctl stop",
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether this process runs as root (`initdb` refuses to).
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// A port nobody listens on now.
fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener
        .local_addr()
        .map(|addr| addr.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// Runs `script` with `sh`, as the `postgres` user when `root`.
fn shell(root: bool, script: &str, what: &str) -> Result<(), String> {
    if root {
        run(
            Command::new("su").args(["postgres", "-s", "/bin/sh", "-c", script]),
            what,
        )
    } else {
        run(Command::new("sh").args(["-c", script]), what)
    }
}

/// Runs `command` to its end; its output in the error if it fails.
fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A detached watcher: once this process is gone, stops the cluster in
/// `dir` and removes the directory.
fn watch(root: bool, dir: &str) -> Result<(), String> {
    let stop = format!("pg_ctl -D {dir}/data -m immediate stop");
    let stop = if root {
        format!("su postgres -s /bin/sh -c '{stop}'")
    } else {
        stop
    };
    let script = format!(
        "while kill -0 {} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {dir}",
        std::process::id()
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(drop)
        .map_err(|e| {
            format!(
                "cannot watch the cluster in {}: {e}",
                Path::new(dir).display()
            )
        })
}
