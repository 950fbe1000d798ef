//! Every input a fuzz run found (`fuzz/regressions/<target>/<name>`) replayed through its
//! target: each must now be handled within the target's properties and allocation cap.

use tessera_fuzz::execute;
use tessera_fuzz::targets::by_name;

#[test]
fn every_saved_finding_is_now_handled() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let mut replayed = 0;
    let mut failures = Vec::new();
    for dir in std::fs::read_dir(&root).expect("fuzz/regressions") {
        let dir = dir.expect("entry").path();
        let name = dir.file_name().and_then(|n| n.to_str()).expect("target name").to_owned();
        let target = by_name(&name).unwrap_or_else(|| panic!("no fuzz target {name}"));
        for file in std::fs::read_dir(&dir).expect("target folder") {
            let file = file.expect("entry").path();
            let input = std::fs::read(&file).expect("input");
            replayed += 1;
            if let Err(m) = execute(&target, &input) {
                failures.push(format!("{}: {m}", file.display()));
            }
        }
    }
    assert!(replayed > 0, "no saved findings under {}", root.display());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
