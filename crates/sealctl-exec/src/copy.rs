//! Where the plaintext copy of the config lives while the program runs.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::error::ExecError;

/// The plaintext config handed to the program, by path.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigCopy {
    /// An anonymous in-memory file (Linux `memfd_create`), sealed against any change and left
    /// open across `exec`, so the program reads it as `/proc/self/fd/N`. Nothing is on any disk
    /// and nothing needs removing: it is gone when the last process holding it exits.
    #[cfg(target_os = "linux")]
    InMemory {
        /// The file, kept open (and inheritable) until the program replaces this process.
        fd: std::os::fd::OwnedFd,
        /// `/proc/self/fd/N`, as the program sees it.
        path: PathBuf,
    },
    /// A 0600 file in a 0700 folder of its own, in a folder private to the user (see
    /// [`crate::private_folder`]); removed with its folder when this is dropped. From its making
    /// to its removal, every signal that would end sealctl is caught, so that sealctl can pass
    /// it on to the program and remove the copy, instead of dying and leaving it.
    PrivateFile(PrivateCopy),
}

impl ConfigCopy {
    /// The best place this platform offers: in memory on Linux, else a private file.
    pub fn new(contents: &[u8]) -> Result<ConfigCopy, ExecError> {
        #[cfg(target_os = "linux")]
        if let Ok(copy) = ConfigCopy::in_memory(contents) {
            return Ok(copy);
        }
        ConfigCopy::private_file(contents)
    }

    /// An anonymous in-memory file, sealed against writes, growing and shrinking.
    #[cfg(target_os = "linux")]
    pub fn in_memory(contents: &[u8]) -> Result<ConfigCopy, ExecError> {
        let (fd, path) =
            crate::memory_file::sealed("sealctl-config", contents).map_err(ExecError::Copy)?;
        Ok(ConfigCopy::InMemory { fd, path })
    }

    /// An anonymous in-memory file an editor may change (`sealctl edit`): not sealed until it
    /// is read back with [`ConfigCopy::read_back`].
    #[cfg(target_os = "linux")]
    pub fn in_memory_for_editing(contents: &[u8]) -> Result<ConfigCopy, ExecError> {
        use rustix::fs::{MemfdFlags, memfd_create};
        use std::os::fd::AsRawFd as _;
        // No MFD_CLOEXEC: the editor inherits it, and writes back through /proc/self/fd/N.
        let fd = memfd_create("sealctl-edit", MemfdFlags::ALLOW_SEALING)
            .map_err(|e| ExecError::Copy(e.into()))?;
        let mut file = fs::File::from(fd);
        file.write_all(contents).map_err(ExecError::Copy)?;
        let fd = std::os::fd::OwnedFd::from(file);
        let path = PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()));
        Ok(ConfigCopy::InMemory { fd, path })
    }

    /// What the copy holds now, after the program (an editor) is gone. An in-memory copy is
    /// sealed first against any further change, so that nothing the editor left running can
    /// change what is read.
    pub fn read_back(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, ExecError> {
        use std::io::{Read as _, Seek as _};
        let mut file = match self {
            #[cfg(target_os = "linux")]
            ConfigCopy::InMemory { fd, .. } => {
                use rustix::fs::{SealFlags, fcntl_add_seals};
                // Sealing fails only while someone maps it writable; what is read is read then.
                let _ = fcntl_add_seals(
                    fd,
                    SealFlags::WRITE | SealFlags::GROW | SealFlags::SHRINK | SealFlags::SEAL,
                );
                fs::File::from(fd.try_clone().map_err(ExecError::Copy)?)
            }
            ConfigCopy::PrivateFile(copy) => fs::File::open(&copy.path).map_err(ExecError::Copy)?,
        };
        file.rewind().map_err(ExecError::Copy)?;
        let mut contents = zeroize::Zeroizing::new(Vec::new());
        file.read_to_end(&mut contents).map_err(ExecError::Copy)?;
        Ok(contents)
    }

    /// A 0600 file in a 0700 folder of its own, in the folder private to the user that
    /// [`crate::private_folder::private_folder`] chooses; refused when that folder is not private.
    pub fn private_file(contents: &[u8]) -> Result<ConfigCopy, ExecError> {
        // Caught before the file exists, so that no signal can end sealctl while it does.
        #[cfg(unix)]
        let signals = crate::launch::catch_fatal_signals()?;
        let (base, passed_over) = crate::private_folder::private_folder()?;
        // A run's folder is named after its process, so that later runs can tell when it is gone.
        let folder = tempfile::Builder::new()
            .prefix(&crate::private_folder::run_prefix())
            .tempdir_in(base)
            .map_err(ExecError::Copy)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            fs::set_permissions(folder.path(), fs::Permissions::from_mode(0o700))
                .map_err(ExecError::Copy)?;
        }
        let lock = crate::private_folder::lock_run(folder.path()).map_err(ExecError::Copy)?;
        let path = folder.path().join("config.toml");
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(ExecError::Copy)?;
        file.write_all(contents).map_err(ExecError::Copy)?;
        Ok(ConfigCopy::PrivateFile(PrivateCopy {
            folder,
            path,
            passed_over,
            lock,
            #[cfg(unix)]
            signals: Some(signals),
        }))
    }

    /// Why `XDG_RUNTIME_DIR` was not used for a private copy though it was set, if so.
    pub fn runtime_dir_passed_over(&self) -> Option<&str> {
        match self {
            ConfigCopy::PrivateFile(copy) => copy.passed_over.as_deref(),
            #[cfg(target_os = "linux")]
            ConfigCopy::InMemory { .. } => None,
        }
    }

    /// The path the program is given.
    pub fn path(&self) -> &Path {
        match self {
            #[cfg(target_os = "linux")]
            ConfigCopy::InMemory { path, .. } => path,
            ConfigCopy::PrivateFile(copy) => &copy.path,
        }
    }

    /// Whether something must be removed after the program exits (so sealctl cannot simply
    /// replace itself with the program).
    pub fn needs_cleanup(&self) -> bool {
        matches!(self, ConfigCopy::PrivateFile(_))
    }
}

/// A private file holding the copy, in a folder of its own; both removed when this is dropped.
pub struct PrivateCopy {
    /// The run's folder, removed (copy and all) when this is dropped.
    folder: tempfile::TempDir,
    path: PathBuf,
    passed_over: Option<String>,
    /// The run's lock, held until the program (which inherits it) and sealctl are both gone.
    #[cfg_attr(not(unix), allow(dead_code))]
    lock: fs::File,
    /// The signals caught while the copy exists, until the program's supervisor takes them.
    #[cfg(unix)]
    signals: Option<signal_hook::iterator::Signals>,
}

impl PrivateCopy {
    /// Lets the program inherit the run's lock, so that a later run leaves the copy alone while
    /// the program lives on after sealctl was killed outright.
    #[cfg(unix)]
    pub(crate) fn share_lock_with_program(&self) -> std::io::Result<()> {
        rustix::io::fcntl_setfd(&self.lock, rustix::io::FdFlags::empty()).map_err(Into::into)
    }

    /// The signals, given back by the program's supervisor: caught until the copy is gone.
    #[cfg(unix)]
    pub(crate) fn give_back_signals(&mut self, signals: signal_hook::iterator::Signals) {
        self.signals = Some(signals);
    }

    /// The signals caught since the copy was made, for the program's supervisor.
    #[cfg(unix)]
    pub(crate) fn take_signals(&mut self) -> Option<signal_hook::iterator::Signals> {
        self.signals.take()
    }
}

impl std::fmt::Debug for PrivateCopy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateCopy")
            .field("folder", &self.folder.path())
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

// Both tests look at what only Unix has: a memfd, or a file's mode.
#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn the_in_memory_copy_is_readable_and_sealed() {
        let copy = ConfigCopy::in_memory(b"[[profile]]\n").unwrap();
        assert_eq!(fs::read(copy.path()).unwrap(), b"[[profile]]\n");
        let mut writer = fs::OpenOptions::new().write(true).open(copy.path());
        if let Ok(file) = writer.as_mut() {
            assert!(file.write_all(b"x").is_err(), "sealed against writes");
        }
        assert!(!copy.needs_cleanup());
    }

    #[test]
    fn the_private_file_is_private_and_removed() {
        use std::os::unix::fs::PermissionsExt as _;
        let copy = ConfigCopy::private_file(b"x").unwrap();
        let path = copy.path().to_owned();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
        drop(copy);
        assert!(!path.exists() && !path.parent().unwrap().exists());
    }
}
