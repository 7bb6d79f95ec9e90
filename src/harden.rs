//! Keeping opened secrets out of core dumps. Before any command runs, sealctl makes itself not
//! dumpable (Linux) and sets its own core file size limit to 0; a crash, or a signal that would
//! dump core, then leaves no copy of a token on disk. The program `exec` starts gets the limit it
//! would have had (the kernel makes it dumpable again when it starts), so it behaves as it would
//! without sealctl. Elsewhere than Unix these do nothing: Windows has no core file size limit.

#[cfg(unix)]
use std::sync::OnceLock;

#[cfg(unix)]
use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// The core file size limit sealctl was started with.
#[cfg(unix)]
static STARTED_WITH: OnceLock<Rlimit> = OnceLock::new();

/// No core dump of this process from now on. Only the soft limit is lowered, so that the program
/// `exec` starts can be given the one sealctl started with.
#[cfg(unix)]
pub fn forbid_core_dumps() {
    let limit = getrlimit(Resource::Core);
    let _ = STARTED_WITH.set(limit);
    // Neither can fail for these values; were one to, the other still stands.
    let _ = setrlimit(
        Resource::Core,
        Rlimit {
            current: Some(0),
            maximum: limit.maximum,
        },
    );
    #[cfg(target_os = "linux")]
    let _ = rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable);
}

/// Gives back the core file size limit sealctl started with, for the program it is about to
/// start. sealctl itself stays not dumpable until it is replaced by, or has started, the program.
#[cfg(unix)]
pub fn core_limit_for_the_program() {
    if let Some(limit) = STARTED_WITH.get() {
        let _ = setrlimit(Resource::Core, *limit);
    }
}

/// Nothing to lower where there is no core file size limit.
#[cfg(not(unix))]
pub fn forbid_core_dumps() {}

/// Nothing to give back where there is no core file size limit.
#[cfg(not(unix))]
pub fn core_limit_for_the_program() {}
