//! Fetching a package's source at a ref (git2 clone of its location).
