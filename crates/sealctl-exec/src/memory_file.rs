//! Sealed in-memory files (Linux `memfd_create`): the one way a plaintext reaches a program by
//! path without touching any disk. Used for the config copy and for `--file` tokens.

use std::io::Write as _;
use std::os::fd::{AsRawFd as _, OwnedFd};
use std::path::PathBuf;

use rustix::fs::{MemfdFlags, SealFlags, fcntl_add_seals, memfd_create};

/// An anonymous in-memory file named `name` (as `/proc/self/fd/N` links show it) holding
/// `contents`, sealed against any write, growth or shrinking and against new seals being
/// removed or added; left open across `exec` (no close-on-exec) so that the program inherits
/// it. Returns it with the path `/proc/self/fd/N` the program reads it by.
pub(crate) fn sealed(name: &str, contents: &[u8]) -> std::io::Result<(OwnedFd, PathBuf)> {
    // No MFD_CLOEXEC: the program must inherit it across exec.
    let fd = memfd_create(name, MemfdFlags::ALLOW_SEALING)?;
    let mut file = std::fs::File::from(fd);
    file.write_all(contents)?;
    let fd = OwnedFd::from(file);
    fcntl_add_seals(
        &fd,
        SealFlags::WRITE | SealFlags::GROW | SealFlags::SHRINK | SealFlags::SEAL,
    )?;
    let path = PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()));
    Ok((fd, path))
}
