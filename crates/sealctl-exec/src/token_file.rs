//! `--file VAR=KEY`: an opened token handed to the program as a path, for programs that read a
//! token from a file. The file is a sealed in-memory file (Linux), never a file on any disk.

use std::path::Path;

use secrecy::{ExposeSecret as _, SecretString};

use crate::error::ExecError;

/// An opened token in a sealed in-memory file, which the program inherits and reads as
/// `/proc/self/fd/N`. It must live until the program is started; closing it (dropping this)
/// frees the memory once the program has closed its copy too.
pub struct TokenFile {
    #[cfg(target_os = "linux")]
    _fd: std::os::fd::OwnedFd,
    path: std::path::PathBuf,
}

impl TokenFile {
    /// Puts `token` (exactly its bytes, no newline added) in a new sealed in-memory file. On
    /// systems without them, [`ExecError::NoMemoryFile`]: a token is never put in a file on disk.
    pub fn new(token: &SecretString) -> Result<TokenFile, ExecError> {
        #[cfg(target_os = "linux")]
        {
            let (fd, path) =
                crate::memory_file::sealed("sealctl-token", token.expose_secret().as_bytes())
                    .map_err(ExecError::TokenFile)?;
            Ok(TokenFile { _fd: fd, path })
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = token.expose_secret();
            Err(ExecError::NoMemoryFile)
        }
    }

    /// `/proc/self/fd/N`, as the program sees it.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl std::fmt::Debug for TokenFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenFile")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::io::Write as _;

    #[test]
    fn the_token_file_reads_back_and_refuses_writes() {
        let file = TokenFile::new(&SecretString::from("apiv3_x")).unwrap();
        assert_eq!(std::fs::read(file.path()).unwrap(), b"apiv3_x");
        // Opening for writing may already be refused; if not, the write is.
        if let Ok(mut writer) = std::fs::OpenOptions::new().write(true).open(file.path()) {
            assert!(writer.write_all(b"y").is_err(), "sealed against writes");
            assert!(writer.set_len(0).is_err(), "sealed against shrinking");
        }
        let target = std::fs::read_link(file.path()).unwrap();
        assert!(
            target.to_string_lossy().starts_with("/memfd:sealctl-token"),
            "{target:?}"
        );
    }
}
