//! The advisory lock and the atomic save: the code that can lose a user's file.
//!
//! What it guarantees:
//!
//! - A save replaces the file whole or not at all: the new text goes to a file in the same
//!   folder, is flushed to disk, and is renamed over the original. A failure at any step leaves
//!   the original untouched; a kill leaves at most a `.<name>.sealctl-*.tmp` beside it, which
//!   the next [`ProfileDocument::load_locked`] removes.
//! - The file keeps its permissions and owner; a new file is readable by its owner only.
//! - A symbolic link stays a link: what is replaced is its final target, in the target's folder.
//! - Two sealctl commands that change one file never lose each other's update: each holds
//!   [`FileLock`] from before it reads until after it saves.
//!
//! What it must never do: replace a file that has other names (hard links: a new file would leave
//! the old text, plaintext tokens included, under them), write anything but a regular file,
//! replace a read-only file unless asked (`--force`), or leave a partly written file at the
//! user's path.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::ProfileDocument;
use crate::error::ProfileError;
use crate::file::{is_read_only, resolve_links};

/// An advisory lock on a profile file, held until dropped.
///
/// Every sealctl command that changes a file takes it before reading, so two of them never lose
/// each other's update. The lock is on the file itself; since saving renames a new file over
/// it, a waiter checks after locking that it still holds the file at the path, and tries again
/// if not.
#[derive(Debug)]
pub struct FileLock {
    _file: fs::File,
}

impl FileLock {
    /// Waits for the lock on the file at `path`.
    pub fn acquire(path: &Path) -> Result<FileLock, ProfileError> {
        let read_error = |source| ProfileError::Read {
            path: path.to_owned(),
            source,
        };
        loop {
            let file = fs::File::open(path).map_err(read_error)?;
            file.lock().map_err(read_error)?;
            if same_file(&file, path) {
                return Ok(FileLock { _file: file });
            }
        }
    }
}

#[cfg(unix)]
fn same_file(file: &fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(held), Ok(current)) => held.dev() == current.dev() && held.ino() == current.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &fs::File, path: &Path) -> bool {
    path.exists()
}

impl ProfileDocument {
    /// Takes the file's advisory lock, then loads it: the way to read, change and save a file
    /// without losing another sealctl's update. The lock is released when the guard is dropped;
    /// save before dropping it.
    ///
    /// Through a symbolic link, the lock is on the link's final target, and the leftovers removed
    /// are those beside it, where [`ProfileDocument::save`] writes.
    pub fn load_locked(
        path: impl Into<PathBuf>,
    ) -> Result<(ProfileDocument, FileLock), ProfileError> {
        let path = path.into();
        let target = resolve_links(&path)?;
        let lock = FileLock::acquire(&target)?;
        remove_leftovers(&target);
        Ok((ProfileDocument::load(path)?, lock))
    }

    /// Lets [`ProfileDocument::save`] replace the file even if it is read-only (`--force`); the
    /// file keeps its mode.
    pub fn overwrite_read_only(&mut self) {
        self.overwrite_read_only = true;
    }

    /// Whether [`ProfileDocument::save`] would write the file: it is not read-only (or may be
    /// overwritten anyway), and it is a regular file or does not exist yet. Commands ask before
    /// their work, so that nobody types a token for a file that will not be written.
    pub fn check_writable(&self) -> Result<(), ProfileError> {
        self.writable_target().map(|_| ())
    }

    /// The file a save replaces (the final target of a link), once it is known to be writable.
    fn writable_target(&self) -> Result<PathBuf, ProfileError> {
        let target = resolve_links(&self.path)?;
        let Ok(metadata) = fs::metadata(&target) else {
            // A new file, at the path or at a link's target.
            return Ok(target);
        };
        if !metadata.is_file() {
            return Err(ProfileError::Write {
                path: self.path.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "it is not a regular file; sealctl writes only regular files",
                ),
            });
        }
        let links = link_count(&metadata);
        if links > 1 {
            return Err(ProfileError::HardLinks {
                path: self.path.clone(),
                links,
            });
        }
        if !self.overwrite_read_only && is_read_only(&target, &metadata) {
            return Err(ProfileError::ReadOnly {
                path: self.path.clone(),
                mode: mode_of(&metadata),
            });
        }
        Ok(target)
    }

    /// Writes the document back to its file atomically: the new text is written to a file in the
    /// same folder, flushed to disk and renamed over the original, which keeps its permissions and
    /// owner (a new file is made readable by its owner only). A failure leaves the original
    /// untouched. On Linux the new text is written to an anonymous file that gets a name only for
    /// the rename, so a process killed while writing leaves nothing behind; a name left by a kill
    /// between those two steps is removed by the next [`ProfileDocument::load_locked`].
    ///
    /// A path that is a symbolic link (or a chain of them) stays one: the file replaced is the
    /// link's final target, in the target's folder; a link to a file not made yet gets it made.
    /// A read-only file is refused ([`ProfileError::ReadOnly`]) unless
    /// [`ProfileDocument::overwrite_read_only`] was called.
    pub fn save(&self) -> Result<(), ProfileError> {
        let target = self.writable_target()?;
        let write_error = |source| ProfileError::Write {
            path: target.clone(),
            source,
        };
        let folder = match target.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let original = fs::metadata(&target).ok();
        let prepare = |file: &mut fs::File| -> std::io::Result<()> {
            file.write_all(self.text.as_bytes())?;
            match &original {
                Some(metadata) => {
                    file.set_permissions(metadata.permissions())?;
                    keep_owner(file, metadata)?;
                }
                None => file.set_permissions(owner_only())?,
            }
            file.sync_all()
        };
        #[cfg(target_os = "linux")]
        if let Some(mut file) = anonymous_file(folder).map_err(write_error)? {
            prepare(&mut file).map_err(write_error)?;
            if let Some(()) = rename_anonymous(&file, folder, &target).map_err(write_error)? {
                sync_folder(folder);
                return Ok(());
            }
        }
        let mut temporary = tempfile::Builder::new()
            .prefix(&temporary_prefix(&target))
            .suffix(TEMPORARY_SUFFIX)
            .tempfile_in(folder)
            .map_err(write_error)?;
        prepare(temporary.as_file_mut()).map_err(write_error)?;
        temporary
            .persist(&target)
            .map_err(|error| write_error(error.error))?;
        sync_folder(folder);
        Ok(())
    }
}

/// Gives the new file the original's owner and group, as an editor running as root must.
#[cfg(unix)]
fn keep_owner(file: &fs::File, original: &fs::Metadata) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt as _;
    let new = file.metadata()?;
    if new.uid() == original.uid() && new.gid() == original.gid() {
        return Ok(());
    }
    std::os::unix::fs::fchown(file, Some(original.uid()), Some(original.gid()))
}

#[cfg(not(unix))]
fn keep_owner(_file: &fs::File, _original: &fs::Metadata) -> std::io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn link_count(metadata: &fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt as _;
    metadata.nlink()
}

#[cfg(not(unix))]
fn link_count(_metadata: &fs::Metadata) -> u64 {
    1
}

#[cfg(unix)]
fn mode_of(metadata: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    metadata.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn mode_of(metadata: &fs::Metadata) -> u32 {
    if metadata.permissions().readonly() {
        0o444
    } else {
        0o644
    }
}

#[cfg(unix)]
fn owner_only() -> fs::Permissions {
    use std::os::unix::fs::PermissionsExt as _;
    fs::Permissions::from_mode(0o600)
}

#[cfg(not(unix))]
fn owner_only() -> fs::Permissions {
    // Windows has no mode bits; a new file inherits its folder's access list.
    tempfile::tempfile()
        .and_then(|file| file.metadata())
        .map(|metadata| metadata.permissions())
        .expect("a temporary file can be made")
}

/// Temporary files are named `.<file name>.sealctl-<random>.tmp`, beside the file they replace.
const TEMPORARY_SUFFIX: &str = ".tmp";

fn temporary_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".{name}.sealctl-")
}

/// Removes the temporary files a killed sealctl left beside `path`. Called with the file locked,
/// so no other sealctl is writing one for it.
fn remove_leftovers(path: &Path) {
    let prefix = temporary_prefix(path);
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let Ok(entries) = fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&prefix) && name.ends_with(TEMPORARY_SUFFIX) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// A file with no name in `folder` (`O_TMPFILE`), or `None` where the file system cannot make one.
#[cfg(target_os = "linux")]
fn anonymous_file(folder: &Path) -> std::io::Result<Option<fs::File>> {
    use rustix::fs::{Mode, OFlags};
    match rustix::fs::open(
        folder,
        OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    ) {
        Ok(fd) => Ok(Some(fs::File::from(fd))),
        Err(rustix::io::Errno::OPNOTSUPP | rustix::io::Errno::ISDIR | rustix::io::Errno::INVAL) => {
            Ok(None)
        }
        Err(errno) => Err(errno.into()),
    }
}

/// Gives an anonymous file a temporary name beside `path` and renames it over `path`. `None`
/// where it cannot be given a name (no `/proc`), so that the caller writes a named file instead.
#[cfg(target_os = "linux")]
fn rename_anonymous(file: &fs::File, folder: &Path, path: &Path) -> std::io::Result<Option<()>> {
    use std::os::fd::AsRawFd as _;
    let unique = format!(
        "{}{}-{}{TEMPORARY_SUFFIX}",
        temporary_prefix(path),
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|since| since.as_nanos())
            .unwrap_or_default()
    );
    let name = folder.join(unique);
    let linked = rustix::fs::linkat(
        rustix::fs::CWD,
        format!("/proc/self/fd/{}", file.as_raw_fd()),
        rustix::fs::CWD,
        &name,
        rustix::fs::AtFlags::SYMLINK_FOLLOW,
    );
    if linked.is_err() {
        return Ok(None);
    }
    if let Err(error) = fs::rename(&name, path) {
        let _ = fs::remove_file(&name);
        return Err(error);
    }
    Ok(Some(()))
}

/// Makes the rename durable. Best effort: not every platform or file system can sync a folder.
fn sync_folder(folder: &Path) {
    #[cfg(unix)]
    if let Ok(handle) = fs::File::open(folder) {
        let _ = handle.sync_all();
    }
    #[cfg(not(unix))]
    let _ = folder;
}

// The one test here reads modes, which only Unix has.
#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::document::tests::FILE;

    #[test]
    fn save_replaces_the_file_atomically_and_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt as _;
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("config.toml");
        fs::write(&path, FILE).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let mut doc = ProfileDocument::load(&path).unwrap();
        doc.set("prod", "mgmt_token", "NEW").unwrap();
        doc.save().unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            FILE.replace("OLD", "NEW")
        );
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o640
        );
        let leftovers: Vec<_> = fs::read_dir(folder.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }
}
