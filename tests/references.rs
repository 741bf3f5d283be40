//! Every CloudStack source path a check cites exists at the commit the reference facts
//! name, and every cited line number is inside the file. The record of verified paths is
//! tests/data/cloudstack-paths-verified.txt, written by scripts/verify-references.sh from a
//! CloudStack git repository; a new citation fails here until the script has verified it.

use stackposture::catalog::Catalog;
use std::collections::BTreeMap;

fn verified() -> BTreeMap<String, usize> {
    let text = include_str!("data/cloudstack-paths-verified.txt");
    assert!(text.contains("3d6cafe1936ed2403a1031cd5ad42dd205934412"));
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (p, n) = l.rsplit_once(' ').unwrap();
            (p.to_string(), n.parse().unwrap())
        })
        .collect()
}

const SOURCE_EXT: &[&str] = &[
    ".java",
    ".sql",
    ".in",
    ".py",
    ".xml",
    ".properties",
    ".spec",
    ".sh",
    ".service",
    ".default",
];

#[test]
fn cited_source_paths_exist_at_the_reference_commit() {
    let cat = Catalog::builtin().unwrap();
    let ok = verified();
    let path_re = regex::Regex::new(
        r"^([A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+\.[A-Za-z0-9]+)(?::([0-9, -]+))?",
    )
    .unwrap();
    let mut problems = Vec::new();
    let mut n = 0;
    // Checks and [[omitted]] entries alike: an omission's reason rests on its citations.
    struct Cited<'a> {
        id: String,
        references: &'a [String],
    }
    let cited: Vec<Cited> = cat
        .checks
        .iter()
        .map(|c| Cited {
            id: c.id.clone(),
            references: &c.references,
        })
        .chain(cat.omitted.iter().map(|o| Cited {
            id: format!("[[omitted]] {:?}", o.item),
            references: &o.references,
        }))
        .chain(cat.settings.values().map(|h| Cited {
            id: format!("[[setting]] {}", h.name()),
            references: &h.spec.references,
        }))
        .collect();
    for c in &cited {
        for r in c.references {
            let first = r.split_whitespace().next().unwrap_or("");
            let bare = first.split(':').next().unwrap_or("");
            if !bare.contains('/') && SOURCE_EXT.iter().any(|e| bare.ends_with(e)) {
                problems.push(format!(
                    "{}: reference {r:?} needs the full repository path",
                    c.id
                ));
                continue;
            }
            let Some(m) = path_re.captures(r) else {
                continue;
            };
            let path = &m[1];
            // Our own files (reference facts, the advisory table) are not CloudStack's.
            if ["shared/", "checks/", "docs/"]
                .iter()
                .any(|p| path.starts_with(p))
            {
                continue;
            }
            n += 1;
            let Some(&lines) = ok.get(path) else {
                problems.push(format!(
                    "{}: {path} is not verified (run scripts/verify-references.sh CLOUDSTACK_GIT_DIR)",
                    c.id
                ));
                continue;
            };
            if let Some(spec) = m.get(2) {
                for part in spec.as_str().split(',') {
                    for num in part.split('-') {
                        if let Ok(x) = num.trim().parse::<usize>() {
                            if x == 0 || x > lines {
                                problems.push(format!(
                                    "{}: {path}:{x} is past the end ({lines} lines)",
                                    c.id
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(n > 0, "the catalog cites no source path");
}

/// Every citation is something a user of this repository can open: no reference to the
/// team's notes outside the repository (`shared/`, `DESIGN.md`), and every `docs/` citation
/// names a file of this repository and, with `#anchor`, an anchor that file defines.
#[test]
fn citations_point_inside_the_repository_or_upstream() {
    let cat = Catalog::builtin().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let refs = cat
        .checks
        .iter()
        .map(|c| (c.id.clone(), &c.references))
        .chain(cat.omitted.iter().map(|o| (o.item.clone(), &o.references)))
        .chain(
            cat.settings
                .values()
                .map(|h| (format!("[[setting]] {}", h.name()), &h.spec.references)),
        );
    let mut problems = Vec::new();
    let mut docs_cited = 0;
    for (id, list) in refs {
        for r in list.iter() {
            if r.contains("shared/") || r.starts_with("DESIGN.md") || r.contains(" DESIGN.md") {
                problems.push(format!("{id}: {r:?} is not in this repository"));
            }
            let Some(rest) = r.strip_prefix("docs/") else {
                continue;
            };
            docs_cited += 1;
            let (file, anchor) = rest.split_once('#').unwrap_or((rest, ""));
            let file = file.split_whitespace().next().unwrap_or(file);
            let Ok(text) = std::fs::read_to_string(root.join("docs").join(file)) else {
                problems.push(format!("{id}: docs/{file} does not exist"));
                continue;
            };
            if !anchor.is_empty() && !text.contains(&format!("<a id=\"{anchor}\"></a>")) {
                problems.push(format!("{id}: docs/{file} has no anchor #{anchor}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(docs_cited > 0, "no check cites the project's notes");
}
