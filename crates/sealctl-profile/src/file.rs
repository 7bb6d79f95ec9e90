//! The profile file on disk: how large a file sealctl reads, which file a path names once its
//! symbolic links are followed, and whether that file may be written.
//!
//! Every command that reads a profile file reads it through [`read_limited`], and every command
//! that writes one writes the file [`resolve_links`] finds, so that a dotfiles link
//! (`~/.config/influxctl/config.toml -> ~/dotfiles/influx.toml`) stays a link and its target is
//! what changes.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::error::ProfileError;

/// The largest profile file sealctl reads, from a file or from standard input. Profile files are
/// a few kilobytes; anything this large is not one, and reading it whole would only waste memory.
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// How many symbolic links a path may lead through, as Linux allows (`ELOOP` past 40).
const MAX_LINKS: usize = 40;

/// A file over [`MAX_FILE_BYTES`]: the one message every command gives for it.
#[derive(Debug, thiserror::Error)]
#[error("it is {}, too large to be a profile file (sealctl reads profile files up to {} MiB)", size_in_words(*.size), MAX_FILE_BYTES / 1024 / 1024)]
pub struct TooLarge {
    /// The size, when known (a pipe is refused as soon as it passes the limit).
    pub size: Option<u64>,
}

fn size_in_words(size: Option<u64>) -> String {
    match size {
        Some(size) if size >= 1024 * 1024 * 1024 => {
            format!("{:.1} GiB", size as f64 / 1024.0 / 1024.0 / 1024.0)
        }
        Some(size) => format!("{:.1} MiB", size as f64 / 1024.0 / 1024.0),
        None => format!("over {} MiB", MAX_FILE_BYTES / 1024 / 1024),
    }
}

/// An I/O error saying the input is over the limit, with [`TooLarge`] as its message.
pub fn too_large(size: Option<u64>) -> io::Error {
    io::Error::new(io::ErrorKind::FileTooLarge, TooLarge { size })
}

/// Refuses a file whose size (from its metadata) is over [`MAX_FILE_BYTES`], before reading it.
pub fn check_size(metadata: &fs::Metadata) -> io::Result<()> {
    if metadata.len() > MAX_FILE_BYTES {
        return Err(too_large(Some(metadata.len())));
    }
    Ok(())
}

/// Reads `reader` whole, up to [`MAX_FILE_BYTES`]: a larger input is refused once the limit is
/// passed, so that memory stays bounded whatever is behind it (a pipe, a device, stdin).
pub fn read_to_limit(reader: impl Read) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(None));
    }
    Ok(bytes)
}

/// Reads the profile file at `path` (following links), refusing a folder and a file over
/// [`MAX_FILE_BYTES`] without reading it.
pub fn read_limited(path: &Path) -> Result<Vec<u8>, ProfileError> {
    let read_error = |source| ProfileError::Read {
        path: path.to_owned(),
        source,
    };
    let file = fs::File::open(path).map_err(read_error)?;
    let metadata = file.metadata().map_err(read_error)?;
    if metadata.is_dir() {
        return Err(read_error(io::Error::new(
            io::ErrorKind::IsADirectory,
            "it is a directory, not a profile file",
        )));
    }
    check_size(&metadata).map_err(read_error)?;
    read_to_limit(file).map_err(read_error)
}

/// The file `path` names once every symbolic link is followed: the file that is locked and
/// replaced when a profile file is saved. A relative link is read against the link's own folder,
/// and a chain of links is followed to its end. A link whose target does not exist yet resolves
/// to that target, where a new file is then written (as editors do); a loop of links is an error.
pub fn resolve_links(path: &Path) -> Result<PathBuf, ProfileError> {
    let mut current = path.to_owned();
    for _ in 0..=MAX_LINKS {
        match fs::symlink_metadata(&current) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                let target = fs::read_link(&current).map_err(|source| ProfileError::Read {
                    path: current.clone(),
                    source,
                })?;
                // Joined, not normalised: `..` after a linked folder is the kernel's to resolve.
                current = match current.parent() {
                    Some(folder) if target.is_relative() => folder.join(target),
                    _ => target,
                };
            }
            Ok(_) => return Ok(current),
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(current),
            Err(source) => {
                return Err(ProfileError::Read {
                    path: current,
                    source,
                });
            }
        }
    }
    Err(ProfileError::LinkLoop {
        path: path.to_owned(),
    })
}

/// Whether sealctl may write `metadata`'s file without being told to: like vim, a file is
/// read-only when its mode grants nobody write permission, or when this user may not write it.
pub fn is_read_only(path: &Path, metadata: &fs::Metadata) -> bool {
    metadata.permissions().readonly() || !may_write(path)
}

#[cfg(target_os = "linux")]
fn may_write(path: &Path) -> bool {
    // Only a refusal for this user counts: a read-only file system is a failure to write, which
    // saving reports with its own advice.
    !matches!(
        rustix::fs::access(path, rustix::fs::Access::WRITE_OK),
        Err(rustix::io::Errno::ACCESS | rustix::io::Errno::PERM)
    )
}

#[cfg(not(target_os = "linux"))]
fn may_write(_path: &Path) -> bool {
    // The mode (or the read-only attribute) is all that is checked here.
    true
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn links_resolve_through_chains_relative_to_their_folder() {
        let folder = tempfile::tempdir().unwrap();
        let root = folder.path();
        fs::create_dir_all(root.join("dotfiles/influx")).unwrap();
        fs::create_dir_all(root.join("config")).unwrap();
        fs::write(root.join("dotfiles/influx/real.toml"), "").unwrap();
        std::os::unix::fs::symlink("influx/real.toml", root.join("dotfiles/middle.toml")).unwrap();
        std::os::unix::fs::symlink("../dotfiles/middle.toml", root.join("config/config.toml"))
            .unwrap();
        let resolved = resolve_links(&root.join("config/config.toml")).unwrap();
        assert_eq!(
            fs::canonicalize(&resolved).unwrap(),
            fs::canonicalize(root.join("dotfiles/influx/real.toml")).unwrap()
        );
        assert!(!fs::symlink_metadata(&resolved).unwrap().is_symlink());
        // A plain file is itself; a missing one is where it would be made.
        let plain = root.join("dotfiles/influx/real.toml");
        assert_eq!(resolve_links(&plain).unwrap(), plain);
        std::os::unix::fs::symlink("nowhere/new.toml", root.join("dangling.toml")).unwrap();
        assert_eq!(
            resolve_links(&root.join("dangling.toml")).unwrap(),
            root.join("nowhere/new.toml")
        );
    }

    #[test]
    fn a_loop_of_links_is_an_error_naming_the_path() {
        let folder = tempfile::tempdir().unwrap();
        let a = folder.path().join("a.toml");
        let b = folder.path().join("b.toml");
        std::os::unix::fs::symlink(&b, &a).unwrap();
        std::os::unix::fs::symlink(&a, &b).unwrap();
        let error = resolve_links(&a).unwrap_err();
        assert!(matches!(error, ProfileError::LinkLoop { .. }), "{error}");
        assert!(error.to_string().contains("a.toml"), "{error}");
    }

    #[test]
    fn large_inputs_are_refused_with_one_message() {
        let over = vec![b'#'; MAX_FILE_BYTES as usize + 1];
        let error = read_to_limit(&over[..]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "it is over 10 MiB, too large to be a profile file (sealctl reads profile files up to 10 MiB)"
        );
        assert_eq!(
            read_to_limit(&over[1..]).unwrap().len(),
            MAX_FILE_BYTES as usize
        );
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("huge.toml");
        fs::File::create(&path)
            .unwrap()
            .set_len(1024 * 1024 * 1024)
            .unwrap();
        let error = read_limited(&path).unwrap_err();
        let ProfileError::Read { source, .. } = &error else {
            panic!("{error}")
        };
        assert_eq!(
            source.to_string(),
            "it is 1.0 GiB, too large to be a profile file (sealctl reads profile files up to 10 MiB)"
        );
    }
}
