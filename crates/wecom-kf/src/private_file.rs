//! Files that hold secrets or customer data (the consumer's store with its dead
//! letters, a CLI's config): created readable by their owner only.

use std::io;
use std::path::Path;

/// Make sure `path` exists and is created `0600`, before a library (SQLite) opens it
/// with the umask's wider mode. An existing file keeps its mode, but one readable by
/// the group or others gets a warning that says how to fix it. SQLite gives its `-wal`
/// and `-shm` files the database's mode, so they follow.
///
/// ```no_run
/// wecom_kf::private_file::create("/var/lib/wecom-kf/consumer.db")?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn create(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            warn_if_shared(path);
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Warn when `path` can be read or written by others than its owner.
pub fn warn_if_shared(path: &Path) {
    if let Some(mode) = shared_mode(path) {
        tracing::warn!(
            path = %path.display(),
            mode = format_args!("{mode:o}"),
            "this file holds secrets or customer data but others can read it; run: chmod 600 {}",
            path.display()
        );
    }
}

/// The mode of `path` when the group or others have any access to it.
pub fn shared_mode(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
        (mode & 0o077 != 0).then_some(mode)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}
