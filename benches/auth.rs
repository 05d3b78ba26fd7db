//! Signature and authenticated-operation benchmarks (see `benches/README.md`):
//!
//! - `auth/verify_*`: one signature check over the PureScript Registry's Transfer vector
//!   payload, per key type and format (keys from `vectors/ssh-signature.json` and fixed
//!   seeds).
//! - `auth/verify_any_last_of_10`: the matching key is the last of ten owner keys.
//! - `auth/unpublish_checks_package_set_samples`: what an unpublish reads and checks
//!   before writing anything, on the real 673-package registry: the index view, the
//!   latest set, and the dependants `maybe@6.0.0` would strand.
//! - `auth/transfer_checks_package_set_samples`: all metadata and the "location already
//!   taken" scan for a Transfer.
//!
//! Without `../shared` a note is printed and no benchmark is registered.

mod common;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use regis::auth::{self, SignatureFormat, SigningKey};
use regis::schema::{Location, Owner};
use regis::store::{IndexDir, RegistryDir};

fn seeded_ed25519(seed: u8) -> SigningKey {
    SigningKey::from_openssh(&regis::testing::seeded_key(seed), None).unwrap()
}

fn seeded_p256() -> SigningKey {
    let secret = p256::SecretKey::from_slice(&[7u8; 32]).unwrap();
    let keypair = ssh_key::private::EcdsaKeypair::NistP256 {
        public: secret.public_key().into(),
        private: secret.into(),
    };
    let key = ssh_key::PrivateKey::from(keypair);
    SigningKey::from_openssh(&key.to_openssh(ssh_key::LineEnding::LF).unwrap(), None).unwrap()
}

fn benches(c: &mut Criterion) {
    let Some(root) = regis::testing::purescript_fixtures() else {
        return;
    };
    let vectors: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("vectors/ssh-signature.json")).unwrap(),
    )
    .unwrap();
    let payload = vectors["ed25519"]["payload"].as_str().unwrap();
    let ed25519 = SigningKey::from_openssh(
        vectors["ed25519"]["private_openssh"].as_str().unwrap(),
        None,
    )
    .unwrap();
    let rsa = SigningKey::from_openssh(
        vectors["rsa_encrypted"]["private_openssh"]
            .as_str()
            .unwrap(),
        Some(vectors["rsa_encrypted"]["passphrase"].as_str().unwrap()),
    )
    .unwrap();
    let p256 = seeded_p256();

    let mut group = common::group(c, "auth");
    for (name, key, format) in [
        ("verify_ed25519_raw", &ed25519, SignatureFormat::Raw),
        ("verify_ed25519_sshsig", &ed25519, SignatureFormat::Sshsig),
        ("verify_rsa4096_raw", &rsa, SignatureFormat::Raw),
        ("verify_rsa4096_sshsig", &rsa, SignatureFormat::Sshsig),
        ("verify_p256_raw", &p256, SignatureFormat::Raw),
    ] {
        let signature = key.sign(payload, format, "file").unwrap();
        let public = key.public();
        auth::verify(payload, &signature, &public, "file").unwrap();
        group.bench_function(name, |b| {
            b.iter(|| auth::verify(black_box(payload), &signature, &public, "file").unwrap())
        });
    }

    let owners: Vec<Owner> = (1..=10).map(|seed| seeded_ed25519(seed).public()).collect();
    let last = seeded_ed25519(10);
    let signature = last.sign(payload, SignatureFormat::Raw, "file").unwrap();
    group.bench_function("verify_any_last_of_10", |b| {
        b.iter(|| auth::verify_any(black_box(payload), &signature, &owners, "file").unwrap())
    });

    let samples = root.join("package-set-samples");
    let registry = RegistryDir::new(samples.join("registry"));
    let index = IndexDir::new(samples.join("index"));
    let maybe = "maybe".parse().unwrap();
    let version = "6.0.0".parse().unwrap();
    let stranded = index.view().unwrap().stranded_without(&maybe, &version);
    eprintln!(
        "note: unpublishing maybe@6.0.0 would strand {} indexed versions",
        stranded.len()
    );
    group.bench_function("unpublish_checks_package_set_samples", |b| {
        b.iter(|| {
            let view = index.view().unwrap();
            let set = registry.latest_package_set().unwrap();
            (view.stranded_without(&maybe, &version).len(), set)
        })
    });
    let aff_new_home = Location::github("purescript-contrib", "purescript-aff-new", None).unwrap();
    group.bench_function("transfer_checks_package_set_samples", |b| {
        b.iter(|| {
            let all = registry.all_metadata().unwrap();
            all.values()
                .any(|m| m.location.same_place(black_box(&aff_new_home)))
        })
    });
    group.finish();
}

criterion_group!(auth_benches, benches);
criterion_main!(auth_benches);
