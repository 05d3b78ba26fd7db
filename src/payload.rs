//! Every operation payload, of both eras, and how an issue body becomes one. Pure.
//!
//! Current era: `Publish`, `Authenticated {payload, signature}` carrying a `Transfer`, an
//! `Unpublish`, or (regis's own) a `Yank`, an `Unyank`, a `Deprecate`, an `Alias` or an
//! `Unalias`, and
//! `PackageSetUpdate`. CI era: `Addition` and `Update`, read and turned
//! into a `Publish` whose version comes from the package's manifest.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::schema::{Location, Owner, PackageName, Tag, Timestamp, Version};

/// The longest unpublish or yank reason, and the longest deprecation message, in
/// characters.
pub const MAX_REASON_CHARS: usize = 300;

/// A request to publish one version of a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Publish {
    pub name: PackageName,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub location: Option<Location>,
    #[serde(rename = "ref")]
    pub reference: String,
    /// Always present in the current format; `None` only for CI-era payloads, whose
    /// version is read from the manifest at `ref`.
    #[serde(deserialize_with = "required")]
    pub version: Option<Version>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub compiler: Option<Version>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub resolutions: Option<BTreeMap<PackageName, Version>>,
    /// regis's own: a current owner's (or a trustee's) signature of the owner list the
    /// published manifest sets, over [`owners_text`], which a registry whose
    /// `ownerChanges` is `"signed"` requires when the list changes. The PureScript
    /// Registry's reader ignores the key.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub owners_signature: Option<String>,
    /// regis's own: an owner's signature of the release, over [`release_text`] (the
    /// tarball's hash, which the owner computes with `regis pack`: packing is
    /// deterministic). Once a release of a package carried one, every later release must,
    /// and clients refuse one that does not. The PureScript Registry's reader ignores it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub release_signature: Option<String>,
}

/// The namespace of an `SSH SIGNATURE` block over [`release_text`] (a raw signature has
/// none): fixed, so a client verifies without knowing the registry's configuration.
pub const RELEASE_NAMESPACE: &str = "regis-release";

/// What an owner's signature of a release signs: `regis-release:<name>@<version>:` then
/// the tarball's SHA-256 as metadata writes it. The tarball holds the canonical `purs.json`,
/// so the signature covers the manifest, its owners included.
///
/// ```
/// let hash = regis::schema::Sha256::of(b"tarball");
/// let text = regis::payload::release_text(&"aff".parse().unwrap(), &"2.0.0".parse().unwrap(), &hash);
/// assert_eq!(text, format!("regis-release:aff@2.0.0:{hash}"));
/// ```
pub fn release_text(name: &PackageName, version: &Version, hash: &crate::schema::Sha256) -> String {
    format!("regis-release:{name}@{version}:{hash}")
}

/// What a signature of a publish's new owner list signs: `regis-owners:<name>@<version>:`
/// then the list as compact JSON in the registry's key order (`[]` for none), the very
/// value metadata records. Not JSON, so no payload reader takes it for a request; naming
/// the version, which is published once, so a signature can never be used again for a later
/// publish (an owner removed could otherwise be put back with the signature that once
/// added them).
///
/// ```
/// use regis::schema::Owner;
/// let owner = Owner::from_openssh("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN0qhG2pBVE36/urgalafah4ndzq4pWG4xZ6csRfdgVw me").unwrap();
/// let text = regis::payload::owners_text(&"aff".parse().unwrap(), &"2.0.0".parse().unwrap(), &[owner]);
/// assert_eq!(text, r#"regis-owners:aff@2.0.0:[{"id":"me","keytype":"ssh-ed25519","public":"AAAAC3NzaC1lZDI1NTE5AAAAIN0qhG2pBVE36/urgalafah4ndzq4pWG4xZ6csRfdgVw"}]"#);
/// ```
pub fn owners_text(name: &PackageName, version: &Version, owners: &[Owner]) -> String {
    let list = serde_json::to_string(owners).expect("owners are strings");
    format!("regis-owners:{name}@{version}:{list}")
}

fn required<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Version>, D::Error> {
    Version::deserialize(d).map(Some)
}

/// The CI-era build plan: the compiler and the exact dependency versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BuildPlan {
    pub compiler: Version,
    pub resolutions: BTreeMap<PackageName, Version>,
}

/// CI-era: the first publish of a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Addition {
    pub package_name: PackageName,
    pub new_package_location: Location,
    pub new_ref: String,
    pub build_plan: BuildPlan,
}

/// CI-era: a new version of an existing package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Update {
    pub package_name: PackageName,
    pub update_ref: String,
    pub build_plan: BuildPlan,
}

impl From<Addition> for Publish {
    fn from(a: Addition) -> Publish {
        Publish {
            name: a.package_name,
            location: Some(a.new_package_location),
            reference: a.new_ref,
            version: None,
            compiler: Some(a.build_plan.compiler),
            resolutions: Some(a.build_plan.resolutions),
            owners_signature: None,
            release_signature: None,
        }
    }
}

impl From<Update> for Publish {
    fn from(u: Update) -> Publish {
        Publish {
            name: u.package_name,
            location: None,
            reference: u.update_ref,
            version: None,
            compiler: Some(u.build_plan.compiler),
            resolutions: Some(u.build_plan.resolutions),
            owners_signature: None,
            release_signature: None,
        }
    }
}

/// A signed payload. `payload` is kept as the exact string that was signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authenticated {
    pub payload: String,
    pub signature: String,
}

/// What an authenticated payload asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthenticatedData {
    Transfer(Transfer),
    Unpublish(Unpublish),
    Yank(Yank),
    Unyank(Unyank),
    Deprecate(Deprecate),
    Alias(Alias),
    Unalias(Unalias),
}

impl AuthenticatedData {
    /// `Transfer`, `Unpublish`, …: the shape's name, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            AuthenticatedData::Transfer(_) => "Transfer",
            AuthenticatedData::Unpublish(_) => "Unpublish",
            AuthenticatedData::Yank(_) => "Yank",
            AuthenticatedData::Unyank(_) => "Unyank",
            AuthenticatedData::Deprecate(_) => "Deprecate",
            AuthenticatedData::Alias(_) => "Alias",
            AuthenticatedData::Unalias(_) => "Unalias",
        }
    }

    /// `a Transfer`, `an Unpublish`, …: what a payload is, for messages.
    pub fn describe(&self) -> &'static str {
        match self {
            AuthenticatedData::Transfer(_) => "a Transfer",
            AuthenticatedData::Unpublish(_) => "an Unpublish",
            AuthenticatedData::Yank(_) => "a Yank",
            AuthenticatedData::Unyank(_) => "an Unyank",
            AuthenticatedData::Deprecate(_) => "a Deprecate",
            AuthenticatedData::Alias(_) => "an Alias",
            AuthenticatedData::Unalias(_) => "an Unalias",
        }
    }
}

/// Move a package to a new location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Transfer {
    pub name: PackageName,
    pub new_location: Location,
    /// regis's own, in every signed shape: when the payload was signed (`regis sign` sets
    /// it), so that asking for the same thing twice signs two different texts: a signed
    /// text is carried out once. The PureScript Registry's reader ignores the key.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub signed_at: Option<Timestamp>,
}

/// Take one version down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, try_from = "RawUnpublish")]
pub struct Unpublish {
    pub name: PackageName,
    pub version: Version,
    pub reason: String,
    #[serde(rename = "signedAt", skip_serializing_if = "Option::is_none", default)]
    pub signed_at: Option<Timestamp>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUnpublish {
    name: PackageName,
    version: Version,
    reason: String,
    #[serde(rename = "signedAt", default)]
    signed_at: Option<Timestamp>,
}

impl TryFrom<RawUnpublish> for Unpublish {
    type Error = String;
    fn try_from(r: RawUnpublish) -> Result<Self, String> {
        check_text("reason", &r.reason, "say why the version is unpublished")?;
        Ok(Unpublish {
            name: r.name,
            version: r.version,
            reason: r.reason,
            signed_at: r.signed_at,
        })
    }
}

/// Mark one version as yanked: it stays published and downloadable, and in the package
/// sets that hold it, but the solver no longer picks it unless a build plan pins it, and
/// no package set may take it in.
///
/// The version is under `yank`, not `version`: a payload with `name`, `version` and
/// `reason` is an Unpublish to the PureScript Registry, whose readers ignore keys they do
/// not know, so an owner's signed yank must never carry all three, or it could be replayed
/// there (or to an older regis) as an unpublish of the same version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, try_from = "RawYank")]
pub struct Yank {
    pub name: PackageName,
    pub yank: Version,
    pub reason: String,
    #[serde(rename = "signedAt", skip_serializing_if = "Option::is_none", default)]
    pub signed_at: Option<Timestamp>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawYank {
    name: PackageName,
    yank: Version,
    reason: String,
    #[serde(rename = "signedAt", default)]
    signed_at: Option<Timestamp>,
}

impl TryFrom<RawYank> for Yank {
    type Error = String;
    fn try_from(r: RawYank) -> Result<Self, String> {
        check_text("reason", &r.reason, "say why the version is yanked")?;
        Ok(Yank {
            name: r.name,
            yank: r.yank,
            reason: r.reason,
            signed_at: r.signed_at,
        })
    }
}

/// Take a yank back. A separate payload rather than a flag on `Yank`, as crates.io has
/// `unyank`: a yank by mistake must be reversible, and the signed text then says in its
/// very keys which of the two it asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unyank {
    pub name: PackageName,
    pub unyank: Version,
    #[serde(rename = "signedAt", skip_serializing_if = "Option::is_none", default)]
    pub signed_at: Option<Timestamp>,
}

/// Mark a whole package as deprecated, with a message and optionally the package to use
/// instead; every version stays usable. An empty `message` clears the deprecation (npm's
/// `npm deprecate <pkg> ""` does the same), and then `alternative` must be absent: one
/// payload shape both sets and clears, and a clearing payload says no more than it means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, try_from = "RawDeprecate")]
pub struct Deprecate {
    pub name: PackageName,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub alternative: Option<PackageName>,
    #[serde(rename = "signedAt", skip_serializing_if = "Option::is_none", default)]
    pub signed_at: Option<Timestamp>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeprecate {
    name: PackageName,
    message: String,
    #[serde(default)]
    alternative: Option<PackageName>,
    #[serde(rename = "signedAt", default)]
    signed_at: Option<Timestamp>,
}

impl TryFrom<RawDeprecate> for Deprecate {
    type Error = String;
    fn try_from(r: RawDeprecate) -> Result<Self, String> {
        if r.message.is_empty() {
            if let Some(alternative) = &r.alternative {
                return Err(format!(
                    "`message` is empty, which clears the deprecation, but `alternative` is `{alternative}`: expected no `alternative` when clearing, or a message"
                ));
            }
        } else {
            check_text(
                "message",
                &r.message,
                "say why the package is deprecated, or give `\"\"` to clear the deprecation",
            )?;
        }
        if r.alternative.as_ref() == Some(&r.name) {
            return Err(format!(
                "`alternative` is `{}` itself: expected another package",
                r.name
            ));
        }
        Ok(Deprecate {
            name: r.name,
            message: r.message,
            alternative: r.alternative,
            signed_at: r.signed_at,
        })
    }
}

impl Deprecate {
    /// Whether the payload clears the deprecation (an empty `message`).
    pub fn clears(&self) -> bool {
        self.message.is_empty()
    }
}

/// Point the tag `alias` of a package at one of its published versions (moving it when it
/// points elsewhere), as npm's `dist-tag add`: `NAME@TAG` then names that version.
///
/// No `reason`: with `name` and `version` that would make it an Unpublish to the PureScript
/// Registry, whose reader ignores the keys it does not know (and `deny_unknown_fields`
/// refuses one here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alias {
    pub name: PackageName,
    pub alias: Tag,
    pub version: Version,
    #[serde(rename = "signedAt", skip_serializing_if = "Option::is_none", default)]
    pub signed_at: Option<Timestamp>,
}

/// Remove the tag `unalias` of a package. A separate payload rather than an Alias without
/// a version, as `Unyank` is: the signed text says in its keys which of the two it asks
/// for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unalias {
    pub name: PackageName,
    pub unalias: Tag,
    #[serde(rename = "signedAt", skip_serializing_if = "Option::is_none", default)]
    pub signed_at: Option<Timestamp>,
}

/// A reason or message: at most [`MAX_REASON_CHARS`] characters, not blank (`blank` says
/// what to write instead).
fn check_text(field: &str, text: &str, blank: &str) -> Result<(), String> {
    let n = text.chars().count();
    if n > MAX_REASON_CHARS {
        return Err(format!(
            "`{field}` is {n} characters long: expected at most {MAX_REASON_CHARS}"
        ));
    }
    if text.trim().is_empty() {
        return Err(format!("`{field}` is empty: {blank}"));
    }
    Ok(())
}

impl Authenticated {
    /// Parse the signed inner payload (a `Transfer`, an `Unpublish`, a `Yank`, an `Unyank`,
    /// a `Deprecate`, an `Alias` or an `Unalias`).
    pub fn data(&self) -> Result<AuthenticatedData, PayloadError> {
        AuthenticatedData::parse(&self.payload)
    }
}

impl AuthenticatedData {
    /// Parse a signed payload, telling the shapes apart by their keys: `newLocation` is a
    /// Transfer, `yank` a Yank, `unyank` an Unyank, `message` a Deprecate, `alias` an Alias,
    /// `unalias` an Unalias, then `reason` or `version` an Unpublish (an Alias has a
    /// `version` too, so `alias` is looked for first). A Transfer or an Unpublish has none of
    /// the newer keys (each refuses unknown keys), so each reads as it always did.
    /// `signedAt`, which every shape may carry, decides nothing.
    pub fn parse(text: &str) -> Result<AuthenticatedData, PayloadError> {
        let obj = object(text)?;
        let has = |k: &str| obj.contains_key(k);
        if has("newLocation") {
            from_value(obj, "Transfer").map(AuthenticatedData::Transfer)
        } else if has("yank") {
            from_value(obj, "Yank").map(AuthenticatedData::Yank)
        } else if has("unyank") {
            from_value(obj, "Unyank").map(AuthenticatedData::Unyank)
        } else if has("message") {
            from_value(obj, "Deprecate").map(AuthenticatedData::Deprecate)
        } else if has("alias") {
            from_value(obj, "Alias").map(AuthenticatedData::Alias)
        } else if has("unalias") {
            from_value(obj, "Unalias").map(AuthenticatedData::Unalias)
        } else if has("reason") || has("version") {
            from_value(obj, "Unpublish").map(AuthenticatedData::Unpublish)
        } else {
            Err(PayloadError::UnknownShape {
                keys: keys(&obj),
                expected: SIGNED_SHAPES,
            })
        }
    }

    /// The package the payload is about.
    pub fn name(&self) -> &PackageName {
        match self {
            AuthenticatedData::Transfer(t) => &t.name,
            AuthenticatedData::Unpublish(u) => &u.name,
            AuthenticatedData::Yank(y) => &y.name,
            AuthenticatedData::Unyank(u) => &u.name,
            AuthenticatedData::Deprecate(d) => &d.name,
            AuthenticatedData::Alias(a) => &a.name,
            AuthenticatedData::Unalias(u) => &u.name,
        }
    }

    /// When the payload says it was signed (`signedAt`).
    pub fn signed_at(&self) -> Option<Timestamp> {
        match self {
            AuthenticatedData::Transfer(t) => t.signed_at,
            AuthenticatedData::Unpublish(u) => u.signed_at,
            AuthenticatedData::Yank(y) => y.signed_at,
            AuthenticatedData::Unyank(u) => u.signed_at,
            AuthenticatedData::Deprecate(d) => d.signed_at,
            AuthenticatedData::Alias(a) => a.signed_at,
            AuthenticatedData::Unalias(u) => u.signed_at,
        }
    }

    /// The payload with `signedAt` set to `time` (what `regis sign` does, so that the same
    /// request signed again is a new text).
    pub fn with_signed_at(mut self, time: Timestamp) -> AuthenticatedData {
        let signed_at = match &mut self {
            AuthenticatedData::Transfer(t) => &mut t.signed_at,
            AuthenticatedData::Unpublish(u) => &mut u.signed_at,
            AuthenticatedData::Yank(y) => &mut y.signed_at,
            AuthenticatedData::Unyank(u) => &mut u.signed_at,
            AuthenticatedData::Deprecate(d) => &mut d.signed_at,
            AuthenticatedData::Alias(a) => &mut a.signed_at,
            AuthenticatedData::Unalias(u) => &mut u.signed_at,
        };
        *signed_at = Some(time);
        self
    }

    /// The payload's canonical compact JSON, in the fixed key order of its type: what
    /// `regis sign` signs.
    pub fn canonical(&self) -> String {
        let json = match self {
            AuthenticatedData::Transfer(t) => serde_json::to_string(t),
            AuthenticatedData::Unpublish(u) => serde_json::to_string(u),
            AuthenticatedData::Yank(y) => serde_json::to_string(y),
            AuthenticatedData::Unyank(u) => serde_json::to_string(u),
            AuthenticatedData::Deprecate(d) => serde_json::to_string(d),
            AuthenticatedData::Alias(a) => serde_json::to_string(a),
            AuthenticatedData::Unalias(u) => serde_json::to_string(u),
        };
        json.expect("payloads of names, versions and strings always encode")
    }
}

/// Changes to the latest package set: `null` removes a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageSetUpdate {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub compiler: Option<Version>,
    pub packages: BTreeMap<PackageName, Option<Version>>,
}

/// Any payload regis accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    Publish(Publish),
    Authenticated(Authenticated),
    PackageSetUpdate(PackageSetUpdate),
}

/// A payload that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("no JSON object found: expected the payload between a `{{` and a `}}`")]
    NoJson,
    #[error("the payload is not valid JSON: {0}")]
    Json(String),
    #[error("the payload is not a JSON object: expected `{{ ... }}`")]
    NotAnObject,
    #[error("the payload has keys {keys}: expected {expected}")]
    UnknownShape {
        keys: String,
        expected: &'static str,
    },
    #[error("invalid `{shape}` payload: {message}")]
    Invalid {
        shape: &'static str,
        message: String,
    },
}

/// The signed shapes, for messages.
pub const SIGNED_SHAPES: &str = "`Transfer {name, newLocation}`, `Unpublish {name, version, reason}`, `Yank {name, yank, reason}`, `Unyank {name, unyank}`, `Deprecate {name, message, alternative?}`, `Alias {name, alias, version}` or `Unalias {name, unalias}`";

const SHAPES: &str = "`Publish {name, location?, ref, version, compiler?, resolutions?, ownersSignature?, releaseSignature?}`, `Authenticated {payload, signature}`, `PackageSetUpdate {compiler?, packages}`, or the older `Addition {packageName, newPackageLocation, newRef, buildPlan}` / `Update {packageName, updateRef, buildPlan}`";

/// The JSON of an issue body: the text from the first `{` to the last `}`.
pub fn extract_json(body: &str) -> Option<&str> {
    let start = body.find('{')?;
    let end = body.rfind('}')?;
    (start < end).then(|| &body[start..=end])
}

type Object = serde_json::Map<String, serde_json::Value>;

fn object(text: &str) -> Result<Object, PayloadError> {
    match serde_json::from_str(text) {
        Ok(serde_json::Value::Object(o)) => Ok(o),
        Ok(_) => Err(PayloadError::NotAnObject),
        Err(e) => Err(PayloadError::Json(
            crate::text::message(&e.to_string()).into_owned(),
        )),
    }
}

fn keys(obj: &Object) -> String {
    if obj.is_empty() {
        return "none".into();
    }
    crate::text::list(obj.keys().map(|k| format!("`{}`", crate::text::value(k))))
}

fn from_value<T: serde::de::DeserializeOwned>(
    obj: Object,
    shape: &'static str,
) -> Result<T, PayloadError> {
    serde_json::from_value(serde_json::Value::Object(obj)).map_err(|e| PayloadError::Invalid {
        shape,
        // serde repeats the value it could not take: a payload's megabyte, cut here.
        message: crate::text::message(&e.to_string()).into_owned(),
    })
}

impl Operation {
    /// Parse a payload, telling the shapes apart by their keys so that errors speak of
    /// the shape the author meant.
    pub fn parse(text: &str) -> Result<Operation, PayloadError> {
        let obj = object(text)?;
        let has = |k: &str| obj.contains_key(k);
        if has("payload") || has("signature") {
            from_value(obj, "Authenticated").map(Operation::Authenticated)
        } else if has("packages") {
            from_value(obj, "PackageSetUpdate").map(Operation::PackageSetUpdate)
        } else if has("newPackageLocation") || has("newRef") {
            from_value::<Addition>(obj, "Addition").map(|a| Operation::Publish(a.into()))
        } else if has("updateRef") {
            from_value::<Update>(obj, "Update").map(|u| Operation::Publish(u.into()))
        } else if has("name") || has("ref") || has("version") {
            from_value(obj, "Publish").map(Operation::Publish)
        } else {
            Err(PayloadError::UnknownShape {
                keys: keys(&obj),
                expected: SHAPES,
            })
        }
    }

    /// Parse the payload inside an issue body.
    pub fn from_issue_body(body: &str) -> Result<Operation, PayloadError> {
        Operation::parse(extract_json(body).ok_or(PayloadError::NoJson)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_publish_from_a_real_issue_body() {
        let body = "{\"location\": {\"githubOwner\": \"purescript\",\"githubRepo\": \"purescript-prelude\"},\"ref\": \"v5.0.0\",\"name\": \"prelude\", \"version\": \"5.0.0\", \"compiler\": \"0.15.0\", \"resolutions\": { \"prelude\": \"1.0.0\" } }";
        let Operation::Publish(p) = Operation::from_issue_body(body).unwrap() else {
            panic!()
        };
        assert_eq!(p.name.as_str(), "prelude");
        assert_eq!(p.version, Some("5.0.0".parse().unwrap()));
        assert_eq!(p.compiler, Some("0.15.0".parse().unwrap()));
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"name":"prelude","location":{"githubOwner":"purescript","githubRepo":"purescript-prelude"},"ref":"v5.0.0","version":"5.0.0","compiler":"0.15.0","resolutions":{"prelude":"1.0.0"}}"#
        );
    }

    #[test]
    fn body_inside_a_code_fence() {
        let body = "```json\n{\"name\":\"something\",\"ref\":\"v1.2.3\", \"version\": \"1.2.3\", \"compiler\": \"0.15.0\", \"resolutions\": { \"prelude\": \"1.0.0\" } }```";
        assert!(matches!(
            Operation::from_issue_body(body).unwrap(),
            Operation::Publish(_)
        ));
    }

    #[test]
    fn ci_era_payloads_become_publishes_without_a_version() {
        let add = r#"{"packageName":"a","newPackageLocation":{"githubOwner":"o","githubRepo":"r"},"newRef":"v1.0.0","buildPlan":{"compiler":"0.14.0","resolutions":{"prelude":"5.0.0"}}}"#;
        let Operation::Publish(p) = Operation::parse(add).unwrap() else {
            panic!()
        };
        assert_eq!(
            (p.version, p.location.is_some(), p.reference.as_str()),
            (None, true, "v1.0.0")
        );
        let upd = r#"{"packageName":"a","updateRef":"v1.1.0","buildPlan":{"compiler":"0.14.0","resolutions":{}}}"#;
        let Operation::Publish(p) = Operation::parse(upd).unwrap() else {
            panic!()
        };
        assert_eq!(
            (p.version, p.location, p.compiler.unwrap().to_string()),
            (None, None, "0.14.0".into())
        );
    }

    #[test]
    fn authenticated_keeps_the_exact_signed_string() {
        let inner = "{ \"name\": \"node-os\", \"newLocation\": { \"githubOwner\": \"purescript-node\", \"githubRepo\": \"purescript-node-os\" } }";
        let outer = serde_json::json!({"payload": inner, "signature": "1f49"}).to_string();
        let Operation::Authenticated(a) = Operation::parse(&outer).unwrap() else {
            panic!()
        };
        assert_eq!(a.payload, inner);
        assert!(matches!(a.data().unwrap(), AuthenticatedData::Transfer(_)));
        let un = Authenticated {
            payload: format!(
                r#"{{"name":"a","version":"1.0.0","reason":"{}"}}"#,
                "x".repeat(301)
            ),
            signature: String::new(),
        };
        insta::assert_snapshot!(un.data().unwrap_err().to_string(), @"invalid `Unpublish` payload: `reason` is 301 characters long: expected at most 300");
    }

    /// Each signed shape reads as itself from its canonical text, and no payload of one
    /// shape has the keys of another: a signed Yank can never be read as an Unpublish, here
    /// or by the PureScript Registry (whose Unpublish reader takes any object with `name`,
    /// `version` and `reason`, ignoring other keys).
    #[test]
    fn signed_shapes_are_told_apart_by_their_keys() {
        let texts = [
            r#"{"name":"aff","newLocation":{"githubOwner":"o","githubRepo":"aff"}}"#,
            r#"{"name":"aff","version":"7.1.0","reason":"broken"}"#,
            r#"{"name":"aff","yank":"7.1.0","reason":"broken"}"#,
            r#"{"name":"aff","unyank":"7.1.0"}"#,
            r#"{"name":"aff","message":"unmaintained","alternative":"aff-next"}"#,
            r#"{"name":"aff","message":""}"#,
            r#"{"name":"aff","alias":"next","version":"7.1.0"}"#,
            r#"{"name":"aff","unalias":"next"}"#,
        ];
        let kinds: Vec<&str> = texts
            .iter()
            .map(|text| {
                let data = AuthenticatedData::parse(text).unwrap();
                assert_eq!(data.canonical(), *text);
                assert_eq!(data.name().as_str(), "aff");
                let keys = object(text).unwrap();
                if data.kind() != "Unpublish" {
                    assert!(
                        !(keys.contains_key("version") && keys.contains_key("reason")),
                        "{text} would be an Unpublish to the PureScript Registry"
                    );
                }
                data.kind()
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "Transfer",
                "Unpublish",
                "Yank",
                "Unyank",
                "Deprecate",
                "Deprecate",
                "Alias",
                "Unalias"
            ]
        );
        let AuthenticatedData::Deprecate(clear) = AuthenticatedData::parse(texts[5]).unwrap()
        else {
            panic!()
        };
        assert!(clear.clears());
        // Whatever key decides: each text reads as its own shape's type and as no other.
        let reads = |text: &str| -> Vec<&str> {
            let obj = || object(text).unwrap();
            [
                ("Transfer", from_value::<Transfer>(obj(), "").is_ok()),
                ("Unpublish", from_value::<Unpublish>(obj(), "").is_ok()),
                ("Yank", from_value::<Yank>(obj(), "").is_ok()),
                ("Unyank", from_value::<Unyank>(obj(), "").is_ok()),
                ("Deprecate", from_value::<Deprecate>(obj(), "").is_ok()),
                ("Alias", from_value::<Alias>(obj(), "").is_ok()),
                ("Unalias", from_value::<Unalias>(obj(), "").is_ok()),
            ]
            .into_iter()
            .filter_map(|(kind, ok)| ok.then_some(kind))
            .collect()
        };
        for (text, kind) in texts.iter().zip(&kinds) {
            assert_eq!(reads(text), [*kind], "{text}");
        }
    }

    /// `signedAt` (what `regis sign` adds) goes last in the canonical text, decides no
    /// shape, and a text with it is another text: the same request signed twice differs.
    #[test]
    fn every_signed_shape_may_say_when_it_was_signed() {
        let time: Timestamp = "2026-11-22T10:00:00.000Z".parse().unwrap();
        let texts = [
            r#"{"name":"aff","newLocation":{"githubOwner":"o","githubRepo":"aff"}}"#,
            r#"{"name":"aff","version":"7.1.0","reason":"broken"}"#,
            r#"{"name":"aff","yank":"7.1.0","reason":"broken"}"#,
            r#"{"name":"aff","unyank":"7.1.0"}"#,
            r#"{"name":"aff","message":"unmaintained","alternative":"aff-next"}"#,
            r#"{"name":"aff","alias":"next","version":"7.1.0"}"#,
            r#"{"name":"aff","unalias":"next"}"#,
        ];
        for text in texts {
            let data = AuthenticatedData::parse(text).unwrap();
            assert_eq!(data.signed_at(), None);
            let kind = data.kind();
            let dated = data.with_signed_at(time);
            let canonical = dated.canonical();
            assert_eq!(
                canonical,
                format!(
                    r#"{},"signedAt":"2026-11-22T10:00:00.000Z"}}"#,
                    &text[..text.len() - 1]
                )
            );
            // It reads back as the same shape and time, with the key anywhere.
            let again = AuthenticatedData::parse(&canonical).unwrap();
            assert_eq!((again.kind(), again.signed_at()), (kind, Some(time)));
            let first = format!(r#"{{"signedAt":"2026-11-22T10:00:00.000Z",{}"#, &text[1..]);
            assert_eq!(AuthenticatedData::parse(&first).unwrap(), again);
        }
        let e = AuthenticatedData::parse(r#"{"name":"a","unyank":"1.0.0","signedAt":"today"}"#)
            .unwrap_err();
        insta::assert_snapshot!(e, @"invalid `Unyank` payload: invalid time `today`: expected `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, milliseconds)");
    }

    #[test]
    fn a_publish_may_carry_a_signature_of_its_owner_list() {
        let text = r#"{"name":"aff","ref":"v2.0.0","version":"2.0.0","ownersSignature":"0f1e"}"#;
        let Operation::Publish(p) = Operation::parse(text).unwrap() else {
            panic!()
        };
        assert_eq!(p.owners_signature.as_deref(), Some("0f1e"));
        assert_eq!(serde_json::to_string(&p).unwrap(), text);
        let text = owners_text(&p.name, &"2.0.0".parse().unwrap(), &[]);
        assert_eq!(text, "regis-owners:aff@2.0.0:[]");
        assert!(Operation::parse(&text).is_err(), "not a payload");
    }

    #[test]
    fn package_set_update_with_removals() {
        let Operation::PackageSetUpdate(u) =
            Operation::parse(r#"{ "packages": { "aff": "7.0.0", "argonaut": null } }"#).unwrap()
        else {
            panic!()
        };
        assert_eq!(u.packages.len(), 2);
        assert_eq!(
            u.packages[&"argonaut".parse::<PackageName>().unwrap()],
            None
        );
    }

    #[test]
    fn errors_say_what_was_expected() {
        let e = |s: &str| Operation::from_issue_body(s).unwrap_err().to_string();
        insta::assert_snapshot!(e("please publish my package"), @"no JSON object found: expected the payload between a `{` and a `}`");
        insta::assert_snapshot!(e(r#"{"pkg":"a"}"#), @"the payload has keys `pkg`: expected `Publish {name, location?, ref, version, compiler?, resolutions?, ownersSignature?, releaseSignature?}`, `Authenticated {payload, signature}`, `PackageSetUpdate {compiler?, packages}`, or the older `Addition {packageName, newPackageLocation, newRef, buildPlan}` / `Update {packageName, updateRef, buildPlan}`");
        insta::assert_snapshot!(e(r#"{"name":"a","ref":"v1"}"#), @"invalid `Publish` payload: missing field `version`");
        insta::assert_snapshot!(e(r#"{"name":"a","ref":"v1","version":"1.0.0","compilr":"0.15.0"}"#), @"invalid `Publish` payload: unknown field `compilr`, expected one of `name`, `location`, `ref`, `version`, `compiler`, `resolutions`, `ownersSignature`, `releaseSignature`");
        insta::assert_snapshot!(e(r#"{"name":"a",}"#), @"the payload is not valid JSON: trailing comma at line 1 column 13");
    }

    /// The refusals of each shape, as `regis` and the issue flow read payloads.
    #[test]
    fn every_shape_refuses_in_its_own_words() {
        let parse =
            |case: &str, text: &str| format!("{case} → {}", Operation::parse(text).unwrap_err());
        let signed = |case: &str, inner: &str| {
            let outer = Authenticated {
                payload: inner.to_owned(),
                signature: String::new(),
            };
            format!("{case} → {}", outer.data().unwrap_err())
        };
        let lines = [
            parse("a list", "[1]"),
            parse("not JSON", "{"),
            parse("no keys", "{}"),
            parse(
                "Publish, bad name",
                r#"{"name":"A","ref":"v1","version":"1.0.0"}"#,
            ),
            parse("Authenticated, no signature", r#"{"payload":"{}"}"#),
            parse(
                "PackageSetUpdate, bad version",
                r#"{"packages":{"aff":"7"}}"#,
            ),
            parse(
                "Addition, no buildPlan",
                r#"{"packageName":"a","newPackageLocation":{"githubOwner":"o","githubRepo":"r"},"newRef":"v1"}"#,
            ),
            parse(
                "Update, no updateRef value",
                r#"{"packageName":"a","updateRef":1,"buildPlan":{"compiler":"0.15.0","resolutions":{}}}"#,
            ),
            signed("signed, not JSON", "name"),
            signed("signed, a string", r#""text""#),
            signed("signed, unknown keys", r#"{"name":"a","to":"b"}"#),
            signed(
                "signed Transfer, bad location",
                r#"{"name":"a","newLocation":{"githubOwner":"o"}}"#,
            ),
            signed(
                "signed Unpublish, blank reason",
                r#"{"name":"a","version":"1.0.0","reason":" "}"#,
            ),
            signed(
                "signed Unpublish, no reason",
                r#"{"name":"a","version":"1.0.0"}"#,
            ),
            signed(
                "signed Yank, blank reason",
                r#"{"name":"a","yank":"1.0.0","reason":""}"#,
            ),
            signed(
                "signed Yank, with a version",
                r#"{"name":"a","version":"1.0.0","yank":"1.0.0","reason":"x"}"#,
            ),
            signed(
                "signed Unyank, a reason",
                r#"{"name":"a","unyank":"1.0.0","reason":"x"}"#,
            ),
            signed(
                "signed Deprecate, blank message",
                r#"{"name":"a","message":" "}"#,
            ),
            signed(
                "signed Deprecate, clearing with an alternative",
                r#"{"name":"a","message":"","alternative":"b"}"#,
            ),
            signed(
                "signed Deprecate, itself the alternative",
                r#"{"name":"a","message":"old","alternative":"a"}"#,
            ),
            signed(
                "signed Alias, a reason",
                r#"{"name":"a","alias":"next","version":"1.0.0","reason":"x"}"#,
            ),
            signed("signed Alias, no version", r#"{"name":"a","alias":"next"}"#),
            signed(
                "signed Alias, a version as the tag",
                r#"{"name":"a","alias":"1.0.0","version":"1.0.0"}"#,
            ),
            signed(
                "signed Alias, an uppercase tag",
                r#"{"name":"a","alias":"Next","version":"1.0.0"}"#,
            ),
            signed(
                "signed Unalias, a version",
                r#"{"name":"a","unalias":"next","version":"1.0.0"}"#,
            ),
        ];
        insta::assert_snapshot!(lines.join("\n"), @r#"
            a list → the payload is not a JSON object: expected `{ ... }`
            not JSON → the payload is not valid JSON: EOF while parsing an object at line 1 column 1
            no keys → the payload has keys none: expected `Publish {name, location?, ref, version, compiler?, resolutions?, ownersSignature?, releaseSignature?}`, `Authenticated {payload, signature}`, `PackageSetUpdate {compiler?, packages}`, or the older `Addition {packageName, newPackageLocation, newRef, buildPlan}` / `Update {packageName, updateRef, buildPlan}`
            Publish, bad name → invalid `Publish` payload: invalid package name `A`: unexpected character `A`: expected lowercase ASCII letters, digits and `-`
            Authenticated, no signature → invalid `Authenticated` payload: missing field `signature`
            PackageSetUpdate, bad version → invalid `PackageSetUpdate` payload: invalid version `7`: expected three numbers `MAJOR.MINOR.PATCH` separated by `.`
            Addition, no buildPlan → invalid `Addition` payload: missing field `buildPlan`
            Update, no updateRef value → invalid `Update` payload: invalid type: integer `1`, expected a string
            signed, not JSON → the payload is not valid JSON: expected ident at line 1 column 2
            signed, a string → the payload is not a JSON object: expected `{ ... }`
            signed, unknown keys → the payload has keys `name`, `to`: expected `Transfer {name, newLocation}`, `Unpublish {name, version, reason}`, `Yank {name, yank, reason}`, `Unyank {name, unyank}`, `Deprecate {name, message, alternative?}`, `Alias {name, alias, version}` or `Unalias {name, unalias}`
            signed Transfer, bad location → invalid `Transfer` payload: invalid location: expected `{"githubOwner", "githubRepo", "subdir"?}` or `{"gitUrl", "subdir"?}`
            signed Unpublish, blank reason → invalid `Unpublish` payload: `reason` is empty: say why the version is unpublished
            signed Unpublish, no reason → invalid `Unpublish` payload: missing field `reason`
            signed Yank, blank reason → invalid `Yank` payload: `reason` is empty: say why the version is yanked
            signed Yank, with a version → invalid `Yank` payload: unknown field `version`, expected one of `name`, `yank`, `reason`, `signedAt`
            signed Unyank, a reason → invalid `Unyank` payload: unknown field `reason`, expected one of `name`, `unyank`, `signedAt`
            signed Deprecate, blank message → invalid `Deprecate` payload: `message` is empty: say why the package is deprecated, or give `""` to clear the deprecation
            signed Deprecate, clearing with an alternative → invalid `Deprecate` payload: `message` is empty, which clears the deprecation, but `alternative` is `b`: expected no `alternative` when clearing, or a message
            signed Deprecate, itself the alternative → invalid `Deprecate` payload: `alternative` is `a` itself: expected another package
            signed Alias, a reason → invalid `Alias` payload: unknown field `reason`, expected one of `name`, `alias`, `version`, `signedAt`
            signed Alias, no version → invalid `Alias` payload: missing field `version`
            signed Alias, a version as the tag → invalid `Alias` payload: invalid tag `1.0.0`: it is a version: expected a name that never reads as one (`NAME@1.0.0` always means the version)
            signed Alias, an uppercase tag → invalid `Alias` payload: invalid tag `Next`: unexpected character `N`: expected lowercase ASCII letters, digits, `-`, `.` and `_`
            signed Unalias, a version → invalid `Unalias` payload: unknown field `version`, expected one of `name`, `unalias`, `signedAt`
            "#);
    }
}
