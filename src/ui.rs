//! What sealctl says on standard error besides its errors: notes of what it did, which `-q`
//! silences, and warnings, which it never does.

use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Silences notes for the rest of the run (`-q`).
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether notes are silenced.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// A note of what was done, on standard error, unless `-q`.
macro_rules! note {
    ($($arg:tt)*) => {
        if !$crate::ui::quiet() {
            eprintln!($($arg)*);
        }
    };
}
