//! The solver on real data (`../shared/fixtures/purescript/real-sample`, skipped when
//! absent) and `regis solve` end to end.

use std::collections::BTreeMap;
use std::process::Command;

use regis::schema::{PackageName, Version};
use regis::solver::{BuildPlan, Packages, Request, Solver, Versions, ViewPackages};
use regis::store::{IndexDir, RegistryDir};
use regis::testing;

/// A plan is sound when every member's dependencies are in it, in range, and every member
/// builds with the plan's compiler.
fn assert_sound<'a>(
    packages: &'a dyn Packages<'a>,
    root: (&PackageName, &Version),
    plan: &BuildPlan,
) {
    let mut all = plan.resolutions.clone();
    all.insert(root.0.clone(), root.1.clone());
    for (name, version) in &all {
        let versions: Versions = packages.load(name).unwrap().unwrap();
        let candidate = &versions[version];
        assert!(
            candidate.compilers.contains(&plan.compiler),
            "{name}@{version} does not build with {}",
            plan.compiler
        );
        for (dep, range) in candidate.dependencies.iter() {
            let chosen = all
                .get(dep)
                .unwrap_or_else(|| panic!("{name}@{version}: {dep} missing from the plan"));
            assert!(
                range.contains(chosen),
                "{name}@{version}: {dep}@{chosen} not in {range}"
            );
        }
    }
}

#[test]
fn every_version_of_the_real_sample_solves() {
    let Some(fixtures) = testing::purescript_fixtures() else {
        return;
    };
    let dir = fixtures.join("real-sample");
    let metadata = RegistryDir::new(&dir).all_metadata().unwrap();
    let index = IndexDir::new(dir.join("index")).view().unwrap();
    let packages = ViewPackages {
        index: &index,
        metadata: &metadata,
    };
    let solver = Solver::new(&packages);
    let mut solved = 0;
    let mut compilers: BTreeMap<Version, usize> = BTreeMap::new();
    for (name, m) in &metadata {
        for (version, published) in &m.published {
            let request = Request::published(name.clone(), version.clone(), None);
            let plan = solver
                .solve(&request, &[])
                .unwrap_or_else(|e| panic!("{name}@{version}: {e}"));
            // The newest compiler it is recorded with that solves: for this consistent
            // sample, the newest it is recorded with.
            assert_eq!(
                Some(&plan.compiler),
                published.compilers.iter().max(),
                "{name}@{version}"
            );
            assert_sound(&packages, (name, version), &plan);
            *compilers.entry(plan.compiler).or_default() += 1;
            solved += 1;
        }
    }
    assert_eq!(solved, 597);
    // Each era's last compiler: 0.13.8, 0.14.9, 0.15.16.
    let eras: Vec<String> = compilers.keys().map(|v| v.to_string()).collect();
    assert_eq!(eras, ["0.13.8", "0.14.9", "0.15.16"], "{compilers:?}");
}

#[test]
fn regis_solve_prints_plans_and_explains_conflicts() {
    let Some(fixtures) = testing::purescript_fixtures() else {
        return;
    };
    let dir = fixtures.join("real-sample");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_regis"))
            .arg("--registry")
            .arg(&dir)
            .arg("--index")
            .arg(dir.join("index"))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (code, stdout, _) = run(&["solve", "type-equality@4.0.1"]);
    assert_eq!(code, Some(0));
    assert_eq!(
        stdout,
        "type-equality@4.0.1 with compiler 0.15.16\n  (no dependencies)\n"
    );

    let (code, stdout, _) = run(&["solve", "aff@7.1.0", "--json"]);
    assert_eq!(code, Some(0));
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["plan"]["compiler"], "0.15.16");
    assert_eq!(json["plan"]["resolutions"]["effect"], "4.0.0");
    assert_eq!(json["plan"]["resolutions"].as_object().unwrap().len(), 40);

    let (code, stdout, _) = run(&["solve", "aff@7.1.0", "--compiler", "0.14.0"]);
    assert_eq!(code, Some(1));
    insta::assert_snapshot!(stdout, @"
    no build plan for `aff@7.1.0`:
    Because `aff@7.1.0` builds only with compilers `>=0.15.0` and `aff@7.1.0` is what is solved for, solving `aff@7.1.0` needs compilers `>=0.15.0`.
    And because compiler `0.14.0` was asked for, there is no build plan for `aff@7.1.0`.
    ");

    let (code, _, stderr) = run(&["solve", "aff@9.9.9"]);
    assert_eq!(code, Some(2));
    insta::assert_snapshot!(stderr, @"error: could not solve `aff@9.9.9`: `aff@9.9.9` is not published (published: `8.0.0`, `7.1.0`, `7.0.0`, `6.0.0`, `5.1.2`, `5.1.1`, `5.1.0`, `5.0.2`, `5.0.1`, `5.0.0`)");
}
