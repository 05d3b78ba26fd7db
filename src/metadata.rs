//! Package metadata (`metadata/<name>.json` in the registry repo) and its transitions:
//! publishing a version, transferring, unpublishing, yanking, deprecating and aliasing
//! (tags naming versions), and resolving `NAME@TAG`. Pure functions over values.
//!
//! `deprecated`, `yanked` and `aliases` are regis's own keys, written only when set, so a
//! file without them is byte for byte the PureScript Registry's. Its reader (registry-dev's
//! `Registry.Metadata.codec`, purescript-codec-json's `CJ.object`/`recordProp`, not the
//! `Strict` variants) looks up the keys it knows and ignores the rest, so a PureScript
//! reader sees such a file as the same metadata without them (its writer would drop them).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::schema::{Location, Owner, PackageName, Sha256, Tag, Timestamp, Version, VersionSpec};

/// Everything the registry knows about one package. Key order: `location, owners?,
/// published, unpublished, deprecated?, yanked?, aliases?`; version and tag keys ascending;
/// inner keys alphabetical.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    pub location: Location,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub owners: Option<Vec<Owner>>,
    pub published: BTreeMap<Version, PublishedVersion>,
    pub unpublished: BTreeMap<Version, UnpublishedVersion>,
    /// regis's own: the package is deprecated (absent when it is not).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub deprecated: Option<Deprecated>,
    /// regis's own: the published versions that are yanked (absent when none is). Kept
    /// beside `published`, not inside its entries, so that a published version's entry
    /// never changes once written.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub yanked: BTreeMap<Version, Yanked>,
    /// regis's own: tags naming published versions (`"next": "2.0.0"`), set and removed
    /// by signed Alias and Unalias payloads (absent when none is). `NAME@TAG` resolves
    /// through it ([`Metadata::resolve`]); an unpublish removes the tags naming the version.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub aliases: BTreeMap<Tag, Version>,
}

/// A yanked version: why, and when it was yanked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Yanked {
    pub reason: String,
    pub time: Timestamp,
}

/// A deprecated package: the message, the package to use instead, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Deprecated {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub alternative: Option<PackageName>,
    pub message: String,
    pub time: Timestamp,
}

/// A published version: its tarball's size and hash, the compilers it builds with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    rename_all = "camelCase",
    deny_unknown_fields,
    try_from = "RawPublished"
)]
pub struct PublishedVersion {
    pub bytes: u64,
    pub compilers: Vec<Version>,
    pub hash: Sha256,
    pub published_time: Timestamp,
    /// Deprecated: `""` in what regis writes, as in every entry of the PureScript Registry;
    /// the ref a version was published from is in its index line.
    #[serde(rename = "ref")]
    pub reference: String,
}

/// A version taken down: it can never be published again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UnpublishedVersion {
    pub published_time: Timestamp,
    pub reason: String,
    pub unpublished_time: Timestamp,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawPublished {
    bytes: u64,
    compilers: Vec<Version>,
    hash: Sha256,
    published_time: Timestamp,
    #[serde(rename = "ref")]
    reference: String,
}

impl TryFrom<RawPublished> for PublishedVersion {
    type Error = String;
    fn try_from(r: RawPublished) -> Result<Self, String> {
        if r.compilers.is_empty() {
            return Err("`compilers` is empty: expected at least one compiler version".into());
        }
        Ok(PublishedVersion {
            bytes: r.bytes,
            compilers: r.compilers,
            hash: r.hash,
            published_time: r.published_time,
            reference: r.reference,
        })
    }
}

/// A transition that the current metadata does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    #[error("`{file}` is not valid metadata: {message}")]
    Invalid { file: String, message: String },
    #[error(
        "`{name}@{version}` is already published with hash `{existing}`: a published version can never change, publish a new version instead"
    )]
    AlreadyPublished {
        name: PackageName,
        version: Version,
        existing: Sha256,
    },
    #[error(
        "`{name}@{version}` was unpublished on {when}: a version number can never be reused, publish a new version instead"
    )]
    WasUnpublished {
        name: PackageName,
        version: Version,
        when: Timestamp,
    },
    #[error(
        "package `{name}` lives at `{registered}`, but the publish gives `{given}`: if the package moved, submit a transfer first"
    )]
    LocationMismatch {
        name: PackageName,
        registered: Location,
        given: Location,
    },
    #[error(
        "location `{location}` already belongs to package `{holder}`: a location can hold only one package"
    )]
    LocationHeld {
        location: Location,
        holder: PackageName,
    },
}

/// Why a version cannot be unpublished, as far as metadata can tell.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnpublishRefused {
    #[error("`{name}@{version}` is not published: published versions are {published}")]
    NotPublished {
        name: PackageName,
        version: Version,
        published: String,
    },
}

/// Why a version cannot be yanked or unyanked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum YankRefused {
    #[error("`{name}@{version}` is not published: published versions are {published}")]
    NotPublished {
        name: PackageName,
        version: Version,
        published: String,
    },
}

/// Why a tag cannot be pointed at a version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AliasRefused {
    #[error(
        "`{name}@{version}` is not published: a tag names a published version, and published versions are {published}"
    )]
    NotPublished {
        name: PackageName,
        version: Version,
        published: String,
    },
    #[error(
        "`{name}@{version}` was unpublished on {date}: a tag names a published version, and published versions are {published}"
    )]
    Unpublished {
        name: PackageName,
        version: Version,
        date: crate::schema::Date,
        published: String,
    },
    #[error(
        "`{name}@{version}` is yanked ({}): a tag never names a yanked version; unyank it first, or point the tag at another version",
        crate::text::value(.reason)
    )]
    Yanked {
        name: PackageName,
        version: Version,
        reason: String,
    },
}

/// Why `NAME@TAG` names no version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveRefused {
    #[error("package `{name}` has no tag `{tag}`: its tags are {tags}")]
    UnknownTag {
        name: PackageName,
        tag: Tag,
        tags: String,
    },
    #[error(
        "package `{name}` has no version that is published and not yanked: `{name}@latest` names none (give a version)"
    )]
    NoLatest { name: PackageName },
}

/// What a yank, an unyank, a deprecation or an alias does to metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlagChange {
    /// The flag was set, replaced or removed.
    Changed,
    /// The metadata already said so (a re-run): nothing changed.
    Unchanged,
}

/// What an unpublish does to metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnpublishChange {
    /// The version moved from `published` to `unpublished`.
    Moved,
    /// The version was already unpublished (a re-run): nothing changed.
    AlreadyUnpublished,
}

/// What a publish does to metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishChange {
    /// The version was added.
    Added,
    /// The same version with the same tarball was already recorded (a re-run).
    AlreadyRecorded,
}

impl Metadata {
    pub fn new(location: Location, owners: Option<Vec<Owner>>) -> Self {
        Metadata {
            location,
            owners,
            published: BTreeMap::new(),
            unpublished: BTreeMap::new(),
            deprecated: None,
            yanked: BTreeMap::new(),
            aliases: BTreeMap::new(),
        }
    }

    /// Parse `metadata/<name>.json`; `file` names it in errors.
    pub fn from_json(file: &str, text: &str) -> Result<Metadata, MetadataError> {
        serde_json::from_str(text).map_err(|e| MetadataError::Invalid {
            file: file.to_owned(),
            message: e.to_string(),
        })
    }

    /// The canonical bytes: pretty JSON with 2-space indent and a trailing newline.
    pub fn to_json(&self) -> String {
        crate::schema::pretty_json(self)
    }

    /// Check that `version` may be published with a tarball of `hash` (pure).
    pub fn check_publish(
        &self,
        name: &PackageName,
        version: &Version,
        hash: &Sha256,
    ) -> Result<PublishChange, MetadataError> {
        if let Some(u) = self.unpublished.get(version) {
            return Err(MetadataError::WasUnpublished {
                name: name.clone(),
                version: version.clone(),
                when: u.unpublished_time,
            });
        }
        match self.published.get(version) {
            Some(p) if &p.hash == hash => Ok(PublishChange::AlreadyRecorded),
            Some(p) => Err(MetadataError::AlreadyPublished {
                name: name.clone(),
                version: version.clone(),
                existing: p.hash,
            }),
            None => Ok(PublishChange::Added),
        }
    }

    /// The owners after a publish whose manifest lists `manifest`: the manifest's when it
    /// lists some, else the package's own.
    pub fn owners_after_publish(&self, manifest: Option<&[Owner]>) -> Option<Vec<Owner>> {
        manifest
            .map(<[Owner]>::to_vec)
            .or_else(|| self.owners.clone())
    }

    /// Record a published version. Re-recording the same tarball is a no-op; owners are
    /// replaced by the manifest's when it lists some ([`Metadata::owners_after_publish`]).
    pub fn publish(
        &mut self,
        name: &PackageName,
        version: Version,
        entry: PublishedVersion,
        owners: Option<Vec<Owner>>,
    ) -> Result<PublishChange, MetadataError> {
        let change = self.check_publish(name, &version, &entry.hash)?;
        if change == PublishChange::Added {
            self.published.insert(version, entry);
        }
        self.owners = self.owners_after_publish(owners.as_deref());
        Ok(change)
    }

    /// Move `version` from `published` to `unpublished`, keeping its publish time, and drop
    /// its yank and the tags naming it (a tag never names a missing version). A version
    /// already unpublished is left as it is, so a re-run changes nothing.
    pub fn unpublish(
        &mut self,
        name: &PackageName,
        version: &Version,
        reason: &str,
        now: Timestamp,
    ) -> Result<UnpublishChange, UnpublishRefused> {
        if self.unpublished.contains_key(version) {
            return Ok(UnpublishChange::AlreadyUnpublished);
        }
        let Some(entry) = self.published.remove(version) else {
            return Err(UnpublishRefused::NotPublished {
                name: name.clone(),
                version: version.clone(),
                published: self.published_list(),
            });
        };
        self.unpublished.insert(
            version.clone(),
            UnpublishedVersion {
                published_time: entry.published_time,
                reason: reason.to_owned(),
                unpublished_time: now,
            },
        );
        // Only a published version can be yanked, or named by a tag.
        self.yanked.remove(version);
        self.aliases.retain(|_, named| named != version);
        Ok(UnpublishChange::Moved)
    }

    /// Whether `version` is yanked.
    pub fn is_yanked(&self, version: &Version) -> bool {
        self.yanked.contains_key(version)
    }

    /// Yank a published version. A version already yanked keeps its first reason and
    /// time, so a re-run changes nothing.
    pub fn yank(
        &mut self,
        name: &PackageName,
        version: &Version,
        reason: &str,
        now: Timestamp,
    ) -> Result<FlagChange, YankRefused> {
        self.check_yankable(name, version)?;
        if self.yanked.contains_key(version) {
            return Ok(FlagChange::Unchanged);
        }
        self.yanked.insert(
            version.clone(),
            Yanked {
                reason: reason.to_owned(),
                time: now,
            },
        );
        Ok(FlagChange::Changed)
    }

    /// Take back the yank of a published version; one that is not yanked is left as it
    /// is (a re-run).
    pub fn unyank(
        &mut self,
        name: &PackageName,
        version: &Version,
    ) -> Result<FlagChange, YankRefused> {
        self.check_yankable(name, version)?;
        Ok(match self.yanked.remove(version) {
            Some(_) => FlagChange::Changed,
            None => FlagChange::Unchanged,
        })
    }

    /// Only a published version is yanked or unyanked.
    pub fn check_yankable(&self, name: &PackageName, version: &Version) -> Result<(), YankRefused> {
        if self.published.contains_key(version) {
            return Ok(());
        }
        Err(YankRefused::NotPublished {
            name: name.clone(),
            version: version.clone(),
            published: self.published_list(),
        })
    }

    /// Deprecate the package with `message` and `alternative`, or clear its deprecation
    /// when `message` is empty. The same deprecation again keeps its first time, so a
    /// re-run changes nothing; another message or alternative replaces it.
    pub fn deprecate(
        &mut self,
        message: &str,
        alternative: Option<&PackageName>,
        now: Timestamp,
    ) -> FlagChange {
        let wanted = (!message.is_empty()).then(|| Deprecated {
            alternative: alternative.cloned(),
            message: message.to_owned(),
            time: now,
        });
        let same = match (&self.deprecated, &wanted) {
            (None, None) => true,
            (Some(have), Some(want)) => {
                have.message == want.message && have.alternative == want.alternative
            }
            _ => false,
        };
        if same {
            return FlagChange::Unchanged;
        }
        self.deprecated = wanted;
        FlagChange::Changed
    }

    /// Point `tag` at `version`, moving it when it names another; the version must be
    /// published and not yanked. A tag already naming it is left as it is (a re-run).
    pub fn set_alias(
        &mut self,
        name: &PackageName,
        tag: &Tag,
        version: &Version,
    ) -> Result<FlagChange, AliasRefused> {
        self.check_aliasable(name, version)?;
        if self.aliases.get(tag) == Some(version) {
            return Ok(FlagChange::Unchanged);
        }
        self.aliases.insert(tag.clone(), version.clone());
        Ok(FlagChange::Changed)
    }

    /// Remove `tag`; a tag that is not set is left so (a re-run).
    pub fn remove_alias(&mut self, tag: &Tag) -> FlagChange {
        match self.aliases.remove(tag) {
            Some(_) => FlagChange::Changed,
            None => FlagChange::Unchanged,
        }
    }

    /// Only a published version that is not yanked is named by a tag.
    pub fn check_aliasable(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<(), AliasRefused> {
        if let Some(yanked) = self.yanked.get(version) {
            return Err(AliasRefused::Yanked {
                name: name.clone(),
                version: version.clone(),
                reason: yanked.reason.clone(),
            });
        }
        if self.published.contains_key(version) {
            return Ok(());
        }
        let published = self.published_list();
        Err(match self.unpublished.get(version) {
            Some(u) => AliasRefused::Unpublished {
                name: name.clone(),
                version: version.clone(),
                date: u.unpublished_time.date(),
                published,
            },
            None => AliasRefused::NotPublished {
                name: name.clone(),
                version: version.clone(),
                published,
            },
        })
    }

    /// The newest version that is published and not yanked: what `latest` names unless a
    /// tag sets it.
    pub fn newest_unyanked(&self) -> Option<&Version> {
        (self.published.keys().rev()).find(|v| !self.yanked.contains_key(*v))
    }

    /// The version `NAME@spec` names: a version is itself (whether it is published is for
    /// the caller to say, as for any version given); a tag is the version `aliases` gives
    /// it, and `latest`, unless set, the newest version that is published and not yanked.
    /// What `regis solve`, `regis fetch` and a server's `GET …/{name}/{tag}` share.
    ///
    /// ```
    /// # use regis::metadata::Metadata;
    /// # use regis::schema::{Location, Version};
    /// let mut m = Metadata::new(Location::github("o", "aff", None).unwrap(), None);
    /// assert!(m.resolve(&"aff".parse().unwrap(), &"latest".parse().unwrap()).is_err());
    /// assert_eq!(
    ///     m.resolve(&"aff".parse().unwrap(), &"1.0.0".parse().unwrap()),
    ///     Ok(Version::new(1, 0, 0))
    /// );
    /// ```
    pub fn resolve(
        &self,
        name: &PackageName,
        spec: &VersionSpec,
    ) -> Result<Version, ResolveRefused> {
        let tag = match spec {
            VersionSpec::Version(v) => return Ok(v.clone()),
            VersionSpec::Tag(tag) => tag,
        };
        if let Some(version) = self.aliases.get(tag) {
            return Ok(version.clone());
        }
        if tag.as_str() == crate::schema::LATEST {
            return (self.newest_unyanked().cloned())
                .ok_or_else(|| ResolveRefused::NoLatest { name: name.clone() });
        }
        Err(ResolveRefused::UnknownTag {
            name: name.clone(),
            tag: tag.clone(),
            tags: self.tags_list(),
        })
    }

    /// The tags `NAME@TAG` resolves, for messages: `` `latest` (1.1.0), `next` (2.0.0) ``,
    /// `latest` included while it names a version, or `none`.
    pub fn tags_list(&self) -> String {
        let mut tags: Vec<(&str, &Version)> = (self.aliases.iter())
            .map(|(t, v)| (t.as_str(), v))
            .collect();
        if !self.aliases.contains_key(crate::schema::LATEST)
            && let Some(latest) = self.newest_unyanked()
        {
            tags.push((crate::schema::LATEST, latest));
            tags.sort();
        }
        if tags.is_empty() {
            return "none".to_owned();
        }
        crate::text::list(tags.into_iter().map(|(t, v)| format!("`{t}` ({v})")))
    }

    /// The published versions for messages: `` `1.0.0`, `1.1.0` `` or `none`.
    pub fn published_list(&self) -> String {
        if self.published.is_empty() {
            return "none".to_owned();
        }
        crate::text::list(self.published.keys().map(|v| format!("`{v}`")))
    }

    /// Check that a publish from `given` matches the registered location.
    pub fn check_location(
        &self,
        name: &PackageName,
        given: &Location,
    ) -> Result<(), MetadataError> {
        if self.location.same_place(given) {
            Ok(())
        } else {
            Err(MetadataError::LocationMismatch {
                name: name.clone(),
                registered: self.location.clone(),
                given: given.clone(),
            })
        }
    }
}

/// The rule publish and transfer share: a location holds one package, so `location` may
/// be `name`'s only if the package living there (`holder`, as the registry's location
/// lookup answers for the same place, see [`Location::same_place`]) is none or `name`.
pub fn check_location_free(
    holder: Option<PackageName>,
    name: &PackageName,
    location: &Location,
) -> Result<(), MetadataError> {
    match holder {
        Some(holder) if holder != *name => Err(MetadataError::LocationHeld {
            location: location.clone(),
            holder,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_holds_one_package() {
        let name = |n: &str| n.parse::<PackageName>().unwrap();
        let gh = |repo: &str| Location::github("o", repo, None).unwrap();
        // a's own place, and a place nobody holds, are free for a
        assert_eq!(
            check_location_free(Some(name("a")), &name("a"), &gh("a")),
            Ok(())
        );
        assert_eq!(check_location_free(None, &name("a"), &gh("c")), Ok(()));
        // a's place is not free for anyone else
        let e = check_location_free(Some(name("a")), &name("c"), &gh("a")).unwrap_err();
        insta::assert_snapshot!(e, @"location `github:o/a` already belongs to package `a`: a location can hold only one package");
    }

    const PRELUDE: &str = r#"{
  "location": {
    "githubOwner": "purescript",
    "githubRepo": "purescript-prelude"
  },
  "published": {
    "6.0.1": {
      "bytes": 31125,
      "compilers": [
        "0.15.10"
      ],
      "hash": "sha256-XaM78oJFCsdZxjlDbUHj8MnZidwQc4HSnfrLfliXuAc=",
      "publishedTime": "2022-08-18T20:04:00.000Z",
      "ref": "v6.0.1"
    }
  },
  "unpublished": {}
}
"#;

    fn pn(s: &str) -> PackageName {
        s.parse().unwrap()
    }

    fn prelude() -> Metadata {
        Metadata::from_json("prelude.json", PRELUDE).unwrap()
    }

    fn entry(hash: Sha256) -> PublishedVersion {
        PublishedVersion {
            bytes: 10,
            compilers: vec!["0.15.10".parse().unwrap()],
            hash,
            published_time: "2024-01-01T00:00:00.000Z".parse().unwrap(),
            reference: "v7.0.0".into(),
        }
    }

    #[test]
    fn roundtrips_byte_for_byte() {
        assert_eq!(prelude().to_json(), PRELUDE);
    }

    #[test]
    fn versions_are_ordered_numerically() {
        let mut m = prelude();
        for v in ["10.0.0", "9.0.0", "6.0.10"] {
            m.publish(
                &pn("prelude"),
                v.parse().unwrap(),
                entry(Sha256::of(v.as_bytes())),
                None,
            )
            .unwrap();
        }
        let keys: Vec<String> = m.published.keys().map(|v| v.to_string()).collect();
        assert_eq!(keys, ["6.0.1", "6.0.10", "9.0.0", "10.0.0"]);
        let json = m.to_json();
        assert!(json.find("\"9.0.0\"").unwrap() < json.find("\"10.0.0\"").unwrap());
    }

    #[test]
    fn publish_is_idempotent_and_never_overwrites() {
        let mut m = prelude();
        let v: Version = "7.0.0".parse().unwrap();
        let h = Sha256::of(b"a");
        assert_eq!(
            m.publish(&pn("prelude"), v.clone(), entry(h), None)
                .unwrap(),
            PublishChange::Added
        );
        assert_eq!(
            m.publish(&pn("prelude"), v.clone(), entry(h), None)
                .unwrap(),
            PublishChange::AlreadyRecorded
        );
        let e = m
            .publish(&pn("prelude"), v, entry(Sha256::of(b"b")), None)
            .unwrap_err();
        assert!(matches!(e, MetadataError::AlreadyPublished { .. }));
        assert_eq!(m.published.len(), 2);
    }

    #[test]
    fn unpublished_versions_are_never_reused() {
        let mut m = prelude();
        let v: Version = "5.0.0".parse().unwrap();
        m.unpublished.insert(
            v.clone(),
            UnpublishedVersion {
                published_time: "2024-01-01T00:00:00.000Z".parse().unwrap(),
                reason: "broken".into(),
                unpublished_time: "2024-01-02T00:00:00.000Z".parse().unwrap(),
            },
        );
        let e = m
            .publish(&pn("prelude"), v, entry(Sha256::of(b"a")), None)
            .unwrap_err();
        insta::assert_snapshot!(e.to_string(), @"`prelude@5.0.0` was unpublished on 2024-01-02T00:00:00.000Z: a version number can never be reused, publish a new version instead");
    }

    #[test]
    fn unpublish_moves_the_version_and_keeps_its_publish_time() {
        let mut m = prelude();
        let v: Version = "6.0.1".parse().unwrap();
        let now: Timestamp = "2024-02-01T10:00:00.000Z".parse().unwrap();
        assert_eq!(
            m.unpublish(&pn("prelude"), &v, "broken build", now),
            Ok(UnpublishChange::Moved)
        );
        assert!(m.published.is_empty());
        let u = &m.unpublished[&v];
        assert_eq!(u.published_time.to_string(), "2022-08-18T20:04:00.000Z");
        assert_eq!(
            (u.reason.as_str(), u.unpublished_time),
            ("broken build", now)
        );
        assert!(m.to_json().contains(
            "\"unpublished\": {\n    \"6.0.1\": {\n      \"publishedTime\": \"2022-08-18T20:04:00.000Z\",\n      \"reason\": \"broken build\",\n      \"unpublishedTime\": \"2024-02-01T10:00:00.000Z\"\n    }\n  }\n}\n"
        ));
        let before = m.clone();
        assert_eq!(
            m.unpublish(&pn("prelude"), &v, "another reason", now),
            Ok(UnpublishChange::AlreadyUnpublished)
        );
        assert_eq!(m, before);
        let e = m
            .unpublish(&pn("prelude"), &"6.0.2".parse().unwrap(), "x", now)
            .unwrap_err();
        insta::assert_snapshot!(e.to_string(), @"`prelude@6.0.2` is not published: published versions are none");
    }

    #[test]
    fn yank_and_deprecation_are_optional_keys_after_the_purescript_ones() {
        let mut m = prelude();
        let v: Version = "6.0.1".parse().unwrap();
        let at = |t: &str| t.parse::<Timestamp>().unwrap();
        let yank =
            |m: &mut Metadata, reason: &str, t: &str| m.yank(&pn("prelude"), &v, reason, at(t));
        assert_eq!(
            yank(&mut m, "breaks on node 22", "2024-03-01T00:00:00.000Z"),
            Ok(FlagChange::Changed)
        );
        // A re-run, even with another reason, keeps the first yank.
        let before = m.clone();
        assert_eq!(
            yank(&mut m, "another", "2024-03-02T00:00:00.000Z"),
            Ok(FlagChange::Unchanged)
        );
        assert_eq!(m, before);
        assert_eq!(
            m.deprecate(
                "unmaintained",
                Some(&pn("prelude-next")),
                at("2024-03-03T00:00:00.000Z")
            ),
            FlagChange::Changed
        );
        let expected = PRELUDE.replace(
            "  \"unpublished\": {}\n}\n",
            "  \"unpublished\": {},\n  \"deprecated\": {\n    \"alternative\": \"prelude-next\",\n    \"message\": \"unmaintained\",\n    \"time\": \"2024-03-03T00:00:00.000Z\"\n  },\n  \"yanked\": {\n    \"6.0.1\": {\n      \"reason\": \"breaks on node 22\",\n      \"time\": \"2024-03-01T00:00:00.000Z\"\n    }\n  }\n}\n",
        );
        assert_eq!(m.to_json(), expected);
        // The canonical text reads back as itself; the published entry is untouched.
        assert_eq!(Metadata::from_json("prelude.json", &expected).unwrap(), m);
        assert_eq!(m.published, prelude().published);

        // The same deprecation again changes nothing (its time stays); another replaces it.
        let again = at("2024-04-01T00:00:00.000Z");
        assert_eq!(
            m.deprecate("unmaintained", Some(&pn("prelude-next")), again),
            FlagChange::Unchanged
        );
        assert_eq!(
            m.deprecate("unmaintained", None, again),
            FlagChange::Changed
        );
        assert_eq!(m.deprecated.as_ref().unwrap().time, again);
        // Cleared, and unyanked: the PureScript Registry's bytes again.
        assert_eq!(m.deprecate("", None, again), FlagChange::Changed);
        assert_eq!(m.deprecate("", None, again), FlagChange::Unchanged);
        assert_eq!(m.unyank(&pn("prelude"), &v), Ok(FlagChange::Changed));
        assert_eq!(m.unyank(&pn("prelude"), &v), Ok(FlagChange::Unchanged));
        assert_eq!(m.to_json(), PRELUDE);

        // Only published versions are yanked; an unpublish takes the yank with it.
        let e = m
            .yank(&pn("prelude"), &"9.9.9".parse().unwrap(), "x", again)
            .unwrap_err();
        insta::assert_snapshot!(e, @"`prelude@9.9.9` is not published: published versions are `6.0.1`");
        yank(&mut m, "x", "2024-03-01T00:00:00.000Z").unwrap();
        m.unpublish(&pn("prelude"), &v, "broken", again).unwrap();
        assert!(m.yanked.is_empty());
        assert!(m.unyank(&pn("prelude"), &v).is_err());
    }

    #[test]
    fn aliases_name_published_versions_and_go_after_yanked() {
        let mut m = prelude();
        let name = pn("prelude");
        let (v1, v2): (Version, Version) = ("6.0.1".parse().unwrap(), "7.0.0".parse().unwrap());
        let tag = |t: &str| t.parse::<Tag>().unwrap();
        let at: Timestamp = "2024-03-01T00:00:00.000Z".parse().unwrap();
        m.publish(&name, v2.clone(), entry(Sha256::of(b"7")), None)
            .unwrap();
        let published = m.to_json();
        assert_eq!(
            m.set_alias(&name, &tag("stable"), &v1),
            Ok(FlagChange::Changed)
        );
        assert_eq!(
            m.set_alias(&name, &tag("next"), &v1),
            Ok(FlagChange::Changed)
        );
        // A re-run changes nothing; another version moves the tag.
        assert_eq!(
            m.set_alias(&name, &tag("next"), &v1),
            Ok(FlagChange::Unchanged)
        );
        assert_eq!(
            m.set_alias(&name, &tag("next"), &v2),
            Ok(FlagChange::Changed)
        );
        m.yank(&name, &v1, "broken", at).unwrap();
        // After `yanked`, tags ascending.
        let expected = published.replace(
            "  \"unpublished\": {}\n}\n",
            "  \"unpublished\": {},\n  \"yanked\": {\n    \"6.0.1\": {\n      \"reason\": \"broken\",\n      \"time\": \"2024-03-01T00:00:00.000Z\"\n    }\n  },\n  \"aliases\": {\n    \"next\": \"7.0.0\",\n    \"stable\": \"6.0.1\"\n  }\n}\n",
        );
        assert_eq!(m.to_json(), expected);
        assert_eq!(Metadata::from_json("prelude.json", &expected).unwrap(), m);

        // Resolution: a version is itself, a tag what it names, `latest` the newest
        // version not yanked unless set.
        let resolve = |m: &Metadata, spec: &str| m.resolve(&name, &spec.parse().unwrap());
        assert_eq!(resolve(&m, "9.9.9"), Ok("9.9.9".parse().unwrap()));
        assert_eq!(resolve(&m, "next"), Ok(v2.clone()));
        assert_eq!(
            resolve(&m, "stable"),
            Ok(v1.clone()),
            "a yank keeps its tags"
        );
        assert_eq!(resolve(&m, "latest"), Ok(v2.clone()));
        m.yank(&name, &v2, "broken too", at).unwrap();
        let refusals = [
            resolve(&m, "latest").unwrap_err().to_string(),
            resolve(&m, "beta").unwrap_err().to_string(),
            m.set_alias(&name, &tag("next"), &v2)
                .unwrap_err()
                .to_string(),
            m.set_alias(&name, &tag("next"), &"9.9.9".parse().unwrap())
                .unwrap_err()
                .to_string(),
        ];
        m.unyank(&name, &v2).unwrap();
        assert_eq!(
            m.set_alias(&name, &tag("latest"), &v1),
            Err(AliasRefused::Yanked {
                name: name.clone(),
                version: v1.clone(),
                reason: "broken".into(),
            })
        );
        m.unyank(&name, &v1).unwrap();
        assert_eq!(
            m.set_alias(&name, &tag("latest"), &v1),
            Ok(FlagChange::Changed)
        );
        assert_eq!(
            resolve(&m, "latest"),
            Ok(v1.clone()),
            "set, `latest` is the tag's"
        );
        let tags = resolve(&m, "beta").unwrap_err().to_string();

        // An unpublish drops the tags naming the version; removing a tag that is not set
        // changes nothing.
        m.unpublish(&name, &v1, "broken", at).unwrap();
        assert_eq!(
            m.aliases.keys().map(Tag::as_str).collect::<Vec<_>>(),
            ["next"]
        );
        let unpublished = m
            .set_alias(&name, &tag("stable"), &v1)
            .unwrap_err()
            .to_string();
        assert_eq!(m.remove_alias(&tag("next")), FlagChange::Changed);
        assert_eq!(m.remove_alias(&tag("next")), FlagChange::Unchanged);
        assert!(!m.to_json().contains("aliases"));
        let lines = [refusals.join("\n"), tags, unpublished];
        insta::assert_snapshot!(lines.join("\n"), @r"
            package `prelude` has no version that is published and not yanked: `prelude@latest` names none (give a version)
            package `prelude` has no tag `beta`: its tags are `next` (7.0.0), `stable` (6.0.1)
            `prelude@7.0.0` is yanked (broken too): a tag never names a yanked version; unyank it first, or point the tag at another version
            `prelude@9.9.9` is not published: a tag names a published version, and published versions are `6.0.1`, `7.0.0`
            package `prelude` has no tag `beta`: its tags are `latest` (6.0.1), `next` (7.0.0), `stable` (6.0.1)
            `prelude@6.0.1` was unpublished on 2024-03-01: a tag names a published version, and published versions are `7.0.0`
            ");
    }

    #[test]
    fn location_must_match() {
        let m = prelude();
        assert!(
            m.check_location(
                &pn("prelude"),
                &Location::github("PureScript", "purescript-prelude", None).unwrap()
            )
            .is_ok()
        );
        let e = m
            .check_location(
                &pn("prelude"),
                &Location::github("someone", "prelude", None).unwrap(),
            )
            .unwrap_err();
        insta::assert_snapshot!(e.to_string(), @"package `prelude` lives at `github:purescript/purescript-prelude`, but the publish gives `github:someone/prelude`: if the package moved, submit a transfer first");
    }

    #[test]
    fn rejects_malformed_metadata() {
        let bad = PRELUDE
            .replace("\"0.15.10\"\n      ]", "\n      ]")
            .replace("[\n        \n", "[\n");
        let e = Metadata::from_json("metadata/prelude.json", &bad)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`compilers` is empty"), "{e}");
        let e = Metadata::from_json("metadata/prelude.json", "{")
            .unwrap_err()
            .to_string();
        let lines = [
            e,
            Metadata::from_json("metadata/prelude.json", &bad)
                .unwrap_err()
                .to_string(),
        ];
        insta::assert_snapshot!(lines.join("\n"), @r"
            `metadata/prelude.json` is not valid metadata: EOF while parsing an object at line 1 column 1
            `metadata/prelude.json` is not valid metadata: `compilers` is empty: expected at least one compiler version at line 15 column 3
            ");
    }
}
