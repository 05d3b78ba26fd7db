//! The PureScript Registry's lenient reading of legacy versions and ranges (pure), as
//! `App/Legacy/LenientVersion.purs` and `App/Legacy/LenientRange.purs` in
//! `purescript/registry-dev` do it: `bower.json` ranges such as `^6.0.0`, `~1.2`,
//! `>1.1.0 <=2.0.0` or `1.0.0` become the registry's `>=A.B.C <X.Y.Z`, and versions lose a
//! `v` prefix, spaces and leading zeros.
//!
//! Ranges go first through npm's own range grammar (`semver.validRange` there, the
//! `node-semver` crate here: both turn `^`, `~`, `x`, hyphen ranges and `||` into plain
//! comparators), then through the registry's four fixes, then its strict parser. Like the
//! real code, only the first comparator set of a `||` range is kept, and prerelease tags
//! are dropped.

use crate::schema::{Range, Version};

/// A version as the registry reads a legacy one: spaces trimmed, a `v` prefix dropped and
/// leading zeros removed from each number (`v01.2.03` is `1.2.3`).
///
/// ```
/// use regis::manifest::lenient;
/// assert_eq!(lenient::version(" v01.2.03 ").unwrap().to_string(), "1.2.3");
/// assert!(lenient::version("1.2").is_err());
/// ```
pub fn version(input: &str) -> Result<Version, String> {
    let trimmed = input.trim();
    let unprefixed = trimmed.strip_prefix('v').unwrap_or(trimmed);
    let converted: Vec<String> = unprefixed.split('.').map(drop_leading_zeros).collect();
    Version::parse(&converted.join(".")).map_err(|e| e.to_string())
}

/// A range as the registry reads a legacy one (see the module documentation).
///
/// ```
/// use regis::manifest::lenient;
/// let read = |s| lenient::range(s).unwrap().to_string();
/// assert_eq!(read("^6.0.0"), ">=6.0.0 <7.0.0");
/// assert_eq!(read("~1.2"), ">=1.2.0 <1.3.0");
/// assert_eq!(read(">1.1.0 <=2.0.0"), ">=1.1.1 <2.0.1");
/// assert_eq!(read("1.0.0"), ">=1.0.0 <1.0.1");
/// assert_eq!(read("<1.0.0"), ">=0.0.0 <1.0.0");
/// assert!(lenient::range("*").is_err());
/// ```
pub fn range(input: &str) -> Result<Range, String> {
    if ["", "*", "x", "X", "latest"].contains(&input.trim()) {
        return Err("it allows every version, and the registry needs bounds".to_owned());
    }
    let converted = convert_range(input);
    let rest = converted
        .strip_prefix(">=")
        .ok_or("ranges must begin with `>=`")?;
    let (lower, rest) = rest
        .split_once(' ')
        .ok_or("expected an upper bound `<X.Y.Z` after the lower bound")?;
    let lower = version_prefix(lower)?;
    let rest = rest.strip_prefix('<').ok_or("ranges must end with `<`")?;
    let upper = version_prefix(rest)?;
    // Dropping prerelease tags can make `>=1.0.0-rc.1 <1.0.0-rc.5` empty: the real code
    // widens it to the one version.
    let upper = if lower == upper {
        bump_patch(&upper)
    } else {
        upper
    };
    Range::new(lower, upper).map_err(|e| e.to_string())
}

/// `version` with the patch number one higher.
pub fn bump_patch(v: &Version) -> Version {
    Version::new(v.major(), v.minor(), v.patch().saturating_add(1))
}

/// The range holding exactly `v`: `>=v <v+patch` (`Range.exact`).
pub fn exact(v: &Version) -> Range {
    Range::new(v.clone(), bump_patch(v)).expect("a bumped patch is above the version")
}

/// npm's reading of `input` as plain comparators, then the registry's fixes; `input`
/// unchanged where npm's grammar refuses it.
fn convert_range(input: &str) -> String {
    // node-semver 2.2 panics (`unreachable!`) on some ranges it parses, `~x` among them
    // (found by the `schema` fuzz target): a package's bower.json must be refused, not
    // abort the job.
    let parsed = std::panic::catch_unwind(|| input.parse::<node_semver::Range>());
    let Ok(Ok(npm)) = parsed else {
        return input.to_owned();
    };
    let mut s = npm.to_string();
    for fix in [fix_gt_lower, fix_le_upper, fix_upper_only, fix_exact] {
        if let Some(fixed) = fix(&s) {
            s = fixed;
        }
    }
    s
}

/// `>1.1.0 <2.0.0` → `>=1.1.1 <2.0.0`.
fn fix_gt_lower(s: &str) -> Option<String> {
    let rest = s.strip_prefix('>')?;
    if rest.starts_with('=') {
        return None;
    }
    let (lower, suffix) = rest.split_once(' ')?;
    let lower = version_prefix(lower).ok()?;
    Some(format!(">={} {suffix}", bump_patch(&lower)))
}

/// `>=1.0.0 <=2.0.0` → `>=1.0.0 <2.0.1`.
fn fix_le_upper(s: &str) -> Option<String> {
    let (lower, rest) = s.strip_prefix(">=")?.split_once(' ')?;
    let lower = version_prefix(lower).ok()?;
    let upper = version_prefix(rest.strip_prefix("<=")?).ok()?;
    Some(format!(">={lower} <{}", bump_patch(&upper)))
}

/// `<1.0.0` → `>=0.0.0 <1.0.0`, `<=0.1.1` → `>=0.0.0 <0.1.2`.
fn fix_upper_only(s: &str) -> Option<String> {
    let rest = s.strip_prefix('<')?;
    let (inclusive, rest) = match rest.strip_prefix('=') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let upper = version_prefix(rest).ok()?;
    let upper = if inclusive { bump_patch(&upper) } else { upper };
    Some(format!(">=0.0.0 <{upper}"))
}

/// `1.0.0` → `>=1.0.0 <1.0.1`.
fn fix_exact(s: &str) -> Option<String> {
    let v = version(s).ok()?;
    Some(format!(">={v} <{}", bump_patch(&v)))
}

/// The version at the start of `s`: its letters, digits and dots, read leniently (what
/// follows, such as a prerelease tag or another comparator, is ignored).
fn version_prefix(s: &str) -> Result<Version, String> {
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '.'))
        .unwrap_or(s.len());
    version(&s[..end])
}

/// `007` → `7`; a part that is not a 32-bit integer is kept as it is (PureScript's
/// `Int.fromString`).
fn drop_leading_zeros(part: &str) -> String {
    let digits = part.strip_prefix(['+', '-']).unwrap_or(part);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return part.to_owned();
    }
    match part.parse::<i32>() {
        Ok(n) => n.to_string(),
        Err(_) => part.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// node-semver panicked on these (found by the `schema` fuzz target); they are refused.
    #[test]
    fn ranges_node_semver_panics_on_are_refused() {
        for input in ["~x", "~ x", "~       x "] {
            assert!(range(input).is_err(), "{input}");
        }
    }

    /// The cases `LenientRange`'s own tests and comments name, and what real `bower.json`
    /// files hold (`purescript-*` core libraries use `^X.Y.Z`).
    #[test]
    fn legacy_ranges_read_as_the_registry_reads_them() {
        let cases = [
            "^6.0.0",
            "^0.1.2",
            "~1.2",
            "~1.2.3",
            "1.x",
            "1",
            ">=1.0.0 <2.0.0",
            ">= 1.0.0 < 2.0.0",
            ">1.1.0 <2.0.0",
            ">=1.0.0 <=2.0.0",
            "<1.0.0",
            "<=0.1.1",
            "1.0.0",
            "v1.0.0",
            "=1.2.3",
            "1.0.0 - 2.0.0",
            "^1.0.0 || ^2.0.0",
            "^1.0.0-rc.1",
            ">=1.0.0-rc.1 <1.0.0-rc.5",
            "^v2.0.0",
            "*",
            "",
            "latest",
            "owner/repo#v1.0.0",
            ">=2.0.0 <1.0.0",
        ];
        let lines: Vec<String> = cases
            .iter()
            .map(|c| match range(c) {
                Ok(r) => format!("{c:?} → {r}"),
                Err(e) => format!("{c:?} ✗ {e}"),
            })
            .collect();
        insta::assert_snapshot!(lines.join("\n"), @r#"
            "^6.0.0" → >=6.0.0 <7.0.0
            "^0.1.2" → >=0.1.2 <0.2.0
            "~1.2" → >=1.2.0 <1.3.0
            "~1.2.3" → >=1.2.3 <1.3.0
            "1.x" → >=1.0.0 <2.0.0
            "1" → >=1.0.0 <2.0.0
            ">=1.0.0 <2.0.0" → >=1.0.0 <2.0.0
            ">= 1.0.0 < 2.0.0" → >=1.0.0 <2.0.0
            ">1.1.0 <2.0.0" → >=1.1.1 <2.0.0
            ">=1.0.0 <=2.0.0" → >=1.0.0 <2.0.1
            "<1.0.0" → >=0.0.0 <1.0.0
            "<=0.1.1" → >=0.0.0 <0.1.2
            "1.0.0" → >=1.0.0 <1.0.1
            "v1.0.0" → >=1.0.0 <1.0.1
            "=1.2.3" → >=1.2.3 <1.2.4
            "1.0.0 - 2.0.0" → >=1.0.0 <2.0.1
            "^1.0.0 || ^2.0.0" → >=1.0.0 <2.0.0
            "^1.0.0-rc.1" → >=1.0.0 <2.0.0
            ">=1.0.0-rc.1 <1.0.0-rc.5" → >=1.0.0 <1.0.1
            "^v2.0.0" → >=2.0.0 <3.0.0
            "*" ✗ it allows every version, and the registry needs bounds
            "" ✗ it allows every version, and the registry needs bounds
            "latest" ✗ it allows every version, and the registry needs bounds
            "owner/repo#v1.0.0" ✗ ranges must begin with `>=`
            ">=2.0.0 <1.0.0" ✗ expected an upper bound `<X.Y.Z` after the lower bound
        "#);
    }

    #[test]
    fn legacy_versions() {
        for (input, expected) in [
            ("1.2.3", Some("1.2.3")),
            ("v1.2.3", Some("1.2.3")),
            (" 01.002.0003 ", Some("1.2.3")),
            ("1.2", None),
            ("1.2.3-rc.1", None),
            ("vv1.2.3", None),
        ] {
            assert_eq!(
                version(input).ok().map(|v| v.to_string()).as_deref(),
                expected,
                "{input}"
            );
        }
    }
}
