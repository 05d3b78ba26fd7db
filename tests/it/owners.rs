//! No silent owner changes: under `ownerChanges = "signed"` (what `regis init` writes) a
//! publish whose manifest changes the package's `owners` needs `ownersSignature`, a current
//! owner's or a trustee's signature of the new list for that version (`regis sign owners`
//! makes it); without it, or with anyone else's, it is refused and nothing is stored or
//! pushed. A new package, and one without owners, set them freely; under `"location"` (the
//! PureScript Registry's rule) the manifest decides.

use std::path::Path;
use std::process::Command;

use regis::auth::{SignatureFormat, SigningKey};
use regis::config::OwnerChanges;
use regis::metadata::Metadata;
use regis::operation::authorize::Role;
use regis::operation::report;
use regis::payload::{Publish, owners_text};
use regis::sample::SamplePackage;
use regis::schema::Owner;
use regis::testing::{self, TestRegistry};

fn key(seed: u8) -> SigningKey {
    SigningKey::from_openssh(&testing::seeded_key(seed), None).unwrap()
}

/// The owner, a trustee, and a newcomer the manifest adds.
fn owner() -> SigningKey {
    key(1)
}
fn trustee() -> SigningKey {
    key(2)
}
fn newcomer() -> SigningKey {
    key(3)
}

/// A registry with `ownerChanges` as given and `trustee()` a trustee, where `prelude@1.0.0`
/// was published owned by `owner()`.
fn registry(rule: OwnerChanges) -> TestRegistry {
    let t = TestRegistry::with_config(|c| {
        c.owner_changes = rule;
        c.trustees = vec![trustee().public()];
    });
    t.release(&version("1.0.0", &[&owner()], &t));
    t
}

/// `prelude@<v>` whose manifest lists `owners`.
fn version(v: &str, owners: &[&SigningKey], t: &TestRegistry) -> SamplePackage {
    let mut p = t.package("prelude", v, &[]);
    p.manifest.owners = Some(owners.iter().map(|k| k.public()).collect());
    p
}

/// The Publish of `p`, its source pushed, with `ownersSignature` by `by` over its owners.
fn request(t: &TestRegistry, p: &SamplePackage, by: Option<&SigningKey>) -> Publish {
    t.push_source(p);
    let owners = p.manifest.owners.clone().unwrap_or_default();
    let text = owners_text(&p.manifest.name, &p.manifest.version, &owners);
    Publish {
        owners_signature: by.map(|k| k.sign(&text, SignatureFormat::Raw, "file").unwrap()),
        ..p.payload(false)
    }
}

fn owners(t: &TestRegistry) -> Vec<Owner> {
    let text = testing::remote_file(&t.layout.registry_remote, "metadata/prelude.json").unwrap();
    let m = Metadata::from_json("prelude", &text).unwrap();
    m.owners.unwrap_or_default()
}

/// `owner` as `regis::auth::describe_owner` names it in messages.
fn named(k: &SigningKey) -> String {
    regis::auth::describe_owner(&k.public())
}

#[test]
fn a_publish_that_changes_the_owners_needs_a_current_owners_signature() {
    let t = registry(OwnerChanges::Signed);
    let p = version("1.1.0", &[&owner(), &newcomer()], &t);

    // Unsigned, and signed by the very key being added: refused, nothing stored or pushed.
    let unsigned = t.refused(&request(&t, &p, None));
    let by_newcomer = t.refused(&request(&t, &p, Some(&newcomer())));
    let pinned = format!("unsigned → {unsigned}\nby the newcomer → {by_newcomer}")
        .replace(&named(&owner()), "<owner>")
        .replace(&named(&newcomer()), "<newcomer>");
    insta::assert_snapshot!(pinned, @"
    unsigned → the publish of `prelude@1.1.0` changes the owners of `prelude` (adds <newcomer>), and this registry lets only a current owner or a trustee do that: sign the new list with a current owner's key (`regis sign --key ~/.ssh/id_ed25519 owners purs.json`, or `spago.yaml`: the manifest being published) and add the printed `ownersSignature` to the Publish payload
    by the newcomer → the `ownersSignature` of the publish of `prelude@1.1.0` is not a current owner's or a trustee's signature of its new owner list (adds <newcomer>; the package lists 1 owner): sign it with a current owner's key (`regis sign --key ~/.ssh/id_ed25519 owners purs.json`, or `spago.yaml`: the manifest being published)
    ");
    assert_eq!(owners(&t), [owner().public()]);

    // The current owner signs the new list: published, the owners changed, the report says
    // who signed.
    let report = t.publish(&request(&t, &p, Some(&owner()))).unwrap();
    let signer = report.owners_signed_by.as_ref().unwrap();
    assert_eq!((signer.role, &signer.key), (Role::Owner, &owner().public()));
    assert!(
        report::publish(&report).contains(&format!(
            "\n  owners    changed, signed by an owner ({})\n",
            named(&owner())
        )),
        "{}",
        report::publish(&report)
    );
    assert_eq!(owners(&t), [owner().public(), newcomer().public()]);

    // The same list again needs nothing; a manifest without owners keeps them.
    let same = t.publish(&request(
        &t,
        &version("1.2.0", &[&owner(), &newcomer()], &t),
        None,
    ));
    assert!(same.unwrap().owners_signed_by.is_none());
    let mut none = t.package("prelude", "1.3.0", &[]);
    none.manifest.owners = None;
    t.publish(&request(&t, &none, None)).unwrap();
    assert_eq!(owners(&t), [owner().public(), newcomer().public()]);
}

#[test]
fn a_trustee_signs_an_owner_change_and_a_signature_serves_one_version_only() {
    let t = registry(OwnerChanges::Signed);
    // The owner's key is lost: a trustee puts the newcomer in its place.
    let replaced = version("1.1.0", &[&newcomer()], &t);
    let report = t
        .publish(&request(&t, &replaced, Some(&trustee())))
        .unwrap();
    assert_eq!(report.owners_signed_by.unwrap().role, Role::Trustee);
    assert_eq!(owners(&t), [newcomer().public()]);

    // A current owner's signature of the same list for another version does not serve: it
    // names `prelude@1.0.0`, and this is `prelude@1.2.0`.
    let back = version("1.2.0", &[&owner()], &t);
    let old_text = owners_text(
        &"prelude".parse().unwrap(),
        &"1.0.0".parse().unwrap(),
        &[owner().public()],
    );
    let old = Publish {
        owners_signature: Some((newcomer().sign(&old_text, SignatureFormat::Raw, "file")).unwrap()),
        ..request(&t, &back, None)
    };
    let e = t.refused(&old);
    assert!(
        e.starts_with("the `ownersSignature` of the publish of `prelude@1.2.0` is not a current owner's or a trustee's signature"),
        "{e}"
    );
    assert_eq!(owners(&t), [newcomer().public()]);
}

#[test]
fn under_the_location_rule_the_manifest_decides_the_owners() {
    let t = registry(OwnerChanges::Location);
    let p = version("1.1.0", &[&newcomer()], &t);
    let report = t.publish(&request(&t, &p, None)).unwrap();
    assert!(report.owners_signed_by.is_none());
    assert_eq!(owners(&t), [newcomer().public()]);
}

#[test]
fn a_package_without_owners_gains_them_freely() {
    let t = TestRegistry::with_config(|c| c.owner_changes = OwnerChanges::Signed);
    t.release(&t.package("prelude", "1.0.0", &[]));
    let p = version("1.1.0", &[&owner()], &t);
    let report = t.publish(&request(&t, &p, None)).unwrap();
    assert!(report.owners_signed_by.is_none());
    assert_eq!(owners(&t), [owner().public()]);
}

/// `regis sign owners purs.json` signs what the publish checks, end to end: its
/// `ownersSignature` publishes the owner change.
#[test]
fn regis_sign_owners_makes_the_signature_a_publish_takes() {
    let t = registry(OwnerChanges::Signed);
    let p = version("1.1.0", &[&owner(), &newcomer()], &t);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("purs.json"), p.manifest.to_pretty_json()).unwrap();
    let signature = sign_owners(dir.path(), "purs.json");
    let published = t
        .publish(&Publish {
            owners_signature: Some(signature),
            ..request(&t, &p, None)
        })
        .unwrap();
    assert_eq!(published.owners_signed_by.unwrap().role, Role::Owner);
    assert_eq!(owners(&t), [owner().public(), newcomer().public()]);
}

/// `regis sign --key <owner's key file> owners FILE` in `dir`: the `ownersSignature` it
/// prints.
fn sign_owners(dir: &Path, file: &str) -> String {
    std::fs::write(dir.join("owner"), testing::seeded_key(1)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_regis"))
        .current_dir(dir)
        .args(["sign", "--key", "owner", "owners", file])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed.as_object().unwrap().len(), 1, "{printed}");
    printed["ownersSignature"].as_str().unwrap().to_owned()
}
