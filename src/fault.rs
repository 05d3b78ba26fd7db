//! Fault points for crash tests. Built with the `testing` feature (as the tests build the
//! binary), `REGIS_FAULT=<point>` makes the process abort right after that point the first
//! time it is reached (`<point>#<n>`: the n-th time), as a `kill -9` would: no destructors,
//! no cleanup, locks and half-written state left behind. Without the feature (a release
//! build) [`point`] does nothing.

/// Mark a point between two steps of an operation (`publish:stored`, `git:committed`).
pub fn point(name: &str) {
    #[cfg(any(test, feature = "testing"))]
    armed::reached(name);
    #[cfg(not(any(test, feature = "testing")))]
    let _ = name;
}

#[cfg(any(test, feature = "testing"))]
mod armed {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    static REACHED: Mutex<BTreeMap<String, usize>> = Mutex::new(BTreeMap::new());

    pub fn reached(name: &str) {
        let Some(wanted) = std::env::var_os("REGIS_FAULT") else {
            return;
        };
        let wanted = wanted.to_string_lossy();
        let (point, nth) = match wanted.split_once('#') {
            Some((point, n)) => (point, n.parse().unwrap_or(1)),
            None => (&*wanted, 1),
        };
        if point != name {
            return;
        }
        let mut reached = REACHED.lock().unwrap_or_else(|e| e.into_inner());
        let count = reached.entry(name.to_owned()).or_insert(0);
        *count += 1;
        // A test-only line naming the fault point the test chose: nothing untrusted.
        #[allow(clippy::print_stderr)]
        if *count == nth {
            eprintln!("regis: fault point `{name}` reached: aborting (REGIS_FAULT)");
            std::process::abort();
        }
    }
}
