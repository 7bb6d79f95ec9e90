//! The folder, private to the user, that private copies of the config live in, and the removal of
//! copies that runs killed outright (SIGKILL, a crash) left there.
//!
//! Each run keeps its copy in a folder of its own, `sealctl-run-PID-START-…`: PID is sealctl's
//! process id and START when that process started (Linux; 0 elsewhere), so that a later process
//! given the same id is not taken for the run. Beside the copy, a `lock` file is locked (`flock`)
//! by sealctl from the start, and the lock is inherited by the program: it is held as long as
//! sealctl, the program or anything the program started with it lives, and the system drops it
//! when the last of them ends, however it ends. A run's folder is removed by a later run only
//! when its sealctl is gone and its lock is free: a live run's copy is never removed, and a
//! reused process id can only delay the removal, never hasten it.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::ExecError;

/// How the name of a run's folder starts (`XDG_RUNTIME_DIR` holds other programs' files too).
const RUN_PREFIX: &str = "sealctl-run-";

/// The file, in a run's folder, locked for as long as the run's processes live.
const LOCK_FILE: &str = "lock";

/// The folder private copies go in, created if needed and checked to be private to this user:
/// `XDG_RUNTIME_DIR` itself when it is a folder of the user's own that no one else can write to
/// (systemd makes it 0700), else `sealctl-UID` in the temporary folder (`TMPDIR`, else
/// `/dev/shm` where it exists, which is in memory, else `/tmp`). Also says why
/// `XDG_RUNTIME_DIR` was passed over, when it was set but is not private.
pub fn private_folder() -> Result<(PathBuf, Option<String>), ExecError> {
    let (folder, passed_over) = where_copies_go();
    match fs::symlink_metadata(&folder) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            #[cfg_attr(not(unix), allow(unused_mut))]
            let mut builder = fs::DirBuilder::new();
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            // Made by someone else in the meantime: it is checked below like any other.
            if let Err(error) = builder.create(&folder)
                && error.kind() != std::io::ErrorKind::AlreadyExists
            {
                return Err(ExecError::Copy(error));
            }
        }
        Err(error) => return Err(ExecError::Copy(error)),
        Ok(_) => {}
    }
    not_private(&folder).map_or(Ok(()), |why| {
        Err(ExecError::NotPrivate {
            folder: folder.clone(),
            why,
        })
    })?;
    Ok((folder, passed_over))
}

/// The folder [`private_folder`] would use, and why `XDG_RUNTIME_DIR` was passed over.
fn where_copies_go() -> (PathBuf, Option<String>) {
    let runtime = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute());
    let passed_over = match &runtime {
        Some(dir) => match not_private(dir) {
            None => return (dir.clone(), None),
            Some(why) => Some(format!("XDG_RUNTIME_DIR ({}) {why}", dir.display())),
        },
        None => None,
    };
    let temporary = if std::env::var_os("TMPDIR").is_some() {
        std::env::temp_dir()
    } else if Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    (
        temporary.join(format!("sealctl-{}", user_id())),
        passed_over,
    )
}

#[cfg(unix)]
fn user_id() -> u32 {
    rustix::process::geteuid().as_raw()
}

#[cfg(not(unix))]
fn user_id() -> u32 {
    0
}

/// Why `folder` is not private to this user (a real folder, the user's own, that no one else
/// can write to), or `None` when it is.
fn not_private(folder: &Path) -> Option<String> {
    let metadata = match fs::symlink_metadata(folder) {
        Ok(metadata) => metadata,
        Err(error) => return Some(format!("cannot be read ({error})")),
    };
    if metadata.file_type().is_symlink() {
        return Some("is a symbolic link".to_owned());
    }
    if !metadata.is_dir() {
        return Some("is not a folder".to_owned());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        if metadata.uid() != user_id() {
            return Some(format!(
                "belongs to user {}, not to you (user {})",
                metadata.uid(),
                user_id()
            ));
        }
        // Others may list it, but not change it: each copy is in a 0700 folder of its own, and
        // no one else can swap, remove or plant anything beside it.
        if metadata.mode() & 0o022 != 0 {
            return Some(format!(
                "can be written by others (mode {:04o}; 0700 is private)",
                metadata.mode() & 0o7777
            ));
        }
    }
    None
}

/// The name of a new run's folder: `sealctl-run-PID-START-`, completed with random letters.
pub fn run_prefix() -> String {
    let pid = std::process::id();
    format!("{RUN_PREFIX}{pid}-{}-", start_time(pid).unwrap_or(0))
}

/// Creates and locks the lock file of a new run's folder; the lock lasts while the returned file
/// (or a copy of it that a program inherited) is open.
pub fn lock_run(run: &Path) -> std::io::Result<fs::File> {
    let file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(run.join(LOCK_FILE))?;
    #[cfg(unix)]
    rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive)?;
    Ok(file)
}

/// Whether the lock of a run's folder is free (no process holds it), so that the folder may go.
/// Locks it when it is, so that no other run can take it meanwhile.
fn lock_is_free(run: &Path) -> bool {
    match fs::File::open(run.join(LOCK_FILE)) {
        #[cfg(unix)]
        Ok(file) => {
            rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_ok()
        }
        // No flock here: the lock cannot be told free, so the copy stays.
        #[cfg(not(unix))]
        Ok(_) => false,
        // sealctl died before it made the lock: nothing can hold it.
        Err(error) => error.kind() == std::io::ErrorKind::NotFound,
    }
}

/// Removes the folders of runs whose sealctl and program are both gone, from the folder
/// [`private_folder`] uses (if it exists and is private; nothing is created). Returns how many.
pub fn remove_left_copies() -> usize {
    let (folder, _) = where_copies_go();
    if not_private(&folder).is_some() {
        return 0;
    }
    remove_left_copies_in(&folder)
}

fn remove_left_copies_in(folder: &Path) -> usize {
    let Ok(entries) = fs::read_dir(folder) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(owner) = name.to_str().and_then(parse_run) else {
            continue;
        };
        let path = entry.path();
        // Only folders sealctl made; remove_dir_all does not follow links inside.
        if !fs::symlink_metadata(&path).is_ok_and(|metadata| metadata.is_dir()) {
            continue;
        }
        // A live sealctl may not have made its lock yet; its lock covers its program.
        if is_running(owner) || !lock_is_free(&path) {
            continue;
        }
        if fs::remove_dir_all(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// A process id and when that process started (0: not known).
type Process = (u32, u64);

/// The sealctl process of a run folder's name `sealctl-run-PID-START-RANDOM`.
fn parse_run(name: &str) -> Option<Process> {
    let mut parts = name.strip_prefix(RUN_PREFIX)?.splitn(3, '-');
    let pid = parts.next()?.parse().ok()?;
    let start = parts.next()?.parse().ok()?;
    parts.next()?;
    Some((pid, start))
}

/// Whether a process is still running: its id exists, is not a zombie and (where known) started
/// when it did. When in doubt, it is taken as running.
#[cfg(unix)]
fn is_running((pid, start): Process) -> bool {
    let Ok(raw) = i32::try_from(pid) else {
        return true;
    };
    let Some(pid_of) = rustix::process::Pid::from_raw(raw) else {
        return true;
    };
    if rustix::process::test_kill_process(pid_of) == Err(rustix::io::Errno::SRCH) {
        return false;
    }
    match stat(pid) {
        Some((state, now)) => state != 'Z' && (start == 0 || now == start),
        None => true,
    }
}

/// Where processes cannot be asked about, every run is taken as running.
#[cfg(not(unix))]
fn is_running(_: Process) -> bool {
    true
}

/// When process `pid` started, in clock ticks since boot (Linux).
fn start_time(pid: u32) -> Option<u64> {
    stat(pid).map(|(_, start)| start)
}

/// The state and start time of process `pid`, from `/proc/PID/stat` (Linux only).
fn stat(pid: u32) -> Option<(char, u64)> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (2nd field) may hold spaces and parentheses: fields follow the last `)`.
    let mut fields = text.get(text.rfind(')')? + 1..)?.split_whitespace();
    let state = fields.next()?.chars().next()?;
    // starttime is field 22; the state was field 3.
    let start = fields.nth(18)?.parse().ok()?;
    Some((state, start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_runs_whose_processes_are_gone_are_removed() {
        let folder = tempfile::tempdir().unwrap();
        let me = std::process::id();
        let my_start = start_time(me).unwrap_or(0);
        // A process that has exited and been waited for: its id is free.
        let mut gone = std::process::Command::new("true").spawn().unwrap();
        let gone_pid = gone.id();
        gone.wait().unwrap();
        let make = |name: &str| {
            let path = folder.path().join(name);
            fs::create_dir(&path).unwrap();
            fs::write(path.join("config.toml"), "x").unwrap();
            path
        };
        let live = make(&format!("sealctl-run-{me}-{my_start}-a"));
        let _live_lock = lock_run(&live).unwrap();
        let dead = make(&format!("sealctl-run-{gone_pid}-0-b"));
        drop(lock_run(&dead).unwrap());
        let dead_before_its_lock = make(&format!("sealctl-run-{gone_pid}-0-c"));
        // sealctl gone, but the lock held (by a program that inherited it): kept.
        let dead_but_program_lives = make(&format!("sealctl-run-{gone_pid}-0-d"));
        let _program_lock = lock_run(&dead_but_program_lives).unwrap();
        let unknown = make("not-a-run");
        let mut removed = vec![dead, dead_before_its_lock];
        let mut kept = vec![live, dead_but_program_lives, unknown];
        // The id reused by a later process (this one): told apart by its start time (Linux).
        if my_start != 0 {
            let reused = make(&format!("sealctl-run-{me}-{}-e", my_start + 1));
            removed.push(reused);
        } else {
            kept.push(make(&format!("sealctl-run-{me}-1-e")));
        }
        assert_eq!(remove_left_copies_in(folder.path()), removed.len());
        for path in removed {
            assert!(!path.exists(), "{} was left", path.display());
        }
        for path in kept {
            assert!(path.exists(), "{} was removed", path.display());
        }
    }

    #[test]
    fn names_are_read_strictly() {
        assert_eq!(parse_run("sealctl-run-12-34-xyz"), Some((12, 34)));
        assert_eq!(parse_run("sealctl-run-12-34"), None);
        assert_eq!(parse_run("sealctl-run-x-34-a"), None);
        assert_eq!(parse_run("run-12-34-a"), None);
    }

    #[cfg(unix)]
    #[test]
    fn a_folder_is_private_only_if_it_is_a_real_folder_of_ones_own_no_one_else_can_write() {
        use std::os::unix::fs::PermissionsExt as _;
        let scratch = tempfile::tempdir().unwrap();
        let folder = scratch.path().join("f");
        fs::create_dir(&folder).unwrap();
        fs::set_permissions(&folder, fs::Permissions::from_mode(0o700)).unwrap();
        assert_eq!(not_private(&folder), None);
        // Others may look, not write: each copy has a 0700 folder of its own inside.
        fs::set_permissions(&folder, fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(not_private(&folder), None);
        for mode in [0o775, 0o757, 0o777, 0o1777] {
            fs::set_permissions(&folder, fs::Permissions::from_mode(mode)).unwrap();
            assert!(
                not_private(&folder)
                    .unwrap()
                    .contains(&format!("mode {mode:04o}")),
                "{mode:o}"
            );
        }
        fs::set_permissions(&folder, fs::Permissions::from_mode(0o700)).unwrap();
        let link = scratch.path().join("link");
        std::os::unix::fs::symlink(&folder, &link).unwrap();
        assert_eq!(not_private(&link).as_deref(), Some("is a symbolic link"));
        let file = scratch.path().join("file");
        fs::write(&file, "").unwrap();
        assert_eq!(not_private(&file).as_deref(), Some("is not a folder"));
    }
}
