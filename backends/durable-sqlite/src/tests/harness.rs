//! Every test gets its own directory of database files, removed at the end.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::SqlitePersistence;

static NEXT_DIR: AtomicU64 = AtomicU64::new(0);

/// A fresh directory under the system's temporary directory.
pub(crate) struct TestDir {
    path: PathBuf,
    next_db: AtomicU64,
}

impl TestDir {
    /// A new, empty directory whose name contains `label`.
    pub(crate) fn new(label: &str) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir().join(format!(
            "durable-sqlite-{}-{}-{nanos}-{label}",
            std::process::id(),
            NEXT_DIR.fetch_add(1, Ordering::SeqCst),
        ));
        std::fs::create_dir_all(&path).unwrap();
        Self {
            path,
            next_db: AtomicU64::new(0),
        }
    }

    /// The path of database file `name` in the directory.
    pub(crate) fn file(&self, name: &str) -> String {
        self.path.join(name).to_str().unwrap().to_owned()
    }

    /// A store on a new database file.
    pub(crate) async fn fresh(&self) -> SqlitePersistence {
        let n = self.next_db.fetch_add(1, Ordering::SeqCst);
        SqlitePersistence::open(&self.file(&format!("db-{n}.db")))
            .await
            .unwrap()
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
