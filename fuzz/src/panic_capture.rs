//! A panic hook that records the message (and location) of the first panic on any thread, so a
//! panic in a thread the target spawned (a channel's reader) is a finding too, and the fuzzer's
//! output is not flooded with backtraces.

use std::sync::{Mutex, Once};

static FIRST: Mutex<Option<String>> = Mutex::new(None);
static INSTALL: Once = Once::new();

/// Installs the hook (once per process); panics outside a fuzz run are still reported.
pub fn install() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let mut first = FIRST.lock().unwrap_or_else(|e| e.into_inner());
            if first.is_none() {
                let at = info.location().map(|l| format!(" at {l}")).unwrap_or_default();
                let msg = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".into());
                *first = Some(format!("{msg}{at}"));
            }
            if std::env::var_os("TESSERA_FUZZ_VERBOSE").is_some() {
                previous(info);
            }
        }));
    });
}

/// Forgets any recorded panic.
pub fn reset() {
    *FIRST.lock().unwrap_or_else(|e| e.into_inner()) = None;
}

/// The recorded panic, if any, and forgets it.
pub fn take() -> Option<String> {
    FIRST.lock().unwrap_or_else(|e| e.into_inner()).take()
}
