use std::fmt;

use super::{SchemaError, string_type};

/// A version `X.Y.Z`: three non-negative integers below 2^32, no leading zeros, no `v`,
/// no prerelease or build part. Ordered as semver orders them.
///
/// ```
/// use regis::schema::Version;
/// let v: Version = "1.10.0".parse().unwrap();
/// assert!(v > "1.9.3".parse().unwrap());
/// assert!("01.0.0".parse::<Version>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    // field order is the ordering: major, then minor, then patch
    major: u32,
    minor: u32,
    patch: u32,
}

impl Version {
    pub fn parse(s: &str) -> Result<Self, SchemaError> {
        let fail = |reason: String| SchemaError::Version {
            value: s.to_owned(),
            reason,
        };
        // Split without collecting, and by a closure: `'.'`'s searcher costs more than the
        // few bytes of a version (7% of the instructions of `regis check` on the real
        // registry view, which parses a version for every key, compiler and range).
        #[allow(clippy::manual_pattern_char_comparison)]
        let mut split = s.split(|c| c == '.');
        let (Some(major), Some(minor), Some(patch), None) =
            (split.next(), split.next(), split.next(), split.next())
        else {
            return Err(fail(
                "expected three numbers `MAJOR.MINOR.PATCH` separated by `.`".into(),
            ));
        };
        let mut nums = [0u32; 3];
        for (slot, part) in nums.iter_mut().zip([major, minor, patch]) {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(fail(format!(
                    "`{}` is not a number: expected digits only (no `v`, prerelease or build part)",
                    crate::text::value(part)
                )));
            }
            if part.len() > 1 && part.starts_with('0') {
                return Err(fail(format!("`{part}` has a leading zero")));
            }
            *slot = part.parse::<u32>().map_err(|_| {
                fail(format!(
                    "`{part}` is too large: expected a number below 2^32"
                ))
            })?;
        }
        Ok(Version::new(nums[0], nums[1], nums[2]))
    }

    pub fn new(major: u32, minor: u32, patch: u32) -> Self {
        Version {
            major,
            minor,
            patch,
        }
    }

    pub fn major(&self) -> u32 {
        self.major
    }
    pub fn minor(&self) -> u32 {
        self.minor
    }
    pub fn patch(&self) -> u32 {
        self.patch
    }
}

impl Version {
    fn text(&self) -> Text {
        let mut text = Text::default();
        self.push_to(&mut text);
        text
    }

    fn push_to(&self, text: &mut Text) {
        text.push_u32(self.major);
        text.push(".");
        text.push_u32(self.minor);
        text.push(".");
        text.push_u32(self.patch);
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text().as_str())
    }
}

impl serde::Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.text().as_str())
    }
}

/// The text of a version or a range, put together on the stack and written in one piece:
/// `regis check` writes every key, compiler and dependency range of every document it
/// compares with its canonical bytes, and `fmt`'s machinery costs more than the digits
/// (measured: 7% of the instructions of a check of the real registry view).
struct Text {
    bytes: [u8; 72], // `>=` and ` <` around two versions of three 10-digit numbers
    len: usize,
}

impl Default for Text {
    fn default() -> Self {
        Text {
            bytes: [0; 72],
            len: 0,
        }
    }
}

impl Text {
    fn push(&mut self, s: &str) {
        self.bytes[self.len..self.len + s.len()].copy_from_slice(s.as_bytes());
        self.len += s.len();
    }

    fn push_u32(&mut self, n: u32) {
        self.push(itoa::Buffer::new().format(n));
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).expect("pushed as `str`s")
    }
}

string_type!(Version, own Serialize);

/// A version range `>=A.B.C <X.Y.Z` (exactly one space), lower bound inclusive, upper
/// bound exclusive, lower < upper.
///
/// ```
/// use regis::schema::{Range, Version};
/// let r: Range = ">=4.0.0 <5.0.0".parse().unwrap();
/// assert!(r.contains(&"4.2.1".parse::<Version>().unwrap()));
/// assert!(!r.contains(&"5.0.0".parse::<Version>().unwrap()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Range {
    lower: Version,
    upper: Version,
}

impl Range {
    pub fn parse(s: &str) -> Result<Self, SchemaError> {
        let fail = |reason: String| SchemaError::Range {
            value: s.to_owned(),
            reason,
        };
        let expected = "expected `>=A.B.C <X.Y.Z`";
        let (lo, hi) = s
            .strip_prefix(">=")
            .and_then(|rest| rest.split_once(" <"))
            .ok_or_else(|| fail(expected.into()))?;
        let lower = Version::parse(lo).map_err(|e| fail(format!("{expected}: {e}")))?;
        let upper = Version::parse(hi).map_err(|e| fail(format!("{expected}: {e}")))?;
        Range::new(lower, upper).map_err(|_| {
            fail(format!(
                "lower bound `{lo}` is not below upper bound `{hi}`"
            ))
        })
    }

    pub fn new(lower: Version, upper: Version) -> Result<Self, SchemaError> {
        if lower >= upper {
            return Err(SchemaError::Range {
                value: format!(">={lower} <{upper}"),
                reason: format!("lower bound `{lower}` is not below upper bound `{upper}`"),
            });
        }
        Ok(Range { lower, upper })
    }

    /// `>=v <(major+1).0.0`, or `>=0.y.z <0.(y+1).0` for 0.x versions: the usual caret range.
    pub fn caret(v: &Version) -> Range {
        let upper = if v.major() > 0 {
            Version::new(v.major() + 1, 0, 0)
        } else {
            Version::new(0, v.minor() + 1, 0)
        };
        Range::new(v.clone(), upper).expect("caret upper bound is above the version")
    }

    pub fn lower(&self) -> &Version {
        &self.lower
    }
    pub fn upper(&self) -> &Version {
        &self.upper
    }

    pub fn contains(&self, v: &Version) -> bool {
        &self.lower <= v && v < &self.upper
    }
}

impl Range {
    fn text(&self) -> Text {
        let mut text = Text::default();
        text.push(">=");
        self.lower.push_to(&mut text);
        text.push(" <");
        self.upper.push_to(&mut text);
        text
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text().as_str())
    }
}

impl serde::Serialize for Range {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.text().as_str())
    }
}

string_type!(Range, own Serialize);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v(s: &str) -> Version {
        s.parse().unwrap()
    }

    #[test]
    fn versions_parse_and_order_numerically() {
        assert_eq!(v("0.0.0").to_string(), "0.0.0");
        assert!(v("10.0.0") > v("9.9.9"));
        assert!(v("1.2.10") > v("1.2.9"));
        assert_eq!(v("4294967295.0.0").major(), u32::MAX);
        let max = "4294967295.4294967295.4294967295";
        assert_eq!(v(max).to_string(), max);
    }

    #[test]
    fn versions_reject_what_the_format_forbids() {
        for s in [
            "",
            "1",
            "1.0",
            "1.0.0.0",
            "v1.0.0",
            "01.0.0",
            "1.00.0",
            "1.0.0-rc.1",
            "1.0.0+b",
            " 1.0.0",
            "1.0.0 ",
            "1..0",
            "4294967296.0.0",
            "-1.0.0",
            "1.a.0",
        ] {
            assert!(Version::parse(s).is_err(), "{s:?} should be rejected");
        }
    }

    #[test]
    fn version_errors_name_the_problem() {
        let msg = |s: &str| Version::parse(s).unwrap_err().to_string();
        insta::assert_snapshot!(msg("v1.0.0"), @"invalid version `v1.0.0`: `v1` is not a number: expected digits only (no `v`, prerelease or build part)");
        insta::assert_snapshot!(msg("1.0"), @"invalid version `1.0`: expected three numbers `MAJOR.MINOR.PATCH` separated by `.`");
        insta::assert_snapshot!(msg("1.02.0"), @"invalid version `1.02.0`: `02` has a leading zero");
        insta::assert_snapshot!(msg("1.0.4294967296"), @"invalid version `1.0.4294967296`: `4294967296` is too large: expected a number below 2^32");
    }

    #[test]
    fn ranges_parse_exactly() {
        let r = Range::parse(">=1.0.0 <2.0.0").unwrap();
        assert_eq!(r.to_string(), ">=1.0.0 <2.0.0");
        for s in [
            ">=1.0.0  <2.0.0",
            ">= 1.0.0 <2.0.0",
            "^1.0.0",
            ">=1.0.0",
            ">=2.0.0 <2.0.0",
            ">=3.0.0 <2.0.0",
            " >=1.0.0 <2.0.0",
            ">=1.0.0 <2.0.0 ",
            "1.0.0 - 2.0.0",
        ] {
            assert!(Range::parse(s).is_err(), "{s:?} should be rejected");
        }
        insta::assert_snapshot!(Range::parse(">=2.0.0 <1.0.0").unwrap_err().to_string(), @"invalid range `>=2.0.0 <1.0.0`: lower bound `2.0.0` is not below upper bound `1.0.0`");
        insta::assert_snapshot!(Range::parse("^1.0.0").unwrap_err().to_string(), @"invalid range `^1.0.0`: expected `>=A.B.C <X.Y.Z`");
    }

    #[test]
    fn caret_ranges() {
        assert_eq!(Range::caret(&v("4.1.2")).to_string(), ">=4.1.2 <5.0.0");
        assert_eq!(Range::caret(&v("0.3.1")).to_string(), ">=0.3.1 <0.4.0");
    }

    fn arb_version() -> impl Strategy<Value = Version> {
        (0u32..20, 0u32..20, 0u32..20).prop_map(|(a, b, c)| Version::new(a, b, c))
    }

    proptest! {
        #[test]
        fn version_display_parse_roundtrip(a: u32, b: u32, c: u32) {
            let v = Version::new(a, b, c);
            prop_assert_eq!(v.to_string(), format!("{a}.{b}.{c}"));
            // Serialized as its text, a JSON string.
            prop_assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{a}.{b}.{c}\""));
            prop_assert_eq!(Version::parse(&v.to_string()).unwrap(), v);
        }

        #[test]
        fn range_contains_iff_between_bounds(lo in arb_version(), hi in arb_version(), x in arb_version()) {
            prop_assume!(lo < hi);
            let r = Range::new(lo.clone(), hi.clone()).unwrap();
            prop_assert_eq!(r.contains(&x), lo <= x && x < hi);
            prop_assert_eq!(Range::parse(&r.to_string()).unwrap(), r);
        }

        #[test]
        fn version_order_matches_tuple_order(a in arb_version(), b in arb_version()) {
            let key = |v: &Version| (v.major(), v.minor(), v.patch());
            prop_assert_eq!(a.cmp(&b), key(&a).cmp(&key(&b)));
        }
    }
}
